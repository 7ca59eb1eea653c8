"""Shared builders for the councils tests: a council at 文华社区 with members and a moderator.

Everything goes through the actions, so tests get the same validation and audit trail as real use.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.councils import actions
from gongzhi.councils.models import Meeting

SYSTEM = TEST_SYSTEM


def build_council(place_tree: Any, make_user: Callable[..., Any], *, n: int = 7, base: str = "nantang",
                  overrides: dict[str, Any] | None = None, weighted: bool = False, moderator: bool = True,
                  in_person: bool = False, weights: list[int] | None = None, place: Any = None,
                  start: bool = True, key: str | None = None) -> SimpleNamespace:
    place = place or place_tree.wenhua
    profile = actions.do_create_profile(key or f"p{place.pk}{base}{n}{int(weighted)}", f"测试规则{base}", base,
                                        overrides or {}, actor=SYSTEM)
    council = actions.do_create_council(
        "文华社区居民议事会" if not weighted else "某股份合作公司股东大会", place, profile, actor=SYSTEM,
        kind="shareholders" if weighted else "residents", weighted=weighted,
    )
    users, members = [], []
    term = date.today() - timedelta(days=30)
    for i in range(n):
        user = make_user("council_member", place)
        users.append(user)
        members.append(actions.do_add_member(
            council, f"成员{i + 1}", user=user, actor=SYSTEM, weight=(weights[i] if weights else 1),
            role="chair" if (not moderator and i == 0) else "member", term_start=term,
        ))
    secretary = make_user("community_worker", place)
    mod = mod_user = None
    if moderator:
        mod_user = make_user("council_moderator", place)
        mod = actions.do_register_moderator(mod_user, place, actor=SYSTEM, display_name="主持人老李",
                                            training_hours=40, certificate_no="LH-2026-001",
                                            certified_on=date(2026, 1, 5))
        actions.do_assign_moderator(mod, council, actor=SYSTEM)
    meeting = actions.do_schedule_meeting(
        council, "第一次议事会", timezone.now() + timedelta(hours=1), actor=SYSTEM,
        agenda=["加装空调滴水管套管整改项目", "东益汽车广场污染处置"], location="文华社区党群服务中心",
        moderator=mod, secretary=secretary, in_person=in_person,
    )
    ns = SimpleNamespace(council=council, profile=profile, users=users, members=members, mod=mod,
                         mod_user=mod_user, secretary=secretary, meeting=meeting, place=place)
    ns.ids = [str(m.pk) for m in members]
    ns.chair_id = f"mod-{mod.pk}" if mod else ns.ids[0]
    ns.chair_user = mod_user if mod else users[0]
    if start:
        actions.do_start_meeting(meeting, actor=ns.chair_user)
    return ns


def act(ns: SimpleNamespace, who: int | str, type_: str, **fields: Any) -> actions.ActionResult:
    """``who`` is a member index (0-based) or "chair"."""
    user = ns.chair_user if who == "chair" else ns.users[int(who)]
    meeting = Meeting.objects.get(pk=ns.meeting.pk)
    return actions.do_apply_meeting_action(meeting, {"type": type_, **fields}, actor=user)


def arrive_all(ns: SimpleNamespace, count: int | None = None) -> None:
    for i in range(count if count is not None else len(ns.users)):
        if ns.ids[i] == ns.chair_id:
            continue
        act(ns, i, "arrive")


def floor(ns: SimpleNamespace, who: int, stance: str | None = None) -> None:
    act(ns, who, "request_floor", **({"stance": stance} if stance else {}))
    act(ns, "chair", "recognize", member=ns.ids[who])


def run_meeting(ns: SimpleNamespace, *, method: str = "show_of_hands", ayes: int = 2, noes: int = 3,
                adjourn: bool = True) -> None:
    """Nantang flow: all arrive, member 0 moves, pro/con debate, vote, result, adjourn."""
    arrive_all(ns)
    floor(ns, 0)
    act(ns, 0, "move", kind="main", text="在3号楼与4号楼间加装空调滴水管套管")
    act(ns, "chair", "state_question")
    floor(ns, 0, "pro")
    act(ns, 0, "speak")
    act(ns, 0, "yield_floor")
    floor(ns, 1, "con")
    act(ns, 1, "speak")
    act(ns, 1, "yield_floor")
    act(ns, "chair", "call_vote", method=method)
    for i in range(ayes):
        act(ns, i, "cast_vote", choice="aye")
    for i in range(ayes, ayes + noes):
        act(ns, i, "cast_vote", choice="no")
    act(ns, "chair", "announce_result")
    if adjourn:
        act(ns, "chair", "declare_adjourned")
