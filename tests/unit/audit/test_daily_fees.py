"""The daily summary nets fees paid in the quote asset of the instrument's canonical key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from nautilus_ext.audit import Side
from nautilus_ext.audit.reports import quote_asset_of
from nautilus_ext.audit.reports import summarize_day

DAY = date(2024, 1, 2)
D = Decimal
LINEAR = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
INVERSE = "DERIBIT:PERPETUAL:BTC-USD@INV"


def test_quote_asset_of_canonical_keys_only() -> None:
    assert quote_asset_of(LINEAR) == "USDT"
    assert quote_asset_of(INVERSE) == "USD"
    assert quote_asset_of("BTCUSDT-PERP.BINANCE") is None


def test_fees_in_the_intents_quote_asset_are_netted_others_listed_apart(events: Any) -> None:
    day_events = [
        events.intent(id="I-1", asset=LINEAR),
        events.fill(
            id="F-1",
            asset="BTCUSDT-PERP.BINANCE",
            side=Side.BUY,
            qty=D(1),
            price=D(100),
            fees=D("0.5"),
            fee_currency="USDT",
            order_id="O-1",
            intent_id="I-1",
        ),
        events.fill(
            id="F-2",
            asset="BTCUSDT-PERP.BINANCE",
            side=Side.SELL,
            qty=D(1),
            price=D(110),
            fees=D("0.25"),
            fee_currency="USDT",
            order_id="O-1",
            intent_id="I-1",
        ),
        events.intent(id="I-2", asset=INVERSE),
        events.fill(
            id="F-3",
            asset=INVERSE,
            side=Side.BUY,
            qty=D(1),
            price=D(100),
            fees=D("0.0001"),
            fee_currency="BTC",
            order_id="O-2",
            intent_id="I-2",
        ),
    ]
    summary = summarize_day(day_events, DAY)
    assert summary.gross_pnl == D(10)
    assert summary.net_pnl == D("9.25")
    assert summary.other_currency_fees == {"BTC": D("0.0001")}
