"""
The main job, ``make demo``: a realistic end-to-end run with no network and no external data.

1. Generate seeded synthetic Tardis-format L2 books and trades for four CeFi instruments
   (Binance USD-M and Bybit linear BTCUSDT perpetuals; Binance and Bybit BTCUSDT spot), and
   funding/mark/index tickers for the two perpetuals, whose funding rates diverge. The window
   spans the 00:00 UTC funding time, so the backtest settles funding on the open perps.
2. Build a day-chunked ``ParquetDataCatalog`` from them with the project's catalog builder.
3. Write a mixed set of unified Orders (market, limit, multi-venue SPOT_PAIR, one that must be
   rejected) into the orders cluster of the storage layout.
4. Run the orders-driven backtest through ``BacktestNode`` (book-walking fills, maker/taker
   fees, per-venue latency), store execution results day-chunked, write the HTML report.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.orders import Order

_log = logging.getLogger(__name__)
PERPS = ("BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN", "BYBIT:PERPETUAL:BTC-USDT@LIN")
SPOT_PAIR = "BINANCE-SPOT:SPOT_PAIR:BTC-USDT"


def demo_orders(
    start: datetime, hours: int, seed: int, price_at: Callable[[datetime], Decimal]
) -> list[Order]:
    """
    Return the demo's seeded mix of unified orders spread over the data span.

    ``price_at`` gives the last traded price at a time: the strategy service that pre-generates
    orders knows the market when it prices its limit orders.
    """
    rng = random.Random(seed)
    span = hours * 3600
    orders: list[Order] = []

    def at(frac: float) -> datetime:
        return start + timedelta(seconds=int(span * frac))

    n = 0
    for i in range(8):  # market orders on the perps, some deeper than the touch
        key = PERPS[i % 2]
        size = rng.choice(["0.050", "0.300", "1.500", "4.000"])
        n += 1
        orders.append(
            Order(
                operation_id=f"demo-mkt-{n:02d}",
                operation="trade",
                instrument_key=key,
                venue=key.split(":")[0],
                side=rng.choice(["BUY", "SELL"]),
                amount=size,
                created_at=at(0.05 + 0.1 * i),
                strategy_id="demo",
                expected_deltas={f"{key.split(':')[0]}:SPOT_ASSET:BTC": size},
            )
        )
    for i in range(4):  # limit orders: two marketable, two passive
        key = PERPS[i % 2]
        n += 1
        side = "BUY" if i % 2 == 0 else "SELL"
        when = at(0.12 + 0.2 * i)
        offset = Decimal("0.0005") if i < 2 else Decimal("-0.002")  # +5 bps through / 20 bps away
        sign = 1 if side == "BUY" else -1
        price = (price_at(when) * (1 + sign * offset)).quantize(Decimal("0.1"))
        orders.append(
            Order(
                operation_id=f"demo-lmt-{n:02d}",
                operation="trade",
                instrument_key=key,
                venue=key.split(":")[0],
                side=side,
                amount="0.200",
                price=price,
                created_at=when,
                strategy_id="demo",
                metadata={"limit_offset_bps": str(offset * 10_000)},
            )
        )
    for i in range(5):  # multi-venue: one SPOT_PAIR routed across Binance and Bybit spot
        n += 1
        orders.append(
            Order(
                operation_id=f"demo-sor-{n:02d}",
                operation="trade",
                instrument_key=SPOT_PAIR,
                side="BUY" if i % 2 == 0 else "SELL",
                amount=rng.choice(["0.100", "0.500", "2.000"]),
                created_at=at(0.08 + 0.18 * i),
                strategy_id="demo",
            )
        )
    for i, (algo, params) in enumerate(
        (("TWAP", {"horizon_secs": 600, "interval_secs": 60}), ("POV", {"participation": "0.1"}))
    ):  # smart orders worked by the execution algorithms, bounded by max_slippage
        n += 1
        key = PERPS[i % 2]
        orders.append(
            Order(
                operation_id=f"demo-{algo.lower()}-{n:02d}",
                operation="trade",
                instrument_key=key,
                venue=key.split(":")[0],
                side="BUY",
                amount="3.000",
                max_slippage="0.002",
                smart_execution_enabled=True,
                metadata={"algorithm": algo, "algo_params": params},
                created_at=at(0.3 + 0.3 * i),
                strategy_id="demo",
            )
        )
    n += 1
    orders.append(  # must be rejected: below the lot size of the venue (INVALID_ORDER)
        Order(
            operation_id=f"demo-bad-{n:02d}",
            operation="trade",
            instrument_key=PERPS[0],
            venue="BINANCE-FUTURES",
            side="BUY",
            amount="0.0004",
            created_at=at(0.5),
            strategy_id="demo",
        )
    )
    return orders


def _price_lookup(trades_csv: Path) -> Callable[[datetime], Decimal]:
    import bisect

    import pyarrow.csv as pacsv

    table = pacsv.read_csv(trades_csv)
    stamps = table.column("timestamp").to_pylist()
    prices = [Decimal(str(p)) for p in table.column("price").to_pylist()]

    def price_at(when: datetime) -> Decimal:
        i = bisect.bisect_right(stamps, int(when.timestamp() * 1_000_000)) - 1
        return prices[max(i, 0)]

    return price_at


def run_demo(
    output: Path,
    *,
    hours: int = 3,
    seed: int = 7,
    say: Callable[[str], None] | None = None,
    dex_recording: Path | None = None,
) -> Path:
    """
    Run the whole demo into ``output`` and return the report path.

    Data sizes are chosen to finish in a few minutes on two cores: one book update and one
    trade per second per instrument on average, 10 levels a side. ``say`` receives progress
    lines (the CLI passes ``typer.echo``). With ``dex_recording`` (a pool recorded on the local
    chain, :mod:`nautilus_ext.backtest.demo_dex`), the catalog gains the pool and one order is
    routed between Binance spot and the pool.
    """
    say = say or _log.info
    import shutil

    from nautilus_ext.backtest.service import run_and_report
    from nautilus_ext.catalogs.build import build_catalog
    from nautilus_ext.catalogs.synthetic import DEFAULT_START
    from nautilus_ext.catalogs.synthetic import SyntheticVenue
    from nautilus_ext.catalogs.synthetic import write_synthetic_tardis
    from nautilus_ext.storage import ClusterStore

    output.mkdir(parents=True, exist_ok=True)
    raw, catalog, store = output / "raw", output / "catalog", output / "store"
    for folder in (raw, catalog, store):
        shutil.rmtree(folder, ignore_errors=True)
    venues = (
        # perpetuals with 8 h funding; Bybit's runs above Binance's (the divergence a carry trade takes)
        SyntheticVenue(
            "binance-futures",
            "BTCUSDT",
            basis_bps=0.0,
            typical_size=0.8,
            funding_interval_hours=8,
            funding_bps=1.0,
        ),
        SyntheticVenue(
            "bybit", "BTCUSDT", basis_bps=1.5, typical_size=0.5, funding_interval_hours=8, funding_bps=2.5
        ),
        SyntheticVenue(
            "binance", "BTCUSDT", price_precision=2, size_precision=5, basis_bps=-1.0, typical_size=0.6
        ),
        SyntheticVenue(
            "bybit-spot", "BTCUSDT", price_precision=2, size_precision=6, basis_bps=0.5, typical_size=0.4
        ),
    )
    # start an hour before midnight UTC so the window spans a funding time (00:00) of both perps
    start = DEFAULT_START - timedelta(hours=1)
    say(
        f"[1/4] generating {hours}h of synthetic L2 books, trades and funding/mark/index "
        f"for {len(venues)} instruments"
    )
    files = write_synthetic_tardis(
        raw,
        venues=venues,
        start=start,
        hours=hours,
        seed=seed,
        book_updates_per_sec=1.0,
        trades_per_sec=1.0,
        levels=10,
    )
    say("[2/4] building the day-chunked Parquet catalog")
    inputs = [path for kinds in files.values() for path in kinds.values()]
    summary = build_catalog("tardis", inputs, catalog, progress=True)
    say(f"      {summary.source_records} source records -> {sum(summary.rows.values())} rows")
    end = start + timedelta(hours=hours)
    orders = demo_orders(start, hours, seed, _price_lookup(files["binance-futures_BTCUSDT"]["trades"]))
    instruments = [*PERPS, SPOT_PAIR, "BYBIT:SPOT_PAIR:BTC-USDT"]
    dex_venues = []
    if dex_recording is not None:
        from nautilus_ext.backtest import demo_dex

        load = demo_dex.load_dex_leg(dex_recording, catalog)
        say(f"      DEX leg: {len(load.trades)} pool swaps, {len(load.snapshots)} pool-state snapshots")
        # route when Bybit spot's price has reached the pool's (the pool is then competitive)
        spot_at = _price_lookup(files["bybit-spot_BTCUSDT"]["trades"])
        pool_price = load.trades[-1].price.as_decimal()
        minute = next(
            (m for m in range(10, hours * 60 - 10) if spot_at(start + timedelta(minutes=m)) >= pool_price),
            hours * 30,
        )
        routed = demo_dex.route_demo_order(catalog, start + timedelta(minutes=minute), Decimal(300_000))
        say(f"      routed 300000 USDT -> BTC ({routed.dex_share:.1%} via the pool): {routed.reason}")
        orders += routed.orders
        instruments.append(demo_dex.POOL_KEY)
        dex_venues.append(demo_dex.dex_venue_spec())
    say(f"[3/4] writing {len(orders)} unified orders to the orders cluster")
    ClusterStore(store).write_orders(orders)
    spec = BacktestSpec(
        run_id="demo",
        kind="orders",
        catalog=str(catalog),
        start=start,
        end=end,
        instruments=instruments,
        venues=[
            {
                "venue": "BINANCE-FUTURES",
                "starting_balances": ["1000000 USDT", "10 BTC"],
                "latency": {"base_ms": 2, "insert_ms": 3},
            },
            {
                "venue": "BYBIT",
                "starting_balances": ["1000000 USDT", "10 BTC"],
                "latency": {"base_ms": 5, "insert_ms": 5},
            },
            *dex_venues,
        ],
        orders=str(store),
        output_dir=str(output),
        results_root=str(store),
    )
    say("[4/4] running the orders-driven backtest through BacktestNode")
    outcome, report = run_and_report(spec)
    filled = sum(1 for r in outcome.results if r.fill_ratio > 0)
    say(
        f"      {len(outcome.results)} orders ({filled} with fills), "
        f"{outcome.events_processed} events in {outcome.elapsed_secs:.1f}s"
    )
    if outcome.funding_payments:
        from nautilus_ext.backtest.funding import funding_totals

        totals = ", ".join(f"{v} {c}" for c, v in funding_totals(outcome.funding_payments).items())
        say(f"      {len(outcome.funding_payments)} funding payments settled: {totals}")
    return report
