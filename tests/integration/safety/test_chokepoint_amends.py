"""
Amends and kills at the execution-engine door, in a real BacktestEngine (issue 13, items 1, 4).

Reproduced before the fix: a 0.100 passive limit rests; SAFE mode; ``modify_order(quantity=3.000,
price=60100)`` crossed the book and filled 3.000 against ``max_trade_size 0.5`` and
``max_position 1`` while the same order submitted fresh was DENIED ``SAFE_MODE``. An amend that
adds risk is now judged like a new order; one that only reduces risk passes, even in SAFE
mode; cancels always pass; everything is audited. A kill cancels the working orders.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.model.orders import LimitOrder
from nautilus_trader.trading.strategy import Strategy

from nautilus_ext.audit.schemas import Mode
from nautilus_ext.audit.schemas import RiskAction
from nautilus_ext.errors import ErrorCode
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyEvent
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.chokepoint import GateChokepoint
from nautilus_ext.safety.chokepoint import install_chokepoint
from nautilus_ext.safety.decision import Rule

from .test_executor_gate import SEC
from .test_executor_gate import START_NS
from .test_executor_gate import _config
from .test_executor_gate import quote_engine


class ScriptConfig(StrategyConfig, frozen=True):
    instrument_id: str


class Script(Strategy):
    """Runs ``actions[second]()`` on the first quote at or after that second of the run."""

    def __init__(self, config: ScriptConfig) -> None:
        super().__init__(config)
        self.iid = InstrumentId.from_str(config.instrument_id)
        self.actions: dict[int, Callable[[], None]] = {}
        self.orders: dict[str, LimitOrder] = {}

    def on_start(self) -> None:
        self.subscribe_quote_ticks(self.iid)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        second = (tick.ts_event - START_NS) // SEC
        for at in sorted(self.actions):
            if at <= second:
                self.actions.pop(at)()

    def limit(self, name: str, side: OrderSide, qty: str, price: str) -> None:
        order = self.order_factory.limit(
            self.iid, side, Quantity.from_str(qty), Price.from_str(price), time_in_force=TimeInForce.GTC
        )
        self.orders[name] = order
        self.submit_order(order)

    def amend(self, name: str, qty: str | None = None, price: str | None = None) -> None:
        self.modify_order(
            self.orders[name],
            quantity=None if qty is None else Quantity.from_str(qty),
            price=None if price is None else Price.from_str(price),
        )


def _run(
    mode: Mode, script: Callable[[Script, SafetyGate], None], config: SafetyConfig | None = None
) -> tuple[Script, SafetyGate, GateChokepoint, list[SafetyEvent], object]:
    engine, inst = quote_engine()
    strategy = Script(ScriptConfig(instrument_id=str(inst.id)))
    engine.add_strategy(strategy)
    events: list[SafetyEvent] = []
    gate = SafetyGate(config or _config(mode), strategy.clock, sink=events.append)
    kernel = engine.kernel
    chokepoint = install_chokepoint(
        gate, msgbus=kernel.msgbus, cache=kernel.cache, exec_engine=kernel.exec_engine
    )
    script(strategy, gate)
    engine.run()
    return strategy, gate, chokepoint, events, engine


def _safe(gate: SafetyGate) -> None:
    # SAFE mode from a safeguard (a kill would also cancel the resting order: tested below)
    gate.halts.enter_safe(ErrorCode.SAFE_MODE, Rule.POSITION_MISMATCH, "drill: venue disagrees")


def test_an_amend_that_adds_risk_in_safe_mode_is_refused_and_never_reaches_the_venue() -> None:
    def script(s: Script, gate: SafetyGate) -> None:
        s.actions[5] = lambda: s.limit("resting", OrderSide.BUY, "0.100", "59000.0")
        s.actions[10] = lambda: _safe(gate)
        s.actions[15] = lambda: s.amend("resting", qty="3.000", price="60100.0")  # crosses the ask
        s.actions[20] = lambda: s.limit("fresh", OrderSide.BUY, "3.000", "60100.0")
        s.actions[25] = lambda: s.amend("resting", qty="0.050")  # smaller: no new risk
        s.actions[30] = lambda: s.amend("resting", price="58000.0")  # further away: no new risk
        s.actions[35] = lambda: s.cancel_order(s.orders["resting"])

    s, _, chokepoint, events, engine = _run(Mode.BACKTEST, script)
    resting, fresh = s.orders["resting"], s.orders["fresh"]
    reasons = dict(chokepoint.denied)
    assert reasons[resting.client_order_id.value].startswith("SAFE_MODE: "), reasons
    assert fresh.status is OrderStatus.DENIED
    assert reasons[fresh.client_order_id.value].startswith("SAFE_MODE: ")
    # nothing filled: the refused amend never reached the simulated venue
    assert resting.filled_qty == Quantity.from_str("0.000")
    assert engine.cache.positions() == []  # type: ignore[attr-defined]
    # the amends that reduce risk went through, then the cancel
    assert resting.quantity == Quantity.from_str("0.050")
    assert resting.price == Price.from_str("58000.0")
    assert resting.status is OrderStatus.CANCELED
    # audited: the refusal with its code, the two allowed amends, the cancel
    blocked = [e for e in events if e.risk_action is RiskAction.BLOCK]
    assert [(e.rule, e.code) for e in blocked] == [("safe_mode", "SAFE_MODE"), ("safe_mode", "SAFE_MODE")]
    assert [e.rule for e in events if e.rule == "amend_reduces"] == ["amend_reduces", "amend_reduces"]
    assert [e.details["client_order_id"] for e in events if e.rule == "cancel"] == [
        resting.client_order_id.value
    ]


def test_an_amend_beyond_the_risk_matrix_is_refused_with_the_rule() -> None:
    def script(s: Script, gate: SafetyGate) -> None:
        s.actions[5] = lambda: s.limit("resting", OrderSide.BUY, "0.100", "59000.0")
        s.actions[10] = lambda: s.amend("resting", qty="3.000", price="60100.0")
        s.actions[15] = lambda: s.amend("resting", qty="0.200", price="60100.0")  # within limits

    s, _, chokepoint, events, _ = _run(Mode.BACKTEST, script)
    resting = s.orders["resting"]
    (refused,) = [e for e in events if e.risk_action is RiskAction.BLOCK]
    assert (refused.rule, refused.code) == ("max_trade_size", "RISK_BLOCKED")
    assert "max trade size" in dict(chokepoint.denied)[resting.client_order_id.value]
    # the allowed amend crossed the book and filled 0.2, not 3
    assert resting.status is OrderStatus.FILLED
    assert resting.filled_qty == Quantity.from_str("0.200")


def test_live_an_amend_that_adds_risk_needs_its_own_confirmation_or_a_covering_policy() -> None:
    data = _config(Mode.LIVE).model_dump(mode="json")
    data["arming"]["auto_confirm"] = [{"name": "small", "strategies": ["Script-000"], "max_amount": "0.2"}]
    config = SafetyConfig.parse(data)
    staged: list[str] = []

    def healthy(gate: SafetyGate, then: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            gate.on_ws_message("BINANCE")
            then()

        return run

    def confirm_amend(gate: SafetyGate) -> None:
        (intent,) = [i for i in gate.arming.staged() if i.order.operation_id.endswith("~amend")]
        staged.append(intent.order.operation_id)
        gate.confirm(intent.intent_hash, "alice")

    def script(s: Script, gate: SafetyGate) -> None:
        s.actions[3] = lambda: gate.arm(300, "alice", ["small"])
        s.actions[5] = healthy(gate, lambda: s.limit("resting", OrderSide.BUY, "0.100", "59000.0"))
        s.actions[10] = healthy(gate, lambda: s.amend("resting", qty="0.150"))  # the policy covers it
        s.actions[15] = healthy(gate, lambda: s.amend("resting", qty="0.300"))  # beyond: a human must
        s.actions[20] = healthy(gate, lambda: confirm_amend(gate))
        s.actions[25] = healthy(gate, lambda: s.amend("resting", qty="0.300"))  # that exact amend
        s.actions[30] = healthy(gate, lambda: s.amend("resting", qty="0.400"))  # a new one: refused

    s, gate, chokepoint, events, _ = _run(Mode.LIVE, script, config)
    resting = s.orders["resting"]
    assert resting.status is OrderStatus.ACCEPTED
    assert resting.quantity == Quantity.from_str("0.300")
    refused = [r for cid, r in chokepoint.denied if cid == resting.client_order_id.value]
    assert len(refused) == 2
    assert all(r.startswith("RISK_BLOCKED: ") and "no confirmation" in r for r in refused), refused
    assert staged == [f"{resting.client_order_id.value}~amend"]
    codes = [e.rule for e in events if e.risk_action is RiskAction.BLOCK]
    assert codes == ["not_confirmed", "not_confirmed"]
    assert gate.oms.position("BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN") == Decimal(0)


def test_a_kill_cancels_the_working_orders_of_its_scope() -> None:
    reports: list[object] = []

    def script(s: Script, gate: SafetyGate) -> None:
        s.actions[5] = lambda: s.limit("resting", OrderSide.BUY, "0.100", "59000.0")
        s.actions[6] = lambda: s.limit("other", OrderSide.SELL, "0.100", "61000.0")
        s.actions[10] = lambda: reports.append(gate.kill_and_cancel("ops", "Script-999", "not this one"))
        s.actions[15] = lambda: reports.append(gate.kill_and_cancel("ops", s.id.value, "drill"))
        # the reproduction after a kill: the amend that crossed the book finds nothing
        s.actions[16] = lambda: s.amend("resting", qty="3.000", price="60100.0")

    s, _, _, events, engine = _run(Mode.BACKTEST, script)
    assert s.orders["resting"].filled_qty == Quantity.from_str("0.000")
    assert engine.cache.positions() == []  # type: ignore[attr-defined]
    other_strategy, killed = reports
    assert other_strategy.cancelled == ()  # type: ignore[attr-defined]
    assert other_strategy.not_cancelled == ()  # type: ignore[attr-defined]
    assert s.orders["resting"].status is OrderStatus.CANCELED
    assert s.orders["other"].status is OrderStatus.CANCELED
    listed = killed.cancelled  # type: ignore[attr-defined]
    assert len(listed) == 2
    assert {c.split()[1] for c in listed} == {o.client_order_id.value for o in s.orders.values()}
    assert all(c.endswith("cancel sent") for c in listed)
    # each cancel passed the door and was audited, and so was the kill's report
    assert len([e for e in events if e.rule == "cancel"]) == 2
    (report,) = [e for e in events if e.rule == "kill_cancel" and e.strategy_id == s.id.value]
    assert report.details == {"cancelled": 2, "not_cancelled": 0}
