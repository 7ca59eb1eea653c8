"""Community restructuring plans (issue 15): one reviewed plan, applied on its effective date.

A split moves open cases, residents and organisations to the new communities through the
registry's place-move hooks, while closed cases and the 5×100% figures of past months stay
under the old community; a plan can be edited or withdrawn until its date; bad input stores
nothing. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from gongzhi.accounts.enums import Role
from gongzhi.core import clock
from gongzhi.core.actions import claim_due_timers, run_timer
from gongzhi.core.enums import TimerStatus
from gongzhi.core.errors import ActionError, NotAllowedError
from gongzhi.core.models import AuditEvent, Timer
from gongzhi.core.tests.actors import SYSTEM
from gongzhi.core.tests.authz_world import id_number, make_user
from gongzhi.places import queries
from gongzhi.places.actions import (
    PlanDraft,
    do_approve_place_plan,
    do_cancel_place_plan,
    do_create_place,
    do_draft_place_plan,
    do_update_place_plan,
    plan_preview,
)
from gongzhi.places.enums import PlaceKind, PlanStatus
from gongzhi.places.models import Place, PlaceChange, RestructurePlan


def _today() -> date:
    return timezone.localdate()


def _at(day: date, hour: int = 1) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=timezone.get_default_timezone())


def stored() -> tuple[int, int, int, int, int]:
    return (RestructurePlan.objects.count(), Place.objects.count(), PlaceChange.objects.count(),
            AuditEvent.objects.count(), Timer.objects.count())


@pytest.fixture
def world(db: None) -> SimpleNamespace:
    mk = lambda kind, code, name, parent: do_create_place(kind, code, name, parent, actor=SYSTEM)  # noqa: E731
    city = mk(PlaceKind.CITY, "440300", "深圳市", None)
    guangming = mk(PlaceKind.DISTRICT, "440311", "光明区", city)
    matian = mk(PlaceKind.SUBDISTRICT, "440311006", "马田街道", guangming)
    gongming = mk(PlaceKind.SUBDISTRICT, "440311002", "公明街道", guangming)
    jiangshi = mk(PlaceKind.COMMUNITY, "440311006-C01", "将石社区", matian)
    groups = [mk(PlaceKind.GROUP, f"440311006-C01-G{i}", f"第{i}居民小组", jiangshi) for i in range(1, 9)]
    mashan = mk(PlaceKind.COMMUNITY, "440311006-C02", "马山头社区", matian)
    heshui = mk(PlaceKind.COMMUNITY, "440311006-C03", "合水口社区", matian)
    nanshan = mk(PlaceKind.DISTRICT, "440305", "南山区", city)
    taoyuan = mk(PlaceKind.SUBDISTRICT, "440305008", "桃源街道", nanshan)
    return SimpleNamespace(
        city=city, guangming=guangming, matian=matian, gongming=gongming, jiangshi=jiangshi, groups=groups,
        mashan=mashan, heshui=heshui, nanshan=nanshan, taoyuan=taoyuan,
        drafter=make_user(Role.SUBDISTRICT_SUPERVISOR, matian),
        approver=make_user(Role.DISTRICT_SUPERVISOR, guangming),
        other_district=make_user(Role.DISTRICT_SUPERVISOR, nanshan),
        worker=make_user(Role.COMMUNITY_WORKER, jiangshi),
    )


def split_draft(w: SimpleNamespace, effective: date, **changes: Any) -> PlanDraft:
    g = [p.code for p in w.groups]
    targets = [
        {"code": "440311006-C06", "name": "将围社区", "children": g[0:2], "rest": True},
        {"code": "440311006-C07", "name": "新庄社区", "children": g[2:4]},
        {"code": "440311006-C08", "name": "石家社区", "children": g[4:6]},
        {"code": "440311006-C09", "name": "石围社区", "children": g[6:8]},
    ]
    return PlanDraft(**{"kind": "split", "source_codes": [w.jiangshi.code], "effective": effective,
                        "targets": targets, "document_ref": "光明府〔2017〕1号", **changes})


def run_due_timers(day: date) -> int:
    """What the worker does on ``day``: claim the due timers and run them (under that day's clock);
    returns how many plan timers ran."""
    with clock.frozen_at(_at(day)):
        timers = claim_due_timers(now=_at(day))
        for t in timers:
            run_timer(t)
    return sum(t.kind == "places.apply_plan" for t in timers)


# ------------------------------------------------------------------ the split and the services


@pytest.fixture
def hall(world: SimpleNamespace) -> SimpleNamespace:
    """A resident of the 3rd residents' group, one of the community itself, a collective company,
    and three cases: two open, one closed."""
    from gongzhi.accounts.actions import do_create_department
    from gongzhi.core.tests.authz_world import uscc
    from gongzhi.people.actions import do_link_user_to_person, do_register_organisation, do_register_person
    from gongzhi.services.actions import Intake, do_submit_application
    from gongzhi.services.models import Case, ServiceItem

    dept = do_create_department("GM-MZ", "光明区民政局", world.guangming, actor=SYSTEM)
    item = ServiceItem.objects.create(code="GM-001", name="临时救助申请", department=dept, promised_days=5,
                                      statutory_days=20, form_schema=[], co_timeout_default=False)
    people = {}
    for key, body, home in (("g3", "44031119850101123", world.groups[2]),
                            ("community", "44031119860202234", world.jiangshi)):
        user = make_user(None)
        number = id_number(body)
        person = do_register_person(number, f"居民{key}", home_place=home, actor=SYSTEM)
        do_link_user_to_person(user, person, actor=SYSTEM)
        people[key] = (user, person, number)
    org = do_register_organisation(uscc("91440300MA5F00001"), "将石股份合作公司", "cooperative", world.jiangshi,
                                   actor=SYSTEM)
    cases = {}
    for key, who in (("open", "g3"), ("closed", "g3"), ("open_community", "community")):
        user, _person, number = people[who]
        app = do_submit_application(Intake(applicant_number=number, item_codes=[item.code], form={}),
                                    actor=user, channel="online", idempotency_key=f"plan-{key}")
        cases[key] = app.cases.get()
    # Test set-up only: the closed case as the back office would leave it.
    Case.objects.filter(pk=cases["closed"].pk).update(status="approved", closed_at=timezone.now(),
                                                      closed_on_time=True, stats_dirty=True)
    return SimpleNamespace(dept=dept, item=item, people=people, org=org, cases=cases)


def figures() -> dict[tuple[str, int, str], tuple[int, int]]:
    """Every roll-up row: (month, place id, path) → (cases, closed)."""
    from gongzhi.services.models import MonthlyFigure

    return {(f.month.isoformat(), f.place_id, f.place_path): (f.cases, f.closed) for f in MonthlyFigure.objects.all()}


def test_split_moves_open_cases_and_people_while_past_figures_stay(world: SimpleNamespace, hall: SimpleNamespace) -> None:
    from gongzhi.people.models import Organisation, Person
    from gongzhi.services.models import Case
    from gongzhi.services.stats import fold_dirty_cases

    fold_dirty_cases()
    before = figures()
    assert sum(c for c, _ in before.values()) == 3
    effective = _today() + timedelta(days=10)
    plan = do_draft_place_plan(split_draft(world, effective), actor=world.drafter)
    assert plan.status == PlanStatus.DRAFT and plan.district == world.guangming
    # The preview counts what would move, per target, from every registered app.
    assert plan.preview == {"people.residents": 2, "people.organisations": 1, "services.open_cases": 2}
    preview = {row["target"]: {c["key"]: c["count"] for c in row["counts"]} for row in plan_preview(plan)}
    assert preview["将围社区"]["services.open_cases"] == 1  # the community's own case
    assert preview["新庄社区"]["services.open_cases"] == 1  # the 3rd group's open case
    assert preview["石家社区"]["services.open_cases"] == 0

    plan = do_approve_place_plan(plan, actor=world.approver)
    assert plan.status == PlanStatus.APPROVED
    # Before the date: nothing due, nothing moved.
    assert run_due_timers(effective - timedelta(days=1)) == 0
    assert Place.objects.get(pk=world.jiangshi.pk).valid_to is None
    # On the date the worker applies it.
    assert run_due_timers(effective) == 1
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPLIED, plan.last_error
    assert plan.moved == {"people.residents": 2, "people.organisations": 1, "services.open_cases": 2}

    jiangshi = Place.objects.get(pk=world.jiangshi.pk)
    assert jiangshi.valid_to == effective
    assert {p.name for p in queries.successors(jiangshi) if p.kind == PlaceKind.COMMUNITY} == {
        "将围社区", "新庄社区", "石家社区", "石围社区"}
    xinzhuang = Place.objects.get(code="440311006-C07")
    jiangwei = Place.objects.get(code="440311006-C06")
    g3_new = Place.objects.get(parent=xinzhuang, name="第3居民小组")
    open_case = Case.objects.get(pk=hall.cases["open"].pk)
    assert (open_case.place_id, open_case.place_path) == (g3_new.pk, g3_new.path)
    assert Case.objects.get(pk=hall.cases["open_community"].pk).place_id == jiangwei.pk
    closed = Case.objects.get(pk=hall.cases["closed"].pk)
    assert closed.place_id == world.groups[2].pk  # history stays where it was
    assert Person.objects.get(pk=hall.people["g3"][1].pk).home_place_id == g3_new.pk
    assert Organisation.objects.get(pk=hall.org.pk).place_id == jiangwei.pk

    # The board (which counts the case table) keeps the old boundaries for the period too: the
    # moved case counts where it was accepted (the old 3rd group), not under 新庄.
    from gongzhi.services.queries import Period, board_cases

    period = Period(_today() - timedelta(days=1), _today())
    board = lambda place: set(board_cases(world.approver, place, period).values_list("pk", flat=True))  # noqa: E731
    assert board(xinzhuang) == set() and board(jiangwei) == set()
    assert board(world.groups[2]) == {hall.cases["open"].pk, hall.cases["closed"].pk}
    assert board(world.matian) == {c.pk for c in hall.cases.values()}
    assert open_case.accepted_path == world.groups[2].path

    # Past figures are not rewritten: the fold leaves every row as it was ...
    fold_dirty_cases()
    assert figures() == before
    # ... and when the moved case closes after the split, its month still counts it under the
    # place it was accepted at (the old 3rd group of 将石), not under 新庄.
    Case.objects.filter(pk=open_case.pk).update(status="approved", closed_at=timezone.now(), closed_on_time=True,
                                                stats_dirty=True)
    fold_dirty_cases()
    after = figures()
    assert set(after) == set(before)
    old_g3 = next(k for k in after if k[1] == world.groups[2].pk)
    assert after[old_g3] == (2, 2) and before[old_g3] == (2, 1)
    assert not any(k[1] in (g3_new.pk, xinzhuang.pk, jiangwei.pk) for k in after)
    # The applied plan is history: it cannot be cancelled or edited any more.
    with pytest.raises(ActionError):
        do_cancel_place_plan(plan, actor=world.drafter)


def test_approving_on_the_effective_day_applies_at_once(world: SimpleNamespace) -> None:
    plan = do_draft_place_plan(split_draft(world, _today()), actor=world.drafter)
    plan = do_approve_place_plan(plan, actor=world.approver)
    assert plan.status == PlanStatus.APPLIED
    assert [p.name for p in queries.current_places_for(Place.objects.get(pk=world.jiangshi.pk))] == [
        "将围社区", "新庄社区", "石家社区", "石围社区"]
    change = PlaceChange.objects.get(kind="split")
    assert plan.change == change and change.document_ref == "光明府〔2017〕1号"


# ------------------------------------------------------------------ reversible until effective


def test_cancel_before_the_date_leaves_the_tree_alone(world: SimpleNamespace) -> None:
    effective = _today() + timedelta(days=30)
    plan = do_approve_place_plan(do_draft_place_plan(split_draft(world, effective), actor=world.drafter),
                                 actor=world.approver)
    timer = Timer.objects.get(kind="places.apply_plan")
    assert timer.status == TimerStatus.PENDING and timezone.localtime(timer.due_at).date() == effective
    plan = do_cancel_place_plan(plan, actor=world.drafter, reason="街道重新论证")
    assert plan.status == PlanStatus.CANCELLED
    assert Timer.objects.get(pk=timer.pk).status == TimerStatus.CANCELLED
    assert run_due_timers(effective) == 0
    assert Place.objects.get(pk=world.jiangshi.pk).valid_to is None
    assert not PlaceChange.objects.filter(kind="split").exists()
    # The codes it reserved are free again for a new plan.
    do_draft_place_plan(split_draft(world, effective), actor=world.drafter)


def test_editing_an_approved_plan_sends_it_back_for_approval(world: SimpleNamespace) -> None:
    first = _today() + timedelta(days=30)
    plan = do_approve_place_plan(do_draft_place_plan(split_draft(world, first), actor=world.drafter),
                                 actor=world.approver)
    later = first + timedelta(days=31)
    plan = do_update_place_plan(plan, split_draft(world, later), actor=world.drafter)
    assert plan.status == PlanStatus.DRAFT and plan.version == 2 and plan.approved_by is None
    assert not Timer.objects.filter(kind="places.apply_plan", status=TimerStatus.PENDING).exists()
    assert run_due_timers(first) == 0
    assert Place.objects.get(pk=world.jiangshi.pk).valid_to is None
    # Approving version 1 (a stale page) is refused; version 2 is scheduled for the new date.
    with pytest.raises(ActionError):
        do_approve_place_plan(plan, actor=world.approver, expected_version=1)
    do_approve_place_plan(plan, actor=world.approver, expected_version=2)
    assert run_due_timers(later) == 1
    assert Place.objects.get(pk=world.jiangshi.pk).valid_to == later


# ------------------------------------------------------------------ merge and rename


def test_merge_plan(world: SimpleNamespace) -> None:
    effective = _today() + timedelta(days=5)
    plan = do_draft_place_plan(PlanDraft("merge", [world.mashan.code, world.heshui.code], effective,
                                         code="440311006-C10", name="马山合水社区"), actor=world.drafter)
    do_approve_place_plan(plan, actor=world.approver)
    run_due_timers(effective)
    merged = Place.objects.get(code="440311006-C10")
    assert merged.valid_from == effective and merged.parent == world.matian
    assert {p.code for p in queries.predecessors(merged)} == {world.mashan.code, world.heshui.code}
    assert RestructurePlan.objects.get(pk=plan.pk).status == PlanStatus.APPLIED


def test_rename_plan_waits_for_its_day(world: SimpleNamespace) -> None:
    effective = _today() + timedelta(days=3)
    plan = do_draft_place_plan(PlanDraft("rename", [world.mashan.code], effective, name="马山社区"),
                               actor=world.drafter)
    do_approve_place_plan(plan, actor=world.approver)
    assert Place.objects.get(pk=world.mashan.pk).name == "马山头社区"
    run_due_timers(effective)
    mashan = Place.objects.get(pk=world.mashan.pk)
    assert mashan.name == "马山社区" and mashan.valid_to is None  # same row, same code
    assert queries.name_on(mashan, effective - timedelta(days=1)) == "马山头社区"


# ------------------------------------------------------------------ bad input stores nothing


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("past", "已过"),
        ("twice", "同时分配"),
        ("missing", "未指定去向"),
        ("other_district", "不在"),
        ("one_target", "至少需要两个"),
        ("code_taken", "永不复用"),
        ("not_a_group", "不是"),
    ],
)
def test_bad_plans_store_nothing(world: SimpleNamespace, case: str, message: str) -> None:
    effective = _today() + timedelta(days=10)
    draft = split_draft(world, effective)
    targets = [dict(t) for t in draft.targets]
    if case == "past":
        draft = split_draft(world, _today() - timedelta(days=1))
    elif case == "twice":
        targets[1]["children"] = [*targets[1]["children"], world.groups[0].code]
    elif case == "missing":
        targets[3]["children"] = targets[3]["children"][:1]
    elif case == "other_district":
        targets[2]["parent"] = world.taoyuan.code
    elif case == "one_target":
        targets = [dict(targets[0], children=[g.code for g in world.groups])]
    elif case == "code_taken":
        targets[0]["code"] = world.mashan.code
    elif case == "not_a_group":
        targets[0]["children"] = [*targets[0]["children"], world.mashan.code]
    if case != "past":
        draft = replace(draft, targets=targets)
    before = stored()
    with pytest.raises(ActionError) as err:
        do_draft_place_plan(draft, actor=world.drafter)
    assert message in err.value.message
    assert stored() == before


def test_another_subdistrict_of_the_district_is_a_valid_target(world: SimpleNamespace) -> None:
    draft = split_draft(world, _today() + timedelta(days=10))
    targets = [dict(t) for t in draft.targets]
    targets[3]["parent"] = world.gongming.code
    plan = do_draft_place_plan(replace(draft, targets=targets), actor=world.drafter)
    assert plan.spec["targets"][3]["parent"] == world.gongming.code
    plan = do_approve_place_plan(plan, actor=world.approver)
    run_due_timers(plan.effective)
    assert Place.objects.get(code="440311006-C09").parent == world.gongming


def test_who_may_draft_and_approve(world: SimpleNamespace) -> None:
    effective = _today() + timedelta(days=10)
    before = stored()
    with pytest.raises(ActionError):  # a community worker drafts nothing
        do_draft_place_plan(split_draft(world, effective), actor=world.worker)
    with pytest.raises(ActionError):  # another district's supervisor neither
        do_draft_place_plan(split_draft(world, effective), actor=world.other_district)
    assert stored() == before
    plan = do_draft_place_plan(split_draft(world, effective), actor=world.approver)
    with pytest.raises(NotAllowedError):  # four eyes: the drafter does not approve
        do_approve_place_plan(plan, actor=world.approver)
    with pytest.raises(NotAllowedError):
        do_approve_place_plan(plan, actor=world.other_district)
    with pytest.raises(NotAllowedError):
        do_approve_place_plan(plan, actor=world.drafter)  # a subdistrict supervisor does not approve
    second = make_user(Role.DISTRICT_SUPERVISOR, world.guangming)
    assert do_approve_place_plan(plan, actor=second).status == PlanStatus.APPROVED
    # One community, one open plan.
    with pytest.raises(ActionError, match="已在调整方案"):
        do_draft_place_plan(split_draft(world, effective + timedelta(days=1)), actor=world.drafter)


# ------------------------------------------------------------------ the console and the API


def test_console_draft_preview_approve(world: SimpleNamespace) -> None:
    effective = (_today() + timedelta(days=20)).isoformat()
    g = [p.code for p in world.groups]
    form = {
        "kind": "split", "sources": world.jiangshi.code, "effective": effective,
        "targets": "440311006-C06 将围社区\n440311006-C07 新庄社区",
        "assignments": "\n".join(f"{c} {'440311006-C06' if i < 4 else '440311006-C07'}" for i, c in enumerate(g)),
        "code": "", "name": "", "document_ref": "", "note": "",
    }
    drafter = Client()
    drafter.force_login(world.drafter)
    assert drafter.get("/places/plans/new/").status_code == 200
    before = stored()
    bad = drafter.post("/places/plans/new/", {**form, "assignments": form["assignments"] + f"\n{g[0]} 440311006-C07"})
    assert bad.status_code == 400 and "同时分配" in bad.content.decode()
    past = drafter.post("/places/plans/new/", {**form, "effective": "2001-01-01"})
    assert past.status_code == 400 and "已过" in past.content.decode()
    assert stored() == before
    ok = drafter.post("/places/plans/new/", form)
    assert ok.status_code == 302
    plan = RestructurePlan.objects.get()
    page = drafter.get(f"/places/plans/{plan.pk}/").content.decode()
    assert "将围社区" in page and "在办办件" in page
    assert drafter.post(f"/places/plans/{plan.pk}/approve/").status_code == 403  # not a district supervisor
    approver = Client()
    approver.force_login(world.approver)
    assert approver.post(f"/places/plans/{plan.pk}/approve/", {"version": plan.version}).status_code == 302
    assert RestructurePlan.objects.get().status == PlanStatus.APPROVED
    outsider = Client()
    outsider.force_login(world.other_district)
    assert outsider.get(f"/places/plans/{plan.pk}/").status_code == 404
    assert outsider.get("/places/plans/").status_code == 200
    api = approver.get(f"/api/v1/places/plans/{plan.pk}")
    assert api.status_code == 200 and api.json()["status"] == "approved"
    assert approver.post(f"/api/v1/places/plans/{plan.pk}/cancellation", {"reason": "重议"},
                         content_type="application/json").json()["status"] == "cancelled"


def test_api_bad_plan_is_a_clear_422(world: SimpleNamespace) -> None:
    client = Client()
    client.force_login(world.drafter)
    before = stored()
    body = {"kind": "split", "sources": [world.jiangshi.code], "effective": (_today() - timedelta(days=3)).isoformat(),
            "targets": [{"code": "X1", "name": "甲社区"}, {"code": "X2", "name": "乙社区"}]}
    answer = client.post("/api/v1/places/plans", body, content_type="application/json")
    assert answer.status_code == 422 and "已过" in answer.json()["detail"][0]["msg"]
    assert stored() == before


def test_a_plan_overtaken_by_the_tree_waits_with_its_error(world: SimpleNamespace) -> None:
    # A residents' group set up after the approval has no destination: on the day, the worker
    # applies nothing and the console shows why (the district edits and approves again).
    effective = _today() + timedelta(days=7)
    plan = do_approve_place_plan(do_draft_place_plan(split_draft(world, effective), actor=world.drafter),
                                 actor=world.approver)
    do_create_place(PlaceKind.GROUP, "440311006-C01-G9", "第9居民小组", world.jiangshi, actor=SYSTEM)
    assert run_due_timers(effective) == 1
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED and "第9居民小组" in plan.last_error
    assert Place.objects.get(pk=world.jiangshi.pk).valid_to is None
    assert not PlaceChange.objects.filter(kind="split").exists()
