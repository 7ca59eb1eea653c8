"""Scoped reads of the service hall. Every list and every single fetch goes through here.

Who sees which cases (``policy.case_q``, the one rule every page, API, PDF and export goes through):
- staff in ``accounts.enums.CASE_READ_ROLES`` (clerks, community workers, supervisors, auditors,
  administrators): cases whose place lies in the jurisdiction of that role. Council members,
  moderators and asset managers hold staff roles but read no case files (minimum necessary);
- department officers: additionally, every case on which their department holds a task
  (前台受理 后台协办: the back office works on cases from anywhere in the district);
- residents and enterprise agents: their own cases only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _l

from gongzhi.accounts.enums import SUPERVISOR_ROLES, Role
from gongzhi.accounts.models import Department
from gongzhi.accounts.scope import active_assignments, scope_paths, scope_q
from gongzhi.core.errors import ActionError, NotAllowedError
from gongzhi.places.enums import PlaceKind
from gongzhi.places.models import Place
from gongzhi.places.queries import places_on
from gongzhi.services.domain import catalog_search
from gongzhi.services.domain.search import query_tokens
from gongzhi.services.enums import (
    OPEN_TASK_STATUSES,
    AppealStatus,
    ApplicantType,
    CaseMaterialStatus,
    CaseStatus,
    SlaState,
    TaskRole,
)
from gongzhi.services.models import (
    Accountability,
    Appeal,
    Application,
    Bundle,
    Case,
    CaseMaterial,
    MonthlyFigure,
    Rectification,
    Review,
    ServiceItem,
    Task,
)
from gongzhi.services.policy import case_q
from gongzhi.services.routing import ITEM_CODE
from gongzhi.services.stats import Figures, figures_from, figures_per_department


def cases_for_user(user: Any) -> QuerySet[Case]:
    return Case.objects.filter(pk__in=Case.objects.filter(case_q(user)).values("pk")).select_related(
        "item", "department", "place"
    )


# What a case or application number looks like (letters, then digits; at most 24 characters).
# Anything else is answered "not found" without asking the database — a NUL byte in a URL would
# otherwise reach PostgreSQL, which refuses it with an error (a 500, not a 404).
NUMBER_SHAPE = re.compile(r"[A-Za-z0-9-]{1,24}")


def plausible_number(number: Any) -> bool:
    return isinstance(number, str) and NUMBER_SHAPE.fullmatch(number) is not None


def access_case_by_number(user: Any, number: str) -> Case:
    if not plausible_number(number):
        raise Http404("case not found")
    case = cases_for_user(user).filter(number=number).first()
    if case is None:
        raise Http404("case not found")
    return case


def track_cases(number: str, tail: str) -> list[Case]:
    """Public progress lookup (no login): a case number *or* an application number, plus the
    last 4 characters of the applicant's number. One reference number: the confirmation page
    shows the application number, so it tracks every case of that application. Returns [] on
    any mismatch — never says which part was wrong."""
    number = (number or "").strip().upper()
    tail = (tail or "").strip().upper()
    if not plausible_number(number) or len(tail) != 4 or "\x00" in tail:
        return []
    base = Case.objects.select_related("item", "department").filter(applicant_tail=tail)
    case = base.filter(number=number).first()
    if case is not None:
        return [case]
    return list(base.filter(application__number=number).order_by("number"))


def is_application_number(number: str) -> bool:
    """Does ``number`` name an application (not a case)? Pages use it to send either number
    to the right page; what the user may see is decided there, by the scoped reads."""
    return plausible_number(number) and Application.objects.filter(number=number).exists()


def cases_of_application(user: Any, number: str) -> list[Case]:
    """The cases of one application the user may see — by the application's number or any of
    its case numbers (one reference number). 404 when there is none to see.

    Whoever submitted an application sees its cases (and its receipt): a window accepts for
    applicants from anywhere (一窗办), so the cases may lie outside the clerk's jurisdiction.
    """
    if not plausible_number(number):
        raise Http404("application not found")
    case = cases_for_user(user).filter(number=number).select_related("application").first()
    if case is not None:
        number = case.application.number
    cases = list(cases_for_user(user).filter(application__number=number).order_by("number"))
    if not cases and getattr(user, "is_authenticated", False):
        cases = list(
            Case.objects.select_related("item", "department", "application")
            .filter(application__number=number, application__submitted_by_id=user.pk)
            .order_by("number")
        )
    if not cases:
        raise Http404("application not found")
    return cases


def owed_materials(case: Case) -> QuerySet[CaseMaterial]:
    """Materials still owed under 容缺 (accepted with a gap, not yet handed in), in form order."""
    return case.materials.filter(status=CaseMaterialStatus.MISSING_WITH_COMMITMENT, document__isnull=True).select_related(
        "material"
    ).order_by("material__order", "pk")


def tasks_for_user(user: Any, *, open_only: bool = True) -> QuerySet[Task]:
    depts = _officer_departments(user)
    qs = Task.objects.filter(department_id__in=depts).select_related("case__item", "department", "holder")
    if open_only:
        qs = qs.filter(status__in=OPEN_TASK_STATUSES)
    return qs.order_by("deadline", "id")


TASK_QUEUES = ("open", "deliver", "done")


def task_queue(user: Any, queue: str) -> QuerySet[Task]:
    """The back office's three queues, so no case drops out of sight between approval and the
    applicant's wallet:

    - ``open``: tasks still to claim, decide or waiting for a supplement;
    - ``deliver`` (待送达): lead tasks of approved cases whose result has not reached the
      applicant — the lead department's officers deliver from here (policy.can_deliver_result);
    - ``done`` (已办结): tasks the department has decided, latest first.
    """
    if queue == "deliver":
        return tasks_for_user(user, open_only=False).filter(
            role=TaskRole.LEAD, case__status=CaseStatus.APPROVED
        ).order_by("case__closed_at", "id")
    if queue == "done":
        return tasks_for_user(user, open_only=False).exclude(status__in=OPEN_TASK_STATUSES).order_by(
            "-decided_at", "-id"
        )
    return tasks_for_user(user)


def access_task(user: Any, task_id: Any) -> Task:
    try:
        pk = int(task_id)
    except (TypeError, ValueError) as exc:
        raise Http404("task not found") from exc
    task = tasks_for_user(user, open_only=False).filter(pk=pk).first()
    if task is None:
        raise Http404("task not found")
    return task


def _officer_departments(user: Any) -> list[int]:
    return [ra.department_id for ra in active_assignments(user) if ra.role == Role.DEPARTMENT_OFFICER and ra.department_id]


def _pk(value: Any, what: str) -> int:
    try:
        pk = int(value)
    except (TypeError, ValueError) as exc:
        raise Http404(f"{what} not found") from exc
    return pk


def rectifications_for_user(user: Any) -> QuerySet[Rectification]:
    """整改: the rectifications the user's departments owe (the department a bad review names)."""
    return Rectification.objects.filter(department_id__in=_officer_departments(user)).select_related(
        "review__case__item", "department"
    ).order_by("status", "due", "id")


