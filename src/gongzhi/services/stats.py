"""The 5×100% figures (seed): 一号办 · 一窗办 · 一网办 · 一次办 · 阳光办, live.

Writers only flip ``Case.stats_dirty``; ``fold_dirty_cases`` (a worker job, every tick) moves
each dirty case's contribution into ``MonthlyFigure`` (per month × department × place) — subtracting what it added last time
(``stats_snapshot``) and adding what it adds now. Reading the figures then touches roll-up rows
(months × departments × places), never the case table, so it stays fast at a million cases.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from gongzhi.core.db.updates import update_fields
from gongzhi.services.enums import Channel, SlaState
from gongzhi.services.models import Case, MonthlyFigure

COUNTERS = ("cases", "one_number", "window", "online", "zero_visit", "max_one_visit", "closed", "closed_on_time",
            "overdue_open")


def contribution(case: Case) -> dict[str, Any]:
    closed = case.closed_at is not None
    # A case counts under the place it was accepted at, for good: once folded (or pinned when a
    # community restructuring moved it, services/actions/places.py), the snapshot's place stays.
    pinned = case.stats_snapshot or {}
    return {
        "month": timezone.localtime(case.accepted_at).date().replace(day=1).isoformat(),
        "department": case.department_id,
        "place": pinned.get("place", case.place_id),
        "path": pinned.get("path", case.place_path),
        "cases": 1,
        # Every case is keyed by the applicant's one number (ID/permit or USCC): 一号办.
        "one_number": 1 if (case.applicant_person_id or case.applicant_org_id) else 0,
        "window": 1 if case.channel == Channel.WINDOW else 0,
        "online": 1 if case.channel in (Channel.ONLINE, Channel.API) else 0,
        "zero_visit": 1 if case.visits == 0 else 0,
        "max_one_visit": 1 if case.visits <= 1 else 0,
        "closed": 1 if closed else 0,
        "closed_on_time": 1 if closed and case.closed_on_time else 0,
        "overdue_open": 1 if not closed and case.sla == SlaState.OVERDUE else 0,
    }


def _apply(delta: dict[tuple[str, int, int, str], dict[str, int]]) -> None:
    for (month, dept, place, path), counts in delta.items():
        if not any(counts.values()):
            continue
        row, _ = MonthlyFigure.objects.get_or_create(
            month=date.fromisoformat(month), department_id=dept, place_id=place, defaults={"place_path": path}
        )
        MonthlyFigure.objects.filter(pk=row.pk).update(**{k: F(k) + v for k, v in counts.items() if v})


def fold_dirty_cases(batch: int = 2000) -> int:
    """Fold dirty cases into the roll-up; returns how many were folded."""
    done = 0
    while True:
        with transaction.atomic():
            cases = list(
                Case.objects.select_for_update(skip_locked=True)
                .filter(stats_dirty=True)
                .order_by("id")[:batch]
            )
            if not cases:
                return done
            delta: dict[tuple[str, int, int, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
            for case in cases:
                new = contribution(case)
                old = case.stats_snapshot
                if old:
                    key = (old["month"], old["department"], old["place"], old["path"])
                    for k in COUNTERS:
                        delta[key][k] -= int(old.get(k, 0))
                key = (new["month"], new["department"], new["place"], new["path"])
                for k in COUNTERS:
                    delta[key][k] += int(new[k])
                case.stats_snapshot = new
                case.stats_dirty = False
            _apply(delta)
            update_fields(cases, ["stats_snapshot", "stats_dirty"])  # not bulk_update: see core/db/updates.py
            done += len(cases)
            if len(cases) < batch:
                return done


@dataclass(frozen=True)
class Figures:
    cases: int
    one_number: float | None
    window: float | None
    online: float | None
    zero_visit: float | None
    max_one_visit: float | None
    on_time: float | None
    closed: int
    overdue_open: int

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def figures_from(rows: QuerySet[MonthlyFigure]) -> Figures:
    return _figures(rows.aggregate(**{k: Sum(k) for k in COUNTERS}))


def figures_per_department(rows: QuerySet[MonthlyFigure]) -> dict[int, Figures]:
    """department id → figures, in one GROUP BY query (the board shows every department)."""
    grouped = rows.order_by().values("department_id").annotate(**{k: Sum(k) for k in COUNTERS})
    return {int(g["department_id"]): _figures(dict(g)) for g in grouped}


def _figures(agg: dict[str, Any]) -> Figures:
    t = {k: int(agg[k] or 0) for k in COUNTERS}
    return Figures(
        cases=t["cases"],
        one_number=_share(t["one_number"], t["cases"]),
        window=_share(t["window"], t["cases"]),
        online=_share(t["online"], t["cases"]),
        zero_visit=_share(t["zero_visit"], t["cases"]),
        max_one_visit=_share(t["max_one_visit"], t["cases"]),
        on_time=_share(t["closed_on_time"], t["closed"]),
        closed=t["closed"],
        overdue_open=t["overdue_open"],
    )
