"""A bet executes as a limit at its odds (never as a market order); other orders at their price."""

from __future__ import annotations

from decimal import Decimal

from nautilus_ext.execution.order_builder import limit_of
from nautilus_ext.orders import Order

MATCH = "FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL"


def _bet(**extra: object) -> Order:
    return Order(
        operation_id="b-1",
        operation="bet",
        instrument_key=MATCH,
        side="LAY",
        selection="DRAW",
        odds=Decimal("3.45"),
        amount=Decimal(2),
        **extra,
    )


def test_a_bet_without_price_executes_at_its_odds() -> None:
    assert limit_of(_bet()) == Decimal("3.45")
    assert limit_of(_bet(price=Decimal("3.4"))) == Decimal("3.4")  # an explicit price wins


def test_other_orders_keep_their_price_or_none() -> None:
    trade = Order(
        operation_id="t-1",
        operation="trade",
        instrument_key="BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN",
        venue="BINANCE-FUTURES",
        side="BUY",
        amount=Decimal("0.1"),
    )
    assert limit_of(trade) is None
    assert limit_of(trade.model_copy(update={"price": Decimal(50_000)})) == Decimal(50_000)
