"""
The chokepoint in a real Nautilus BacktestEngine: every order that reaches the execution
engine has passed the gate, whoever submitted it (a strategy directly, or an execution
algorithm's child), and a refused order is DENIED and never reaches the simulated venue.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.trading.strategy import Strategy

from nautilus_ext.audit.schemas import Mode
from nautilus_ext.backtest.replayer import OrderReplayConfig
from nautilus_ext.backtest.replayer import OrderReplayStrategy
from nautilus_ext.errors import ErrorCode
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.messages import FillGap
from nautilus_ext.orders import Order
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.chokepoint import GateChokepoint
from nautilus_ext.safety.chokepoint import install_chokepoint
from nautilus_ext.safety.gate import GateContext

from .test_executor_gate import KEY
from .test_executor_gate import SEC
from .test_executor_gate import START_NS
from .test_executor_gate import _config
from .test_executor_gate import _order
from .test_executor_gate import quote_engine


class DirectConfig(StrategyConfig, frozen=True):
    instrument_id: str
    # (second, side, quantity) submitted with plain submit_order, bypassing the unified layer
    plan: tuple[tuple[int, str, str], ...] = ()


class DirectOrders(Strategy):
    """A strategy that ignores the unified layer and calls ``submit_order`` itself."""

    def __init__(self, config: DirectConfig) -> None:
        super().__init__(config)
        self._iid = InstrumentId.from_str(config.instrument_id)
        self._plan = list(config.plan)
        self.before_submit: Callable[[int], None] | None = None

    def on_start(self) -> None:
        self.subscribe_quote_ticks(self._iid)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        second = (tick.ts_event - START_NS) // SEC
        while self._plan and self._plan[0][0] <= second:
            _, side, qty = self._plan.pop(0)
            if self.before_submit is not None:
                self.before_submit(second)
            order = self.order_factory.market(
                self._iid,
                OrderSide.BUY if side == "BUY" else OrderSide.SELL,
                Quantity.from_str(qty),
                time_in_force=TimeInForce.IOC,
            )
            self.submit_order(order)


def _gate_in(engine: BacktestEngine, mode: Mode, clock_owner: Strategy) -> tuple[SafetyGate, GateChokepoint]:
    gate = SafetyGate(_config(mode), clock_owner.clock)
    kernel = engine.kernel
    chokepoint = install_chokepoint(
        gate,
        msgbus=kernel.msgbus,
        cache=kernel.cache,
        exec_engine=kernel.exec_engine,
        risk_engine=kernel.risk_engine,
    )
    return gate, chokepoint


def _statuses(engine: BacktestEngine) -> dict[str, OrderStatus]:
    return {o.client_order_id.value: o.status for o in engine.cache.orders()}


def test_direct_orders_are_judged_and_safe_mode_denies_new_risk() -> None:
    engine, inst = quote_engine()
    strategy = DirectOrders(
        DirectConfig(
            instrument_id=str(inst.id),
            plan=((5, "BUY", "0.100"), (10, "BUY", "0.600"), (20, "BUY", "0.100"), (30, "SELL", "0.050")),
        )
    )
    engine.add_strategy(strategy)
    gate, chokepoint = _gate_in(engine, Mode.BACKTEST, strategy)

    def kill_at_20(second: int) -> None:
        if second >= 20 and gate.safe is None:
            gate.kill("ops", None, "drill")

    strategy.before_submit = kill_at_20
    engine.run()
    orders = sorted(engine.cache.orders(), key=lambda o: o.ts_init)
    assert [o.status for o in orders] == [
        OrderStatus.FILLED,  # within limits
        OrderStatus.DENIED,  # 0.6 > max_trade_size 0.5: the risk matrix applies to direct orders
        OrderStatus.DENIED,  # SAFE mode: a buy on a long position is new risk
        OrderStatus.FILLED,  # SAFE mode: a reducing sell is a hedge, allowed
    ]
    reasons = dict(chokepoint.denied)
    assert "max trade size" in reasons[orders[1].client_order_id.value]
    assert reasons[orders[2].client_order_id.value].startswith("SAFE_MODE: ")
    assert engine.kernel.risk_engine.trading_state.name in ("ACTIVE", "REDUCING")
    chokepoint.tick()
    assert engine.kernel.risk_engine.trading_state.name == "REDUCING"  # mirrored into Nautilus


def test_live_direct_orders_never_reach_the_venue_without_confirmation() -> None:
    engine, inst = quote_engine()
    strategy = DirectOrders(DirectConfig(instrument_id=str(inst.id), plan=((5, "BUY", "0.100"),)))
    engine.add_strategy(strategy)
    gate, chokepoint = _gate_in(engine, Mode.LIVE, strategy)

    def healthy_and_armed(second: int) -> None:
        gate.on_ws_message("BINANCE")
        gate.arm(60, "alice")

    strategy.before_submit = healthy_and_armed
    engine.run()
    (order,) = engine.cache.orders()
    assert order.status is OrderStatus.DENIED
    # armed, fresh data, within limits: still no confirmation of this order's own hash
    assert "confirm" in dict(chokepoint.denied)[order.client_order_id.value].lower()
    assert engine.cache.positions() == []


def test_exec_algorithm_children_pass_until_safe_mode(tmp_path: Path) -> None:
    from nautilus_ext.execution_algos.twap import TWAPExecAlgorithm
    from nautilus_ext.execution_algos.twap import TWAPExecAlgorithmConfig

    engine, inst = quote_engine()
    engine.add_exec_algorithm(TWAPExecAlgorithm(TWAPExecAlgorithmConfig()))
    parent = _order("twap", "0.4", 5).model_copy(
        update={
            "smart_execution_enabled": True,
            "metadata": {"algorithm": "TWAP", "algo_params": {"horizon_secs": "80", "interval_secs": "10"}},
        }
    )
    path = tmp_path / "orders.jsonl"
    path.write_text(parent.to_json() + "\n", encoding="utf-8")
    strategy = KillAt(
        OrderReplayConfig(
            orders_path=str(path),
            instrument_ids=(str(inst.id),),
            book_data=False,
            trade_data=False,
            quote_data=True,
        )
    )
    engine.add_strategy(strategy)
    gate, chokepoint = _gate_in(engine, Mode.BACKTEST, strategy)
    strategy.safety_gate = gate
    engine.run()
    filled_before = strategy.filled_at_kill
    assert filled_before is not None
    assert Decimal(0) < filled_before < Decimal("0.4")
    result = strategy.results["twap"]
    # nothing after the kill: children grow the long position, SAFE mode refuses them
    assert result.filled_quantity == filled_before
    assert chokepoint.denied, "children after the kill were refused"
    assert all(reason.startswith("SAFE_MODE: ") for _, reason in chokepoint.denied)
    assert result.status is not ExecutionStatus.FILLED


class KillAt(OrderReplayStrategy):
    """Replays orders and engages the global kill switch at second 45."""

    filled_at_kill: Decimal | None = None

    def on_quote_tick(self, tick: QuoteTick) -> None:
        super().on_quote_tick(tick)
        gate = self.safety_gate
        if gate is not None and gate.safe is None and tick.ts_event >= START_NS + 45 * SEC:
            self.filled_at_kill = self.results["twap"].filled_quantity
            gate.kill("ops", None, "drill mid-algorithm")


def test_unified_orders_blocked_by_the_gate_never_reach_the_chokepoint_as_released() -> None:
    gate = SafetyGate(_config(Mode.BACKTEST), _FixedClock())
    order: Order = _order("x", "0.6", 1)
    decision = gate.check(order, _ctx("O-1"))
    assert not decision.allowed
    assert gate.released_asset("O-1") is None  # a refused order is never released
    gate.on_market_data(KEY)
    ok = gate.check(_order("y", "0.1", 1), _ctx("O-2"))
    assert ok.allowed
    assert gate.released_asset("O-2") == KEY


class _FixedClock:
    def timestamp_ns(self) -> int:
        return START_NS


def _ctx(cid: str) -> GateContext:
    return GateContext(client_order_id=cid)


def test_fill_gap_published_by_an_adapter_enters_safe_mode() -> None:
    engine, inst = quote_engine()
    kernel = engine.kernel
    gate = SafetyGate(_config(Mode.LIVE), kernel.clock)
    install_chokepoint(
        gate,
        msgbus=kernel.msgbus,
        cache=kernel.cache,
        exec_engine=kernel.exec_engine,
        risk_engine=kernel.risk_engine,
    )
    assert gate.safe is None
    gap = FillGap(
        venue="BINANCE",
        instrument_id=inst.id,
        client_order_id="O-1",
        venue_filled=Decimal("0.002"),
        seen_filled=Decimal("0.001"),
        ts_ns=0,
    )
    kernel.msgbus.publish("nautilus_ext.fill_gaps.BINANCE", gap)
    assert gate.safe is not None
    assert gate.safe.code is ErrorCode.FILL_SEQ_GAP
    assert "0.002" in gate.safe.message
    engine.dispose()


def test_live_direct_orders_pass_under_an_armed_auto_confirm_policy() -> None:
    from nautilus_ext.safety import SafetyConfig

    engine, inst = quote_engine()
    strategy = DirectOrders(
        DirectConfig(instrument_id=str(inst.id), plan=((5, "BUY", "0.100"), (10, "BUY", "0.400")))
    )
    engine.add_strategy(strategy)
    data = _config(Mode.LIVE).model_dump(mode="json")
    data["arming"]["auto_confirm"] = [
        {"name": "small", "strategies": [strategy.id.value], "max_amount": "0.2"}
    ]
    gate = SafetyGate(SafetyConfig.parse(data), strategy.clock)
    kernel = engine.kernel
    chokepoint = install_chokepoint(
        gate, msgbus=kernel.msgbus, cache=kernel.cache, exec_engine=kernel.exec_engine
    )

    def armed_with_policy(second: int) -> None:
        gate.on_ws_message("BINANCE")
        if not gate.arming.is_armed():
            gate.arm(60, "alice", ["small"])
        # the first fill is confirmed by the simulated venue's position in this test
        gate.on_position_update(KEY, gate.oms.position(KEY))

    strategy.before_submit = armed_with_policy
    engine.run()
    first, second = sorted(engine.cache.orders(), key=lambda o: o.ts_init)
    assert first.status is OrderStatus.FILLED  # 0.1 <= 0.2: the policy confirms it
    assert second.status is OrderStatus.DENIED  # 0.4 > 0.2: a human must confirm, so denied
    assert "confirm" in dict(chokepoint.denied)[second.client_order_id.value].lower()


def test_a_direct_order_on_an_instrument_without_canonical_key_is_refused_by_name() -> None:
    engine, _ = quote_engine()
    stock = TestInstrumentProvider.equity("AAPL", "BINANCE")
    engine.add_instrument(stock)
    engine.add_data(
        [
            QuoteTick(
                stock.id,
                Price(Decimal("190.00"), 2),
                Price(Decimal("190.01"), 2),
                Quantity.from_int(100),
                Quantity.from_int(100),
                START_NS + s * SEC,
                START_NS + s * SEC,
            )
            for s in range(10)
        ]
    )
    strategy = DirectOrders(DirectConfig(instrument_id=str(stock.id), plan=((2, "BUY", "1"),)))
    engine.add_strategy(strategy)
    _, chokepoint = _gate_in(engine, Mode.BACKTEST, strategy)
    engine.run()
    (order,) = engine.cache.orders()
    assert order.status == OrderStatus.DENIED  # fail closed: it cannot be checked, so it is not sent
    ((cid, reason),) = chokepoint.denied
    assert cid == order.client_order_id.value
    assert reason.startswith("INVALID_ORDER: AAPL.BINANCE has no canonical instrument key"), reason
    assert chokepoint.forwarded == 0