def access_rectification(user: Any, rect_id: Any) -> Rectification:
    rect = rectifications_for_user(user).filter(pk=_pk(rect_id, "rectification")).first()
    if rect is None:
        raise Http404("rectification not found")
    return rect


def appealable_reviews_for_user(user: Any) -> QuerySet[Review]:
    """Bad reviews of the cases the user's departments led, not yet appealed (申诉)."""
    return Review.objects.filter(
        case__department_id__in=_officer_departments(user), level__lte=2, appeal__isnull=True
    ).select_related("case__item").order_by("-created_at")


def access_review_for_appeal(user: Any, review_id: Any) -> Review:
    review = Review.objects.filter(
        case__department_id__in=_officer_departments(user), pk=_pk(review_id, "review")
    ).select_related("case").first()
    if review is None:
        raise Http404("review not found")
    return review


def appeals_for_user(user: Any, *, pending_only: bool = True) -> QuerySet[Appeal]:
    """Appeals a supervisor decides: cases in the jurisdiction of their supervisor role."""
    qs = Appeal.objects.filter(scope_q(user, "review__case__place_path", set(SUPERVISOR_ROLES))).select_related(
        "review__case__item", "review__case__department", "filed_by"
    )
    if pending_only:
        qs = qs.filter(status=AppealStatus.PENDING)
    return qs.order_by("filed_at", "id")


