"""The board's definitions (issue 11): each figure equals a recount from the cases (or items),
for a period and a place; the drill-down lists exactly the counted cases; the export opens with
openpyxl, matches and is audited; the API gives the same figures; the public board counts only
its place. Cases are made through the actions; the recount below reads the rows and applies the
written definitions (docs/board.md) in plain Python, independently of services.queries."""

from __future__ import annotations

import io
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from gongzhi.accounts.actions import do_create_department
from gongzhi.accounts.enums import Role
from gongzhi.core.models import AuditEvent
from gongzhi.services import queries
from gongzhi.services.actions import (
    Intake,
    do_claim_task,
    do_decide_task,
    do_record_visit,
    do_submit_application,
)
from gongzhi.services.models import Case, ServiceItem
from gongzhi.services.stats import fold_dirty_cases
from gongzhi.services.tests.conftest import SYSTEM, id_number, pdf
from gongzhi.services.tests.test_api import Api

pytestmark = pytest.mark.django_db

KEYS = ["one_number", "one_window", "online", "one_visit", "sunshine", "on_time"]


def _window(hall: SimpleNamespace, number: str, code: str, key: str, form: dict[str, str], name: str = "") -> Case:
    files = {"id_card": pdf()}  # scanned at the window (the applicants here have no ID card on file)
    intake = Intake(number, [code], form=form, accept_gaps=True, applicant_name=name, files=files)
    app = do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key=key)
    return app.cases.get()


def _close(hall: SimpleNamespace, case: Case) -> None:
    for task in case.tasks.select_related("department").order_by("role"):  # co before lead
        officer = hall.officers[task.department.code]
        do_claim_task(task, actor=officer)
        do_decide_task(task, approve=True, reason="同意", actor=officer)


@pytest.fixture
def world(hall: SimpleNamespace, make_user: Any) -> SimpleNamespace:
    """Cases in 南山区 (平山 community) today and 45 days ago, one in 罗湖区, an item of a 罗湖
    department and a withdrawn item — so places, periods and items all make a difference."""
    t = hall.tree
    reason = {"reason": "困难"}
    visited = _window(hall, hall.number, "T-MZ-001", "b-visited", reason)
    do_record_visit(visited, actor=hall.clerk)  # a second visit: out of 一次办
    closed = _window(hall, hall.number, "T-MZ-001", "b-closed", reason)
    _close(hall, closed)  # closed on time
    online = do_submit_application(Intake(hall.number, ["T-RS-002"], form={"purpose": "购房"}),
                                   actor=hall.resident_user, channel="online", idempotency_key="b-online").cases.get()
    walk_in = _window(hall, id_number("44030519770707123"), "T-MZ-001", "b-walkin", reason, name="王五")
    luohu_case = _window(hall, hall.other_number, "T-MZ-001", "b-luohu", reason)
    with time_machine.travel(timezone.now() - timedelta(days=45)):
        old = _window(hall, hall.number, "T-MZ-001", "b-old", reason)
    luohu_dept = do_create_department("T-LH", "罗湖区民政局", t.luohu, actor=SYSTEM)
    ServiceItem.objects.create(code="T-LH-001", name="罗湖事项", department=luohu_dept)
    ServiceItem.objects.create(code="T-MZ-OLD", name="已取消事项", department=hall.civil, active=False)
    supervisor = make_user(Role.DISTRICT_SUPERVISOR, t.nanshan, username="sup")
    return SimpleNamespace(hall=hall, tree=t, supervisor=supervisor, visited=visited, closed=closed, online=online,
                           walk_in=walk_in, luohu_case=luohu_case, old=old)


# ------------------------------------------------------------------------------- the recount


def _on_line(path: str, place_path: str) -> bool:
    """A department or route at the place, above it or below it."""
    return place_path.startswith(path) or path.startswith(place_path)


def recount(key: str, place: Any, since: date, until: date) -> tuple[set[str], set[str]]:
    """(numerator, denominator) by the written definition: case numbers, or item codes."""
    if key in ("one_window", "online"):
        items = {i.code for i in ServiceItem.objects.all()
                 if i.active and (_on_line(i.department.place.path, place.path)
                                  or any(_on_line(r.place.path, place.path) for r in i.routes.all()))}
        return items, items  # the window and the online hall both offer every active item
    cases = [c for c in Case.objects.all()
             if c.place_path.startswith(place.path) and since <= timezone.localtime(c.accepted_at).date() <= until]
    if key == "on_time":
        cases = [c for c in cases if c.closed_at is not None]
    rule = {
        "one_number": lambda c: c.applicant_person_id is not None or c.applicant_org_id is not None,
        "one_visit": lambda c: c.visits <= 1,
        "sunshine": lambda c: len(c.applicant_tail) == 4,
        "on_time": lambda c: c.closed_on_time is True,
    }[key]
    return {c.number for c in cases if rule(c)}, {c.number for c in cases}


