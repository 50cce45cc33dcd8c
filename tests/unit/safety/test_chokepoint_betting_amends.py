"""
Amends of Betfair bets at the execution-engine door (issue 13, item 1): worse odds are new risk.

NautilusTrader sends a LAY as a ``BUY`` and a BACK as a ``SELL`` with the odds as the price. A
LAY at higher odds carries more liability; a BACK at lower odds matches sooner: both are judged
like a new bet (refused in SAFE mode with ``OrderModifyRejected``), while the opposite moves and
a smaller stake pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.component import TestClock
from nautilus_trader.common.factories import OrderFactory
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import ModifyOrder
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.events import OrderModifyRejected
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.model.orders import Order as NautilusOrder

from nautilus_ext.errors import ErrorCode
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.chokepoint import ENDPOINT
from nautilus_ext.safety.chokepoint import GateChokepoint
from nautilus_ext.safety.decision import Rule

from .test_chokepoint_betting import KEY
from .test_chokepoint_betting import STRATEGY
from .test_chokepoint_betting import _instruments

REPO = Path(__file__).resolve().parents[3]
TRADER = TraderId("TESTER-001")


def _modify(order: NautilusOrder, *, odds: str | None = None, stake: str | None = None) -> ModifyOrder:
    return ModifyOrder(
        trader_id=TRADER,
        strategy_id=order.strategy_id,
        instrument_id=order.instrument_id,
        client_order_id=order.client_order_id,
        venue_order_id=None,
        quantity=None if stake is None else Quantity.from_str(stake),
        price=None if odds is None else Price.from_str(odds),
        trigger_price=None,
        command_id=UUID4(),
        ts_init=0,
    )


def test_worse_odds_are_refused_in_safe_mode_and_better_odds_pass() -> None:
    clock = TestClock()
    msgbus = MessageBus(TRADER, clock)
    cache = Cache()
    home, _, _ = _instruments()
    cache.add_instrument(home)
    forwarded: list[Any] = []
    processed: list[Any] = []
    msgbus.register(ENDPOINT, forwarded.append)
    msgbus.register("ExecEngine.process", processed.append)
    shipped = yaml.safe_load((REPO / "configs" / "safety" / "betfair.yaml").read_text())
    gate = SafetyGate(SafetyConfig.parse({**shipped, "mode": "BACKTEST"}), clock)
    chokepoint = GateChokepoint(gate, msgbus=msgbus, cache=cache, forward=forwarded.append)
    chokepoint.install()
    gate.on_market_data(KEY)
    gate.on_ws_message("BETFAIR")
    factory = OrderFactory(TRADER, StrategyId(STRATEGY), clock)
    lay = factory.limit(home.id, OrderSide.BUY, Quantity.from_str("2.00"), Price.from_str("2.50"))
    back = factory.limit(home.id, OrderSide.SELL, Quantity.from_str("2.00"), Price.from_str("2.50"))
    for order in (lay, back):
        cache.add_order(order)
    gate.halts.enter_safe(ErrorCode.SAFE_MODE, Rule.POSITION_MISMATCH, "drill")

    refused = [
        _modify(lay, odds="3.00"),  # LAY at higher odds: more liability
        _modify(back, odds="2.20"),  # BACK at lower odds: matches sooner
        _modify(lay, stake="4.00"),  # a bigger stake
    ]
    allowed = [
        _modify(lay, odds="2.40"),  # less liability
        _modify(back, odds="2.80"),  # further from matching
        _modify(back, stake="1.00"),  # a smaller stake
    ]
    for command in refused:
        msgbus.send(ENDPOINT, command)
    assert forwarded == []
    assert [type(e) for e in processed] == [OrderModifyRejected] * 3
    assert all(e.reason.startswith("SAFE_MODE: ") for e in processed), [e.reason for e in processed]
    for command in allowed:
        msgbus.send(ENDPOINT, command)
    assert forwarded == allowed
    assert len(chokepoint.denied) == 3
