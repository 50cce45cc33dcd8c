"""Messages adapters publish for the layers above them, and the capability clients declare."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from typing import ClassVar

from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.component import TestClock
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.identifiers import Venue

from nautilus_ext.adapters.betfair import BetfairUrlExecutionClient
from nautilus_ext.adapters.ccxt import CcxtExecutionClient
from nautilus_ext.adapters.deribit import DeribitUrlExecutionClient
from nautilus_ext.messages import VENUE_POSITIONS_TOPIC
from nautilus_ext.messages import PublishesVenuePositions
from nautilus_ext.messages import VenuePositionSnapshot
from nautilus_ext.messages import fill_gap_topic
from nautilus_ext.messages import publish_venue_positions
from nautilus_ext.messages import publishes_venue_positions


def test_the_ccxt_client_declares_it_publishes_venue_positions_and_native_clients_do_not() -> None:
    assert CcxtExecutionClient.publishes_venue_positions is True
    assert getattr(BetfairUrlExecutionClient, "publishes_venue_positions", False) is False
    assert getattr(DeribitUrlExecutionClient, "publishes_venue_positions", False) is False


def test_the_capability_is_read_from_the_class_and_must_be_true() -> None:
    class Publishes:
        publishes_venue_positions: ClassVar[bool] = True

    class Claims:
        publishes_venue_positions = "yes"  # not the declared bool

    assert publishes_venue_positions(Publishes())
    assert isinstance(Publishes(), PublishesVenuePositions)
    assert not publishes_venue_positions(Claims())
    assert not publishes_venue_positions(object())


def test_a_snapshot_covers_every_watched_instrument_flat_ones_as_zero() -> None:
    msgbus = MessageBus(trader_id=TraderId("TESTER-001"), clock=TestClock())
    received: list[Any] = []
    msgbus.subscribe(VENUE_POSITIONS_TOPIC, received.append)
    btc = InstrumentId.from_str("BTCUSDT-LINEAR.BYBIT")
    eth = InstrumentId.from_str("ETHUSDT-LINEAR.BYBIT")
    snapshot = publish_venue_positions(msgbus, Venue("BYBIT"), {btc, eth}, {btc: Decimal("-0.5")}, 7)
    assert received == [snapshot]
    assert snapshot == VenuePositionSnapshot("BYBIT", {btc: Decimal("-0.5"), eth: Decimal(0)}, 7, "rest")
    assert fill_gap_topic("BYBIT") == "nautilus_ext.fill_gaps.BYBIT"
