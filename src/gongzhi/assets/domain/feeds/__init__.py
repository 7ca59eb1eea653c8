"""Feeds from other systems (issue 13, item 4): pure Python, no Django.

* ``exchange`` — the property rights exchange's listings and results (CSV or JSON);
* ``procurement`` — the government procurement system's contracts (OCDS 1.1 release or record
  packages, validated against the vendored schemas, compiled with ocdsmerge);
* ``trading_centre`` — the construction-project trading centre's tenders and awards (paged JSON);
* ``reconcile`` — a feed against the register: matched, missing here, missing there, different
  price, each with its alert kind;
* ``export`` — the platform's own transactions as an OCDS 1.1 release package with the lease
  extension (``data/lease-extension``).

Each adapter has ``parse_*(bytes) -> FeedRun`` for a file drop and ``pull_*(url, fetcher=…) ->
FeedRun`` for an HTTP pull. A :class:`FeedRun` is applied whole or not at all: its ``records``
are the good ones, ``issues`` the malformed ones skipped (where and why, in Chinese), and
``fatal`` says why nothing could be read.
"""

from gongzhi.assets.domain.feeds.exchange import parse_exchange, pull_exchange
from gongzhi.assets.domain.feeds.export import (
    PlatformTransaction,
    export_release_package,
    release_package_json,
)
from gongzhi.assets.domain.feeds.fetch import Fetcher, FetchError, urllib_fetcher
from gongzhi.assets.domain.feeds.ocds import validate_release_package
from gongzhi.assets.domain.feeds.procurement import parse_procurement, pull_procurement
from gongzhi.assets.domain.feeds.reconcile import (
    FeedAlertKind,
    Outcome,
    PriceTolerance,
    Reconciliation,
    ReconciliationReport,
    reconcile,
)
from gongzhi.assets.domain.feeds.records import (
    FeedIssue,
    FeedRecord,
    FeedRun,
    FeedSource,
    FeedStage,
    PriceBasis,
    RegisterRecord,
)
from gongzhi.assets.domain.feeds.trading_centre import parse_trading_centre, pull_trading_centre

__all__ = [
    "FeedAlertKind",
    "FeedIssue",
    "FeedRecord",
    "FeedRun",
    "FeedSource",
    "FeedStage",
    "FetchError",
    "Fetcher",
    "Outcome",
    "PlatformTransaction",
    "PriceBasis",
    "PriceTolerance",
    "Reconciliation",
    "ReconciliationReport",
    "RegisterRecord",
    "export_release_package",
    "parse_exchange",
    "parse_feed",
    "parse_procurement",
    "parse_trading_centre",
    "pull_exchange",
    "pull_feed",
    "pull_procurement",
    "pull_trading_centre",
    "reconcile",
    "release_package_json",
    "urllib_fetcher",
    "validate_release_package",
]

_PARSERS = {
    FeedSource.EXCHANGE: parse_exchange,
    FeedSource.PROCUREMENT: parse_procurement,
    FeedSource.TRADING_CENTRE: parse_trading_centre,
}


def parse_feed(source: FeedSource, data: bytes) -> FeedRun:
    """A dropped file of ``source`` (the exchange's format is told from the content)."""
    return _PARSERS[source](data)


def pull_feed(source: FeedSource, url: str, *, fetcher: Fetcher | None = None) -> FeedRun:
    """An HTTP pull from ``source`` (the trading centre's ``next`` pages are followed)."""
    if source is FeedSource.EXCHANGE:
        return pull_exchange(url, fetcher=fetcher)
    if source is FeedSource.PROCUREMENT:
        return pull_procurement(url, fetcher=fetcher)
    return pull_trading_centre(url, fetcher=fetcher)
