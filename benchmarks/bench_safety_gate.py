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
- ``RiskEngine + chokepoint, released``: the RiskEngine path with the node's
  :class:`~nautilus_ext.safety.chokepoint.GateChokepoint` owning ``ExecEngine.execute``, for an
  order the gate released beforehand (what every unified order costs at the door: a lookup).
- ``RiskEngine + chokepoint, direct (BACKTEST)``: the same for an order a strategy submitted
  itself: the chokepoint turns it into a unified Order and runs the full gate check.
- ``RiskEngine + chokepoint, direct (LIVE auto)``: a direct order in LIVE under an armed
  auto-confirm policy (staged, hashed and confirmed inside the door, then fully checked).

Each call is timed on its own with ``perf_counter_ns``; staging, confirming, releasing and clock
advances happen outside the timed region (except where the door itself does them). Prints
p50/p99/mean in microseconds and the ratio to the bare RiskEngine path.

Each call is timed twice: wall time (``perf_counter_ns``) and this thread's CPU time
(``thread_time_ns``), which leaves out the time the process waited for a CPU (on a loaded
machine that wait, not the code, makes the wall-clock p99).

Usage: ``python benchmarks/bench_safety_gate.py [--orders N] [--smoke]``
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from decimal import Decimal

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

from nautilus_ext.mode import Mode
from nautilus_ext.orders import Order
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyEvent
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.chokepoint import install_chokepoint
from nautilus_ext.safety.gate import GateContext

T0 = 1_709_251_200_000_000_000
CME_ES = "CME:FUTURE:SP500-USD-240315@LIN"
STEP_NS = 250_000_000  # 4 orders a second: under the per-asset rate limit of 5/s
ASSET = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
VENUE = "BINANCE-FUTURES"


Sample = tuple[int, int]  # (wall ns, this thread's CPU ns) of one call


def _timed(call: Callable[[], object]) -> tuple[object, Sample]:
    wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
    result = call()
    return result, (time.perf_counter_ns() - wall, time.thread_time_ns() - cpu)


def _pct(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] / 1000


def _stats(samples: list[Sample]) -> tuple[float, float, float, float]:
    """p50 and p99 of wall time, p99 of CPU time, mean wall time (microseconds)."""
    wall = [w for w, _ in samples]
    cpu = [c for _, c in samples]
    return _pct(wall, 0.5), _pct(wall, 0.99), _pct(cpu, 0.99), statistics.fmean(wall) / 1000


class _Node:
    """A RiskEngine -> ExecutionEngine -> mock client path over one FX instrument."""

    def __init__(self, n: int) -> None:
        self.clock = TestClock()
        self.clock.set_time(T0)
        trader_id = TestIdStubs.trader_id()
        self.msgbus = MessageBus(trader_id=trader_id, clock=self.clock)
        self.cache = TestComponentStubs.cache()
        portfolio = Portfolio(self.msgbus, self.cache, self.clock)
        self.exec_engine = ExecutionEngine(
            msgbus=self.msgbus, cache=self.cache, clock=self.clock, config=ExecEngineConfig()
        )
        self.risk = RiskEngine(
            portfolio=portfolio,
            msgbus=self.msgbus,
            cache=self.cache,
            clock=self.clock,
            config=RiskEngineConfig(max_order_submit_rate=f"{n * 10}/00:00:01"),
        )
        self.client = MockExecutionClient(
            client_id=ClientId("BINANCE"),
            venue=Venue("BINANCE"),
            account_type=AccountType.MARGIN,
            base_currency=USD,
            msgbus=self.msgbus,
            cache=self.cache,
            clock=self.clock,
        )
        self.exec_engine.register_client(self.client)
        self.instrument = TestInstrumentProvider.btcusdt_perp_binance()
        self.cache.add_instrument(self.instrument)
        portfolio.update_account(TestEventStubs.margin_account_state())
        self.strategy = Strategy()
        self.strategy.register(
            trader_id=trader_id, portfolio=portfolio, msgbus=self.msgbus, cache=self.cache, clock=self.clock
        )
        self.exec_engine.start()
        self.risk.start()

    def commands(self, n: int) -> list[SubmitOrder]:
        commands = []
        for _ in range(n):
            order = self.strategy.order_factory.market(
                self.instrument.id, OrderSide.BUY, Quantity.from_str("0.010")
            )
            self.cache.add_order(order)
            commands.append(
                SubmitOrder(
                    trader_id=self.strategy.trader_id,
                    strategy_id=self.strategy.id,
                    order=order,
                    command_id=UUID4(),
                    ts_init=0,
                )
            )
        return commands

    def run(self, commands: list[SubmitOrder], before: Callable[[SubmitOrder], None]) -> list[Sample]:
        """Time ``RiskEngine.execute`` per command; every order must reach the client."""
        samples = []
        for command in commands:
            before(command)
            samples.append(_timed(lambda: self.risk.execute(command))[1])  # noqa: B023 - called now
        if len(self.client.commands) != len(commands):
            raise SystemExit(f"only {len(self.client.commands)} of {len(commands)} orders reached the client")
        return samples


