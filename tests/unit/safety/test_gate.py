"""The single gate: mode rules, check order, commit semantics, SAFE recovery, audit mapping."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.common.component import TestClock

from nautilus_ext.audit.context import AuditContext
from nautilus_ext.audit.schemas import CommandEvent
from nautilus_ext.audit.schemas import Mode
from nautilus_ext.audit.schemas import RiskAction
from nautilus_ext.audit.schemas import RiskEvent
from nautilus_ext.audit.schemas import SafeguardEvent
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import MarketDataStale
from nautilus_ext.errors import SafeModeActive
from nautilus_ext.safety import Fill
from nautilus_ext.safety import GateContext
from nautilus_ext.safety import Halt
from nautilus_ext.safety import Rule
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety import to_audit_event

from .conftest import ASSET
from .conftest import MS
from .conftest import SEC
from .conftest import VENUE
from .conftest import Recorder
from .conftest import advance
from .conftest import config_dict
from .conftest import fresh_feeds
from .conftest import make_order

D = Decimal


def release(gate: SafetyGate, order_kw: dict[str, str] | None = None) -> None:
    """Stage and confirm an order under an existing arm."""
    gate.confirm(gate.stage(make_order(**(order_kw or {}))).intent_hash, "alice")


def test_live_needs_arm_and_confirmation(live_gate: SafetyGate) -> None:
    fresh_feeds(live_gate)
    order = make_order()
    decision = live_gate.check(order)
    assert not decision.allowed
    assert decision.code is ErrorCode.RISK_BLOCKED
    assert decision.rule == Rule.NOT_ARMED
    live_gate.arm(60, "alice")
    assert live_gate.check(order).rule == Rule.NOT_CONFIRMED
    release(live_gate)
    decision = live_gate.check(order)
    assert decision.allowed, decision.reason
    # one confirmation, one release
    assert live_gate.check(order).rule == Rule.NOT_CONFIRMED


@pytest.mark.parametrize("mode", ["BACKTEST", "DRY_RUN", "REPLAY"])
def test_simulated_modes_need_no_arm(clock: TestClock, mode: str) -> None:
    gate = SafetyGate(SafetyConfig.parse(config_dict(mode)), clock, sink=Recorder())
    fresh_feeds(gate)
    assert gate.check(make_order()).allowed
    # but the risk matrix still applies
    assert gate.check(make_order("op-2", amount="3")).rule == Rule.MAX_TRADE_SIZE


def test_backtest_ignores_websocket_health(clock: TestClock) -> None:
    gate = SafetyGate(SafetyConfig.parse(config_dict("BACKTEST")), clock, sink=Recorder())
    gate.on_market_data(ASSET)
    assert gate.check(make_order()).allowed
    dry = SafetyGate(SafetyConfig.parse(config_dict("DRY_RUN")), clock, sink=Recorder())
    dry.on_market_data(ASSET)
    assert dry.check(make_order()).code is ErrorCode.WS_STALE


def test_blocked_confirmed_order_keeps_its_confirmation(live_gate: SafetyGate) -> None:
    live_gate.arm(60, "alice")
    release(live_gate)
    assert live_gate.check(make_order()).code is ErrorCode.MARKET_DATA_STALE
    fresh_feeds(live_gate)
    assert live_gate.check(make_order()).allowed


def test_dirty_blocks_new_orders_but_not_cancels(live_gate: SafetyGate) -> None:
    fresh_feeds(live_gate)
    live_gate.arm(60, "alice")
    live_gate.on_fill(Fill(fill_id="f1", venue=VENUE, asset=ASSET, quantity=D(1)))
    release(live_gate, {"side": "SELL"})  # even a hedge: the position is unknown while dirty
    assert live_gate.check(make_order(side="SELL")).rule == Rule.DIRTY_POSITION
    assert live_gate.check_cancel(ASSET, "op-0").allowed
    live_gate.on_position_update(ASSET, D(1))
    assert live_gate.check(make_order(side="SELL")).allowed


def test_safe_mode_allows_only_reducing_orders(live_gate: SafetyGate, clock: TestClock) -> None:
    fresh_feeds(live_gate)
    live_gate.on_fill(Fill(fill_id="f1", venue=VENUE, asset=ASSET, quantity=D(2)))
    live_gate.on_position_update(ASSET, D(2))
    live_gate.kill("alice", reason="drill")
    assert live_gate.safe is not None
    live_gate.arm(60, "alice")  # an arm during SAFE enables hedges, never new risk
    release(live_gate, {"op": "grow"})
    release(live_gate, {"op": "flip", "side": "SELL", "amount": "2"})
    release(live_gate, {"op": "flip2", "side": "SELL", "amount": "3"})
    release(live_gate, {"op": "hedge", "side": "SELL", "amount": "2"})
    grow = live_gate.check(make_order("grow"))
    assert grow.code is ErrorCode.SAFE_MODE
    assert grow.rule == Rule.SAFE_MODE
    assert live_gate.check(make_order("flip2", side="SELL", amount="3")).code is ErrorCode.SAFE_MODE
    assert live_gate.check(make_order("hedge", side="SELL", amount="2")).allowed


def test_safe_entry_disarms_and_alerts(clock: TestClock) -> None:
    alerts: list[tuple[Halt, str | None]] = []
    gate = SafetyGate(
        SafetyConfig.parse(config_dict()), clock, sink=Recorder(), alert=lambda h, s: alerts.append((h, s))
    )
    gate.arm(60, "alice")
    gate.on_fill(Fill(fill_id="f1", venue=VENUE, asset=ASSET, quantity=D(1), seq=1))
    gate.on_fill(Fill(fill_id="f3", venue=VENUE, asset=ASSET, quantity=D(1), seq=3))
    assert not gate.arming.is_armed()
    assert [(h.code, s) for h, s in alerts] == [(ErrorCode.FILL_SEQ_GAP, None)]


def test_strategy_kill_is_per_strategy(live_gate: SafetyGate) -> None:
    fresh_feeds(live_gate)
    live_gate.arm(60, "alice")
    live_gate.kill("alice", "S-1", "misbehaving")
    release(live_gate)
    release(live_gate, {"op": "other", "strategy": "S-2"})
    decision = live_gate.check(make_order())
    assert decision.code is ErrorCode.RISK_BLOCKED
    assert decision.rule == Rule.KILL_SWITCH
    assert live_gate.check(make_order("other", strategy="S-2")).allowed
    assert live_gate.release_strategy("alice", "S-1")
    assert live_gate.check(make_order()).allowed
    assert not live_gate.release_strategy("alice", "S-1")


def test_rate_limit_counts_only_released_orders(clock: TestClock) -> None:
    gate = SafetyGate(SafetyConfig.parse(config_dict("BACKTEST")), clock, sink=Recorder())
    gate.on_market_data(ASSET)
    for i in range(5):
        assert gate.check(make_order(f"o{i}", amount="0.1")).allowed
        assert gate.check(make_order(f"big{i}", amount="9")).rule == Rule.MAX_TRADE_SIZE
        gate.on_fill(Fill(fill_id=f"f{i}", venue=VENUE, asset=ASSET, quantity=D("0.1")))
        gate.on_position_update(ASSET, D("0.1") * (i + 1))
    decision = gate.check(make_order("o5", amount="0.1"))
    assert decision.code is ErrorCode.ORDER_RATE_LIMIT_BREACH
    assert gate.safe is not None


def test_flipflop_via_gate_cancels(clock: TestClock) -> None:
    gate = SafetyGate(SafetyConfig.parse(config_dict("BACKTEST")), clock, sink=Recorder())
    for i in range(3):
        advance(clock, SEC)
        gate.on_market_data(ASSET)
        assert gate.check(make_order(f"o{i}", price="60000")).allowed
        gate.check_cancel(ASSET, f"o{i}")
    assert gate.safe is not None
    assert gate.safe.code is ErrorCode.FLIPFLOP_DETECTED
    assert gate.check(make_order("o9")).code is ErrorCode.SAFE_MODE


def test_context_venue_and_slippage(live_gate: SafetyGate) -> None:
    fresh_feeds(live_gate, venue="BYBIT")
    live_gate.on_market_data(ASSET)
    live_gate.arm(60, "alice")
    release(live_gate)
    # WS of the context's venue is fresh, the order's own venue is not consulted
    ctx = GateContext(venue="BYBIT", estimated_slippage=D("0.02"))
    assert live_gate.check(make_order(), ctx).rule == Rule.SLIPPAGE
    assert live_gate.check(make_order(), GateContext(venue="BYBIT")).allowed


def test_every_decision_is_an_event(live_gate: SafetyGate, recorder: Recorder) -> None:
    fresh_feeds(live_gate)
    live_gate.check(make_order())
    live_gate.arm(60, "alice")
    release(live_gate)
    live_gate.check(make_order())
    decisions = [e for e in recorder.events if e.risk_action is not None]
    assert [(e.risk_action, e.rule) for e in decisions] == [
        (RiskAction.BLOCK, "not_armed"),
        (RiskAction.ALLOW, "gate"),
    ]
    assert decisions[1].intent_hash is not None


def test_events_map_to_audit_events(live_gate: SafetyGate, recorder: Recorder, clock: TestClock) -> None:
    fresh_feeds(live_gate)
    live_gate.arm(60, "alice")
    live_gate.check(make_order())
    live_gate.on_fill(Fill(fill_id="f1", venue=VENUE, asset=ASSET, quantity=D(1)))
    live_gate.kill("alice", None, "drill")
    ctx = AuditContext(
        mode=Mode.LIVE,
        strategy_id="GLOBAL",
        version_hash="a" * 64,
        config_hash="b" * 64,
        clock=clock,
        wall_clock=clock,
    )
    events = [to_audit_event(e, ctx, f"s-{i}") for i, e in enumerate(recorder.events)]
    types = {type(e) for e in events}
    assert types == {CommandEvent, RiskEvent, SafeguardEvent}
    arm = next(e for e in events if isinstance(e, CommandEvent))
    assert arm.ttl_secs == 60
    assert arm.actor == "alice"


def test_status(live_gate: SafetyGate) -> None:
    live_gate.arm(60, "alice")
    live_gate.on_fill(Fill(fill_id="f1", venue=VENUE, asset=ASSET, quantity=D(1)))
    status = live_gate.status()
    assert status["armed"] is True
    assert status["dirty"] == [ASSET]
    assert status["positions"] == {ASSET: "1"}
    assert status["safe"] is None
    assert status["limits_hash"] == live_gate.config.limits_hash()
    intent = live_gate.stage(make_order(amount="0.5"))
    staged = live_gate.status()["staged"]
    assert staged == [
        {
            "intent_hash": intent.intent_hash,
            "operation_id": "op-1",
            "strategy_id": "S-1",
            "instrument_key": ASSET,
            "side": "BUY",
            "amount": "0.5",
            "price": None,
            "confirmed_by": None,
            "expires_at_ns": intent.expires_at_ns,
        }
    ]


def test_resume_outside_safe_is_a_no_op(live_gate: SafetyGate) -> None:
    live_gate.resume("alice", "INC-1")
    assert live_gate.safe is None


def test_confirm_limits_needs_the_exact_hash(live_gate: SafetyGate) -> None:
    assert not live_gate.confirm_limits("alice", "0" * 64)
    assert live_gate.confirm_limits("alice", live_gate.config.limits_hash())


def test_dirty_max_age_via_gate_tick(live_gate: SafetyGate, clock: TestClock) -> None:
    live_gate.on_fill(Fill(fill_id="f1", venue=VENUE, asset=ASSET, quantity=D(1)))
    advance(clock, 2001 * MS)
    live_gate.tick()
    assert live_gate.safe is not None
    with pytest.raises(SafeModeActive) as info:
        live_gate.resume("alice", "INC-1")
    assert any("dirty" in p for p in info.value.details["problems"])


def test_nautilus_trading_state_mirrors_the_gate(live_gate: SafetyGate, clock: TestClock) -> None:
    from nautilus_trader.model.enums import TradingState

    assert live_gate.trading_state() is TradingState.HALTED  # LIVE, not armed
    live_gate.arm(60, "alice")
    assert live_gate.trading_state() is TradingState.ACTIVE
    advance(clock, 60 * SEC)
    assert live_gate.trading_state() is TradingState.HALTED
    live_gate.kill("alice")
    assert live_gate.trading_state() is TradingState.REDUCING
    backtest = SafetyGate(SafetyConfig.parse(config_dict("BACKTEST")), clock, sink=Recorder())
    assert backtest.trading_state() is TradingState.ACTIVE


def test_safety_event_has_exactly_one_kind() -> None:
    from nautilus_ext.audit.schemas import CommandKind
    from nautilus_ext.audit.schemas import SafeguardKind
    from nautilus_ext.safety import SafetyEvent

    with pytest.raises(ValueError, match="exactly one"):
        SafetyEvent(ts_ns=0)
    with pytest.raises(ValueError, match="exactly one"):
        SafetyEvent(ts_ns=0, risk_action=RiskAction.BLOCK, safeguard=SafeguardKind.DIRTY)
    with pytest.raises(ValueError, match="outcome"):
        SafetyEvent(ts_ns=0, command=CommandKind.ARM)


def test_blocked_decision_raises_its_typed_error(live_gate: SafetyGate) -> None:
    decision = live_gate.check(make_order())
    assert decision.reason.startswith("MARKET_DATA_STALE: ")
    with pytest.raises(MarketDataStale, match="market data") as info:
        decision.raise_if_blocked()
    assert info.value is decision.error
