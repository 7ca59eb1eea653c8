"""Open cases follow a community split or merge (``core.registry.register_place_move``).

An open case moves to the successor place, so the new community's staff handle it and its
jurisdiction is theirs. A closed case stays where it was filed. The 5×100% roll-up keeps
counting every case under the place it was accepted at: a case already folded keeps the place of
its ``stats_snapshot`` (``stats.contribution``); one not yet folded gets an empty snapshot at its
old place first, so the fold adds it there; and ``Case.accepted_path`` keeps the path it was
accepted at, which the board counts for a period. A split therefore never rewrites past figures.
"""

from __future__ import annotations

from datetime import date

from django.db.models import F

from gongzhi.services.enums import OPEN_CASE_STATUSES
from gongzhi.services.models import Case
from gongzhi.services.stats import COUNTERS, contribution


def count_open_cases_at(place_ids: list[int]) -> int:
    return Case.objects.filter(place_id__in=place_ids, status__in=OPEN_CASE_STATUSES).count()


def move_open_cases(moves: dict[int, tuple[int, str]], effective: date) -> int:
    moved = 0
    for old, (new, path) in moves.items():
        open_cases = Case.objects.filter(place_id=old, status__in=OPEN_CASE_STATUSES)
        for case in open_cases.filter(stats_snapshot__isnull=True).only(
            "id", "accepted_at", "department_id", "place_id", "place_path", "applicant_person_id", "applicant_org_id",
            "channel", "visits", "closed_at", "closed_on_time", "sla", "stats_snapshot",
        ):
            pinned = {**contribution(case), **dict.fromkeys(COUNTERS, 0)}
            Case.objects.filter(pk=case.pk, stats_snapshot__isnull=True).update(stats_snapshot=pinned)
        # The first move remembers where the case was accepted; a later one keeps that.
        open_cases.filter(accepted_path="").update(accepted_path=F("place_path"))
        moved += open_cases.update(place_id=new, place_path=path)
    return moved
