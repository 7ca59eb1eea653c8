"""The villages' share of the demo district (DEMO ONLY), built through the actions.

平山村 (桃源街道平山社区): three renovation projects — one on track (万科代建), one at risk with a
late start (华润置地), one whose deadline can no longer be met (招商蛇口) — a talent-apartment
round with its published ranking, access credentials with consents (one withdrawn) and a
deny-list entry under contest. 盐田: a resettlement selection by a published lottery with a
hand-over. Idempotent: nothing is done if the demo village exists.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gongzhi.core import clock
from gongzhi.villages import actions as va
from gongzhi.villages.enums import ProjectStatus
from gongzhi.villages.models import Credential, FaceConsent, Village

CODE = "DEMO-V-PINGSHAN"
BUILDERS = {  # USCC bodies; the check character is computed (demo values)
    "vanke": ("91440300192181490", "万科企业股份有限公司（代建）"),
    "cr": ("91440300618874367", "华润置地（深圳）有限公司（代建）"),
    "cmsk": ("91440300618832968", "招商局蛇口工业区控股股份有限公司（代建）"),
}
PLAN = [
    va.TaskSpec("survey", "现状测绘与方案设计", 20),
    va.TaskSpec("approve", "方案审批", 15, ("survey",)),
    va.TaskSpec("pipes", "雨污分流管网", 45, ("approve",)),
    va.TaskSpec("power", "三线下地", 40, ("approve",)),
    va.TaskSpec("fire", "消防设施与通道", 30, ("pipes",)),
    va.TaskSpec("facade", "外立面与公共空间", 50, ("power",)),
    va.TaskSpec("accept", "竣工验收", 10, ("fire", "facade")),
]


def _uscc(body17: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(alphabet.index(c) * w for c, w in zip(body17, weights, strict=True))
    return body17 + alphabet[(31 - total % 31) % 31]


def _id_number(body17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(body17, weights, strict=True))
    return body17 + "10X98765432"[total % 11]


def _person(i: int, name: str, place: Any, actor: Any) -> Any:
    from gongzhi.people.actions import do_register_person

    number = _id_number(f"4403051988{(i % 12) + 1:02d}{(i % 27) + 1:02d}{500 + i:03d}")
    return do_register_person(number, name, home_place=place, actor=actor)  # idempotent by number


def load_demo_villages(*, actor: Any, progress: Any = None) -> list[tuple[str, str, str, str]]:
    from gongzhi.accounts.demo import demo_places
    from gongzhi.accounts.models import User
    from gongzhi.places.models import Place

    if Village.objects.filter(code=CODE).exists():
        return []
    places = demo_places()
    pingshan = places["pingshan"]
    owner = User.objects.filter(username="worker").first()
    supervisor = User.objects.filter(username="sup_community").first()
    today = clock.localdate()
    village = va.do_create_village(pingshan, CODE, "平山村", today.year, actor=actor)

    def project(key: str, name: str, builder: str, start_ago: int, days: int) -> Any:
        body, builder_name = BUILDERS[builder]
        p = va.do_create_project(
            village, code=f"DEMO-{key}", name=name, scope="雨污分流、三线下地、消防、外立面与公共空间",
            budget="18600000.00", agent_builder_uscc=_uscc(body), agent_builder_name=builder_name,
            start_date=today - timedelta(days=start_ago), deadline=today - timedelta(days=start_ago) + timedelta(days=days),
            owner=owner, supervisor=supervisor, actor=actor)
        va.do_set_project_status(p, ProjectStatus.APPROVED, actor=actor)
        va.do_set_plan(p, PLAN, actor=actor)
        return p

    on_track = project("ONTRACK", "平山村综合整治一期（按期）", "vanke", 40, 200)
    va.do_report_progress(on_track, "survey", week_of=today - timedelta(days=21), percent=100,
                          started_on=today - timedelta(days=40), finished_on=today - timedelta(days=21), actor=actor)
    va.do_report_progress(on_track, "approve", week_of=today, percent=80, started_on=today - timedelta(days=20),
                          note="方案已报街道，待区住建局意见", actor=actor)
    at_risk = project("ATRISK", "平山村消防通道改造（有风险）", "cr", 60, 175)
    va.do_report_progress(at_risk, "survey", week_of=today - timedelta(days=25), percent=100,
                          started_on=today - timedelta(days=60), finished_on=today - timedelta(days=30), actor=actor)
    project("LATE", "平山村外立面整治（已无法按期）", "cmsk", 30, 150)

    # talent apartments
    rules = {"require": [{"fact": "owns_home_in_city", "op": "eq", "value": False},
                         {"fact": "years_social_insurance", "op": "ge", "value": 1}],
             "score": [{"fact": "talent_level", "points": {"A": 60, "B": 40, "C": 20}},
                       {"fact": "years_in_district", "per": 5, "max": 25}]}
    rnd = va.do_open_talent_round(village, "平山村人才公寓2026年第一批", 3, rules, actor=actor)
    applicants = [("王晓明", "A", 2, False, 3), ("陈思远", "B", 4, False, 5), ("刘雨桐", "B", 1, False, 2),
                  ("赵嘉怡", "C", 5, False, 6), ("孙浩然", "A", 0, True, 4), ("周子涵", "C", 2, False, 0)]
    for i, (name, level, years, owns, insured) in enumerate(applicants):
        va.do_apply_talent(rnd, _person(i, name, pingshan, actor),
                           {"talent_level": level, "years_in_district": years, "owns_home_in_city": owns,
                            "years_social_insurance": insured}, actor=actor)
    va.do_publish_ranking(rnd, actor=actor)

    # resettlement (Yantian, three villages on one site)
    yantian = Place.objects.filter(name="盐田区", valid_to__isnull=True).order_by("path").first() or pingshan
    yt = va.do_create_village(yantian, "DEMO-V-YANTIAN", "盐田三村联建安置区", today.year, actor=actor)
    rr, seed = va.do_open_resettlement_round(yt, "一号地块回迁选房", "盐田一号地块", "lottery", actor=actor)
    households = []
    for i, name in enumerate(["吴家", "郑家", "林家", "黄家"]):
        households.append(va.do_add_household(rr, f"YT-{i + 1:03d}", _person(20 + i, f"{name[0]}国强", pingshan, actor),
                                              "180.00", 2, actor=actor))
    va.do_add_units(rr, [(f"{b}栋", f"{f}0{n}", "89.00") for b in (1, 2) for f in (1, 2) for n in (1, 2)], actor=actor)
    rr = va.do_draw_order(rr, seed=seed, actor=actor)
    first = next(h for h in households if h.ref == rr.order[0])
    units = list(rr.units.order_by("building", "number"))
    va.do_select_unit(first, units[0], actor=actor)
    va.do_select_unit(first, units[1], actor=actor)
    va.do_record_hand_over(units[0], today - timedelta(days=3), note="钥匙两把，水电表读数已确认", actor=actor)

    # access control
    gate = va.do_create_gate(village, "平山村东门", actor=actor)
    residents = [_person(40 + i, n, pingshan, actor) for i, n in enumerate(["李桂芳", "张建国", "黄美玲"])]
    for p in residents:
        va.do_issue_credential(village, p, "card", actor=actor)
    va.do_issue_credential(village, residents[0], "qr", actor=actor)
    for p in residents[:2]:
        va.do_record_face_consent(village, p, "2026-01", actor=actor)
        va.do_issue_credential(village, p, "face", actor=actor)
    withdrawn = FaceConsent.objects.get(village=village, person=residents[1], withdrawn_at__isnull=True)
    va.do_withdraw_face_consent(withdrawn, actor=actor)
    if supervisor is not None:
        now = clock.now()
        entry = va.do_add_deny_entry(
            village, residents[2], legal_basis="人民法院人身安全保护令（示例）", reason="保护令禁止接近申请人住所",
            starts_at=now - timedelta(days=5), expires_at=now + timedelta(days=85),
            notice_text="已于当日书面告知，可在十五日内向社区提出异议", approver=supervisor, actor=actor)
        va.do_contest_deny_entry(entry, "保护令已于上周撤销，附法院文书", actor=actor)
    card = Credential.objects.filter(village=village, person=residents[2], kind="card").first()
    if card is not None:
        va.do_gate_lookup(gate, card.token, actor=actor)  # flagged: a person decides at the gate


    # property management of the renovated village
    company = va.do_register_property_company(village, _uscc("91440300MA5F00001"), "平山村物业服务有限公司（演示）",
                                              actor=actor)
    building = va.do_add_building(village, "平山村12栋", 36, company, actor=actor)
    va.do_file_repair(building, "502", "楼道声控灯不亮", limit_days=2, person=residents[0], actor=actor)
    va.do_bill_fee(building, "502", f"{today:%Y-%m}", "268.50", actor=actor)
    return []