def access_appeal(user: Any, appeal_id: Any) -> Appeal:
    appeal = appeals_for_user(user, pending_only=False).filter(pk=_pk(appeal_id, "appeal")).first()
    if appeal is None:
        raise Http404("appeal not found")
    return appeal


def search_cases(user: Any, query: str) -> QuerySet[Case]:
    """Chinese search by case number, applicant name, address, item (two-character terms too)."""
    qs = cases_for_user(user)
    tokens = query_tokens(query)
    if not tokens:
        return qs.none()
    for token in tokens:
        # Tokens are stored space-delimited; match whole tokens so 南山 does not match 南山区's
        # neighbour by accident, and case numbers by prefix.
        qs = qs.filter(Q(search_text__contains=f" {token} ") | Q(number__istartswith=token))
    return qs.order_by("-accepted_at")


def catalog(*, applicant_type: str | None = None) -> QuerySet[ServiceItem]:
    qs = ServiceItem.objects.filter(active=True).select_related("department").prefetch_related("materials")
    if applicant_type:
        qs = qs.filter(applicant_type__in=[applicant_type, "both"])
    return qs


def bundles() -> QuerySet[Bundle]:
    """Active bundles (一件事) with their items — public catalog data."""
    return Bundle.objects.filter(active=True).prefetch_related("items__department").order_by("code")


@dataclass
class CatalogSearch:
    """What a catalogue search found: bundles (一件事, listed first) and items, best match first
    (catalogue order when there is no query), and the departments to browse by."""

    query: str
    applicant_type: str
    department: str
    bundles: list[Bundle]
    items: list[ServiceItem]
    departments: list[tuple[Department, int]] = field(default_factory=list)

    def grouped(self) -> list[tuple[Department, list[ServiceItem]]]:
        """The items by department, in the order found."""
        groups: dict[int, tuple[Department, list[ServiceItem]]] = {}
        for item in self.items:
            groups.setdefault(item.department_id, (item.department, []))[1].append(item)
        return list(groups.values())


def _item_keys(item: ServiceItem) -> catalog_search.Keys:
    # What the guide says too (受理条件): "养老保险" finds 退休申请 through its conditions.
    text = " ".join(t for t in (item.description, item.conditions) if t)
    return catalog_search.entry_keys(item.code, item.name, item.name_en, item.department.name, text)


def _bundle_type(bundle: Bundle) -> str:
    types = {i.applicant_type for i in bundle.items.all()}
    if ApplicantType.ENTERPRISE in types:
        return ApplicantType.ENTERPRISE
    return ApplicantType.PERSON if ApplicantType.PERSON in types else ApplicantType.BOTH


def search_catalog(query: str = "", *, applicant_type: str = "", department: str = "") -> CatalogSearch:
    """The one catalogue search (public front door, online hall, window picker, API): by Chinese
    words, item code or pinyin (``domain/catalog_search.py``), optionally narrowed to what a
    person (个人) or an enterprise (法人) can apply for and to one department's items.

    The catalogue is public and small (hundreds of rows): it is read whole and matched in
    Python; each entry's search keys are cached per process by content, so an edit shows at once.
    """
    query = (query or "").strip()[:100]
    applicant_type = applicant_type if applicant_type in (ApplicantType.PERSON, ApplicantType.ENTERPRISE) else ""
    pieces = catalog_search.normalise_query(query)
    all_items = list(ServiceItem.objects.filter(active=True).select_related("department")
                     .order_by("department__code", "code"))
    typed = [i for i in all_items if not applicant_type or i.applicant_type in (applicant_type, ApplicantType.BOTH)]
    counts: dict[int, int] = {}
    depts: dict[int, Department] = {}
    for item in typed:
        counts[item.department_id] = counts.get(item.department_id, 0) + 1
        depts[item.department_id] = item.department
    in_dept = [i for i in typed if not department or i.department.code == department]
    items = in_dept
    if pieces:
        scored = [(catalog_search.score(pieces, _item_keys(i)), i) for i in in_dept]
        items = [i for points, i in sorted(scored, key=lambda p: (-p[0], p[1].code)) if points]
    found_bundles: list[Bundle] = []
    for bundle in bundles():
        members = [i for i in bundle.items.all() if i.active]
        if applicant_type and _bundle_type(bundle) not in (applicant_type, ApplicantType.BOTH):
            continue
        if department and not any(i.department.code == department for i in members):
            continue
        if pieces:
            keys = catalog_search.entry_keys(bundle.code, bundle.name, bundle.name_en, "", bundle.description)
            if not catalog_search.score(pieces, keys):
                continue
        found_bundles.append(bundle)
    return CatalogSearch(query, applicant_type, department, found_bundles, items,
                         [(depts[pk], counts[pk]) for pk in sorted(depts, key=lambda pk: depts[pk].code)])


