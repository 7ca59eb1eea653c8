"""What a feed yields and what the register passes in: plain, frozen dataclasses, no Django.

A *feed record* is one deal as another system knows it (the property rights exchange's listing or
result, a procurement contract, a construction tender or award). A *register record* is the same
deal as the platform's register knows it; the app builds these from its models and hands them to
:func:`gongzhi.assets.domain.feeds.reconcile.reconcile`.

Amounts are :class:`~decimal.Decimal` yuan with two places, areas Decimal m² with two places
(``gongzhi.core.domain.money``). Prices come with a basis: a lease is priced per month, a transfer
or a works contract in total; two prices are only compared on the same basis.

Counterparties are named by a USCC or a personal ID number. A personal number is personal data:
the dataclasses keep it out of ``repr`` and show :attr:`FeedRecord.counterparty_masked` instead,
and no message this package writes contains it unmasked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from gongzhi.core.domain.identifiers import mask_number

__all__ = [
    "FeedIssue",
    "FeedRecord",
    "FeedRun",
    "FeedSource",
    "FeedStage",
    "PriceBasis",
    "RegisterRecord",
    "digest_of",
    "merge_stages",
]


class FeedSource(StrEnum):
    """The other systems the register is reconciled with."""

    EXCHANGE = "exchange"  # 产权交易所（农村集体资产交易）
    PROCUREMENT = "procurement"  # 政府采购系统（OCDS 1.1）
    TRADING_CENTRE = "trading_centre"  # 建设工程交易中心

    @property
    def label_zh(self) -> str:
        return _SOURCE_LABELS[self]


_SOURCE_LABELS = {
    FeedSource.EXCHANGE: "产权交易所",
    FeedSource.PROCUREMENT: "政府采购系统",
    FeedSource.TRADING_CENTRE: "建设工程交易中心",
}


class FeedStage(StrEnum):
    """How far the deal had gone when the feed reported it (later stages supersede earlier)."""

    LISTING = "listing"  # 挂牌
    TENDER = "tender"  # 招标公告
    RESULT = "result"  # 成交
    AWARD = "award"  # 中标
    CONTRACT = "contract"  # 合同

    @property
    def rank(self) -> int:
        return _STAGE_RANK[self]

    @property
    def label_zh(self) -> str:
        return _STAGE_LABELS[self]


_STAGE_RANK = {
    FeedStage.LISTING: 0,
    FeedStage.TENDER: 0,
    FeedStage.RESULT: 1,
    FeedStage.AWARD: 1,
    FeedStage.CONTRACT: 2,
}
_STAGE_LABELS = {
    FeedStage.LISTING: "挂牌",
    FeedStage.TENDER: "招标",
    FeedStage.RESULT: "成交",
    FeedStage.AWARD: "中标",
    FeedStage.CONTRACT: "合同",
}


class PriceBasis(StrEnum):
    MONTHLY_RENT = "monthly_rent"  # 月租金
    TOTAL = "total"  # 总价

    @property
    def label_zh(self) -> str:
        return "月租金" if self is PriceBasis.MONTHLY_RENT else "总价"


def _mask(value: str) -> str:
    return mask_number(value) if value else ""


@dataclass(frozen=True, slots=True)
class FeedRecord:
    """One deal as another system reports it."""

    source: FeedSource
    external_id: str  # the other system's number: exchange project no., ocid/contract id, 项目编号/标段
    stage: FeedStage
    company_uscc: str = ""  # the collective company (lessor, transferor, 招标人 or buyer)
    company_name: str = ""
    asset_ref: str = ""
    parcel_ref: str = ""
    title: str = ""
    counterparty_id: str = field(default="", repr=False)  # USCC or personal ID number: personal data
    counterparty_name: str = field(default="", repr=False)
    area_m2: Decimal | None = None
    price_basis: PriceBasis = PriceBasis.TOTAL
    reserve_price_yuan: Decimal | None = None  # 挂牌价 / 招标控制价 / tender minValue
    deal_price_yuan: Decimal | None = None  # 成交价 / 中标价 / contract value or monthly rent
    published_on: date | None = None
    deal_on: date | None = None
    start_on: date | None = None
    end_on: date | None = None
    bidder_count: int | None = None
    where: str = ""  # where in the input it came from ("第3行", "第2个发布"), for messages

    @property
    def counterparty_masked(self) -> str:
        return _mask(self.counterparty_id)

    def __repr__(self) -> str:
        return (
            f"FeedRecord(source={self.source.value!r}, external_id={self.external_id!r}, "
            f"stage={self.stage.value!r}, company_uscc={self.company_uscc!r}, asset_ref={self.asset_ref!r}, "
            f"counterparty={self.counterparty_masked!r}, area_m2={self.area_m2!r}, "
            f"price_basis={self.price_basis.value!r}, reserve={self.reserve_price_yuan!r}, "
            f"deal={self.deal_price_yuan!r}, where={self.where!r})"
        )


@dataclass(frozen=True, slots=True)
class RegisterRecord:
    """One deal as the platform's register knows it; built by the app from its models.

    ``refs`` names the deal in the other systems (the exchange's project number, the procurement
    ``ocid/contract id``, the trading centre's ``项目编号/标段编号``). A record that names a
    source is expected to appear in that source's feed; one that names none can still be matched
    by asset and counterparty (see ``reconcile``).
    """

    register_id: str  # the app's own stable id (contract number or primary key), opaque here
    refs: Mapping[FeedSource, str] = field(default_factory=dict)
    company_uscc: str = ""
    asset_ref: str = ""
    parcel_ref: str = ""
    counterparty_id: str = field(default="", repr=False)
    area_m2: Decimal | None = None
    price_basis: PriceBasis = PriceBasis.TOTAL
    reserve_price_yuan: Decimal | None = None
    deal_price_yuan: Decimal | None = None
    dated: date | None = None  # the deal's date (listing, award or signing), for a feed's window
    start_on: date | None = None
    end_on: date | None = None

    @property
    def counterparty_masked(self) -> str:
        return _mask(self.counterparty_id)

    def __repr__(self) -> str:
        refs = {k.value: v for k, v in sorted(self.refs.items())}
        return (
            f"RegisterRecord(register_id={self.register_id!r}, refs={refs!r}, asset_ref={self.asset_ref!r}, "
            f"counterparty={self.counterparty_masked!r}, price_basis={self.price_basis.value!r}, "
            f"reserve={self.reserve_price_yuan!r}, deal={self.deal_price_yuan!r})"
        )


@dataclass(frozen=True, slots=True)
class FeedIssue:
    """A record the run skipped (or, as ``FeedRun.fatal``, why nothing could be read)."""

    where: str  # "第3行", "第2条", "第1个发布（releases[0]）", "文件"
    reason: str  # in Chinese; never contains a personal number unmasked
    external_id: str = ""

    def __str__(self) -> str:
        ident = f"（{self.external_id}）" if self.external_id else ""
        return f"{self.where}{ident}：{self.reason}"


@dataclass(frozen=True, slots=True)
class FeedRun:
    """The outcome of reading one feed input: apply it whole or not at all.

    ``records`` are the good records, one per ``external_id`` (later stages merged over earlier,
    see :func:`merge_stages`), in input order; ``issues`` the malformed ones that were skipped.
    When ``fatal`` is set nothing could be read (not a file of this format, a failed fetch, an
    invalid package envelope) and ``records`` is empty. The caller applies ``records`` in one
    transaction and stores ``issues`` with the run; ``digest`` (SHA-256 of the input bytes) lets
    it recognise a file it has already applied.
    """

    source: FeedSource
    records: tuple[FeedRecord, ...] = ()
    issues: tuple[FeedIssue, ...] = ()
    fatal: FeedIssue | None = None
    digest: str = ""

    @property
    def ok(self) -> bool:
        return self.fatal is None

    @classmethod
    def failed(cls, source: FeedSource, reason: str, *, where: str = "文件", digest: str = "") -> FeedRun:
        return cls(source=source, fatal=FeedIssue(where=where, reason=reason), digest=digest)


def digest_of(*chunks: bytes) -> str:
    """SHA-256 of one input; of the pages' digests for an input fetched in several pages."""
    if len(chunks) == 1:
        return hashlib.sha256(chunks[0]).hexdigest()
    return hashlib.sha256(b"".join(hashlib.sha256(c).digest() for c in chunks)).hexdigest()


_EMPTY: tuple[object, ...] = (None, "")


def merge_stages(
    records: Iterable[FeedRecord],
) -> tuple[list[FeedRecord], list[FeedIssue]]:
    """One record per ``external_id``: a later stage's values over an earlier one's.

    A listing followed by its result becomes one record at the result stage that keeps the
    listing's reserve price and publication date. Two records of the same rank for one id are a
    conflict unless identical: the later one is reported and skipped. Order: first appearance.
    """
    merged: dict[str, FeedRecord] = {}
    issues: list[FeedIssue] = []
    names = [f.name for f in fields(FeedRecord) if f.name not in {"source", "external_id", "stage", "where"}]
    for record in records:
        earlier = merged.get(record.external_id)
        if earlier is None:
            merged[record.external_id] = record
            continue
        if earlier.stage.rank == record.stage.rank:
            if _same_values(earlier, record, names):
                continue
            issues.append(
                FeedIssue(
                    where=record.where,
                    reason=f"编号重复：与{earlier.where}的{earlier.stage.label_zh}记录内容不同，已跳过",
                    external_id=record.external_id,
                )
            )
            continue
        late, early = (record, earlier) if record.stage.rank > earlier.stage.rank else (earlier, record)
        filled = {n: getattr(early, n) for n in names if getattr(late, n) in _EMPTY and getattr(early, n) not in _EMPTY}
        merged[record.external_id] = replace(late, **filled)
    return list(merged.values()), issues


def _same_values(a: FeedRecord, b: FeedRecord, names: list[str]) -> bool:
    return all(getattr(a, n) == getattr(b, n) for n in names) and a.stage == b.stage