def bench_risk_engine(n: int) -> list[Sample]:
    """Time ``RiskEngine.execute(SubmitOrder)`` per order (market orders, one instrument)."""
    node = _Node(n)
    return node.run(node.commands(n), lambda command: None)


def bench_chokepoint(n: int, mode: Mode, path: str, door: bool = True) -> list[Sample]:
    """
    Time ``RiskEngine.execute`` with the chokepoint on ``ExecEngine.execute``.

    ``path`` is ``released`` (the gate released the order beforehand, as
    ``submit_unified`` does) or ``direct`` (the order reaches the door unannounced). With
    ``door=False`` the same untimed preparation runs but no chokepoint is installed: the
    baseline that isolates the door's own cost (the preparation's gate check leaves the CPU
    caches colder than in the bare RiskEngine row).
    """
    node = _Node(n)
    gate = SafetyGate(_config(mode, (node.strategy.id.value,)), node.clock, sink=lambda event: None)
    if door:
        chokepoint = install_chokepoint(
            gate, msgbus=node.msgbus, cache=node.cache, exec_engine=node.exec_engine
        )
    asset = ASSET
    venue = asset.split(":", 1)[0]  # the key's venue (BINANCE-FUTURES), as unified orders name it
    if mode is Mode.LIVE:
        gate.arm(86_400, "bench", auto_confirm=("bench",) if path == "direct" else ())

    def before(command: SubmitOrder) -> None:
        node.clock.advance_time(node.clock.timestamp_ns() + STEP_NS)
        gate.on_market_data(asset)
        gate.on_ws_message(venue)
        gate.on_ws_message(node.instrument.id.venue.value)
        if path == "released":
            order = command.order
            unified = Order(
                operation_id=order.client_order_id.value,
                operation="trade",
                instrument_key=asset,
                venue=venue,
                side="BUY",
                amount=order.quantity.as_decimal(),
                strategy_id=order.strategy_id.value,
            )
            if mode is Mode.LIVE:
                gate.confirm(gate.stage(unified).intent_hash, "bench")
            context = GateContext(venue=venue, asset=asset, client_order_id=order.client_order_id.value)
            decision = gate.check(unified, context)
            if not decision.allowed:
                raise SystemExit(f"order {order.client_order_id} blocked: {decision.reason}")

    samples = node.run(node.commands(n), before)
    if door and chokepoint.denied:
        raise SystemExit(f"the chokepoint denied {len(chokepoint.denied)} orders: {chokepoint.denied[0]}")
    return samples