def filter_keys(items: list[ServiceItem]) -> dict[str, str]:
    """code → the text a page's local filter matches typed letters against (code, name, pinyin
    initials and syllables): the same keys as ``search_catalog``, so a clerk's "zdsh" finds the
    same item with or without JavaScript."""
    out = {}
    for item in items:
        keys = _item_keys(item)
        out[item.code] = " ".join((keys.code, item.code.lower(), keys.name, keys.initials, keys.pinyin))
    return out


def catalog_item(code: str) -> ServiceItem:
    """One active item for its guide page (办事指南), with materials, co-processors and routes;
    404 when there is none (public data: no scope)."""
    if not isinstance(code, str) or not ITEM_CODE.fullmatch(code):
        raise Http404("item not found")
    item = (ServiceItem.objects.filter(active=True, code=code).select_related("department")
            .prefetch_related("materials", "co_departments__department", "routes__place", "routes__department",
                              "bundles").first())
    if item is None:
        raise Http404("item not found")
    return item


def catalog_bundle(code: str) -> Bundle:
    if not isinstance(code, str) or not ITEM_CODE.fullmatch(code):
        raise Http404("bundle not found")
    bundle = bundles().filter(code=code).first()
    if bundle is None:
        raise Http404("bundle not found")
    return bundle


def accountability_for_user(user: Any) -> QuerySet[Accountability]:
    return Accountability.objects.filter(case__in=cases_for_user(user)).select_related(
        "case", "department", "holder", "task"
    )


def figures_for_user(
    user: Any, *, department_id: int | None = None, place_path: str | None = None,
    since: date | None = None, until: date | None = None,
) -> Figures:
    rows = MonthlyFigure.objects.filter(scope_q(user, field="place_path"))
    return _filter_figures(rows, department_id, place_path, since, until)


def public_figures(*, department_id: int | None = None, place_path: str | None = None) -> Figures:
    """On-time rates are published (阳光办): the public page reads the same roll-up, unscoped."""
    return _filter_figures(MonthlyFigure.objects.all(), department_id, place_path, None, None)


def _filter_figures(rows: QuerySet[MonthlyFigure], department_id: int | None, place_path: str | None,
                    since: date | None, until: date | None) -> Figures:
    if department_id:
        rows = rows.filter(department_id=department_id)
    if place_path:
        rows = rows.filter(place_path__startswith=place_path)
    if since:
        rows = rows.filter(month__gte=since.replace(day=1))
    if until:
        rows = rows.filter(month__lte=until)
    return figures_from(rows)


def figures_by_department(rows_user: Any | None = None, *, place_path: str | None = None) -> list[tuple[Any, Figures]]:
    """One row per department: of ``rows_user``'s jurisdiction, or (None) the published figures;
    only cases at ``place_path`` or below when given (the public board names its place)."""
    from gongzhi.accounts.models import Department

    base = MonthlyFigure.objects.all() if rows_user is None else MonthlyFigure.objects.filter(
        scope_q(rows_user, field="place_path")
    )
    if place_path:
        base = base.filter(place_path__startswith=place_path)
    per_dept = figures_per_department(base)
    return [(dept, per_dept[dept.pk]) for dept in Department.objects.filter(pk__in=list(per_dept)).order_by("code")]


# ------------------------------------------------------------------ the board: 5个100%, defined
#
# Each of the five measures is a share the district sets out to bring to 100 %, so each is a
# share of ITEMS (the catalogue items active in the place) or of CASES (accepted in the period
# at the place or below) with a property every item or case can have at once — not the channel
# shares of the roll-up above (一窗 80 % + 一网 20 % can never both be 100 %). One function per
# measure (``measure_one_number`` …) computes the figure; the page, the Excel export and the API
# all call it, and the drill-down lists exactly the rows it counted (``measure_cases``).
# These count the case table directly (any from/to dates, not months), through the scoped
# ``cases_for_user`` and ``accepted_at`` (indexed); the roll-up stays for the public board.

