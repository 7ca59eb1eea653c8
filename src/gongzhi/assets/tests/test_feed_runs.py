"""Feed runs through the app (issue 13, item 4): each feed with good and broken input, applied
atomically, never twice, reconciled with the register and raising alerts. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gongzhi.core.errors import ConflictError, NotAllowedError
from gongzhi.core.tests.actors import SYSTEM

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "feeds" / "fixtures"
JIA = "91440309MA5FXX010C"  # 甲股份合作公司 in the feeds' fixtures
YI = "91440309MA5FXX020D"  # 乙
TENANT = "91440309MA5FXX030E"


def _bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def register(place_tree: SimpleNamespace, make_user: Any) -> SimpleNamespace:
    from gongzhi.accounts.enums import Role
    from gongzhi.assets import actions

    a = place_tree.community_a
    jia = actions.do_register_company(JIA, "深圳市龙华区甲股份合作公司", a, actor=SYSTEM)
    yi = actions.do_register_company(YI, "深圳市龙华区乙股份合作公司", a, actor=SYSTEM)
    plant = actions.do_register_asset(jia, "building", "A-0001", "甲公司3号厂房", "industrial", "3200", actor=SYSTEM)
    lease = actions.do_register_lease(
        jia, plant, counterparty_kind="org", counterparty_number=TENANT, counterparty_name="深圳市某某科技有限公司",
        area="2000", monthly_rent="50000", signed_on=date(2026, 3, 25), starts_on=date(2026, 4, 1),
        ends_on=date(2031, 3, 31), contract_no="JIA-2026-01", actor=SYSTEM)
    supervisor = make_user(Role.ASSET_SUPERVISOR, place_tree.subdistrict) if hasattr(Role, "ASSET_SUPERVISOR") \
        else None
    return SimpleNamespace(jia=jia, yi=yi, plant=plant, lease=lease, supervisor=supervisor,
                           manager=make_user(Role.ASSET_MANAGER, a))


def test_exchange_csv_reconciles_and_raises_alerts(register: SimpleNamespace) -> None:
    from gongzhi.assets import actions
    from gongzhi.assets.models import Alert, FeedRun, Lease

    run = actions.do_import_feed("exchange", _bytes("exchange_good.csv"), actor=SYSTEM, name="exchange_good.csv")
    assert run.status == "applied" and run.records >= 2
    assert run.different_price == 1  # 甲's lease: 50,000 here, 102,400 at the exchange
    assert run.missing_here >= 1  # 乙's shop is not in the register
    kinds = set(Alert.objects.filter(key__startswith="feed:exchange:").values_list("kind", flat=True))
    assert {"feed_price_mismatch", "feed_missing_here"} <= kinds
    mismatch = Alert.objects.get(kind="feed_price_mismatch")
    assert mismatch.lease_id == register.lease.pk and mismatch.company_id == register.jia.pk
    # The reference learnt by asset and counterparty is kept on the lease.
    assert Lease.objects.get(pk=register.lease.pk).feed_refs == {"exchange": "SZ-2026-001"}
    assert FeedRun.objects.count() == 1
    assert any(i["outcome"] == "different_price" for i in run.items)


def test_same_file_twice_is_not_applied_twice(register: SimpleNamespace) -> None:
    from gongzhi.assets import actions
    from gongzhi.assets.models import Alert, FeedRun

    actions.do_import_feed("exchange", _bytes("exchange_good.csv"), actor=SYSTEM)
    alerts = Alert.objects.count()
    with pytest.raises(ConflictError):
        actions.do_import_feed("exchange", _bytes("exchange_good.csv"), actor=SYSTEM)
    assert FeedRun.objects.count() == 1 and Alert.objects.count() == alerts
    # The same bytes from another system are another run.
    other = actions.do_import_feed("trading_centre", _bytes("exchange_good.csv"), actor=SYSTEM)
    assert other.source == "trading_centre"


def test_malformed_records_are_reported_and_skipped(register: SimpleNamespace) -> None:
    from gongzhi.assets import actions

    run = actions.do_import_feed("exchange", _bytes("exchange_broken.csv"), actor=SYSTEM)
    assert run.status == "applied"
    assert run.skipped == len(run.issues) >= 5
    text = str(run.issues)
    assert "440309198001010018" not in text and "440309198001010019" not in text


def test_fatal_input_stores_only_the_failed_run(register: SimpleNamespace) -> None:
    from gongzhi.assets import actions
    from gongzhi.assets.models import Alert, FeedRun

    before = Alert.objects.count()
    run = actions.do_import_feed("procurement", b"\x00\x01 not json", actor=SYSTEM)
    assert run.status == "failed" and run.fatal
    assert run.records == 0 and run.items == []
    assert FeedRun.objects.count() == 1 and Alert.objects.count() == before
    # A failed input may be tried again (it was not applied).
    again = actions.do_import_feed("procurement", b"\x00\x01 not json", actor=SYSTEM)
    assert again.status == "failed"


def test_a_run_applies_atomically(register: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    from gongzhi.assets import actions
    from gongzhi.assets.models import Alert, FeedRun, Lease

    calls = {"n": 0}
    real = actions._open_alert

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(actions, "_open_alert", failing)
    before = Alert.objects.count()
    with pytest.raises(RuntimeError):
        actions.do_import_feed("exchange", _bytes("exchange_good.csv"), actor=SYSTEM)
    assert FeedRun.objects.count() == 0 and Alert.objects.count() == before
    assert Lease.objects.get(pk=register.lease.pk).feed_refs == {}


def test_procurement_ocds_package(register: SimpleNamespace) -> None:
    from gongzhi.assets import actions
    from gongzhi.assets.models import Alert

    run = actions.do_import_feed("procurement", _bytes("procurement_releases.json"), actor=SYSTEM)
    assert run.status == "applied" and run.records >= 1
    assert run.matched + run.different_price + run.missing_here >= 1
    assert Alert.objects.filter(key__startswith="feed:procurement:").count() == run.alerts_opened


def test_trading_centre_pull_follows_pages_and_broken_input(register: SimpleNamespace) -> None:
    from gongzhi.assets import actions

    pages = {"https://tc.example/api/page1": _bytes("tc_page1.json"),
             "https://tc.example/api/tc_page2.json": _bytes("tc_page2.json")}

    def fetcher(url: str) -> bytes:
        return pages[url]

    run = actions.do_pull_feed("trading_centre", "https://tc.example/api/page1", actor=SYSTEM, fetcher=fetcher)
    assert run.status == "applied" and run.channel == "pull" and run.records >= 2
    assert run.missing_here >= 1  # 甲's dormitory works are not in the register
    broken = actions.do_import_feed("trading_centre", _bytes("tc_broken.json"), actor=SYSTEM)
    assert broken.issues or broken.status == "failed"


def test_failed_pull_is_a_failed_run(register: SimpleNamespace) -> None:
    from gongzhi.assets import actions
    from gongzhi.assets.domain.feeds import FetchError

    def fetcher(url: str) -> bytes:
        raise FetchError("无法连接对方系统：refused")

    run = actions.do_pull_feed("exchange", "https://exchange.example/feed.csv", actor=SYSTEM, fetcher=fetcher)
    assert run.status == "failed" and "无法连接" in run.fatal


def test_only_supervisors_run_feeds(register: SimpleNamespace) -> None:
    from gongzhi.assets import actions

    with pytest.raises(NotAllowedError):
        actions.do_import_feed("exchange", _bytes("exchange_good.csv"), actor=register.manager)


def test_ocp_sample_release_package(register: SimpleNamespace) -> None:
    from gongzhi.assets import actions
    from gongzhi.assets.tests.feeds.conftest import _find_ocp_dir

    found = _find_ocp_dir()
    if found is None:
        pytest.skip("OCP sample data (shared/data/ocds) not present")
    samples = sorted((found / "fictional-example-1.1").glob("*.json"))
    if not samples:
        pytest.skip("no OCP sample release packages")
    run = actions.do_import_feed("procurement", samples[0].read_bytes(), actor=SYSTEM, name=samples[0].name)
    assert run.status in {"applied", "failed"}
    assert run.status == "applied" or run.fatal
