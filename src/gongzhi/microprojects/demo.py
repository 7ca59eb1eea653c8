"""Demo micro-projects (DEMO ONLY): a year of 民生微实事 in 文华社区, built through the actions.

Every stage is there: proposals still collecting support, one merged duplicate, one rejected at
screening, one adopted as moved, one amended by the council (the seed's air-conditioner drip
pipes, now between buildings 3 and 4 only), one voted down, the year's funding list, projects in
delivery with milestones and spending, and accepted ones with residents' ratings. The council
votes in a real meeting (councils' actions, the engine's event log) with generated, approved
minutes. Idempotent: nothing is made twice (the meeting is looked up by its title).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from gongzhi.councils import actions as council_actions
from gongzhi.councils.models import Council, CouncilMember, Meeting, Minutes
from gongzhi.microprojects import actions
from gongzhi.microprojects.models import Proposal

Progress = Callable[[str], Any] | None
MEETING_TITLE = "文华社区居民议事会民生微实事专题会议"
COUNCIL = "文华社区居民议事会"


@dataclass
class MotionScript:
    """How the council takes one agenda proposal: who moves it, an optional amendment
    ``(mover index, new wording, votes)``, and the members' votes (``aye``/``no``/``abstain``)."""

    mover: int
    text: str
    votes: list[str]
    amendment: tuple[int, str, list[str]] | None = None
    debate: list[tuple[int, str]] = field(default_factory=list)


def hold_meeting(meeting: Meeting, chair: Any, members: list[Any], scripts: list[MotionScript], *,
                 start: datetime | None = None, secretary: Any = None) -> Minutes:
    """Run a whole meeting through councils' public actions: call to order, everyone arrives,
    each motion moved (seconded where the rules need it), debated, amended, voted; adjourn;
    minutes generated and approved by the chair and the secretary."""
    clock = [start or timezone.now()]

    def at(seconds: float) -> datetime:
        clock[0] += timedelta(seconds=seconds)
        return clock[0]

    council_actions.do_start_meeting(meeting, actor=chair, at=at(0))
    meeting.refresh_from_db()
    ids = {u.pk: str(CouncilMember.objects.get(council=meeting.council, user=u).pk) for u in members}

    def do(user: Any, seconds: float, **action: Any) -> None:
        council_actions.do_apply_meeting_action(meeting, action, actor=user, at=at(seconds))

    def maybe_second(user: Any) -> None:
        try:
            do(user, 3, type="second")
        except council_actions.CouncilError:
            pass  # rules without seconds (南塘十三条): nothing to second

    def move(i: int, kind: str, text: str) -> None:
        do(members[i], 10, type="request_floor")
        do(chair, 5, type="recognize", member=ids[members[i].pk])
        do(members[i], 10, type="move", kind=kind, text=text)
        maybe_second(members[(i + 1) % len(members)])
        do(chair, 10, type="state_question")

    def vote(choices: list[str]) -> None:
        do(chair, 20, type="call_vote", method="show_of_hands")
        for i, choice in enumerate(choices):
            if choice == "abstain":
                try:
                    do(members[i], 4, type="cast_vote", choice=choice)
                except council_actions.CouncilError:
                    pass  # rules that never ask abstainers (南塘十三条): not voting is abstaining
            elif choice:
                do(members[i], 4, type="cast_vote", choice=choice)
        do(chair, 10, type="announce_result")

    for u in members:
        do(u, 15, type="arrive")
    for s in scripts:
        move(s.mover, "main", s.text)
        for i, stance in s.debate:
            do(members[i], 10, type="request_floor", stance=stance)
            do(chair, 5, type="recognize", member=ids[members[i].pk])
            do(members[i], 3, type="speak")
            do(members[i], 90, type="yield_floor")
        if s.amendment is not None:
            who, wording, votes = s.amendment
            move(who, "amend", wording)
            vote(votes)
        vote(s.votes)
    do(chair, 30, type="declare_adjourned")
    meeting.refresh_from_db()
    minutes = council_actions.do_generate_minutes(meeting, actor=chair)
    council_actions.do_approve_minutes(minutes, actor=chair, as_role="chair")
    if secretary is not None:
        council_actions.do_approve_minutes(Minutes.objects.get(pk=minutes.pk), actor=secretary, as_role="secretary")
    return Minutes.objects.get(pk=minutes.pk)


def _resident(username: str, display: str, place: Any, *, actor: Any, password: str,
              made: list[tuple[str, str, str, str]]) -> Any:
    from gongzhi.accounts.actions import do_assign_role, do_create_user, do_set_password
    from gongzhi.accounts.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        user = do_create_user(username, display, None, actor=actor)
        do_set_password(user, password, actor=actor, validate=False)
        do_assign_role(user, "resident", place, None, actor=actor)
        made.append((username, password, "居民", place.name))
    return user


RESIDENTS = [("resident_chen", "陈阿姨"), ("resident_lin", "林师傅"), ("resident_huang", "黄先生"),
             ("resident_wu", "吴女士"), ("resident_zheng", "郑大爷"), ("resident_he", "何同学")]


