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
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.identifiers import Venue

from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.chokepoint import ENDPOINT
from nautilus_ext.safety.chokepoint import GateChokepoint
from nautilus_ext.safety.chokepoint import publish_venue_positions
from nautilus_ext.safety.oms import Fill
from nautilus_ext.testing.fake_betfair import FakeBetfairExchange
from nautilus_ext.testing.fake_betfair import arsenal_liverpool_match_odds

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
    # BACK 2 on HOME and BACK 2 on DRAW filled (NautilusTrader's SELL: negative)
    gate.on_fill(Fill(fill_id="f-1", venue="BETFAIR", asset=KEY, quantity=Decimal(-2)))
    gate.on_fill(Fill(fill_id="f-2", venue="BETFAIR", asset=KEY, quantity=Decimal(-2)))
    assert gate.oms.dirty_since(KEY) is not None
    # the venue reports each selection; AWAY is flat
    reported = {home.id: Decimal(-2), draw.id: Decimal(-2)}
    publish_venue_positions(msgbus, Venue("BETFAIR"), {away.id}, reported, clock.timestamp_ns())
    assert gate.oms.dirty_since(KEY) is None  # -4 on the venue = -4 from the fills
    assert gate.oms.position(KEY) == Decimal(-4)