BASIS_CASES = "cases"
BASIS_ITEMS = "items"
PART_NUMERATOR = "numerator"
PART_DENOMINATOR = "denominator"
PARTS = (PART_NUMERATOR, PART_DENOMINATOR)


@dataclass(frozen=True)
class Period:
    """From ``since`` to ``until``, both included, in local (Asia/Shanghai) days."""

    since: date
    until: date

    def bounds(self) -> tuple[datetime, datetime]:
        zone = timezone.get_default_timezone()  # Asia/Shanghai: the day a case was accepted there
        return (datetime.combine(self.since, time(0, 0), tzinfo=zone),
                datetime.combine(self.until + timedelta(days=1), time(0, 0), tzinfo=zone))


@dataclass(frozen=True)
class MeasureDef:
    key: str
    label: Any  # lazy text
    basis: str  # BASIS_CASES or BASIS_ITEMS
    definition: Any  # lazy text, shown next to the figure, in the export and the API
    # the property counted in the numerator: on a case (BASIS_CASES) or on an item (BASIS_ITEMS)
    numerator_q: Callable[[], Q]
    five: bool = True  # one of the 5个100%; False for the on-time rate shown beside them


@dataclass(frozen=True)
class Measure:
    key: str
    basis: str
    numerator: int
    denominator: int

    @property
    def share(self) -> float | None:
        return round(100.0 * self.numerator / self.denominator, 1) if self.denominator else None

    @property
    def spec(self) -> MeasureDef:
        return MEASURES[self.key]


def _offered_items_q() -> Q:
    """Items the window desk and the online hall offer: both list ``catalog()`` (every active
    item), so an item leaves these numerators the day it leaves that list."""
    return Q(pk__in=catalog().values("pk"))


MEASURES: dict[str, MeasureDef] = {m.key: m for m in (
    MeasureDef(
        "one_number", _l("一号办"), BASIS_CASES,
        _l("本期受理的办件中，以申请人的唯一号码（居民身份证/通行证号码或统一社会信用代码）关联到一号办档案的办件所占比例。"),
        lambda: Q(applicant_person__isnull=False) | Q(applicant_org__isnull=False),
    ),
    MeasureDef(
        "one_window", _l("一窗办"), BASIS_ITEMS,
        _l("本区域在办事项中，可在综合窗口一窗受理（前台综合受理、后台分类办理）的事项所占比例。"),
        _offered_items_q,
    ),
    MeasureDef(
        "online", _l("一网办"), BASIS_ITEMS,
        _l("本区域在办事项中，可在网上办事大厅在线申请的事项所占比例。"),
        _offered_items_q,
    ),
    MeasureDef(
        "one_visit", _l("一次办"), BASIS_CASES,
        _l("本期受理的办件中，申请人到现场不超过一次（受理、补正、领证合计）的办件所占比例；未办结的办件按目前的到场次数计。"),
        lambda: Q(visits__lte=1),
    ),
    MeasureDef(
        "sunshine", _l("阳光办"), BASIS_CASES,
        _l("本期受理的办件中，办理进度可凭办件编号和证件号后四位公开查询的办件所占比例。"),
        lambda: ~Q(applicant_tail=""),
    ),
    MeasureDef(
        "on_time", _l("按时办结率"), BASIS_CASES,
        _l("本期受理且已办结的办件中，在承诺时限内办结的办件所占比例（分母只计已办结的办件）。"),
        lambda: Q(closed_on_time=True), five=False,
    ),
)}


