"""Demo councils (DEMO ONLY): 文华社区居民议事会 with a held meeting and public minutes, a scheduled
meeting with the seed's agenda, and a shareholders' meeting that votes by shares.

The ``luohu`` profile below is *parameters only* built on 南塘十三条 (3-minute speeches, chair never
votes): the Luohu ten rules' own text is local and is not reproduced here.

Idempotent: every object is looked up by its name first. Everything goes through the actions, so
the demo has a real event log and audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from gongzhi.core.actors import Actor
from gongzhi.councils import actions
from gongzhi.councils.models import Council, CouncilMember, Meeting, Minutes, Moderator, RuleProfileRecord

Progress = Callable[[str], Any] | None

PROFILES = [
    ("ronr", "罗伯特议事规则（第12版）", "ronr", {}, "RONR 12th ed. defaults."),
    ("nantang", "南塘十三条", "nantang", {}, "南塘十三条：中立主持、正反轮流、每人每议题两次、每次两分钟。"),
    # Parameters only; the Luohu text is local and not encoded here.
    ("luohu", "罗湖议事规则（参数示例）", "nantang",
     {"speech_seconds": 180, "chair_votes": "never"},
     "在南塘十三条基础上的参数示例：每次发言三分钟、主持人不投票。仅为参数，不是罗湖十条原文。"),
    ("shareholders", "股东大会规则（按股份）", "ronr",
     {"seconds_required": False, "quorum_rule": "two_thirds", "vote_by_weight": True},
     "股份合作公司股东大会：按股份表决，三分之二股份出席为法定人数。"),
]

COUNCIL = "文华社区居民议事会"
SHAREHOLDERS = "黄贝街道示范股份合作公司股东大会（演示）"
PAST_TITLE = "文华社区居民议事会2026年第一次会议"
NEXT_TITLE = "文华社区居民议事会2026年第二次会议"
MEMBER_NAMES = ["陈建华", "林淑芬", "黄志强", "吴丽萍", "刘德明", "郑秀英", "何国栋", "谢美玲", "周文杰"]


def _user(username: str, display: str, role: str, place: Any, *, actor: Actor, password: str,
          made: list[tuple[str, str, str, str]]) -> Any:
    from gongzhi.accounts.actions import do_assign_role, do_create_user, do_set_password
    from gongzhi.accounts.enums import Role
    from gongzhi.accounts.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        user = do_create_user(username, display, None, actor=actor)
        do_set_password(user, password, actor=actor, validate=False)
        do_assign_role(user, role, place, None, actor=actor)
    made.append((username, password, str(Role(role).label), place.name))
    return user


def load_demo_councils(*, actor: Actor, progress: Progress = None) -> list[tuple[str, str, str, str]]:
    from gongzhi.accounts.demo import demo_password
    from gongzhi.accounts.models import User
    from gongzhi.places.models import Place

    say = progress or (lambda _msg: None)
    wenhua = Place.objects.filter(name="文华社区").first()
    if wenhua is None:
        say("councils: 文华社区 not found (load places first)")
        return []
    password = demo_password()
    made: list[tuple[str, str, str, str]] = []
    with transaction.atomic():
        for key, name, base, overrides, description in PROFILES:
            if not RuleProfileRecord.objects.filter(key=key).exists():
                actions.do_create_profile(key, name, base, overrides, actor=actor, description=description)
        luohu = RuleProfileRecord.objects.get(key="luohu")
        users = [_user(f"member{i}", MEMBER_NAMES[i - 1], "council_member", wenhua, actor=actor, password=password,
                       made=made) for i in range(1, 10)]
        council = Council.objects.filter(name=COUNCIL, place=wenhua).first()
        if council is None:
            council = actions.do_create_council(COUNCIL, wenhua, luohu, actor=actor)
            start = date(2025, 1, 1)
            for i, user in enumerate(users):
                role = "secretary" if i == 8 else "member"
                sector = ["resident", "resident", "party", "resident", "society", "resident", "enterprise",
                          "resident", "government"][i]
                actions.do_add_member(council, MEMBER_NAMES[i], user=user, role=role, sector=sector,
                                      term_start=start, actor=actor)
            extra = User.objects.filter(username="member").first()
            if extra is not None:
                actions.do_add_member(council, extra.display_name or "议事会成员", user=extra, term_start=start,
                                      actor=actor)
            say(f"council {COUNCIL}")
        mod_user = User.objects.filter(username="moderator").first() or _user(
            "moderator", "文华社区议事规则主持人", "council_moderator", wenhua, actor=actor, password=password,
            made=made)
        moderator = Moderator.objects.filter(user=mod_user).first()
        if moderator is None:
            moderator = actions.do_register_moderator(
                mod_user, wenhua, actor=actor, display_name="李主持", training_hours=48, trained_on=date(2025, 6, 20),
                certificate_no="LH-YSZC-2025-017", certified_on=date(2025, 7, 1))
            actions.do_assign_moderator(moderator, council, actor=actor, start=date(2025, 7, 1))
        if not Meeting.objects.filter(council=council, title=PAST_TITLE).exists():
            _held_meeting(council, moderator, users, actor=actor)
            say(f"meeting {PAST_TITLE} (held, minutes published)")
        if not Meeting.objects.filter(council=council, title=NEXT_TITLE).exists():
            when = (timezone.localtime() + timedelta(days=7)).replace(hour=19, minute=30, second=0, microsecond=0)
            nxt = actions.do_schedule_meeting(
                council, NEXT_TITLE, when, actor=actor, location="文华社区党群服务中心二楼会议室",
                agenda=[("加装空调滴水管套管整改项目（复议）", "上次会议未通过，居民提出修改方案后再议。"),
                        ("东益汽车广场污染处置", "汽修喷漆异味与噪声扰民，商讨整改要求与监督办法。")],
                moderator=moderator, in_person=True, secretary=users[8])  # 周文杰 records (记录员)
            actions.do_send_notice(nxt, actor=actor)
            say(f"meeting {NEXT_TITLE} (scheduled)")
        recorder = _user("recorder", "股东大会记录员", "council_member", wenhua, actor=actor, password=password,
                         made=made)
        _shareholders(wenhua, actor=actor, say=say, recorder=recorder)
    return made


def _held_meeting(council: Council, moderator: Moderator, users: list[Any], *, actor: Actor) -> None:
    t = (timezone.localtime() - timedelta(days=21)).replace(hour=19, minute=30, second=0, microsecond=0)
    meeting = actions.do_schedule_meeting(
        council, PAST_TITLE, t, actor=actor, location="文华社区党群服务中心二楼会议室",
        agenda=[("加装空调滴水管套管整改项目", "在楼距很近的3、4号楼之间加装空调冷凝水滴水管套管。")],
        moderator=moderator, secretary=users[8])
    actions.do_send_notice(meeting, actor=actor)
    clock = [t]

    def at(seconds: float) -> datetime:
        clock[0] += timedelta(seconds=seconds)
        return clock[0]

    actions.do_start_meeting(meeting, actor=moderator.user, at=at(0))
    meeting.refresh_from_db()
    ids = {u.pk: str(CouncilMember.objects.get(council=council, user=u).pk) for u in users}

    def do(user: Any, seconds: float, **action: Any) -> None:
        actions.do_apply_meeting_action(meeting, action, actor=user, at=at(seconds))

    chair = moderator.user
    for u in users:
        do(u, 20, type="arrive")
    do(users[0], 30, type="request_floor")
    do(chair, 5, type="recognize", member=ids[users[0].pk])
    do(users[0], 10, type="move", kind="main",
       text="由社区出资在3号楼与4号楼之间统一加装空调冷凝水滴水管套管，解决滴水扰民问题。")
    do(chair, 20, type="state_question")
    debate = [(0, "pro", 110), (1, "con", 150), (3, "pro", 95), (4, "con", 170), (6, "con", 120)]
    for i, stance, secs in debate:
        do(users[i], 10, type="request_floor", stance=stance)
        do(chair, 5, type="recognize", member=ids[users[i].pk])
        do(users[i], 3, type="speak")
        do(users[i], secs, type="yield_floor")
    do(users[5], 15, type="move", kind="point_of_order", text="发言人在质疑他人动机，违反规则")
    do(chair, 20, type="rule", well_taken=True, text="请发言人就事论事，不得质疑他人动机")
    do(chair, 30, type="call_vote", method="show_of_hands")
    for i, choice in enumerate(["aye", "no", "no", "aye", "no", "no", "no", "aye", "no"]):
        do(users[i], 4, type="cast_vote", choice=choice)
    do(chair, 20, type="announce_result")
    do(chair, 60, type="declare_adjourned")
    meeting.refresh_from_db()
    minutes = actions.do_generate_minutes(meeting, actor=chair)
    actions.do_approve_minutes(minutes, actor=chair, as_role="chair")
    actions.do_approve_minutes(Minutes.objects.get(pk=minutes.pk), actor=users[8], as_role="secretary")


def _shareholders(place: Any, *, actor: Actor, say: Callable[[str], Any], recorder: Any = None) -> None:
    if Council.objects.filter(name=SHAREHOLDERS).exists():
        return
    profile = RuleProfileRecord.objects.get(key="shareholders")
    council = actions.do_create_council(SHAREHOLDERS, place, profile, actor=actor, kind="shareholders", weighted=True)
    holders = [("股东代表 张", 1800), ("股东代表 王", 1250), ("股东代表 李", 960), ("股东代表 赵", 720),
               ("股东代表 钱", 430), ("股东代表 孙", 340)]
    for i, (name, shares) in enumerate(holders):
        # The largest holder convenes (召集人) and presides; the meeting is recorded in person.
        actions.do_add_member(council, name, weight=shares, role="chair" if i == 0 else "member",
                              term_start=date(2025, 1, 1), actor=actor)
    when = (timezone.localtime() + timedelta(days=14)).replace(hour=9, minute=30, second=0, microsecond=0)
    # A recorder (记录员) so the meeting's console can be run and its minutes approved in the demo.
    actions.do_schedule_meeting(council, "2026年度股东大会", when, actor=actor, location="公司会议室",
                                agenda=["集体物业出租方案（按股份表决）"], in_person=True, secretary=recorder)
    say(f"council {SHAREHOLDERS} (weighted by shares)")
