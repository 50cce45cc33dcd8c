"""
Latency the ccxt adapter adds per order: ``submit_order`` -> the fake exchange receiving the
request, p50/p99, side by side with calling ccxt's ``create_order`` directly.

Both paths hit the same local fake exchange (Bybit v5, its own thread and event loop) and the
same ccxt version; the exchange timestamps each order-entry request on arrival with
``perf_counter_ns`` before any processing. The adapter path starts in a Nautilus strategy's
``submit_order`` (so it includes the risk engine, the execution engine's queue, the client's
checks and the ccxt call); the direct path starts right before ``create_order``. Orders are
non-marketable limits, sent one at a time, after a warm-up.

Usage: ``python benchmarks/bench_adapter_latency.py [--orders N] [--warmup W]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
import time
from decimal import Decimal
from typing import Any

import ccxt.pro as ccxtpro
from nautilus_trader.config import StrategyConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.trading.strategy import Strategy

from adapters.ccxt.client import point_urls
from adapters.ccxt.latency import percentile
from nautilus_ext.live.config import LiveNodeConfig
from nautilus_ext.live.node import build_trading_node
from nautilus_ext.testing import eventually
from nautilus_ext.testing.fake_exchange import FakeExchange
from nautilus_ext.testing.fake_exchange import ReceivedOrder
from nautilus_ext.testing.node_harness import NodeHarness

IID = InstrumentId.from_str("BTCUSDT-LINEAR.BYBIT")


class _Idle(Strategy):
    """A strategy that only submits what the benchmark asks it to."""


class _Receipts:
    """Arrival times by client id, signalled from the exchange thread (no busy polling)."""

    def __init__(self, exchange: FakeExchange) -> None:
        self._times: dict[str, int] = {}
        self._cond = threading.Condition()
        exchange.order_listeners.append(self._on_order)

    def _on_order(self, received: ReceivedOrder) -> None:
        with self._cond:
            self._times[received.client_id] = received.received_ns
            self._cond.notify_all()

    def wait(self, client_id: str, timeout_secs: float = 10.0) -> int:
        with self._cond:
            if not self._cond.wait_for(lambda: client_id in self._times, timeout_secs):
                raise TimeoutError(f"order {client_id} never reached the exchange")
            return self._times[client_id]


def bench_adapter(exchange: FakeExchange, receipts: _Receipts, orders: int, warmup: int) -> list[float]:
    """Return submit_order -> receipt latencies (ms) through a real TradingNode."""
    config = LiveNodeConfig.model_validate(
        {
            "mode": "LIVE",
            "allow_live_orders": True,  # the "venue" is the local fake exchange
            "trader_id": "BENCH-001",
            "log_level": "ERROR",
            "venues": [
                {
                    "venue": "BYBIT",
                    "adapter": "ccxt",
                    "exchange_id": "bybit",
                    "market_types": ["linear"],
                    "rest_url_override": exchange.base_url,
                    "ws_url_override": exchange.ws_url,
                    "enable_rate_limit": False,
                    "timeout_ms": 5000,
                }
            ],
        }
    )

    def factory(loop: asyncio.AbstractEventLoop) -> TradingNode:
        node = build_trading_node(config, loop)
        node.trader.add_strategy(_Idle(StrategyConfig(strategy_id="IDLE-001")))
        return node

    harness = NodeHarness(factory)
    node = harness.start()
    latencies: list[float] = []
    try:
        eventually(lambda: node.is_running() and node.cache.account_for_venue(IID.venue), 30)
        strategy = harness.strategy(_Idle)
        for i in range(warmup + orders):

            def submit() -> tuple[str, int]:
                order = strategy.order_factory.limit(
                    IID, OrderSide.BUY, Quantity.from_str("0.001"), Price.from_str("40000.0")
                )
                t0 = time.perf_counter_ns()
                strategy.submit_order(order)
                return order.client_order_id.value, t0

            client_id, t0 = harness.call(submit)
            received = receipts.wait(client_id)
            if i >= warmup:
                latencies.append((received - t0) / 1e6)
    finally:
        harness.stop()
    return latencies


async def _direct(exchange: FakeExchange, receipts: _Receipts, orders: int, warmup: int) -> list[float]:
    client = ccxtpro.bybit(
        {
            "apiKey": "fake-key",
            "secret": "fake-secret",
            "enableRateLimit": False,
            "options": {"fetchMarkets": {"types": ["linear"]}},
        }
    )
    client.urls["api"] = point_urls(client.urls["api"], exchange.base_url, exchange.ws_url)
    latencies: list[float] = []
    try:
        await client.load_markets()
        for i in range(warmup + orders):
            client_id = f"direct-{i}"
            t0 = time.perf_counter_ns()
            await client.create_order(
                "BTC/USDT:USDT", "limit", "buy", 0.001, 40000.0, {"clientOrderId": client_id}
            )
            received = receipts.wait(client_id)
            if i >= warmup:
                latencies.append((received - t0) / 1e6)
    finally:
        await client.close()
    return latencies


def main() -> None:
    """Run both paths against one fake exchange and print p50/p99 side by side."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("NAUTILUS_EXT_BYBIT_API_KEY", "fake-key")
    os.environ.setdefault("NAUTILUS_EXT_BYBIT_API_SECRET", "fake-secret")
    exchange = FakeExchange(balances={"bybit": Decimal(10_000_000)})
    exchange.start_in_thread()
    try:
        exchange.call(
            lambda: exchange.bybit.engine.seed_book(
                "BTCUSDT", bids=[("49999.9", "5")], asks=[("50000.1", "5")]
            )
        )
        receipts = _Receipts(exchange)
        direct = asyncio.run(_direct(exchange, receipts, args.orders, args.warmup))
        adapter = bench_adapter(exchange, receipts, args.orders, args.warmup)
    finally:
        exchange.stop_thread()
    rows: list[tuple[str, list[float]]] = [
        ("ccxt create_order (direct)", direct),
        ("adapter submit_order", adapter),
    ]
    print(f"order -> fake exchange receipt, {args.orders} orders each (after {args.warmup} warm-up), ms")
    print(f"{'path':<28}{'p50':>9}{'p99':>9}")
    stats: dict[str, Any] = {}
    for name, values in rows:
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        stats[name] = (p50, p99)
        print(f"{name:<28}{p50:>9.3f}{p99:>9.3f}")
    (d50, d99), (a50, a99) = stats[rows[0][0]], stats[rows[1][0]]
    print(f"{'adapter overhead':<28}{a50 - d50:>9.3f}{a99 - d99:>9.3f}")
    print(f"{'ratio adapter/direct':<28}{a50 / d50:>9.2f}{a99 / d99:>9.2f}")


if __name__ == "__main__":
    main()
