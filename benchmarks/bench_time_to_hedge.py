"""
Perp/perp spread, maker mode: time to hedge against the fake exchanges (issue 16).

A LIVE ``TradingNode`` (ccxt adapter, safety gate armed with the shipped auto-confirm policy
``spread``) runs :class:`~nautilus_ext.strategies.perp_spread.PerpSpreadStrategy` with
``execution: MAKER``: a bid rests on the fake Hyperliquid (venue A) at the price that pays
against the fake Bybit's bid (venue B). Each round, another trader sells into the bid (a full
fill of ``maker_quantity``); the strategy hedges with an IOC sell on Bybit. Per hedge the
strategy records, on the node clock, the time from handling the fill on A to the hedge's
acknowledgement on B and to its first fill on B. Printed: p50/p99/max in ms over ``--fills``
hedges, side by side, with the ratio p99/p50 and the issue's 1 s bound.

Usage: ``python benchmarks/bench_time_to_hedge.py [--smoke] [--fills N]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
TOKEN = "b" * 40


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench_time_to_hedge: timed out waiting for {what}")
        time.sleep(0.005)


def _config(tmp: Path, ex: Any, fills: int) -> Path:
    shipped = yaml.safe_load((REPO / "configs" / "live" / "perp_spread_live.yaml").read_text())
    for venue in shipped["venues"]:
        venue.update(
            {
                "rest_url_override": ex.base_url,
                "ws_url_override": ex.ws_url,
                "enable_rate_limit": False,
                "timeout_ms": 3000,
                "fill_poll_interval_ms": 300,
                "position_poll_interval_ms": 200,
            }
        )
    shipped["strategies"][0]["config"].update(
        {
            "db_url": f"sqlite:///{tmp / 'bench.db'}",
            "execution": "MAKER",
            "interval_ms": 100,
            "maker_quantity": "0.001",
            "max_inventory": str(Decimal("0.001") * (fills + 5)),
            "exit_spread_bps": "-1000",  # hold: the benchmark measures hedges, not unwinds
            "stale_after_secs": 60,
            "taker_fee_b": "0.00055",
        }
    )
    shipped.update(
        {
            "log_level": "ERROR",
            "audit": {"root": str(tmp / "audit"), "fsync": False},
            "timeout_connection_secs": 20,
            "safety": {
                "config_path": str(REPO / "configs" / "safety" / "perp_spread.yaml"),
                "control_port": 0,
            },
        }
    )
    path = tmp / "live.yaml"
    path.write_text(yaml.safe_dump(shipped))
    return path


def run(fills: int) -> dict[str, list[float]]:
    """Run ``fills`` maker fills through a LIVE node on the fakes; return the hedge times (ms)."""
    from nautilus_ext.live.config import load_live_config
    from nautilus_ext.safety.cli import send
    from nautilus_ext.strategies.perp_spread import PerpSpreadStrategy
    from nautilus_ext_testkit.fake_exchange import FakeExchange
    from nautilus_ext_testkit.fake_exchange import Side
    from nautilus_ext_testkit.fake_exchange.hyperliquid import TEST_PRIVATE_KEY
    from nautilus_ext_testkit.fake_exchange.hyperliquid import TEST_WALLET
    from nautilus_ext_testkit.node_harness import start_live_node

    os.environ.update(
        {
            "NAUTILUS_EXT_HYPERLIQUID_WALLET_ADDRESS": TEST_WALLET,
            "NAUTILUS_EXT_HYPERLIQUID_PRIVATE_KEY": TEST_PRIVATE_KEY,
            "NAUTILUS_EXT_BYBIT_API_KEY": "fake-key",
            "NAUTILUS_EXT_BYBIT_API_SECRET": "fake-secret",
            "NAUTILUS_EXT_CONTROL_TOKEN": TOKEN,
        }
    )
    ex = FakeExchange()
    ex.start_in_thread()
    mark = Decimal(50_000)

    def seed() -> None:
        for venue, symbol in (("hyperliquid", "BTC"), ("bybit", "BTCUSDT")):
            engine = getattr(ex, venue).engine
            engine.funding.configure(
                symbol, rate=Decimal(0), interval_hours=8, mark_price=mark, index_price=mark
            )
        ex.hyperliquid.engine.seed_book("BTC", bids=[("49900", "5")], asks=[("50100", "5")])
        ex.bybit.engine.seed_book("BTCUSDT", bids=[("49999.9", "5")], asks=[("50000.1", "5")])

    def touch() -> None:
        ex.hyperliquid.engine.seed_book("BTC", bids=[("40000", "0.001")], asks=[])
        ex.bybit.engine.seed_book("BTCUSDT", bids=[("40000", "0.001")], asks=[])

    ex.call(seed)
    with tempfile.TemporaryDirectory() as tmp:
        h, live = start_live_node(load_live_config(_config(Path(tmp), ex, fills)))
        try:
            node = h.node
            assert node is not None
            assert live.safety is not None
            assert live.safety.control is not None
            gate = live.safety.gate
            strat: Any = h.strategy(PerpSpreadStrategy)
            _wait(lambda: strat.book(strat.a_id) and strat.book(strat.b_id), 30, "the node's books")
            _wait(lambda: not gate.oms.feed_problems(), 10, "healthy feeds")
            _, armed = send(
                live.safety.control.url,
                TOKEN,
                {"command": "arm", "ttl_secs": 600, "actor": "bench", "auto_confirm": ["spread"]},
            )
            assert armed["ok"], armed

            def resting_bid() -> Any:
                orders = ex.call(lambda: ex.hyperliquid.engine.open_orders(TEST_WALLET, "BTC"))
                return next((o for o in orders if o.side == Side.BUY and o.leaves > 0), None)

            for n in range(1, fills + 1):
                ex.call(touch)
                _wait(lambda: resting_bid() is not None, 15, f"maker bid {n}")
                bid = resting_bid()
                ex.call(
                    lambda p=bid.price: ex.hyperliquid.engine.external_trade(
                        "BTC", Side.SELL, "0.001", str(p)
                    )
                )
                _wait(
                    lambda n=n: len(strat.hedges) >= n and strat.hedges[n - 1].done,
                    15,
                    f"hedge {n} (hedges {strat.hedges}, feeds {gate.oms.feed_problems()}, safe {gate.safe})",
                )
                _wait(
                    lambda: not any(gate.oms.dirty_since(a) for a in list(gate.oms.positions)),
                    10,
                    "clean assets",
                )
                print(f"\r  {n}/{fills} fills hedged", end="", file=sys.stderr, flush=True)
            print(file=sys.stderr)
            if gate.safe is not None:
                raise SystemExit(f"bench_time_to_hedge: the gate entered SAFE mode: {gate.safe}")
            hedges = [h for h in strat.hedges if h.done]
            if any(h.filled != h.quantity for h in hedges):
                raise SystemExit("bench_time_to_hedge: a hedge did not fill completely")
            return {
                "fill on A -> hedge ack on B": [
                    h.time_to_ack_ms for h in hedges if h.time_to_ack_ms is not None
                ],
                "fill on A -> hedge fill on B": [
                    h.time_to_fill_ms for h in hedges if h.time_to_fill_ms is not None
                ],
            }
        finally:
            h.stop()
            ex.stop_thread()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--smoke", action="store_true", help="5 fills (a few seconds)")
    parser.add_argument("--fills", type=int, default=50)
    args = parser.parse_args()
    fills = 5 if args.smoke else args.fills
    times = run(fills)
    print(
        f"time to hedge, maker on fake Hyperliquid, IOC hedge on fake Bybit ({fills} fills, LIVE node, gate)"
    )
    print(f"{'measure':32} {'n':>4} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'mean ms':>9} {'p99/p50':>8}")
    for name, values in times.items():
        if not values:
            raise SystemExit(f"bench_time_to_hedge: no samples for {name}")
        p50, p99 = _percentile(values, 0.5), _percentile(values, 0.99)
        print(
            f"{name:32} {len(values):4d} {p50:9.1f} {p99:9.1f} {max(values):9.1f} "
            f"{statistics.fmean(values):9.1f} {p99 / p50 if p50 else float('nan'):8.2f}"
        )
    ack, fill = times["fill on A -> hedge ack on B"], times["fill on A -> hedge fill on B"]
    print(
        f"ack p99 vs the 1 s bound: {_percentile(ack, 0.99) / 1000:.3f}x; fill/ack p50: "
        f"{_percentile(fill, 0.5) / _percentile(ack, 0.5):.2f}x"
    )


if __name__ == "__main__":
    main()
