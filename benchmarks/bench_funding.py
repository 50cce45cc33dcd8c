"""
Funding rate service: opportunity-finder latency and store write throughput.

- **finder latency**: :func:`~nautilus_ext.funding.finder.find_opportunities` over the latest
  rates of ``--venues`` venues x ``--symbols`` symbols (every long/short venue pair per symbol:
  10 x 200 is 18,000 priced pairs), fees per venue, a USDT/USDC basis, no books. Timed per call
  (``perf_counter_ns``), p50/p99/mean in milliseconds. Also the same through
  :class:`~nautilus_ext.funding.finder.OpportunityFinder` over the SQLite store (reading the latest
  rate per venue and symbol from the store is part of each call).
- **store write throughput**: :meth:`FundingRepository.upsert_rates` of ``--rounds`` rounds of
  one rate per venue and symbol (one transaction per round, like one collector poll), first as
  inserts, then the same rounds again as idempotent updates; rates/s on a SQLite file and on a
  throwaway PostgreSQL server (``tests/support/postgres.py``: 127.0.0.1, ``fsync=off``, so the
  PostgreSQL figure excludes disk flushes), printed side by side.

Usage: ``python benchmarks/bench_funding.py [--smoke] [--venues N] [--symbols N] [--calls N]
[--rounds N] [--no-postgres]``
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from nautilus_ext.funding.finder import Fees
from nautilus_ext.funding.finder import OpportunityFilter
from nautilus_ext.funding.finder import OpportunityFinder
from nautilus_ext.funding.finder import find_opportunities
from nautilus_ext.funding.model import FundingRateSample
from nautilus_ext.funding.store import FundingRepository
from nautilus_ext.persistence import Database

T0 = 1_735_689_600 * 1_000_000_000
HOUR = 3_600 * 1_000_000_000
QUOTE_PRICES = {"USDT": Decimal("1.0002"), "USDC": Decimal("0.9999"), "USD": Decimal(1)}


def venue_names(n: int) -> list[str]:
    """Return ``n`` venue names."""
    return [f"VENUE{i:02d}" for i in range(n)]


def samples(venues: int, symbols: int, ts_ns: int, seed: int) -> list[FundingRateSample]:
    """Return one rate per venue and symbol (intervals 1/4/8 h, USDT or USDC quoted)."""
    rng = random.Random(seed)
    out = []
    for v, venue in enumerate(venue_names(venues)):
        interval = (1, 4, 8)[v % 3]
        quote = "USDC" if v % 4 == 3 else "USDT"
        for s in range(symbols):
            base = f"SYM{s:03d}"
            rate = Decimal(rng.randint(-300, 900)) / Decimal(10**7) * interval
            out.append(
                FundingRateSample(
                    venue=venue,
                    instrument_key=f"{venue}:PERPETUAL:{base}-{quote}@LIN",
                    base=base,
                    quote=quote,
                    rate=rate,
                    interval_hours=Decimal(interval),
                    ts_ns=ts_ns,
                    next_funding_ns=ts_ns + interval * HOUR,
                    mark_price=Decimal(rng.randint(1, 100_000)) / 100,
                    index_price=Decimal(rng.randint(1, 100_000)) / 100,
                    open_interest=Decimal(rng.randint(1_000, 10**7)),
                    volume_24h=Decimal(rng.randint(10**5, 10**9)),
                )
            )
    return out


def fees(venues: int) -> dict[str, Fees]:
    """Return a taker/maker schedule per venue."""
    return {
        name: Fees(maker=Decimal("0.0002"), taker=Decimal("0.0004") + Decimal(i) / 100_000)
        for i, name in enumerate(venue_names(venues))
    }


def _time_calls(fn: Callable[[], Any], calls: int) -> tuple[float, float, float, Any]:
    fn()  # warm-up
    times = []
    result = None
    for _ in range(calls):
        started = time.perf_counter_ns()
        result = fn()
        times.append(time.perf_counter_ns() - started)
    ordered = sorted(times)
    p50 = ordered[len(ordered) // 2] / 1e6
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1e6
    return p50, p99, statistics.fmean(ordered) / 1e6, result


def _fill(repo: FundingRepository, venues: int) -> None:
    for name, f in fees(venues).items():
        repo.upsert_venue(name, maker_fee_rate=f.maker, taker_fee_rate=f.taker)


def write_throughput(url: str, venues: int, symbols: int, rounds: int) -> tuple[float, float, int]:
    """Return (insert rates/s, re-upsert rates/s, rows in the store) for ``rounds`` polls."""
    database = Database.open(url)
    try:
        repo = FundingRepository(database)
        _fill(repo, venues)
        batches = [samples(venues, symbols, T0 + r * HOUR, seed=r) for r in range(rounds)]
        started = time.perf_counter()
        written = sum(repo.upsert_rates(batch) for batch in batches)
        insert_rate = written / (time.perf_counter() - started)
        started = time.perf_counter()
        rewritten = sum(repo.upsert_rates(batch) for batch in batches)
        update_rate = rewritten / (time.perf_counter() - started)
        rows = repo.count()
        if rows != venues * symbols * rounds:
            raise RuntimeError(f"{url}: {rows} rows after re-upserting, expected {venues * symbols * rounds}")
        return insert_rate, update_rate, rows
    finally:
        database.close()


def _postgres() -> Any:
    path = Path(__file__).resolve().parents[1] / "tests" / "support" / "postgres.py"
    spec = importlib.util.spec_from_file_location("nautilus_ext_bench_postgres", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, runs in seconds")
    parser.add_argument("--venues", type=int, default=10)
    parser.add_argument("--symbols", type=int, default=200)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL half")
    args = parser.parse_args()
    if args.smoke:
        args.venues, args.symbols, args.calls, args.rounds = 4, 20, 5, 2
    if min(args.venues, args.symbols, args.calls, args.rounds) < 1 or args.venues < 2:
        parser.error("--venues must be >= 2 and the other sizes >= 1")

    latest = samples(args.venues, args.symbols, T0, seed=1)
    schedule = fees(args.venues)
    criteria = OpportunityFilter(size_usd=Decimal(10_000))
    pairs = args.symbols * args.venues * (args.venues - 1)
    print(f"finder: {args.venues} venues x {args.symbols} symbols = {pairs} priced pairs, {args.calls} calls")
    p50, p99, mean, result = _time_calls(
        lambda: find_opportunities(latest, schedule, criteria, quote_prices=QUOTE_PRICES, now_ns=T0),
        args.calls,
    )
    print(f"  {'in memory':<28} p50 {p50:9.2f} ms   p99 {p99:9.2f} ms   mean {mean:9.2f} ms"
          f"   ({len(result.opportunities)} opportunities, {len(result.skipped)} skipped)")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-funding-") as tmp:
        database = Database.open(f"sqlite:///{tmp}/finder.db")
        try:
            repo = FundingRepository(database)
            _fill(repo, args.venues)
            repo.upsert_rates(latest)
            finder = OpportunityFinder(repo, quote_prices=QUOTE_PRICES)
            p50, p99, mean, _ = _time_calls(lambda: finder.find(criteria, now_ns=T0), args.calls)
            print(
                f"  {'over the SQLite store':<28} p50 {p50:9.2f} ms   p99 {p99:9.2f} ms   mean {mean:9.2f} ms"
            )
        finally:
            database.close()

        n = args.venues * args.symbols
        print(f"store writes: {args.rounds} polls x {n} rates (one transaction per poll)")
        print(f"  {'backend':<12} {'insert rates/s':>16} {'re-upsert rates/s':>18} {'rows':>8}")
        results = {
            "SQLite file": write_throughput(
                f"sqlite:///{tmp}/writes.db", args.venues, args.symbols, args.rounds
            )
        }
        if not args.no_postgres:
            with _postgres().running_postgres() as url:
                results["PostgreSQL"] = write_throughput(url, args.venues, args.symbols, args.rounds)
        for name, (inserts, updates, rows) in results.items():
            print(f"  {name:<12} {inserts:16,.0f} {updates:18,.0f} {rows:8,d}")


if __name__ == "__main__":
    main()
