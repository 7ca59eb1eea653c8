from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from gongzhi.core.tests.actors import SYSTEM


@pytest.fixture
def micro(place_tree: SimpleNamespace, make_user: Any, tmp_path: Any, settings: Any) -> SimpleNamespace:
    """平山社区: six residents, a community worker, a council of five with a moderator, a
    scheduled meeting and a budget of 200,000 yuan (ceiling 100,000)."""
    from gongzhi.accounts.enums import Role
    from gongzhi.councils import actions as ca
    from gongzhi.microprojects import actions

    settings.VAR_DIR = str(tmp_path)
    place = place_tree.pingshan
    residents = [make_user(Role.RESIDENT, place, username=f"res{i}") for i in range(6)]
    outsider = make_user(Role.RESIDENT, place_tree.longlian, username="outsider")
    worker = make_user(Role.COMMUNITY_WORKER, place, username="worker")
    other_worker = make_user(Role.COMMUNITY_WORKER, place_tree.longlian, username="worker2")
    profile = ca.do_create_profile("ronr-m", "测试规则", "ronr", {}, actor=SYSTEM)
    council = ca.do_create_council("平山社区居民议事会", place, profile, actor=SYSTEM)
    members = []
    for i in range(5):
        u = make_user(Role.COUNCIL_MEMBER, place, username=f"member{i}")
        ca.do_add_member(council, f"成员{i}", actor=SYSTEM, user=u, role="secretary" if i == 4 else "member")
        members.append(u)
    mod_user = make_user(Role.COUNCIL_MODERATOR, place, username="moderator")
    moderator = ca.do_register_moderator(mod_user, place, actor=SYSTEM, display_name="李主持", training_hours=24,
                                       certificate_no="LH-T-001", certified_on=timezone.localdate())
    ca.do_assign_moderator(moderator, council, actor=SYSTEM)
    meeting = ca.do_schedule_meeting(council, "民生微实事议事会议", timezone.now() + timedelta(hours=1), actor=SYSTEM,
                                     moderator=moderator, secretary=members[4], agenda=[("其他事项", "")])
    year = timezone.localdate().year
    actions.do_set_budget(place, year, actor=worker, total="200000", ceiling="100000", method="knapsack")
    return SimpleNamespace(place=place, other=place_tree.longlian, residents=residents, outsider=outsider, worker=worker,
                           other_worker=other_worker, council=council, members=members, chair=mod_user,
                           meeting=meeting, year=year)
