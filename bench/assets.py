"""Collective assets at district scale (issue 13): 168 companies, 100,000 assets, 1,000,000 contracts.

Prints, per backend (SQLite always, PostgreSQL when reachable):

* import time of the register with ``bulk_create`` (progress on stderr), next to the raw driver's
  ``executemany`` of the same lease rows into a plain copy of the table — the baseline;
* the cost of one new contract's incremental checks (``actions.judge_lease``: the indexed
  rolling-window look-ups of the anti-splitting rule) at 10,000 and at the full number of
  contracts — target: grows less than 1.5×;
* a full alert recomputation (``do_recompute_alerts``) over every company.

Scale with ``BENCH_ASSETS_CONTRACTS`` / ``BENCH_ASSETS_ASSETS`` (defaults: the issue's figures);
``--small`` runs 50,000 contracts and 10,000 assets for a quick look.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import ROOT, backend_env, pg_available, run_child

COMPANIES = 168
FIRST_STEP = 10_000
CHECKS = 300


def _progress(label: str, done: int, total: int) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r  {label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def child(backend: str, contracts: int, n_assets: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from gongzhi.assets import actions
    from gongzhi.assets.models import Asset, Company, Lease
    from gongzhi.core.actors import CLI
    from gongzhi.places.actions import do_create_place

    call_command("migrate", verbosity=0)
    rng = random.Random(13)
    city = do_create_place("city", "B440300", "深圳市", None, actor=CLI)
    district = do_create_place("district", "B440309", "龙华区", city, actor=CLI)
    subs = [do_create_place("subdistrict", f"B440309{i:03d}", f"街道{i}", district, actor=CLI) for i in range(6)]
    communities = [do_create_place("community", f"B440309{i % 6:03d}{i:03d}", f"社区{i}", subs[i % 6], actor=CLI)
                   for i in range(COMPANIES)]
    started = time.perf_counter()
    companies = Company.objects.bulk_create(
        [Company(uscc=f"N2{i:016d}", name=f"股份合作公司{i}", place=communities[i]) for i in range(COMPANIES)])
    per = n_assets // COMPANIES
    assets: list[Asset] = []
    for n, company in enumerate(companies):
        land = Asset.objects.bulk_create([Asset(company=company, kind="land", code="L", name="地块", use_type="industrial",
                                                area=Decimal("50000"), occupancy="leased")])[0]
        buildings = Asset.objects.bulk_create([
            Asset(company=company, kind="building", code=f"B{j}", name="楼", parent=land, use_type="industrial",
                  area=Decimal("8000"), occupancy="leased") for j in range(max(1, per // 10))])
        units = Asset.objects.bulk_create([
            Asset(company=company, kind="unit", code=f"U{j}", name="单元", parent=buildings[j % len(buildings)],
                  use_type="industrial", area=Decimal("400"), occupancy="leased")
            for j in range(max(0, per - 1 - len(buildings)))])
        assets += [land, *buildings, *units]
        _progress("assets", n + 1, COMPANIES)
    by_company: dict[int, list[Asset]] = {}
    for a in assets:
        by_company.setdefault(a.company_id, []).append(a)
    start_day = date(2021, 1, 1)

    def lease_rows(lo: int, hi: int) -> list[Lease]:
        rows = []
        for i in range(lo, hi):
            company = companies[i % COMPANIES]
            asset = rng.choice(by_company[company.pk])
            building = asset.parent if asset.kind == "unit" else (asset if asset.kind == "building" else None)
            signed = start_day + timedelta(days=rng.randrange(5 * 365))
            key = f"91{rng.randrange(contracts // 3 + 1):016d}"
            rows.append(Lease(company=company, asset=asset, building=building, parcel=asset if asset.kind == "land" else None,
                              contract_no=f"C{i}", area=Decimal(rng.randrange(20, 400)),
                              monthly_rent=Decimal(rng.randrange(1000, 20000)), signed_on=signed, starts_on=signed,
                              ends_on=signed + timedelta(days=3 * 365), counterparty_kind="org",
                              counterparty_name="承租方", counterparty_uscc=key, counterparty_key=key))
        return rows

    def insert(lo: int, hi: int) -> None:
        batch = 10_000
        for at in range(lo, hi, batch):
            with transaction.atomic():
                Lease.objects.bulk_create(lease_rows(at, min(hi, at + batch)), batch_size=2_000)
            _progress("contracts", min(hi, at + batch), contracts)

    def check_cost() -> float:
        times = []
        for _ in range(CHECKS):
            company = rng.choice(companies)
            asset = rng.choice(by_company[company.pk])
            key = f"91{rng.randrange(contracts // 3 + 1):016d}"
            signed = start_day + timedelta(days=rng.randrange(5 * 365))
            t0 = time.perf_counter()
            actions.judge_lease(company, asset, key, Decimal("100"), Decimal("1000"), signed)
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1000

    first = min(FIRST_STEP, contracts)
    t0 = time.perf_counter()
    insert(0, first)
    import_seconds = time.perf_counter() - t0
    at_first = check_cost()
    t0 = time.perf_counter()
    insert(first, contracts)
    import_seconds += time.perf_counter() - t0
    register_seconds = time.perf_counter() - started
    at_full = check_cost()

    # Baseline: the raw driver inserting the same lease rows into a plain copy of the table.
    sample = min(contracts, 100_000)
    cols = ["company_id", "asset_id", "building_id", "parcel_id", "contract_no", "area", "monthly_rent", "deposit",
            "signed_on", "starts_on", "ends_on", "status", "counterparty_kind", "counterparty_name", "counterparty_uscc",
            "counterparty_number_cipher", "counterparty_number_bidx", "counterparty_number_masked", "counterparty_key",
            "created_at"]
    with connection.cursor() as cur:
        cur.execute(f"CREATE TABLE bench_raw_lease AS SELECT {', '.join(cols)} FROM assets_lease WHERE 1 = 0")
        cur.execute(f"SELECT {', '.join(cols)} FROM assets_lease LIMIT %s", [sample])
        rows = cur.fetchall()
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        marks = ", ".join(["%s"] * len(cols))
        for at in range(0, len(rows), 10_000):
            cur.executemany(f"INSERT INTO bench_raw_lease ({', '.join(cols)}) VALUES ({marks})", rows[at:at + 10_000])
    raw_rate = len(rows) / (time.perf_counter() - t0)

    t0 = time.perf_counter()
    run = actions.do_recompute_alerts(actor=CLI, today=date(2026, 6, 1))
    recompute = time.perf_counter() - t0
    return {"backend": backend, "contracts": contracts, "assets": len(assets), "import_s": round(import_seconds, 1), "register_s": round(register_seconds, 1),
            "orm_rate": round(contracts / import_seconds), "raw_rate": round(raw_rate),
            "check_ms_first": round(at_first, 3), "check_ms_full": round(at_full, 3),
            "ratio": round(at_full / at_first, 2) if at_first else None, "first": first,
            "recompute_s": round(recompute, 1), "alerts": run.opened}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child")
    parser.add_argument("--contracts", type=int, default=int(os.environ.get("BENCH_ASSETS_CONTRACTS", 1_000_000)))
    parser.add_argument("--assets", type=int, default=int(os.environ.get("BENCH_ASSETS_ASSETS", 100_000)))
    parser.add_argument("--small", action="store_true")
    args, _rest = parser.parse_known_args()
    if args.small:
        args.contracts, args.assets = 50_000, 10_000
    if args.child:
        print("RESULT " + json.dumps(child(args.child, args.contracts, args.assets)), flush=True)
        return 0
    backends = ["sqlite"] + (["postgres"] if pg_available() else [])
    worst = 0.0
    for backend in backends:
        with backend_env(backend, "assets") as env:
            r = run_child(Path(__file__), backend, env, "--contracts", str(args.contracts), "--assets", str(args.assets))
        print(f"[{backend}] {r['contracts']:,} contracts, {r['assets']:,} assets, 168 companies")
        print(f"  import of the contracts (bulk_create): {r['import_s']} s = {r['orm_rate']:,} contracts/s "
              f"(whole register with assets: {r['register_s']} s); "
              f"raw driver executemany of the same rows: {r['raw_rate']:,} rows/s "
              f"(ORM at {r['orm_rate'] / max(r['raw_rate'], 1):.2f}× the baseline)")
        print(f"  one new contract's checks: {r['check_ms_first']} ms at {r['first']:,} contracts, "
              f"{r['check_ms_full']} ms at {r['contracts']:,} → ×{r['ratio']} (target < 1.5)")
        print(f"  full alert recomputation: {r['recompute_s']} s ({r['alerts']:,} alerts opened)")
        worst = max(worst, float(r["ratio"] or 0))
    return 0 if worst < 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
