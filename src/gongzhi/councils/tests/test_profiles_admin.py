"""Rule profiles as data, the admin screens, and the demo loader."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.councils import actions
from gongzhi.councils.models import Council, Meeting, RuleProfileRecord

pytestmark = pytest.mark.django_db


def test_profile_overrides_are_validated_with_chinese_errors(place_tree: Any) -> None:
    p = actions.do_create_profile("luohu-t", "罗湖（测试）", "nantang", {"speech_seconds": 180}, actor=TEST_SYSTEM)
    assert actions.resolve_profile(p.base, p.overrides)["speech_seconds"] == 180
    cases = [
        ("x1", "nantang", {"speech_secs": 180}, "未知的规则参数"),
        ("x2", "nantang", {"speech_seconds": "180"}, "每次发言秒数"),
        ("x3", "nantang", {"chair_votes": "sometimes"}, "主持人投票方式"),
        ("x4", "nantang", {"max_speeches": 0}, "规则参数有误"),
        ("x5", "robert", {}, "未知的基础规则"),
    ]
    for key, base, overrides, text in cases:
        with pytest.raises(actions.CouncilError) as info:
            actions.do_create_profile(key, "坏规则", base, overrides, actor=TEST_SYSTEM)
        assert text in info.value.message, info.value.message
    assert not RuleProfileRecord.objects.filter(key__startswith="x").exists()
    with pytest.raises(actions.CouncilError):
        actions.do_create_profile("luohu-t", "重复", "nantang", {}, actor=TEST_SYSTEM)


def test_only_administrators_create_profiles(make_user: Any, place_tree: Any) -> None:
    worker = make_user("community_worker", place_tree.wenhua)
    with pytest.raises(actions.NotAllowed):
        actions.do_create_profile("w", "w", "ronr", {}, actor=worker)


def test_admin_pages_render_and_validate(make_user: Any, place_tree: Any) -> None:
    from gongzhi.councils.tests.helpers import build_council, run_meeting

    ns = build_council(place_tree, make_user)
    run_meeting(ns)
    admin_user = make_user(None, superuser=True)
    c = Client()
    c.force_login(admin_user)
    for model in ("ruleprofilerecord", "council", "moderator", "meeting", "meetingevent", "minutes"):
        assert c.get(f"/admin/councils/{model}/").status_code == 200, model
    page = c.get(f"/admin/councils/ruleprofilerecord/{ns.profile.pk}/change/")
    assert page.status_code == 200 and "stance_required" in page.content.decode()
    assert c.get(f"/admin/councils/meeting/{ns.meeting.pk}/change/").status_code == 200
    bad = c.post("/admin/councils/ruleprofilerecord/add/",
                 {"key": "bad", "name": "坏", "base": "nantang", "overrides": '{"speech_secs": 1}'})
    assert bad.status_code == 200 and "未知的规则参数" in bad.content.decode()
    good = c.post("/admin/councils/ruleprofilerecord/add/",
                  {"key": "good", "name": "好", "base": "ronr", "overrides": '{"max_speeches": 3}'})
    assert good.status_code == 302
    assert RuleProfileRecord.objects.get(key="good").overrides == {"max_speeches": 3}


def test_demo_loader_is_idempotent_and_publishes_minutes() -> None:
    from gongzhi.accounts.demo import load_demo_users
    from gongzhi.councils.demo import load_demo_councils
    from gongzhi.councils.queries import public_minutes, verify_minutes
    from gongzhi.places.demo import load_demo_places

    load_demo_places(actor=TEST_SYSTEM)
    load_demo_users(actor=TEST_SYSTEM)
    rows = load_demo_councils(actor=TEST_SYSTEM)
    assert {r[0] for r in rows} >= {f"member{i}" for i in range(1, 10)}
    load_demo_councils(actor=TEST_SYSTEM)
    assert Council.objects.count() == 2 and Council.objects.filter(weighted=True).count() == 1
    minutes = public_minutes().get()
    assert verify_minutes(minutes).ok
    main = next(m for m in minutes.content["record"]["motions"] if m["kind"] == "main")
    assert main["status"] == "lost"  # the seed's drip-pipe project was voted down
    assert Meeting.objects.filter(status="noticed").count() == 1
    # Every demo meeting to come has a recorder who can run it and approve its minutes.
    for meeting in Meeting.objects.filter(status__in=("noticed", "scheduled")):
        assert meeting.secretary is not None and actions.meeting_roles(meeting, meeting.secretary) == {"secretary"}
