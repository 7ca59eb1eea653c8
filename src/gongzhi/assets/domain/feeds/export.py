"""The platform's own collective-asset transactions as an OCDS 1.1 release package (lease extension).

One release per transaction, carrying everything known so far (tag ``tender`` while listed,
``award`` once awarded, ``contract`` once signed, ``tenderCancellation`` when withdrawn):

* ``ocid`` = ``{ocid_prefix}-{transaction_id}``; the collective company is ``buyer`` and
  ``procuringEntity`` (identifier scheme ``CN-USCC``); the winning bidder is ``supplier`` (OCDS
  names the awarded party so whoever pays);
* ``tender``: title, the listing as ``tenderPeriod`` (listed → end of notice), open procedure,
  ``numberOfTenderers``, the reserve as ``minValue`` (total basis) or
  ``lease.reserveMonthlyRent`` (lease), and ``lease`` with asset, parcel, area and use;
* ``awards[0]`` and ``contracts[0]``: the deal, ``period`` = the lease term (Beijing dates),
  ``value`` = the total over the term when known, ``lease.monthlyRent`` and ``lease.deposit``.

A counterparty that is a person is published without any identifier and with the name masked
(张**): the package is public. Amounts are written as JSON numbers (yuan, two decimals, CNY).
The lease extension is declared in ``extensions`` by ``extension_url`` — the app serves the
vendored ``data/lease-extension/extension.json`` there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from gongzhi.assets.domain.feeds.parsing import BEIJING
from gongzhi.assets.domain.feeds.records import PriceBasis
from gongzhi.core.domain.identifiers import check_person_number, check_uscc

__all__ = ["DEFAULT_OCID_PREFIX", "PlatformTransaction", "export_release_package", "release_package_json"]

# The prefix the Open Contracting Partnership assigns a publisher; this one is a placeholder
# until the district registers its own (configurable by the caller).
DEFAULT_OCID_PREFIX = "ocds-gzhi00"


@dataclass(frozen=True, slots=True)
class PlatformTransaction:
    """One on-platform deal as the app passes it in (from listing to contract)."""

    transaction_id: str
    company_uscc: str
    company_name: str
    title: str
    listed_at: datetime  # aware
    notice_end_at: datetime | None = None
    asset_ref: str = ""
    parcel_ref: str = ""
    area_m2: Decimal | None = None
    use_type: str = ""
    price_basis: PriceBasis = PriceBasis.MONTHLY_RENT
    reserve_price_yuan: Decimal | None = None
    bidder_count: int | None = None
    cancelled: bool = False
    awarded_at: datetime | None = None
    deal_price_yuan: Decimal | None = None  # on ``price_basis``
    counterparty_id: str = field(default="", repr=False)
    counterparty_name: str = field(default="", repr=False)
    signed_at: datetime | None = None
    start_on: date | None = None
    end_on: date | None = None
    deposit_yuan: Decimal | None = None
    total_value_yuan: Decimal | None = None  # over the whole term, when the app knows it
    updated_at: datetime | None = None


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("aware datetimes only")
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


def _day_start(day: date) -> str:
    return _iso(datetime.combine(day, time(0, 0), BEIJING))


def _day_end(day: date) -> str:
    return _iso(datetime.combine(day, time(23, 59, 59), BEIJING))


def _value(amount: Decimal | None) -> dict[str, Any] | None:
    return None if amount is None else {"amount": amount, "currency": "CNY"}


def _masked_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else "个人"


def _compact(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v not in (None, "", [], {})}


def _release(t: PlatformTransaction, ocid_prefix: str) -> dict[str, Any]:
    ocid = f"{ocid_prefix}-{t.transaction_id}"
    company_id = f"CN-USCC-{t.company_uscc}"
    parties: list[dict[str, Any]] = [
        {
            "id": company_id,
            "name": t.company_name,
            "identifier": {"scheme": "CN-USCC", "id": t.company_uscc, "legalName": t.company_name},
            "roles": ["buyer", "procuringEntity"],
        }
    ]
    company_ref = {"id": company_id, "name": t.company_name}
    lease_common = _compact(
        {"assetRef": t.asset_ref, "parcelRef": t.parcel_ref, "area": t.area_m2, "useType": t.use_type}
    )
    monthly = t.price_basis is PriceBasis.MONTHLY_RENT
    tender = _compact(
        {
            "id": f"{ocid}-tender",
            "title": t.title,
            "status": "cancelled" if t.cancelled else ("complete" if t.awarded_at else "active"),
            "procuringEntity": company_ref,
            "procurementMethod": "open",
            "procurementMethodDetails": "平台公开挂牌竞价",
            "minValue": None if monthly else _value(t.reserve_price_yuan),
            "tenderPeriod": _compact(
                {"startDate": _iso(t.listed_at), "endDate": _iso(t.notice_end_at) if t.notice_end_at else None}
            ),
            "numberOfTenderers": t.bidder_count,
            "lease": _compact(
                {**lease_common, "reserveMonthlyRent": _value(t.reserve_price_yuan) if monthly else None}
            ),
        }
    )
    release: dict[str, Any] = {
        "ocid": ocid,
        "initiationType": "tender",
        "language": "zh",
        "buyer": company_ref,
        "tender": tender,
    }
    dates = [t.listed_at]
    tag = "tenderCancellation" if t.cancelled else "tender"
    if t.awarded_at and not t.cancelled:
        dates.append(t.awarded_at)
        tag = "award"
        supplier_ref = _counterparty(t, parties)
        total = t.total_value_yuan if monthly else t.deal_price_yuan
        award_id = f"{ocid}-award"
        release["awards"] = [
            _compact(
                {
                    "id": award_id,
                    "status": "active",
                    "date": _iso(t.awarded_at),
                    "value": _value(total),
                    "suppliers": [supplier_ref] if supplier_ref else None,
                }
            )
        ]
        if t.signed_at:
            dates.append(t.signed_at)
            tag = "contract"
            release["contracts"] = [
                _compact(
                    {
                        "id": f"{ocid}-contract",
                        "awardID": award_id,
                        "title": t.title,
                        "status": "active",
                        "period": _compact(
                            {
                                "startDate": _day_start(t.start_on) if t.start_on else None,
                                "endDate": _day_end(t.end_on) if t.end_on else None,
                            }
                        ),
                        "value": _value(total),
                        "dateSigned": _iso(t.signed_at),
                        "lease": _compact(
                            {
                                **lease_common,
                                "monthlyRent": _value(t.deal_price_yuan) if monthly else None,
                                "deposit": _value(t.deposit_yuan),
                            }
                        ),
                    }
                )
            ]
    if t.updated_at:
        dates.append(t.updated_at)
    latest = max(dates)
    release["date"] = _iso(latest)
    release["id"] = f"{ocid}-{tag}-{latest.astimezone(BEIJING):%Y%m%d%H%M%S}"
    release["tag"] = [tag]
    release["parties"] = parties
    order = ["ocid", "id", "date", "tag", "initiationType", "language", "parties", "buyer", "tender", "awards", "contracts"]
    return {k: release[k] for k in order if k in release}


def _counterparty(t: PlatformTransaction, parties: list[dict[str, Any]]) -> dict[str, str] | None:
    if not t.counterparty_id and not t.counterparty_name:
        return None
    uscc = check_uscc(t.counterparty_id) if t.counterparty_id else None
    if uscc is not None and uscc.valid and not check_person_number(t.counterparty_id).valid:
        party_id = f"CN-USCC-{uscc.normalized}"
        name = t.counterparty_name or uscc.normalized
        parties.append(
            {
                "id": party_id,
                "name": name,
                "identifier": {"scheme": "CN-USCC", "id": uscc.normalized, "legalName": name},
                "roles": ["tenderer", "supplier"],
            }
        )
    else:  # a person: no number, name masked — the package is public
        party_id = f"person-{t.transaction_id}"
        name = _masked_name(t.counterparty_name)
        parties.append({"id": party_id, "name": name, "roles": ["tenderer", "supplier"]})
    return {"id": party_id, "name": name}


def export_release_package(
    transactions: Iterable[PlatformTransaction],
    *,
    uri: str,
    published_at: datetime,
    publisher_name: str,
    extension_url: str,
    ocid_prefix: str = DEFAULT_OCID_PREFIX,
    license_url: str | None = None,
    publication_policy_url: str | None = None,
) -> dict[str, Any]:
    """An OCDS 1.1 release package of ``transactions`` (amounts as Decimal; see :func:`release_package_json`)."""
    package: dict[str, Any] = {
        "uri": uri,
        "version": "1.1",
        "extensions": [extension_url],
        "publishedDate": _iso(published_at),
        "publisher": {"name": publisher_name},
    }
    if license_url:
        package["license"] = license_url
    if publication_policy_url:
        package["publicationPolicy"] = publication_policy_url
    package["releases"] = [
        _release(t, ocid_prefix) for t in sorted(transactions, key=lambda t: t.transaction_id)
    ]
    return package


def _json_default(obj: object) -> object:
    if isinstance(obj, Decimal):
        # Two-decimal yuan and m² amounts are exact as binary floats' shortest repr.
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def release_package_json(package: dict[str, Any]) -> bytes:
    """The package as UTF-8 JSON bytes (Chinese kept readable)."""
    return json.dumps(package, ensure_ascii=False, indent=2, default=_json_default).encode("utf-8")
