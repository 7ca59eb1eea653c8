"""Load the Shenzhen demo tree from ``data/shenzhen.json`` through the actions.

Idempotent: a row whose code already exists is skipped, and a change whose source is already
closed is skipped, so running it twice leaves the same counts. Everything goes through
``actions`` so the demo data has the same audit trail as real data. The Jiangshi split of 2017
is replayed as the restructuring plan it was (drafted, approved by the district, applied on its
date, ``clock.frozen_at`` each step's day), and a plan awaiting approval shows the console.

大鹏新区 is a functional area with no GB/T 2260 code of its own (statistically it lies inside
龙岗区 440307); it gets the platform code ``440307-DP`` so it can be a district-level node
without borrowing or inventing a national code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from gongzhi.core import clock
from gongzhi.core.actors import Actor
from gongzhi.places.actions import (
    PlanDraft,
    do_apply_place_plan,
    do_approve_place_plan,
    do_create_place,
    do_draft_place_plan,
)
from gongzhi.places.enums import OPEN_PLAN_STATUSES, ChangeKind, PlaceKind, PlanKind
from gongzhi.places.models import Place, RestructurePlan

DATA_FILE = Path(__file__).parent / "data" / "shenzhen.json"

Progress = Callable[[str], Any] | None


def load_data() -> dict[str, Any]:
    with DATA_FILE.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def _morning(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=timezone.get_default_timezone())


def _dec(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value not in (None, "") else None


class _Loader:
    def __init__(self, actor: Actor, progress: Progress) -> None:
        self.actor = actor
        self.progress = progress
        self.created = 0
        self.existing = 0
        self.changes = 0
        self.plans = 0

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    def place(self, kind: str, entry: dict[str, Any], parent: Place | None) -> Place:
        found = Place.objects.filter(code=entry["code"]).first()
        if found is not None:
            self.existing += 1
            return found
        self.created += 1
        return do_create_place(
            kind,
            entry["code"],
            entry["name"],
            parent,
            actor=self.actor,
            name_en=entry.get("name_en", ""),
            area_km2=_dec(entry.get("area_km2")),
            lat=_dec(entry.get("lat")),
            lng=_dec(entry.get("lng")),
            note=entry.get("note", ""),
        )

    def split(self, change: dict[str, Any]) -> None:
        """Replay a past split as the plan it was: drafted, approved by the district, applied on
        its effective date — through the plan actions, with the clock set to each step's day."""
        source = Place.objects.get(code=change["source"])
        if source.valid_to is not None:
            return  # already applied
        effective = date.fromisoformat(change["effective"])
        targets = [
            {
                "code": t["code"],
                "name": t["name"],
                "name_en": t.get("name_en", ""),
                "note": t.get("note", ""),
                "children": t.get("children", []),
                "rest": index == 0,
            }
            for index, t in enumerate(change["targets"])
        ]
        draft = PlanDraft(
            kind=PlanKind.SPLIT,
            source_codes=[source.code],
            effective=effective,
            targets=targets,
            note=change.get("note", ""),
            document_ref=change.get("document_ref", ""),
        )
        with clock.frozen_at(_morning(effective - timedelta(days=60))):
            plan = do_draft_place_plan(draft, actor=self.actor)
        with clock.frozen_at(_morning(effective - timedelta(days=30))):
            plan = do_approve_place_plan(plan, actor=self.actor)
        with clock.frozen_at(_morning(effective)):
            do_apply_place_plan(plan, actor=self.actor)
        self.changes += 1
        self.created += len(targets) + sum(len(t["children"]) for t in targets)

    def pending_plan(self, entry: dict[str, Any]) -> None:
        """A plan still awaiting the district's approval, effective some weeks from today."""
        sources = list(Place.objects.filter(code__in=entry["sources"], valid_to__isnull=True))
        if len(sources) != len(entry["sources"]) or Place.objects.filter(code=entry["code"]).exists():
            return
        if RestructurePlan.objects.filter(sources__in=sources, status__in=OPEN_PLAN_STATUSES).exists():
            return
        do_draft_place_plan(
            PlanDraft(
                kind=entry["kind"],
                source_codes=entry["sources"],
                effective=clock.localdate() + timedelta(days=int(entry.get("days_ahead", 60))),
                code=entry["code"],
                name=entry["name"],
                name_en=entry.get("name_en", ""),
                note=entry.get("note", ""),
            ),
            actor=self.actor,
        )
        self.plans += 1


def load_demo_places(*, actor: Actor, progress: Progress = None) -> dict[str, int]:
    """Create the demo tree; returns counts ``created`` / ``existing`` / ``changes`` / ``subdistricts``."""
    data = load_data()
    loader = _Loader(actor, progress)
    with transaction.atomic():
        city = loader.place(PlaceKind.CITY, data["city"], None)
        for d in data["districts"]:
            district = loader.place(PlaceKind.DISTRICT, d, city)
            loader.say(f"{district.name}: {len(d['subdistricts'])} 个街道")
            for s in d["subdistricts"]:
                sub = loader.place(PlaceKind.SUBDISTRICT, s, district)
                for c in s.get("communities", []):
                    community = loader.place(PlaceKind.COMMUNITY, c, sub)
                    # Children of a closed community were carried over by its split; skip them.
                    if community.valid_to is not None:
                        continue
                    for g in c.get("groups", []):
                        loader.place(PlaceKind.GROUP, g, community)
                    for w in c.get("grids", []):
                        loader.place(PlaceKind.GRID, w, community)
        for change in data.get("changes", []):
            if change["kind"] == ChangeKind.SPLIT:
                loader.split(change)
                loader.say(f"拆分 {change['source']} → {len(change['targets'])} 个新单位")
        for entry in data.get("plans", []):
            loader.pending_plan(entry)
    return {
        "created": loader.created,
        "existing": loader.existing,
        "changes": loader.changes,
        "subdistricts": Place.objects.filter(kind=PlaceKind.SUBDISTRICT).count(),
        "plans": loader.plans,
    }
