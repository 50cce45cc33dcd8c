"""
The chokepoint with betting instruments: one position key per Betfair market (as fills are
counted), so the venue's per-selection positions are summed per key before they confirm.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import msgspec
import yaml
from betfair_parser.spec.betting.type_definitions import MarketCatalogue
from betfair_parser.spec.common import decode
from nautilus_trader.adapters.betfair.providers import make_instruments
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.component import TestClock
from nautilus_trader.common.factories import OrderFactory
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.currencies import Currency
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from nautilus_ext.messages import publish_venue_positions
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.chokepoint import ENDPOINT
from nautilus_ext.safety.chokepoint import GateChokepoint
from nautilus_ext_testkit.fake_betfair import FakeBetfairExchange
from nautilus_ext_testkit.fake_betfair import arsenal_liverpool_match_odds

STRATEGY = "S-BET-001"
REPO = Path(__file__).resolve().parents[3]
KEY = "FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL"


def _instruments() -> list:  # type: ignore[type-arg]
    exchange = FakeBetfairExchange()
    exchange.add_market(arsenal_liverpool_match_odds())
    catalogue = decode(msgspec.json.encode(exchange.catalogue("1.240000001")), type=MarketCatalogue)
    return make_instruments(catalogue, currency="GBP", ts_event=0, ts_init=0)


def test_selections_of_one_market_share_a_key_and_their_positions_are_summed() -> None:
    clock = TestClock()
    msgbus = MessageBus(TraderId("TESTER-001"), clock)
    cache = Cache()
    home, draw, away = _instruments()
    for instrument in (home, draw, away):
        cache.add_instrument(instrument)
    forwarded: list[object] = []
    msgbus.register(ENDPOINT, forwarded.append)
    shipped = yaml.safe_load((REPO / "configs" / "safety" / "betfair.yaml").read_text())
    gate = SafetyGate(SafetyConfig.parse({**shipped, "mode": "LIVE"}), clock)
    chokepoint = GateChokepoint(gate, msgbus=msgbus, cache=cache, forward=forwarded.append)
    chokepoint.install()
    assert {chokepoint.asset_for(i.id) for i in (home, draw, away)} == {KEY}
    # BACK 2 on HOME and BACK 2 on DRAW filled: NautilusTrader's SELLs, the gate's +2 each
    for n, instrument in enumerate((home, draw)):
        msgbus.publish(f"events.order.{STRATEGY}", _filled(instrument.id, f"f-{n}", OrderSide.SELL, "2"))
    assert gate.oms.position(KEY) == Decimal(4)
    assert gate.oms.dirty_since(KEY) is not None
    # the venue reports each selection in NautilusTrader's signs (a net BACK is short); AWAY is flat
    reported = {home.id: Decimal(-2), draw.id: Decimal(-2)}
    publish_venue_positions(msgbus, Venue("BETFAIR"), {away.id}, reported, clock.timestamp_ns())
    assert gate.oms.dirty_since(KEY) is None  # +4 on the venue = +4 from the fills
    assert gate.oms.position(KEY) == Decimal(4)


def test_in_safe_mode_a_lay_against_a_back_is_a_hedge_and_another_back_is_refused() -> None:
    clock = TestClock()
    msgbus = MessageBus(TraderId("TESTER-001"), clock)
    cache = Cache()
    home, _, _ = _instruments()
    cache.add_instrument(home)
    forwarded: list[object] = []
    msgbus.register(ENDPOINT, forwarded.append)
    shipped = yaml.safe_load((REPO / "configs" / "safety" / "betfair.yaml").read_text())
    gate = SafetyGate(SafetyConfig.parse({**shipped, "mode": "BACKTEST"}), clock)
    chokepoint = GateChokepoint(gate, msgbus=msgbus, cache=cache, forward=forwarded.append)
    chokepoint.install()
    msgbus.publish(f"events.order.{STRATEGY}", _filled(home.id, "f-1", OrderSide.SELL, "4"))  # BACK 4
    publish_venue_positions(msgbus, Venue("BETFAIR"), set(), {home.id: Decimal(-4)}, clock.timestamp_ns())
    assert (gate.oms.position(KEY), gate.oms.dirty_since(KEY)) == (Decimal(4), None)
    gate.on_market_data(KEY)
    gate.on_ws_message("BETFAIR")
    gate.kill("ops", None, "drill")
    factory = OrderFactory(TraderId("TESTER-001"), StrategyId(STRATEGY), clock)
    lay = factory.limit(home.id, OrderSide.BUY, Quantity.from_str("2.00"), Price.from_str("2.52"))
    back = factory.limit(home.id, OrderSide.SELL, Quantity.from_str("2.00"), Price.from_str("2.50"))
    assert chokepoint.judge(lay).allowed, chokepoint.judge(lay).reason
    refused = chokepoint.judge(back)
    assert not refused.allowed
    assert refused.reason.startswith("SAFE_MODE"), refused.reason


def _filled(instrument_id: InstrumentId, trade_id: str, side: OrderSide, qty: str) -> OrderFilled:
    return OrderFilled(
        trader_id=TraderId("TESTER-001"),
        strategy_id=StrategyId(STRATEGY),
        instrument_id=instrument_id,
        client_order_id=ClientOrderId(f"O-{trade_id}"),
        venue_order_id=VenueOrderId(f"V-{trade_id}"),
        account_id=AccountId("BETFAIR-001"),
        trade_id=TradeId(trade_id),
        position_id=None,
        order_side=side,
        order_type=OrderType.LIMIT,
        last_qty=Quantity.from_str(qty),
        last_px=Price.from_str("2.50"),
        currency=Currency.from_str("GBP"),
        commission=Money(0, Currency.from_str("GBP")),
        liquidity_side=LiquiditySide.TAKER,
        event_id=UUID4(),
        ts_event=0,
        ts_init=0,
    )


def test_a_market_bet_without_odds_is_refused_with_the_orders_own_reason() -> None:
    # a direct MARKET order on a runner: a bet needs odds, so the unified Order refuses it
    # (INVALID_ORDER naming the field), the door denies it and nothing is forwarded
    clock = TestClock()
    msgbus = MessageBus(TraderId("TESTER-001"), clock)
    cache = Cache()
    home, _, _ = _instruments()
    cache.add_instrument(home)
    forwarded: list[object] = []
    msgbus.register(ENDPOINT, forwarded.append)
    shipped = yaml.safe_load((REPO / "configs" / "safety" / "betfair.yaml").read_text())
    gate = SafetyGate(SafetyConfig.parse({**shipped, "mode": "BACKTEST"}), clock)
    chokepoint = GateChokepoint(gate, msgbus=msgbus, cache=cache, forward=forwarded.append)
    chokepoint.install()
    factory = OrderFactory(TraderId("TESTER-001"), StrategyId(STRATEGY), clock)
    market = factory.market(home.id, OrderSide.SELL, Quantity.from_str("2.00"))
    refused = chokepoint.judge(market)
    assert not refused.allowed
    assert refused.reason.startswith("INVALID_ORDER"), refused.reason
    assert "odds" in refused.reason
    assert forwarded == []
