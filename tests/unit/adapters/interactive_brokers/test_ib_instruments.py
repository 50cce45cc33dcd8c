"""Instruments as NautilusTrader's IB adapter builds them map to canonical keys (registered or not)."""

from __future__ import annotations

import pandas as pd
from nautilus_trader.model.enums import AssetClass
from nautilus_trader.model.enums import OptionKind
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.instruments import FuturesContract
from nautilus_trader.model.instruments import OptionContract
from nautilus_trader.model.objects import Currency
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from nautilus_ext.adapters.symbology import key_for_instrument
from nautilus_ext.instruments.registry import InstrumentRegistry


def _ns(day: str) -> int:
    return pd.Timestamp(f"{day} 22:00", tz="UTC").value


def _future(raw: str, expiry: str) -> FuturesContract:
    # the IB adapter's shape: MIC venue, raw symbol = IB local symbol, empty underlying
    return FuturesContract(
        instrument_id=InstrumentId.from_str(f"{raw}.XCME"),
        raw_symbol=Symbol(raw),
        asset_class=AssetClass.EQUITY,
        currency=Currency.from_str("USD"),
        price_precision=2,
        price_increment=Price.from_str("0.25"),
        multiplier=Quantity.from_int(50),
        lot_size=Quantity.from_int(1),
        underlying="",
        activation_ns=0,
        expiration_ns=_ns(expiry),
        ts_event=0,
        ts_init=0,
    )


def test_an_unregistered_ib_future_gets_its_key_from_the_raw_symbol() -> None:
    registry = InstrumentRegistry.default()
    assert (
        str(key_for_instrument(_future("ESZ6", "2026-12-18"), registry)) == "CME:FUTURE:SP500-USD-261218@LIN"
    )
    assert (
        str(key_for_instrument(_future("ESZ4", "2024-12-20"), registry)) == "CME:FUTURE:SP500-USD-241220@LIN"
    )


def test_an_ib_option_maps_through_its_underlying_future() -> None:
    option = OptionContract(
        instrument_id=InstrumentId.from_str("ESZ6 C5000.XCME"),
        raw_symbol=Symbol("ESZ6 C5000"),
        asset_class=AssetClass.INDEX,
        currency=Currency.from_str("USD"),
        price_precision=2,
        price_increment=Price.from_str("0.05"),
        multiplier=Quantity.from_int(50),
        lot_size=Quantity.from_int(1),
        underlying="ESZ6",
        option_kind=OptionKind.CALL,
        strike_price=Price.from_str("5000.00"),
        activation_ns=0,
        expiration_ns=_ns("2026-12-18"),
        ts_event=0,
        ts_init=0,
    )
    key = key_for_instrument(option, InstrumentRegistry.default())
    assert str(key) == "CME:OPTION:SP500-USD-261218-5000-CALL@LIN"