def _ancestor_paths(path: str) -> list[str]:
    """'/1/2/7/' → ['/1/', '/1/2/', '/1/2/7/']."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def board_places(user: Any) -> list[Place]:
    """Places the user's board may show: each place of the user's jurisdiction and every current
    place below it, in tree order (codes are hierarchical)."""
    paths = scope_paths(user)
    if not paths:
        return []
    q = Q()
    for p in paths:
        q |= Q(path__startswith=p)
    return list(places_on().filter(q).order_by("code"))


def board_cases(user: Any, place: Place, period: Period) -> QuerySet[Case]:
    """The cases the board counts: the user's (``cases_for_user``), accepted within ``period`` at
    ``place`` or below — where they were accepted: a case a community split moved on
    (``accepted_path``) still counts where it was, so a past period keeps its old boundaries."""
    start, end = period.bounds()
    where = Q(accepted_path="", place_path__startswith=place.path) | Q(accepted_path__startswith=place.path)
    return cases_for_user(user).filter(where, accepted_at__gte=start, accepted_at__lt=end)


def board_items(place: Place) -> QuerySet[ServiceItem]:
    """Catalogue items active in ``place``: active items whose department (or a route's place or
    department) sits on the place's line — at the place, above it (a district department serves
    every community) or below it (a subdistrict office serves the district's board)."""
    above = _ancestor_paths(place.path)
    line = (Q(department__place__path__in=above) | Q(department__place__path__startswith=place.path)
            | Q(routes__place__path__in=above) | Q(routes__place__path__startswith=place.path))
    return ServiceItem.objects.filter(active=True, pk__in=ServiceItem.objects.filter(line).values("pk"))


def measure_items(key: str, place: Place, part: str) -> QuerySet[ServiceItem]:
    """An items measure's counted items: numerator or denominator."""
    spec = MEASURES[key]
    items = board_items(place)
    if part == PART_NUMERATOR and spec.basis == BASIS_ITEMS:
        items = items.filter(spec.numerator_q())
    return items.select_related("department").order_by("code")


def measure_cases(user: Any, key: str, place: Place, period: Period, part: str) -> QuerySet[Case]:
    """The drill-down: the cases behind a figure. For a cases measure these are the counted
    cases themselves; for an items measure, the period's cases of the counted items."""
    spec = MEASURES[key]
    cases = board_cases(user, place, period)
    if key == "on_time":
        cases = cases.filter(closed_at__isnull=False)  # the on-time rate's denominator: closed cases
    if part == PART_NUMERATOR:
        if spec.basis == BASIS_CASES:
            cases = cases.filter(spec.numerator_q())
        else:
            cases = cases.filter(item__in=measure_items(key, place, PART_NUMERATOR).values("pk"))
    elif spec.basis == BASIS_ITEMS:
        cases = cases.filter(item__in=board_items(place).values("pk"))
    return cases.order_by("-accepted_at", "number")


def _measure(user: Any, key: str, place: Place, period: Period) -> Measure:
    spec = MEASURES[key]
    if spec.basis == BASIS_ITEMS:
        return Measure(key, spec.basis, measure_items(key, place, PART_NUMERATOR).count(),
                       measure_items(key, place, PART_DENOMINATOR).count())
    return Measure(key, spec.basis, measure_cases(user, key, place, period, PART_NUMERATOR).count(),
                   measure_cases(user, key, place, period, PART_DENOMINATOR).count())


def measure_one_number(user: Any, place: Place, period: Period) -> Measure:
    """一号办: share of the period's cases keyed by the applicant's one number."""
    return _measure(user, "one_number", place, period)


def measure_one_window(user: Any, place: Place, period: Period) -> Measure:
    """一窗办: share of the place's items accepted at the comprehensive window."""
    return _measure(user, "one_window", place, period)


def measure_online(user: Any, place: Place, period: Period) -> Measure:
    """一网办: share of the place's items that can be applied for online."""
    return _measure(user, "online", place, period)


def measure_one_visit(user: Any, place: Place, period: Period) -> Measure:
    """一次办: share of the period's cases with at most one visit."""
    return _measure(user, "one_visit", place, period)


def measure_sunshine(user: Any, place: Place, period: Period) -> Measure:
    """阳光办: share of the period's cases whose progress can be looked up publicly."""
    return _measure(user, "sunshine", place, period)


def measure_on_time(user: Any, place: Place, period: Period) -> Measure:
    """按时办结率: share of the period's closed cases closed within the promised time."""
    return _measure(user, "on_time", place, period)


MEASURE_FUNCTIONS: dict[str, Callable[[Any, Place, Period], Measure]] = {
    "one_number": measure_one_number, "one_window": measure_one_window, "online": measure_online,
    "one_visit": measure_one_visit, "sunshine": measure_sunshine, "on_time": measure_on_time,
}


def board_measures(user: Any, place: Place, period: Period) -> list[Measure]:
    """Every figure of the board, in the board's order."""
    return [MEASURE_FUNCTIONS[key](user, place, period) for key in MEASURES]


# The public board's place when the address names none: the demo district (services/demo.py
# loads its catalogue for 南山区), else a deployment's setting, else the first current district.
PUBLIC_BOARD_DISTRICT = "南山区"


def public_board_places() -> list[Place]:
    """Places the public on-time board can be read for: current districts and subdistricts."""
    return list(places_on().filter(kind__in=[PlaceKind.DISTRICT, PlaceKind.SUBDISTRICT]).order_by("code"))


def public_board_place(code: str | None) -> Place | None:
    """The place the public board counts: the current place with ``code``; without a code, the
    configured place (``GONGZHI_PUBLIC_BOARD_PLACE``, a place code), the demo district or the first
    current district. None when ``code`` names no current place."""
    current = places_on()
    if code:
        if "\x00" in code or len(code) > 40:
            return None
        return current.filter(code=code).first()
    configured = str(getattr(settings, "GONGZHI_PUBLIC_BOARD_PLACE", "") or "")
    if configured and (place := current.filter(code=configured).first()) is not None:
        return place
    districts = current.filter(kind=PlaceKind.DISTRICT).order_by("code")
    return districts.filter(name=PUBLIC_BOARD_DISTRICT).first() or districts.first()


# The board's period: the last 30 days unless the request names one; at most a year (366 days)
# at a time (longer spans are the yearly report's, from the roll-up).
BOARD_DEFAULT_DAYS = 30
BOARD_MAX_DAYS = 366
BOARD_EARLIEST = date(2000, 1, 1)


def default_period(today: date | None = None, days: int = BOARD_DEFAULT_DAYS) -> Period:
    today = today or timezone.localdate()
    return Period(today - timedelta(days=days - 1), today)


def resolve_board_scope(user: Any, place_code: str | None, since: date | None, until: date | None) -> tuple[Place, Period]:
    """The place and period a board request asks for, checked once for the page, the export and
    the API: the place must be one of ``board_places(user)`` (default: the first, the top of the
    jurisdiction); ``from`` ≤ ``to``, within BOARD_MAX_DAYS. Raises ActionError naming the field."""
    places = board_places(user)
    if not places:
        raise NotAllowedError(gettext("您没有可查看的辖区。"), field="place")
    place = places[0]
    if place_code:
        found = next((p for p in places if p.code == place_code), None)
        if found is None:
            raise ActionError(gettext("所选区域不在您的辖区内。"), field="place")
        place = found
    fallback = default_period()
    until = until or fallback.until  # "from" alone: from then to today
    since = since or until - timedelta(days=BOARD_DEFAULT_DAYS - 1)
    if since < BOARD_EARLIEST or until < BOARD_EARLIEST:
        raise ActionError(gettext("日期不能早于 2000-01-01。"), field="from")
    if since > until:
        raise ActionError(gettext("起始日期不能晚于结束日期。"), field="from")
    if (until - since).days + 1 > BOARD_MAX_DAYS:
        raise ActionError(gettext("统计时段最长 %(days)s 天。") % {"days": BOARD_MAX_DAYS}, field="to")
    return place, Period(since, until)


@dataclass(frozen=True)
class DepartmentRow:
    department: Any
    cases: int
    closed: int
    closed_on_time: int
    overdue_open: int

    @property
    def on_time(self) -> float | None:
        return round(100.0 * self.closed_on_time / self.closed, 1) if self.closed else None


def board_by_department(user: Any, place: Place, period: Period) -> list[DepartmentRow]:
    """Per lead department, the period's cases (board_cases): accepted, closed, closed on time,
    still open and overdue — one GROUP BY query."""
    from gongzhi.accounts.models import Department

    grouped = (
        board_cases(user, place, period).order_by().values("department_id").annotate(
            n=Count("pk"), closed=Count("pk", filter=Q(closed_at__isnull=False)),
            on_time=Count("pk", filter=Q(closed_at__isnull=False, closed_on_time=True)),
            overdue=Count("pk", filter=Q(closed_at__isnull=True, sla=SlaState.OVERDUE)),
        )
    )
    rows = {g["department_id"]: g for g in grouped}
    return [
        DepartmentRow(d, rows[d.pk]["n"], rows[d.pk]["closed"], rows[d.pk]["on_time"], rows[d.pk]["overdue"])
        for d in Department.objects.filter(pk__in=list(rows)).order_by("code")
    ]