def _counted(user: Any, key: str, place: Any, period: queries.Period, part: str) -> set[str]:
    if queries.MEASURES[key].basis == queries.BASIS_ITEMS:
        return {i.code for i in queries.measure_items(key, place, part)}
    return set(queries.measure_cases(user, key, place, period, part).values_list("number", flat=True))


def test_each_figure_equals_a_recount(world: SimpleNamespace) -> None:
    t, user = world.tree, world.supervisor
    today = timezone.localdate()
    periods = [queries.default_period(), queries.default_period(days=90), queries.Period(today, today),
               queries.Period(today - timedelta(days=60), today - timedelta(days=30))]
    seen_partial = False
    for place in (t.nanshan, t.taoyuan, t.pingshan, t.nantou):
        for period in periods:
            measures = {m.key: m for m in queries.board_measures(user, place, period)}
            assert list(measures) == KEYS
            for key in KEYS:
                num, den = recount(key, place, period.since, period.until)
                m = measures[key]
                assert (m.numerator, m.denominator) == (len(num), len(den)), (key, place.name, period)
                assert m.share == (round(100.0 * len(num) / len(den), 1) if den else None)
                assert queries.MEASURE_FUNCTIONS[key](user, place, period) == m  # one function per figure
                if m.basis == queries.BASIS_CASES:  # the drill-down lists exactly the counted cases
                    assert _counted(user, key, place, period, "numerator") == num
                    assert _counted(user, key, place, period, "denominator") == den
                seen_partial |= 0 < len(num) < len(den)
    assert seen_partial  # the world has figures below 100 %, so the comparison can tell rules apart
    # The world as built: in 南山区 over 30 days, 4 cases (not the old one, not 罗湖's).
    m = {m.key: m for m in queries.board_measures(user, t.nanshan, queries.default_period())}
    assert (m["one_visit"].numerator, m["one_visit"].denominator) == (3, 4)
    assert (m["on_time"].numerator, m["on_time"].denominator) == (2, 2)  # closed at the window, and the instant one
    assert (m["online"].numerator, m["online"].denominator) == (3, 3)  # not 罗湖's item, not the withdrawn one
    luohu = queries.board_measures(world.hall.clerk, t.luohu, queries.default_period())
    assert {x.key: x.denominator for x in luohu}["online"] == 1


def test_period_and_place_filters(world: SimpleNamespace, make_user: Any) -> None:
    t, user = world.tree, world.supervisor
    numbers = lambda place, period: _counted(user, "one_visit", place, period, "denominator")  # noqa: E731
    last30 = queries.default_period()
    assert world.old.number not in numbers(t.nanshan, last30)
    assert world.old.number in numbers(t.nanshan, queries.default_period(days=90))
    assert world.luohu_case.number not in numbers(t.nanshan, queries.default_period(days=90))
    assert numbers(t.nantou, last30) == set()  # 南头街道: none of 平山's cases
    # The place must be the user's, the dates in order and at most a year apart.
    place, period = queries.resolve_board_scope(user, None, None, None)
    assert place == t.nanshan and period == last30
    with pytest.raises(queries.ActionError) as err:
        queries.resolve_board_scope(user, t.luohu.code, None, None)
    assert err.value.field == "place"
    with pytest.raises(queries.ActionError) as err:
        queries.resolve_board_scope(user, None, date(2026, 3, 2), date(2026, 3, 1))
    assert err.value.field == "from"
    with pytest.raises(queries.ActionError) as err:
        queries.resolve_board_scope(user, None, date(2024, 1, 1), date(2025, 12, 31))
    assert err.value.field == "to"
    # A subdistrict supervisor of 南头 sees only 南头 and below, and counts none of 平山's cases.
    nantou_sup = make_user(Role.SUBDISTRICT_SUPERVISOR, t.nantou, username="sup_nantou")
    assert [p.code for p in queries.board_places(nantou_sup)] == [t.nantou.code, t.nantoucheng.code]
    assert queries.measure_one_visit(nantou_sup, t.nantou, last30).denominator == 0


# ------------------------------------------------------------------------------- the pages


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_board_page_defines_each_figure_and_links_its_cases(world: SimpleNamespace) -> None:
    c = _client(world.supervisor)
    r = c.get(reverse("services:board"))
    assert r.status_code == 200
    html = r.content.decode()
    for key in KEYS:
        spec = queries.MEASURES[key]
        assert str(spec.label) in html and str(spec.definition) in html
    assert "南山区" in html and "75.0%" in html  # 一次办: 3 of 4
    assert reverse("services:board_cases") in html and reverse("services:board_export") in html
    # The drill-down page lists exactly the numerator's cases.
    r = c.get(reverse("services:board_cases"), {"measure": "one_visit", "part": "numerator"})
    page = r.content.decode()
    assert r.status_code == 200
    assert world.closed.number in page and world.online.number in page and world.walk_in.number in page
    assert world.visited.number not in page and world.old.number not in page and world.luohu_case.number not in page
    r = c.get(reverse("services:board_cases"), {"measure": "one_visit", "part": "denominator"})
    assert world.visited.number in r.content.decode()
    # Bad input: 400 with the message, never a 500.
    assert c.get(reverse("services:board"), {"from": "2026-13-01"}).status_code == 400
    r = c.get(reverse("services:board"), {"from": "2026-03-02", "to": "2026-03-01"})
    assert r.status_code == 400 and "起始日期不能晚于结束日期" in r.content.decode()
    assert c.get(reverse("services:board"), {"place": world.tree.luohu.code}).status_code == 400
    assert c.get(reverse("services:board_cases"), {"measure": "nope"}).status_code == 400
    assert c.get(reverse("services:board_cases"), {"part": "both"}).status_code == 400
    assert _client(world.hall.clerk).get(reverse("services:board_cases")).status_code == 404


