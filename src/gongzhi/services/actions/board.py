"""阳光办 board: the one write it makes — the audit event of an export (who took which cases out)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from gongzhi.core.actors import Actor
from gongzhi.core.audit import record_event


def do_record_board_export(*, measure: str, part: str, place: Any, since: date, until: date, rows: int,
                           actor: Actor) -> None:
    """Record that ``actor`` exported the cases behind one board figure (no case data in the
    event: the figure, its place and period, and how many rows left)."""
    with transaction.atomic():
        record_event(
            "services.board.export", actor=actor, obj=place, place_path=place.path,
            after={"measure": measure, "part": part, "since": since.isoformat(), "until": until.isoformat(),
                   "rows": rows},
        )
