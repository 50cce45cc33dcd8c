"""check_group: orders that reach the venue together (an atomic bundle) pass or fail together."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.orders import Order
from nautilus_ext.safety import GateContext
from nautilus_ext.safety import Rule
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety import intent_hash

from .conftest import Recorder
from .conftest import config_dict

SUPPLY = "AAVE_V3_ETH:A_TOKEN:AWEETH@ETHEREUM"
BORROW = "AAVE_V3_ETH:DEBT_TOKEN:DEBTWETH@ETHEREUM"


def _leg(key: str, operation: str, side: str, amount: str, seq: int, **kw: object) -> Order:
    return Order(
        operation_id=f"leg-{operation}",
        operation=operation,
        instrument_key=key,
        venue="AAVE_V3_ETH",
        side=side,
        amount=Decimal(amount),
        strategy_id="S-1",
        atomic_group_id="bundle-1",
        sequence_in_group=seq,
        **kw,  # type: ignore[arg-type]
    )


def _group(borrow: str = "1") -> list[tuple[Order, GateContext]]:
    later = _leg(BORROW, "borrow", "BORROW", borrow, 1)
    first = _leg(SUPPLY, "supply", "SUPPLY", "2", 0, metadata={"group_intents": [intent_hash(later)]})
    return [(first, GateContext()), (later, GateContext())]


def _fresh(gate: SafetyGate) -> None:
    for key in (SUPPLY, BORROW):
        gate.on_market_data(key)
    gate.on_ws_message("AAVE_V3_ETH")


def test_live_group_is_released_by_the_first_orders_confirmation(
    live_gate: SafetyGate, recorder: Recorder
) -> None:
    _fresh(live_gate)
    group = _group()
    live_gate.arm(60, "alice")
    assert live_gate.check_group(group).rule == Rule.NOT_CONFIRMED
    live_gate.confirm(live_gate.stage(group[0][0]).intent_hash, "alice")
    decision = live_gate.check_group(group)
    assert decision.allowed, decision.reason
    assert decision.intent_hash == intent_hash(group[0][0])
    allowed = [e.asset for e in recorder.events if e.risk_action is not None and e.rule == "gate"]
    assert allowed == [SUPPLY, BORROW]
    # one confirmation, one release of the whole group
    assert live_gate.check_group(group).rule == Rule.NOT_CONFIRMED


def test_a_later_order_the_confirmed_one_does_not_name_is_refused(live_gate: SafetyGate) -> None:
    _fresh(live_gate)
    first, named = _group()
    smuggled = _leg(BORROW, "borrow", "BORROW", "1.5", 1)
    live_gate.arm(60, "alice")
    live_gate.confirm(live_gate.stage(first[0]).intent_hash, "alice")
    decision = live_gate.check_group([first, (smuggled, GateContext())])
    assert decision.rule == Rule.NOT_CONFIRMED
    assert "not named" in decision.message
    # nothing was spent: the named group still goes through
    assert live_gate.check_group([first, named]).allowed


def test_one_blocked_order_blocks_the_group_and_commits_nothing(clock: object, recorder: Recorder) -> None:
    gate = SafetyGate(
        SafetyConfig.parse(config_dict("BACKTEST", risk={"max_trade_size_by_asset": {BORROW: "1"}})),
        clock,  # type: ignore[arg-type]
        sink=recorder,
    )
    _fresh(gate)
    decision = gate.check_group(_group(borrow="3"))
    assert decision.rule == Rule.MAX_TRADE_SIZE
    assert not [e for e in recorder.events if e.rule == "gate"]  # the first order was not committed
    assert gate.check_group(_group(borrow="1")).allowed


def test_an_empty_group_or_one_naming_an_asset_twice_is_invalid(live_gate: SafetyGate) -> None:
    with pytest.raises(InvalidOrder):
        live_gate.check_group([])
    first, _ = _group()
    with pytest.raises(InvalidOrder, match="one order per asset"):
        live_gate.check_group([first, first])


def test_each_group_counts_toward_the_rate_limit_of_every_leg(clock: object, recorder: Recorder) -> None:
    gate = SafetyGate(SafetyConfig.parse(config_dict("BACKTEST")), clock, sink=recorder)  # type: ignore[arg-type]
    _fresh(gate)
    for _ in range(5):  # order_rate_limit: 5 per second and asset
        assert gate.check_group(_group()).allowed
    decision = gate.check_group(_group())
    assert decision.rule == Rule.ORDER_RATE_LIMIT
    assert gate.safe is not None  # a breach enters SAFE mode