def test_board_in_english_and_traditional_chinese(world: SimpleNamespace) -> None:
    from django.conf import settings

    c = _client(world.supervisor)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = c.get(reverse("services:board")).content.decode()
    assert "Of the cases accepted in the period, the share where the applicant came in person at most once" in html
    assert "Export to Excel" in html and "Last 90 days" in html
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    html = c.get(reverse("services:board_cases"), {"measure": "online"}).content.decode()
    assert "本區域在辦事項中，可在網上辦事大廳線上申請的事項所佔比例。" in html


def test_export_opens_matches_and_is_audited(world: SimpleNamespace) -> None:
    c = _client(world.supervisor)
    params = {"measure": "one_visit", "part": "denominator", "from": (timezone.localdate() - timedelta(days=89)).isoformat()}
    r = c.get(reverse("services:board_export"), params)
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(r.content))
    summary = {row[0]: row[1] for row in book["指标"].iter_rows(values_only=True)}
    assert summary["定义"] == str(queries.MEASURES["one_visit"].definition)
    assert (summary["分子"], summary["分母"]) == (4, 5)
    listed = [row[0] for row in book["办件"].iter_rows(min_row=2, values_only=True)]
    expected = recount("one_visit", world.tree.nanshan, date.fromisoformat(params["from"]), timezone.localdate())[1]
    assert sorted(listed) == sorted(expected) and len(listed) == 5
    text = " ".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v)
    hall = world.hall
    for personal in (hall.number, "张伟明", "王五", hall.person.number_masked, "13812345678"):
        assert personal not in text
    event = AuditEvent.objects.filter(verb="services.board.export").get()
    assert event.actor_id == world.supervisor.pk and event.after["rows"] == 5 and event.after["measure"] == "one_visit"


def test_api_gives_the_pages_figures(world: SimpleNamespace) -> None:
    api = Api(world.supervisor)
    r = api.get("/board")
    assert r.status_code == 200, r.content
    body = r.json()
    expected = queries.board_measures(world.supervisor, world.tree.nanshan, queries.default_period())
    assert [(m["key"], m["numerator"], m["denominator"], m["share"]) for m in body["measures"]] == [
        (m.key, m.numerator, m.denominator, m.share) for m in expected]
    assert body["measures"][0]["definition"] == str(queries.MEASURES["one_number"].definition)
    r = api.get("/board/cases", measure="one_visit", part="numerator")
    assert {c["number"] for c in r.json()} == {world.closed.number, world.online.number, world.walk_in.number}
    assert "applicant_name" not in r.json()[0]
    r = api.get("/board", **{"from": "2026-03-02", "to": "2026-03-01"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "from"
    assert api.get("/board", place=world.tree.luohu.code).status_code == 422
    assert api.get("/board/cases", measure="nope").status_code == 422
    assert Api(world.hall.clerk).get("/board").status_code == 403


def test_public_board_counts_only_its_place(world: SimpleNamespace, settings: Any) -> None:
    fold_dirty_cases()
    c = Client()
    r = c.get(reverse("services:ontime"))
    assert r.status_code == 200
    html = r.content.decode()
    assert r.context["place"] == world.tree.nanshan and "南山区" in html and "全区" not in html
    nanshan_cases = Case.objects.filter(place_path__startswith=world.tree.nanshan.path).count()
    assert r.context["overall"].cases == nanshan_cases == 5  # not 罗湖's case
    assert sum(f.cases for _d, f in r.context["by_dept"]) == 5
    r = c.get(reverse("services:ontime"), {"place": world.tree.luohu.code})
    assert r.context["overall"].cases == 1 and "罗湖区" in r.content.decode()
    r = c.get(reverse("services:ontime"), {"place": world.tree.nantou.code})
    assert r.context["overall"].cases == 0
    assert c.get(reverse("services:ontime"), {"place": "NOPE"}).status_code == 404
    settings.GONGZHI_PUBLIC_BOARD_PLACE = world.tree.luohu.code  # a deployment names its place
    r = c.get(reverse("services:ontime"))
    assert r.context["place"] == world.tree.luohu and r.context["overall"].cases == 1