def _config(mode: Mode, strategies: tuple[str, ...] = ("S-1",)) -> SafetyConfig:
    return SafetyConfig.parse(
        {
            "mode": mode,
            "arming": {
                "max_ttl_secs": 86_400,
                "intent_ttl_secs": 60,
                "max_failed_confirmations": 0,
                "auto_confirm": [{"name": "bench", "strategies": list(strategies), "max_amount": "5"}],
            },
            "risk": {
                "max_position": "1000000000000",
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


def bench_gate(n: int, mode: Mode, asset: str = ASSET, venue: str = VENUE) -> list[Sample]:
    """Time ``SafetyGate.check`` per order; every order must be allowed."""
    clock = TestClock()
    clock.set_time(T0)
    events: list[SafetyEvent] = []
    gate = SafetyGate(_config(mode), clock, sink=events.append)
    orders = [
        Order(
            operation_id=f"op-{i}",
            operation="trade",
            instrument_key=asset,
            venue=venue,
            side="BUY",
            amount=Decimal("0.01") if asset == ASSET else Decimal(1),
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
        gate.on_market_data(asset)
        gate.on_ws_message(venue)
        if mode is Mode.LIVE:
            gate.confirm(gate.stage(order).intent_hash, "bench")
        decision, sample = _timed(lambda: gate.check(order))  # noqa: B023 - called now
        samples.append(sample)
        if not decision.allowed:  # type: ignore[attr-defined]
            raise SystemExit(f"order {order.operation_id} blocked: {decision.reason}")  # type: ignore[attr-defined]
        events.clear()
    return samples


# the targets (p99, microseconds): an order the layer built itself, in every mode; a
# LIVE check including the confirmation hash
TARGETS = {
    "SafetyGate.check (BACKTEST)": 50.0,
    "RiskEngine + chokepoint, released": 50.0,
    "SafetyGate.check (LIVE)": 100.0,
}


def main(argv: list[str] | None = None) -> None:
    """Run every path and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--smoke", action="store_true", help="a few hundred orders: checks it runs")
    args = parser.parse_args(argv)
    n: int = 200 if args.smoke else args.orders
    warm = 50 if args.smoke else 200
    # warm up both paths (imports, caches) before timing
    bench_risk_engine(warm)
    bench_gate(warm, Mode.LIVE)
    bench_gate(warm, Mode.BACKTEST, CME_ES, "CME")  # loads the session calendar once
    bench_chokepoint(warm, Mode.BACKTEST, "direct")
    rows: list[tuple[str, tuple[float, float, float, float]]] = []
    for name, run in (
        ("nautilus RiskEngine.execute", lambda: bench_risk_engine(n)),
        ("SafetyGate.check (LIVE)", lambda: bench_gate(n, Mode.LIVE)),
        ("SafetyGate.check (BACKTEST)", lambda: bench_gate(n, Mode.BACKTEST)),
        # a CME future: the market-closed rule looks its Globex session up (T0 is in session)
        ("  ... CME ES, trading hours", lambda: bench_gate(n, Mode.BACKTEST, CME_ES, "CME")),
        ("RiskEngine after a gate check", lambda: bench_chokepoint(n, Mode.LIVE, "released", door=False)),
        ("RiskEngine + chokepoint, released", lambda: bench_chokepoint(n, Mode.LIVE, "released")),
        ("RiskEngine + chokepoint, direct", lambda: bench_chokepoint(n, Mode.BACKTEST, "direct")),
        ("  ... direct, LIVE auto-confirm", lambda: bench_chokepoint(n, Mode.LIVE, "direct")),
    ):
        gc.collect()  # every row starts from the same heap
        rows.append((name, _stats(run())))
    base = rows[0][1]
    print(f"pre-trade gate cost per order, {n} orders each (microseconds; cpu = this thread's CPU time)")
    print(
        f"{'path':36} {'p50':>8} {'p99':>9} {'p99 cpu':>8} {'mean':>8}"
        f" {'p50 ratio':>10} {'p99 cpu ratio':>14}"
    )
    for name, (p50, p99, p99_cpu, mean) in rows:
        print(
            f"{name:36} {p50:8.1f} {p99:9.1f} {p99_cpu:8.1f} {mean:8.1f}"
            f" {p50 / base[0]:9.2f}x {p99_cpu / base[2]:13.2f}x"
        )
    door = dict(rows)
    added = door["RiskEngine + chokepoint, released"][0] - door["RiskEngine after a gate check"][0]
    print(f"chokepoint's own cost for a released order (p50, same preparation): {added:+.1f} us")
    for name, limit in TARGETS.items():
        _, p99, p99_cpu, _ = door[name]
        verdict = "met" if p99_cpu <= limit else "MISSED"
        print(
            f"target p99 <= {limit:.0f} us for {name.strip()}: cpu {p99_cpu:.1f}, wall {p99:.1f} -> {verdict}"
        )
    print(
        "(wall p99 includes the time this process waited for a CPU: on a shared machine it measures the load)"
    )


if __name__ == "__main__":
    main()
