"""Reconciling one feed with the register: matched, missing here, missing there, different price.

Pure: the app passes the feed run's records and the register records it holds for the same
source (and, for a feed that covers a period, that period) and stores the outcome.

Matching, in this order:

1. **By reference**: a register record whose ``refs[source]`` is the feed record's
   ``external_id``. If several register records claim one id, the first by ``register_id``
   matches and the others are *missing there* (the register has them twice).
2. **By asset**: a feed record still unmatched and a register record that names no reference
   for this source, with the same counterparty (normalised number) and the same asset (or,
   when either side lacks an asset reference, the same parcel), and — when both sides have
   one — the same term start. Only a pair that is unique on both sides is matched; the result
   says ``matched_by="asset"`` so the app can record the reference it learnt.

Outcomes and alerts:

* **matched** — no alert;
* **different price** (``feed_price_mismatch``): matched, but a price present on both sides on the
  same basis differs by more than the tolerance, or the bases differ;
* **missing here** (``feed_missing_here``): the other system has a deal the register lacks — an
  off-register deal;
* **missing there** (``feed_missing_there``): the register says the deal went through that system
  (it names a reference for the source) but the feed does not have it. Only reported for a
  ``complete`` feed, and only for register records dated inside the feed's ``window`` if one is
  given (an incremental pull says nothing about what it did not cover).

The order is deterministic: by outcome (price differences, missing here, missing there,
matched), then external id, then register id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from gongzhi.assets.domain.feeds.records import FeedRecord, FeedSource, RegisterRecord
from gongzhi.core.domain.money import format_yuan

__all__ = [
    "FeedAlertKind",
    "Outcome",
    "PriceDifference",
    "PriceTolerance",
    "Reconciliation",
    "ReconciliationReport",
    "reconcile",
]


class FeedAlertKind(StrEnum):
    MISSING_HERE = "feed_missing_here"  # 外部系统有成交、台账无登记
    MISSING_THERE = "feed_missing_there"  # 台账称经外部系统交易、外部系统无记录
    PRICE_MISMATCH = "feed_price_mismatch"  # 台账与外部系统价格不一致

    @property
    def label_zh(self) -> str:
        return _ALERT_LABELS[self]


_ALERT_LABELS = {
    FeedAlertKind.MISSING_HERE: "外部系统有记录，台账未登记",
    FeedAlertKind.MISSING_THERE: "台账有记录，外部系统无此交易",
    FeedAlertKind.PRICE_MISMATCH: "台账价格与外部系统不一致",
}


class Outcome(StrEnum):
    DIFFERENT_PRICE = "different_price"
    MISSING_HERE = "missing_here"
    MISSING_THERE = "missing_there"
    MATCHED = "matched"

    @property
    def alert_kind(self) -> FeedAlertKind | None:
        return _OUTCOME_ALERTS.get(self)


_OUTCOME_ALERTS = {
    Outcome.DIFFERENT_PRICE: FeedAlertKind.PRICE_MISMATCH,
    Outcome.MISSING_HERE: FeedAlertKind.MISSING_HERE,
    Outcome.MISSING_THERE: FeedAlertKind.MISSING_THERE,
}
_OUTCOME_ORDER = {o: i for i, o in enumerate(Outcome)}


@dataclass(frozen=True, slots=True)
class PriceTolerance:
    """Two amounts agree when they differ by at most ``max(absolute, relative × the larger)``."""

    absolute: Decimal = Decimal("0.01")
    relative: Decimal = Decimal(0)

    def agrees(self, a: Decimal, b: Decimal) -> bool:
        allowed = max(self.absolute, self.relative * max(abs(a), abs(b)))
        return abs(a - b) <= allowed


@dataclass(frozen=True, slots=True)
class PriceDifference:
    field: str  # "reserve_price_yuan", "deal_price_yuan" or "price_basis"
    feed: Decimal | str
    register: Decimal | str

    @property
    def text(self) -> str:
        if self.field == "price_basis":
            return f"计价方式不同（外部系统：{self.feed}，台账：{self.register}）"
        label = "底价" if self.field == "reserve_price_yuan" else "成交价"
        assert isinstance(self.feed, Decimal) and isinstance(self.register, Decimal)
        return f"{label}不一致（外部系统{format_yuan(self.feed)}，台账{format_yuan(self.register)}）"


@dataclass(frozen=True, slots=True)
class Reconciliation:
    outcome: Outcome
    source: FeedSource
    external_id: str = ""  # "" when missing there and the register gave no reference
    register_id: str = ""  # "" when missing here
    feed: FeedRecord | None = None
    register: RegisterRecord | None = None
    differences: tuple[PriceDifference, ...] = ()
    matched_by: str = ""  # "ref" or "asset" for a match (with or without price differences)

    @property
    def alert_kind(self) -> FeedAlertKind | None:
        return self.outcome.alert_kind

    @property
    def reason(self) -> str:
        """One line in Chinese for the alert (personal numbers masked)."""
        source = self.source.label_zh
        if self.outcome is Outcome.MISSING_HERE:
            assert self.feed is not None
            who = f"，对方{self.feed.counterparty_masked}" if self.feed.counterparty_id else ""
            return f"{source}{self.feed.stage.label_zh}记录{self.external_id}（{self.feed.asset_ref or self.feed.parcel_ref}{who}）在台账中没有登记"
        if self.outcome is Outcome.MISSING_THERE:
            return f"台账记录{self.register_id}登记为经{source}交易（编号{self.external_id or '未填'}），{source}没有该记录"
        if self.outcome is Outcome.DIFFERENT_PRICE:
            return f"{source}记录{self.external_id}与台账记录{self.register_id}：" + "；".join(d.text for d in self.differences)
        return f"{source}记录{self.external_id}与台账记录{self.register_id}一致"


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    source: FeedSource
    items: tuple[Reconciliation, ...]

    def of(self, outcome: Outcome) -> list[Reconciliation]:
        return [r for r in self.items if r.outcome is outcome]

    @property
    def matched(self) -> list[Reconciliation]:
        return self.of(Outcome.MATCHED)

    @property
    def missing_here(self) -> list[Reconciliation]:
        return self.of(Outcome.MISSING_HERE)

    @property
    def missing_there(self) -> list[Reconciliation]:
        return self.of(Outcome.MISSING_THERE)

    @property
    def different_price(self) -> list[Reconciliation]:
        return self.of(Outcome.DIFFERENT_PRICE)

    @property
    def alerts(self) -> list[Reconciliation]:
        """The items that raise an alert (every outcome but matched), in report order."""
        return [r for r in self.items if r.alert_kind is not None]

    def counts(self) -> dict[Outcome, int]:
        return {o: len(self.of(o)) for o in Outcome}


def reconcile(
    source: FeedSource,
    feed_records: Iterable[FeedRecord],
    register_records: Iterable[RegisterRecord],
    *,
    tolerance: PriceTolerance | None = None,
    window: tuple[date, date] | None = None,
    complete: bool = True,
) -> ReconciliationReport:
    """Reconcile ``feed_records`` of ``source`` with ``register_records`` (see the module doc)."""
    tolerance = tolerance or PriceTolerance()
    feeds = sorted((f for f in feed_records if f.source is source), key=lambda f: f.external_id)
    registers = sorted(register_records, key=lambda r: r.register_id)
    items: list[Reconciliation] = []

    by_ref: dict[str, list[RegisterRecord]] = {}
    for reg in registers:
        ref = reg.refs.get(source)
        if ref:
            by_ref.setdefault(ref, []).append(reg)

    unmatched_feeds: list[FeedRecord] = []
    claimed: set[str] = set()
    for feed in feeds:
        candidates = by_ref.get(feed.external_id)
        if candidates:
            items.append(_matched(source, feed, candidates[0], "ref", tolerance))
            claimed.update(r.register_id for r in candidates)
            items.extend(
                Reconciliation(Outcome.MISSING_THERE, source, feed.external_id, dup.register_id, register=dup)
                for dup in candidates[1:]
            )
        else:
            unmatched_feeds.append(feed)

    unlinked = [r for r in registers if not r.refs.get(source)]
    pairs = _pairs_by_asset(unmatched_feeds, unlinked)
    paired_registers = {id(reg) for reg in pairs.values()}
    for feed in unmatched_feeds:
        pair = pairs.get(id(feed))
        if pair is not None:
            items.append(_matched(source, feed, pair, "asset", tolerance))
        else:
            items.append(Reconciliation(Outcome.MISSING_HERE, source, feed.external_id, feed=feed))

    if complete:
        for reg in registers:
            ref = reg.refs.get(source)
            if not ref or reg.register_id in claimed or id(reg) in paired_registers:
                continue
            if window is not None and (reg.dated is None or not window[0] <= reg.dated <= window[1]):
                continue
            items.append(Reconciliation(Outcome.MISSING_THERE, source, ref, reg.register_id, register=reg))

    items.sort(key=lambda r: (_OUTCOME_ORDER[r.outcome], r.external_id, r.register_id))
    return ReconciliationReport(source, tuple(items))


def _norm(number: str) -> str:
    return "".join(number.split()).upper()


def _asset_key(feed: FeedRecord, reg: RegisterRecord) -> bool:
    if not feed.counterparty_id or _norm(feed.counterparty_id) != _norm(reg.counterparty_id):
        return False
    if feed.asset_ref and reg.asset_ref:
        same_place = feed.asset_ref == reg.asset_ref
    else:
        same_place = bool(feed.parcel_ref) and feed.parcel_ref == reg.parcel_ref
    if not same_place:
        return False
    return feed.start_on is None or reg.start_on is None or feed.start_on == reg.start_on


def _pairs_by_asset(feeds: Sequence[FeedRecord], registers: Sequence[RegisterRecord]) -> dict[int, RegisterRecord]:
    """Feed record (by id()) → register record, for pairs unique on both sides."""
    by_counterparty: dict[str, list[RegisterRecord]] = {}
    for reg in registers:
        if reg.counterparty_id:
            by_counterparty.setdefault(_norm(reg.counterparty_id), []).append(reg)
    options: dict[int, list[RegisterRecord]] = {}
    chosen_by: dict[int, int] = {}
    for feed in feeds:
        if not feed.counterparty_id:
            continue
        found = [reg for reg in by_counterparty.get(_norm(feed.counterparty_id), ()) if _asset_key(feed, reg)]
        options[id(feed)] = found
        for reg in found:
            chosen_by[id(reg)] = chosen_by.get(id(reg), 0) + 1
    return {
        fid: found[0]
        for fid, found in options.items()
        if len(found) == 1 and chosen_by[id(found[0])] == 1
    }


def _matched(
    source: FeedSource, feed: FeedRecord, reg: RegisterRecord, by: str, tolerance: PriceTolerance
) -> Reconciliation:
    differences: list[PriceDifference] = []
    compared = [
        (name, getattr(feed, name), getattr(reg, name)) for name in ("reserve_price_yuan", "deal_price_yuan")
    ]
    if feed.price_basis is not reg.price_basis and any(a is not None and b is not None for _, a, b in compared):
        differences.append(PriceDifference("price_basis", feed.price_basis.label_zh, reg.price_basis.label_zh))
    else:
        for name, a, b in compared:
            if a is not None and b is not None and not tolerance.agrees(a, b):
                differences.append(PriceDifference(name, a, b))
    outcome = Outcome.DIFFERENT_PRICE if differences else Outcome.MATCHED
    return Reconciliation(
        outcome, source, feed.external_id, reg.register_id, feed=feed, register=reg,
        differences=tuple(differences), matched_by=by,
    )
