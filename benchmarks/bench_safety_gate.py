"""
Pre-trade gate cost per order: nautilus-ext's SafetyGate vs NautilusTrader's bare RiskEngine path.

Side by side in one run, over the same number of orders:

- ``nautilus RiskEngine``: ``RiskEngine.execute(SubmitOrder)`` for a market order: Nautilus'
  pre-trade checks, throttler and hand-off through the ExecutionEngine to a mock execution client
  (the path every Nautilus order takes; no venue I/O).
- ``SafetyGate.check (LIVE)``: the full gate for a unified Order in LIVE mode (armed, intent
  staged and confirmed beforehand, feeds fresh): dirty/SAFE/kill checks, feed health, the risk
  matrix, hash confirmation (SHA-256 of the canonical JSON), rate limit, commit and event.
- ``SafetyGate.check (BACKTEST)``: the same gate without arming/confirmation.

Each call is timed on its own with ``perf_counter_ns``; staging, confirming and clock
advances happen outside the timed region. Prints p50/p99/mean in microseconds and the ratio.

Usage: ``python benchmarks/bench_safety_gate.py [--orders N]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from decimal import Decimal
from typing import Any

from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.component import TestClock
from nautilus_trader.config import ExecEngineConfig
from nautilus_trader.config import RiskEngineConfig
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.engine import ExecutionEngine
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Quantity
from nautilus_trader.portfolio.portfolio import Portfolio
from nautilus_trader.risk.engine import RiskEngine
from nautilus_trader.test_kit.mocks.exec_clients import MockExecutionClient
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.test_kit.stubs.component import TestComponentStubs
from nautilus_trader.test_kit.stubs.events import TestEventStubs
from nautilus_trader.test_kit.stubs.identifiers import TestIdStubs
from nautilus_trader.trading.strategy import Strategy

from nautilus_ext.audit.schemas import Mode
from nautilus_ext.orders import Order
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyEvent
from nautilus_ext.safety import SafetyGate

T0 = 1_709_251_200_000_000_000
STEP_NS = 250_000_000  # 4 orders a second: under the per-asset rate limit of 5/s
ASSET = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
VENUE = "BINANCE-FUTURES"


def _stats(samples: list[int]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2] / 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1000
    return p50, p99, statistics.fmean(ordered) / 1000


def bench_risk_engine(n: int) -> list[int]:
    """Time ``RiskEngine.execute(SubmitOrder)`` per order (market orders, one instrument)."""
    clock = TestClock()
    trader_id = TestIdStubs.trader_id()
    msgbus = MessageBus(trader_id=trader_id, clock=clock)
    cache = TestComponentStubs.cache()
    portfolio = Portfolio(msgbus, cache, clock)
    exec_engine = ExecutionEngine(msgbus=msgbus, cache=cache, clock=clock, config=ExecEngineConfig())
    risk = RiskEngine(
        portfolio=portfolio,
        msgbus=msgbus,
        cache=cache,
        clock=clock,
        config=RiskEngineConfig(max_order_submit_rate=f"{n * 10}/00:00:01"),
    )
    client = MockExecutionClient(
        client_id=ClientId("SIM"),
        venue=Venue("SIM"),
        account_type=AccountType.MARGIN,
        base_currency=USD,
        msgbus=msgbus,
        cache=cache,
        clock=clock,
    )
    exec_engine.register_client(client)
    instrument = TestInstrumentProvider.default_fx_ccy("AUD/USD")
    cache.add_instrument(instrument)
    portfolio.update_account(TestEventStubs.margin_account_state())
    strategy = Strategy()
    strategy.register(trader_id=trader_id, portfolio=portfolio, msgbus=msgbus, cache=cache, clock=clock)
    exec_engine.start()
    risk.start()
    commands = []
    for _ in range(n):
        order = strategy.order_factory.market(instrument.id, OrderSide.BUY, Quantity.from_int(100_000))
        cache.add_order(order)
        commands.append(
            SubmitOrder(
                trader_id=trader_id, strategy_id=strategy.id, order=order, command_id=UUID4(), ts_init=0
            )
        )
    samples = []
    for command in commands:
        start = time.perf_counter_ns()
        risk.execute(command)
        samples.append(time.perf_counter_ns() - start)
    if len(client.commands) != n:
        raise SystemExit(f"only {len(client.commands)} of {n} orders reached the execution client")
    return samples


def _config(mode: Mode) -> SafetyConfig:
    return SafetyConfig.parse(
        {
            "mode": mode,
            "arming": {"max_ttl_secs": 86_400, "intent_ttl_secs": 60, "max_failed_confirmations": 0},
            "risk": {
                "max_position": "1000000",
                "strategy_loss_limit": "1000",
                "portfolio_loss_limit": "3000",
                "max_daily_loss": "2000",
                "drawdown_throttle": "500",
                "drawdown_size_factor": "0.5",
                "cooldown_secs": 30,
                "max_trade_size": "2",
                "max_slippage": "0.01",
                "max_latency_ms": 500,
            },
            "oms": {
                "dirty_max_age_ms": 2000,
                "reconcile_interval_ms": 5000,
                "reconcile_grace_ms": 1000,
                "mismatch_rel_threshold": "0.001",
                "mismatch_abs_tolerance": "0.0001",
                "mismatch_persist_ms": 3000,
                "market_data_max_age_ms": 1000,
                "ws_max_age_ms": 1000,
                "order_rate_limit": 5,
                "order_rate_window_ms": 1000,
                "flipflop_max_cycles": 3,
                "flipflop_window_ms": 60000,
            },
        }
    )


def bench_gate(n: int, mode: Mode) -> list[int]:
    """Time ``SafetyGate.check`` per order; every order must be allowed."""
    clock = TestClock()
    clock.set_time(T0)
    events: list[SafetyEvent] = []
    gate = SafetyGate(_config(mode), clock, sink=events.append)
    orders = [
        Order(
            operation_id=f"op-{i}",
            operation="trade",
            instrument_key=ASSET,
            venue=VENUE,
            side="BUY",
            amount=Decimal("0.01"),
            max_slippage=Decimal("0.001"),
            strategy_id="S-1",
        )
        for i in range(n)
    ]
    if mode is Mode.LIVE:
        gate.arm(86_400, "bench")
    samples = []
    for order in orders:
        clock.advance_time(clock.timestamp_ns() + STEP_NS)
        gate.on_market_data(ASSET)
        gate.on_ws_message(VENUE)
        if mode is Mode.LIVE:
            gate.confirm(gate.stage(order).intent_hash, "bench")
        start = time.perf_counter_ns()
        decision = gate.check(order)
        samples.append(time.perf_counter_ns() - start)
        if not decision.allowed:
            raise SystemExit(f"order {order.operation_id} blocked: {decision.reason}")
        events.clear()
    return samples


def main(argv: list[str] | None = None) -> None:
    """Run both paths and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=5000)
    args = parser.parse_args(argv)
    n: int = args.orders
    # warm up both paths (imports, caches) before timing
    bench_risk_engine(200)
    bench_gate(200, Mode.LIVE)
    rows: list[tuple[str, Any]] = [
        ("nautilus RiskEngine.execute", _stats(bench_risk_engine(n))),
        ("SafetyGate.check (LIVE)", _stats(bench_gate(n, Mode.LIVE))),
        ("SafetyGate.check (BACKTEST)", _stats(bench_gate(n, Mode.BACKTEST))),
    ]
    base = rows[0][1][0]
    print(f"pre-trade gate cost per order, {n} orders each (microseconds)")
    print(f"{'path':32} {'p50':>9} {'p99':>9} {'mean':>9} {'p50 vs RiskEngine':>18}")
    for name, (p50, p99, mean) in rows:
        print(f"{name:32} {p50:9.1f} {p99:9.1f} {mean:9.1f} {p50 / base:17.2f}x")


if __name__ == "__main__":
    main()
