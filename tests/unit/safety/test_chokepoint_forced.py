"""
The chokepoint counts a venue's ADL or liquidation (an adapter's ForcedReduction) in the running
sum, once, so the venue's smaller position confirms instead of disagreeing for ever.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import yaml
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.component import TestClock
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.test_kit.providers import TestInstrumentProvider

from nautilus_ext.messages import ForcedReduction
from nautilus_ext.messages import forced_reduction_topic
from nautilus_ext.messages import publish_venue_positions
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.chokepoint import ENDPOINT
from nautilus_ext.safety.chokepoint import GateChokepoint
from nautilus_ext.safety.oms import Fill

REPO = Path(__file__).resolve().parents[3]


def test_a_forced_reduction_counts_once_in_the_running_sum() -> None:
    clock = TestClock()
    msgbus = MessageBus(TraderId("TESTER-001"), clock)
    cache = Cache()
    instrument = TestInstrumentProvider.btcusdt_perp_binance()
    cache.add_instrument(instrument)
    forwarded: list[object] = []
    msgbus.register(ENDPOINT, forwarded.append)
    shipped = yaml.safe_load((REPO / "configs" / "safety" / "funding_carry.yaml").read_text())
    gate = SafetyGate(SafetyConfig.parse({**shipped, "mode": "LIVE"}), clock)
    chokepoint = GateChokepoint(gate, msgbus=msgbus, cache=cache, forward=forwarded.append)
    chokepoint.install()
    asset = chokepoint.asset_for(instrument.id)
    gate.on_fill(Fill(fill_id="t-1", venue="BINANCE", asset=asset, quantity=Decimal("0.1")))
    publish_venue_positions(msgbus, Venue("BINANCE"), set(), {instrument.id: Decimal("0.1")}, 0)
    assert gate.oms.dirty_since(asset) is None

    def adl(quantity: str, side: str = "SELL") -> ForcedReduction:
        return ForcedReduction(
            venue="BINANCE",
            instrument_id=instrument.id,
            kind="ADL",
            side=side,
            quantity=Decimal(quantity),
            price=Decimal(50_000),
            venue_order_id="8887001",
            ts_ns=1,
        )

    msgbus.publish(forced_reduction_topic("BINANCE"), adl("0.04"))
    msgbus.publish(forced_reduction_topic("BINANCE"), adl("0.04"))  # the same venue order again
    assert gate.oms.position(asset) == Decimal("0.06")
    # the venue's smaller position now confirms the running sum
    publish_venue_positions(msgbus, Venue("BINANCE"), set(), {instrument.id: Decimal("0.06")}, 2)
    assert gate.oms.dirty_since(asset) is None
    assert gate.safe is None
    # no quantity or no side: nothing to count
    msgbus.publish(forced_reduction_topic("BINANCE"), adl("0", "SELL"))
    msgbus.publish(forced_reduction_topic("BINANCE"), adl("0.01", ""))
    assert gate.oms.position(asset) == Decimal("0.06")
    chokepoint.uninstall()
    msgbus.publish(forced_reduction_topic("BINANCE"), adl("0.01"))
    assert gate.oms.position(asset) == Decimal("0.06")