def load_demo_microprojects(*, actor: Any, progress: Progress = None) -> list[tuple[str, str, str, str]]:
    from gongzhi.accounts.demo import demo_password
    from gongzhi.places.models import Place

    say = progress or (lambda _msg: None)
    wenhua = Place.objects.filter(name="文华社区", kind="community").first()
    council = Council.objects.filter(name=COUNCIL).first()
    if wenhua is None or council is None:
        say("microprojects: 文华社区 or its council not found (load places and councils first)")
        return []
    if Meeting.objects.filter(council=council, title=MEETING_TITLE).exists():
        return []
    made: list[tuple[str, str, str, str]] = []
    with transaction.atomic():
        build_year(wenhua, council, actor=actor, password=demo_password(), made=made)
    say("microprojects: 文华社区 — a year of 民生微实事 (merged, rejected, amended, voted down, funded, accepted)")
    return made


def build_year(place: Any, council: Council, *, actor: Any, password: str,
               made: list[tuple[str, str, str, str]]) -> dict[str, Proposal]:
    year = timezone.localdate().year
    people = [_resident(u, d, place, actor=actor, password=password, made=made) for u, d in RESIDENTS]
    actions.do_set_budget(place, year, actor=actor, total="300000", ceiling="150000", method="knapsack")

    def propose(i: int, title: str, description: str, cost: str, location: str, lat: str, lng: str) -> Proposal:
        return actions.do_propose(place, actor=people[i], title=title, description=description, estimated_cost=cost,
                                  location=location, lat=lat, lng=lng, year=year,
                                  reason="居民反映多年，影响日常生活。")

    p: dict[str, Proposal] = {}
    p["drip"] = propose(0, "加装空调滴水管套管", "在楼距很近的楼栋之间统一加装空调冷凝水滴水管套管。", "86000",
                        "文华社区3、4、5号楼之间", "22.547300", "114.131200")
    p["lights"] = propose(1, "小区主干道路灯更换为LED", "更换文华社区主干道老旧路灯共42盏。", "68000",
                          "文华社区主干道", "22.548100", "114.130500")
    p["lights_dup"] = propose(2, "路灯太暗，建议换新灯", "晚上主干道路灯太暗，老人走路不安全。", "50000",
                              "文华社区主干道北段", "22.548400", "114.130700")
    p["benches"] = propose(3, "口袋公园增设休息座椅", "在口袋公园增设12张防腐木座椅，方便老人休息。", "24000",
                           "文华社区口袋公园", "22.546900", "114.132000")
    p["mural"] = propose(4, "外墙彩绘美化", "请艺术团队在社区外墙做大型彩绘。", "120000",
                         "文华社区沿街外墙", "22.547800", "114.131800")
    p["ramp"] = propose(5, "无障碍坡道改造", "在社区服务中心入口加装无障碍坡道与扶手。", "45000",
                        "文华社区党群服务中心入口", "22.547600", "114.131000")
    p["gym"] = propose(1, "健身器材维修更换", "更换口袋公园损坏的健身器材6件。", "38000",
                       "文华社区口袋公园", "22.546800", "114.132100")
    p["wifi"] = propose(2, "社区长者食堂增设免费无线网络", "为长者食堂铺设无线网络，方便老人视频通话。", "8000",
                        "文华社区长者食堂", "22.547100", "114.131500")
    p["stairs"] = propose(5, "楼道声控灯维修", "7号楼楼道声控灯多处失灵，请统一维修。", "6000",
                          "文华社区7号楼", "22.547400", "114.131300")
    for key, supporters in {"drip": [1, 2, 3], "lights": [0, 3, 4, 5], "lights_dup": [4, 5], "benches": [0, 1, 5],
                            "mural": [2], "ramp": [0, 1, 2, 3, 4], "gym": [0, 3], "wifi": [3, 4]}.items():
        for i in supporters:
            if people[i].pk != p[key].proposer_id:
                actions.do_support(p[key], actor=people[i])
    actions.do_comment(p["drip"], "滴水落在一楼雨棚上，整夜都响，希望尽快解决。", actor=people[3])
    actions.do_comment(p["drip"], "只装3、4号楼之间就够了，5号楼那边楼距大。", actor=people[4])
    actions.do_comment(p["lights"], "建议选暖色光，不要太刺眼。", actor=people[0])

    # Screening: one duplicate merged (credit kept), one out of scope, the rest eligible.
    actions.do_merge_proposals(p["lights_dup"], p["lights"], actor=actor, reason="与“小区主干道路灯更换为LED”为同一事项。")
    actions.do_screen_proposal(p["mural"], actor=actor, eligible=False,
                               reason="外墙彩绘属于街道统一的城市更新项目范围，不属于民生微实事；已转街道城市更新办。")
    for key in ("drip", "lights", "benches", "ramp", "gym"):
        actions.do_screen_proposal(p[key], actor=actor, eligible=True, reason="符合民生微实事范围，估算费用在上限以内。")

    # The council's special meeting on the year's projects.
    from gongzhi.councils.models import Moderator

    moderator = Moderator.objects.filter(assignments__council=council, active=True).first()
    members = [m.user for m in CouncilMember.objects.filter(council=council, user__isnull=False, term_end__isnull=True)
               .order_by("id")][:9]
    secretary = next((m.user for m in CouncilMember.objects.filter(council=council, role="secretary")), None)
    when = (timezone.localtime() - timedelta(days=120)).replace(hour=19, minute=0, second=0, microsecond=0)
    meeting = council_actions.do_schedule_meeting(council, MEETING_TITLE, when, actor=actor,
                                                  location="文华社区党群服务中心二楼会议室", moderator=moderator,
                                                  secretary=secretary)
    for key in ("drip", "lights", "benches", "ramp", "gym"):
        actions.do_put_on_agenda(p[key], meeting, actor=actor)
    council_actions.do_send_notice(meeting, actor=actor)
    for key in p:
        p[key].refresh_from_db()
    n = len(members)
    ayes = ["aye"] * n
    amended = "在3号楼与4号楼之间统一加装空调冷凝水滴水管套管（5号楼楼距较大，不纳入），估算费用 86000 元。"
    scripts = [
        MotionScript(0, p["drip"].motion_text, ["aye"] * (n - 2) + ["no", "no"],
                     amendment=(3, amended, ["aye"] * (n - 3) + ["no", "no", "no"]),
                     debate=[(1, "pro"), (4, "con")]),
        MotionScript(1, p["lights"].motion_text, ayes),
        MotionScript(2, p["benches"].motion_text, [*ayes[:-1], "abstain"]),
        MotionScript(3, p["ramp"].motion_text, ayes),
        MotionScript(4, p["gym"].motion_text, ["no"] * (n - 3) + ["aye", "aye", "aye"],
                     debate=[(5, "con"), (6, "pro")]),
    ]
    chair = moderator.user if moderator is not None else members[0]
    hold_meeting(meeting, chair, members, scripts, start=when, secretary=secretary)
    for key in ("drip", "lights", "benches", "ramp", "gym"):
        actions.do_record_council_outcome(p[key], actor=actor)
    actions.do_fund_year(place, year, actor=actor)

    # Still on their way: the Wi-Fi proposal is eligible and goes to the council's next meeting;
    # another was screened eligible only; the stair lights are still collecting support.
    actions.do_screen_proposal(p["wifi"], actor=actor, eligible=True, reason="符合民生微实事范围。")
    nxt = Meeting.objects.filter(council=council, status__in=["scheduled", "noticed"]).order_by("scheduled_at").first()
    if nxt is not None:
        actions.do_put_on_agenda(p["wifi"], nxt, actor=actor)
    p["shade"] = propose(0, "长者食堂门口加装遮阳棚", "门口排队时日晒雨淋，建议加装遮阳棚。", "18000",
                         "文华社区长者食堂门口", "22.547150", "114.131550")
    actions.do_screen_proposal(p["shade"], actor=actor, eligible=True, reason="符合民生微实事范围，待提交议事会。")

    # Delivery: two projects done and accepted (rated), one in delivery.
    start = timezone.localdate() - timedelta(days=100)
    for key, implementer, days, done in (("ramp", "深圳市罗湖区某建设工程有限公司", 45, True),
                                          ("lights", "深圳市某照明工程有限公司", 60, True),
                                          ("drip", "深圳市某物业服务有限公司", 150, False)):
        proposal = Proposal.objects.get(pk=p[key].pk)
        if proposal.status != "funded":
            continue
        actions.do_assign_implementer(proposal, implementer, actor=actor, due_on=start + timedelta(days=days))
        actions.do_record_milestone(proposal, "进场施工", actor=actor, progress=30, done_on=start + timedelta(days=10))
        actions.do_record_spending(proposal, (proposal.funded_amount or 0) * 4 // 10, "预付款（40%）", actor=actor,
                                   spent_on=start + timedelta(days=10))
        if done:
            actions.do_record_milestone(proposal, "完工", actor=actor, progress=100, done_on=start + timedelta(days=days - 5))
            actions.do_record_spending(proposal, (proposal.funded_amount or 0) * 5 // 10, "完工结算（50%）", actor=actor,
                                       spent_on=start + timedelta(days=days - 3))
            actions.do_accept_project(proposal, actor=actor, note="居民代表、议事会成员现场验收合格。",
                                      accepted_at=timezone.make_aware(datetime.combine(
                                          start + timedelta(days=days - 2), datetime.min.time().replace(hour=10))))
            for i, stars in enumerate([5, 4, 5, 5]):
                actions.do_rate_project(proposal, stars, actor=people[i], comment="施工及时，效果很好。" if stars == 5 else "")
        else:
            actions.do_record_milestone(proposal, "套管安装过半", actor=actor, progress=60,
                                        done_on=timezone.localdate() - timedelta(days=5))
    return p


def demo_year_start() -> date:
    return date(timezone.localdate().year, 1, 1)
