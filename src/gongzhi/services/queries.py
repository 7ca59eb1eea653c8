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
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from gongzhi.accounts.enums import SUPERVISOR_ROLES, Role
from gongzhi.accounts.models import Department
from gongzhi.accounts.scope import active_assignments, scope_q
from gongzhi.services.domain import catalog_search
from gongzhi.services.domain.search import query_tokens
from gongzhi.services.enums import (
    OPEN_TASK_STATUSES,
    AppealStatus,
    ApplicantType,
    CaseMaterialStatus,
    CaseStatus,
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


def figures_by_department(rows_user: Any | None = None) -> list[tuple[Any, Figures]]:
    from gongzhi.accounts.models import Department

    base = MonthlyFigure.objects.all() if rows_user is None else MonthlyFigure.objects.filter(
        scope_q(rows_user, field="place_path")
    )
    per_dept = figures_per_department(base)
    return [(dept, per_dept[dept.pk]) for dept in Department.objects.filter(pk__in=list(per_dept)).order_by("code")]
