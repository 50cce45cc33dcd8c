"""
Latency the ccxt adapter adds per order: ``submit_order`` -> the fake exchange receiving the
request, p50/p99, side by side with calling ccxt's ``create_order`` directly.

Both paths hit the same fake exchange (Bybit v5), run as a separate process so its work never
competes for this process's GIL, with the same ccxt version. The exchange stamps each
order-entry request on arrival with ``perf_counter_ns`` (CLOCK_MONOTONIC, comparable across
processes on Linux) before any processing. The adapter path starts in a Nautilus strategy's
``submit_order`` (so it includes the risk engine, the execution engine's queue, the client's
checks and the ccxt call, all on the node's event loop); the direct path starts right before
``create_order``. Orders are non-marketable limits sent one at a time (each acknowledged before
the next, 50 per second at most: the risk engine's default throttle is 100/s), after a warm-up.

Two adapter rows. ``adapter submit_order`` is the adapter alone: the node is built from the
validated LIVE config with the config's clients but without the safety layer (production code has
no such path). ``... through the LIVE gate`` is the production node (``build_live_node``): every
order passes the chokepoint, which stages, hashes and confirms it under an armed auto-confirm
policy and runs the full gate check. Its safety config is the shipped default with bench-only
relaxations (rate limit 1000/s, no position or feed-age bound that 200 resting orders would hit);
``benchmarks/bench_safety_gate.py`` times the gate itself side by side with NautilusTrader's
RiskEngine.

Usage: ``python benchmarks/bench_adapter_latency.py [--orders N] [--warmup W] [--smoke]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ccxt.pro as ccxtpro
import yaml
from nautilus_trader.config import StrategyConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.trading.strategy import Strategy

from nautilus_ext.adapters.ccxt.client import point_urls
from nautilus_ext.adapters.ccxt.latency import percentile
from nautilus_ext.live.config import LiveNodeConfig
from nautilus_ext.live.node import LiveNode
from nautilus_ext.live.node import build_live_node
from nautilus_ext.live.node import build_trading_node_config
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.node_harness import NodeHarness

IID = InstrumentId.from_str("BTCUSDT-LINEAR.BYBIT")
SAFETY_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "safety" / "default.yaml"
# Nautilus's risk engine throttles submits to 100/s by default: pace both paths at 50/s
PACE_SECS = 0.02


class _Idle(Strategy):
    """A strategy that only submits what the benchmark asks it to (and watches the book)."""

    def on_start(self) -> None:
        # the gate refuses orders on an instrument whose market data it has never seen
        self.subscribe_quote_ticks(IID)


def _bench_safety_file(directory: Path) -> Path:
    """The default safety config with the bench-only relaxations of the module docstring."""
    data = yaml.safe_load(SAFETY_CONFIG.read_text(encoding="utf-8"))
    data["arming"]["auto_confirm"] = [{"name": "bench", "strategies": ["IDLE-001"], "max_amount": "0.01"}]
    data["risk"]["max_position"] = "1000000"
    data["oms"].update(order_rate_limit=1000, market_data_max_age_ms=3_600_000, ws_max_age_ms=3_600_000)
    path = directory / "bench_safety.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _received(base_url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{base_url}/_fake/received", timeout=10) as response:
        rows = json.loads(response.read())
    return {row["client_id"]: int(row["received_ns"]) for row in rows}


def bench_adapter(
    base_url: str, orders: int, warmup: int, safety_file: Path, *, gated: bool
) -> tuple[list[float], dict[str, float]]:
    """Return submit_order -> receipt latencies (ms) through a real TradingNode."""
    config = LiveNodeConfig.model_validate(
        {
            "mode": "LIVE",
            "allow_live_orders": True,  # the "venue" is the local fake exchange
            "safety": {"config_path": str(safety_file), "control_port": 0},
            "trader_id": "BENCH-001",
            "log_level": "ERROR",
            "venues": [
                {
                    "venue": "BYBIT",
                    "adapter": "ccxt",
                    "exchange_id": "bybit",
                    "market_types": ["linear"],
                    # "instrument_ids": [str(IID)],
                    "rest_url_override": base_url,
                    "ws_url_override": base_url.replace("http", "ws"),
                    "enable_rate_limit": False,
                    "timeout_ms": 5000,
                }
            ],
        }
    )

    lives: list[LiveNode] = []

    def factory(loop: asyncio.AbstractEventLoop) -> TradingNode:
        if gated:
            live = build_live_node(config, loop)
            lives.append(live)
            live.node.trader.add_strategy(_Idle(StrategyConfig(strategy_id="IDLE", order_id_tag="001")))
            return live.node
        # the config's clients without the safety layer (see the module docstring)
        node_config, factories = build_trading_node_config(config)
        node = TradingNode(config=node_config, loop=loop)
        for name, (data_factory, exec_factory) in factories.items():
            node.add_data_client_factory(name, data_factory)
            node.add_exec_client_factory(name, exec_factory)
        node.build()
        node.trader.add_strategy(_Idle(StrategyConfig(strategy_id="IDLE", order_id_tag="001")))
        return node

    harness = NodeHarness(factory)
    node = harness.start()
    starts: dict[str, int] = {}
    try:
        eventually(lambda: node.is_running() and node.cache.account_for_venue(IID.venue), 30)
        strategy = harness.strategy(_Idle)
        assert strategy.id.value == "IDLE-001", strategy.id  # the auto-confirm policy names it
        if gated:
            safety = lives[0].safety
            assert safety is not None
            gate = safety.gate
            eventually(lambda: not gate.oms.feed_problems(), 20, message="feeds never healthy")
            harness.call(lambda: gate.arm(3600, "bench", auto_confirm=("bench",)))
            # the safety actor mirrors the armed gate into the RiskEngine on its next tick
            eventually(
                lambda: node.kernel.risk_engine.trading_state is TradingState.ACTIVE,
                10,
                message="the RiskEngine never became ACTIVE after the arm",
            )
        for i in range(warmup + orders):

            def submit() -> tuple[Any, int]:
                order = strategy.order_factory.limit(
                    IID, OrderSide.BUY, Quantity.from_str("0.001"), Price.from_str("40000.0")
                )
                t0 = time.perf_counter_ns()
                strategy.submit_order(order)
                return order.client_order_id, t0

            client_order_id, t0 = harness.call(submit)
            eventually(
                lambda c=client_order_id: node.cache.order(c).status is OrderStatus.ACCEPTED,
                30,  # the first orders wait for ccxt to warm up (seconds on a loaded machine)
                interval_secs=0.001,
                message=lambda c=client_order_id, n=i: (
                    f"order {n} not accepted: {node.cache.order(c)} {node.cache.order(c).events[-1]}"
                    + (
                        f" (gate: {lives[0].safety.chokepoint.denied[-1:]})"
                        if lives and lives[0].safety
                        else ""
                    )
                ),
            )
            if i >= warmup:
                starts[client_order_id.value] = t0
            time.sleep(PACE_SECS)
        # the client's own record: from entering _submit_order to the venue's REST ack
        client = node.kernel.exec_engine._clients[ClientId("BYBIT")]
        summary = client.latency.summary()
    finally:
        harness.stop()
    received = _received(base_url)
    return [(received[c] - t0) / 1e6 for c, t0 in starts.items()], summary


async def _direct(base_url: str, orders: int, warmup: int) -> list[float]:
    client = ccxtpro.bybit(
        {
            "apiKey": "fake-key",
            "secret": "fake-secret",
            "enableRateLimit": False,
            "options": {"fetchMarkets": {"types": ["linear"]}},
        }
    )
    client.urls["api"] = point_urls(client.urls["api"], base_url, base_url.replace("http", "ws"))
    starts: dict[str, int] = {}
    try:
        await client.load_markets()
        for i in range(warmup + orders):
            client_id = f"direct-{i}"
            t0 = time.perf_counter_ns()
            await client.create_order(
                "BTC/USDT:USDT", "limit", "buy", 0.001, 40000.0, {"clientOrderId": client_id}
            )
            if i >= warmup:
                starts[client_id] = t0
            await asyncio.sleep(PACE_SECS)
        await client.cancel_all_orders("BTC/USDT:USDT")
    finally:
        await client.close()
    received = _received(base_url)
    return [(received[c] - t0) / 1e6 for c, t0 in starts.items()]


def main() -> None:
    """Run both paths against one fake exchange process and print p50/p99 side by side."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--smoke", action="store_true", help="a few orders: checks it runs")
    args = parser.parse_args()
    if args.smoke:
        args.orders, args.warmup = 10, 2
    os.environ.setdefault("NAUTILUS_EXT_BYBIT_API_KEY", "fake-key")
    os.environ.setdefault("NAUTILUS_EXT_BYBIT_API_SECRET", "fake-secret")
    os.environ.setdefault("NAUTILUS_EXT_CONTROL_TOKEN", "bench-" + "t" * 40)  # the local control endpoint
    with tempfile.TemporaryDirectory(prefix="bench-adapter-") as tmp:
        safety_file = _bench_safety_file(Path(tmp))
        # each node runs first on its own fake exchange: no open orders to reconcile at start
        with _fake_exchange() as base_url:
            adapter, client_summary = bench_adapter(
                base_url, args.orders, args.warmup, safety_file, gated=False
            )
            direct = asyncio.run(_direct(base_url, args.orders, args.warmup))
        with _fake_exchange() as base_url:
            gated, _ = bench_adapter(base_url, args.orders, args.warmup, safety_file, gated=True)
    print(f"order -> fake exchange receipt, {args.orders} orders each (after {args.warmup} warm-up), ms")
    print(f"{'path':<38}{'p50':>9}{'p99':>9}")
    d50, d99 = percentile(direct, 0.5), percentile(direct, 0.99)
    a50, a99 = percentile(adapter, 0.5), percentile(adapter, 0.99)
    g50, g99 = percentile(gated, 0.5), percentile(gated, 0.99)
    print(f"{'ccxt create_order (direct)':<38}{d50:>9.3f}{d99:>9.3f}")
    print(f"{'adapter submit_order':<38}{a50:>9.3f}{a99:>9.3f}")
    print(f"{'adapter overhead':<38}{a50 - d50:>9.3f}{a99 - d99:>9.3f}")
    print(f"{'ratio adapter/direct':<38}{a50 / d50:>9.2f}{a99 / d99:>9.2f}")
    print(f"{'adapter submit_order, through LIVE gate':<38}{g50:>9.3f}{g99:>9.3f}")
    print(f"{'ratio gated/direct':<38}{g50 / d50:>9.2f}{g99 / d99:>9.2f}")
    print(
        f"{'client request->ack':<38}{client_summary['ack_p50_ms']:>9.3f}"
        f"{client_summary['ack_p99_ms']:>9.3f}   (the client's own record, incl. response)"
    )


@contextlib.contextmanager
def _fake_exchange() -> Iterator[str]:
    """Run a seeded fake exchange in its own process; yield its base URL."""
    server = subprocess.Popen(
        [sys.executable, "-m", "nautilus_ext_testkit.fake_exchange", "--port", "0", "--seed"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        yield server.stdout.readline().split()[1]
    finally:
        server.terminate()
        server.wait(10)
        if server.stdout is not None:
            server.stdout.close()


if __name__ == "__main__":
    main()
