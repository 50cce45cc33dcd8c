"""ccxt order books, trades and tickers -> Nautilus market data (pure functions)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from nautilus_trader.model.data import BookOrder
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.data import OrderBookDelta
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.instruments import Instrument

from nautilus_ext.adapters.ccxt.parsing.orders import ms_to_ns

Levels = dict[Decimal, Decimal]


def book_levels(book: dict[str, Any], depth: int) -> tuple[Levels, Levels]:
    """Return ``{price: size}`` for bids and asks of a ccxt order book (top ``depth``)."""
    bids = {Decimal(str(p)): Decimal(str(s)) for p, s, *_ in (book.get("bids") or [])[:depth]}
    asks = {Decimal(str(p)): Decimal(str(s)) for p, s, *_ in (book.get("asks") or [])[:depth]}
    return bids, asks


def _order(instrument: Instrument, side: OrderSide, price: Decimal, size: Decimal) -> BookOrder:
    return BookOrder(side, instrument.make_price(price), instrument.make_qty(size), 0)


def snapshot_deltas(
    instrument: Instrument,
    bids: Levels,
    asks: Levels,
    sequence: int,
    ts_event: int,
    ts_init: int,
) -> OrderBookDeltas:
    """Return a CLEAR followed by one ADD per level (Nautilus's snapshot convention)."""
    deltas = [OrderBookDelta.clear(instrument.id, sequence, ts_event, ts_init)]
    rows = [(OrderSide.BUY, p, s) for p, s in bids.items()]
    rows += [(OrderSide.SELL, p, s) for p, s in asks.items()]
    for i, (side, price, size) in enumerate(rows):
        flags = RecordFlag.F_SNAPSHOT | (RecordFlag.F_LAST if i == len(rows) - 1 else 0)
        deltas.append(
            OrderBookDelta(
                instrument.id,
                BookAction.ADD,
                _order(instrument, side, price, size),
                flags,
                sequence,
                ts_event,
                ts_init,
            )
        )
    return OrderBookDeltas(instrument.id, deltas)


def diff_deltas(
    instrument: Instrument,
    old: tuple[Levels, Levels],
    new: tuple[Levels, Levels],
    sequence: int,
    ts_event: int,
    ts_init: int,
) -> OrderBookDeltas | None:
    """Return the deltas turning ``old`` levels into ``new`` ones (``None`` if unchanged)."""
    rows: list[tuple[BookAction, OrderSide, Decimal, Decimal]] = []
    for side, before, after in ((OrderSide.BUY, old[0], new[0]), (OrderSide.SELL, old[1], new[1])):
        for price in sorted(before.keys() - after.keys()):
            rows.append((BookAction.DELETE, side, price, before[price]))
        for price, size in sorted(after.items()):
            if price not in before:
                rows.append((BookAction.ADD, side, price, size))
            elif before[price] != size:
                rows.append((BookAction.UPDATE, side, price, size))
    if not rows:
        return None
    deltas = [
        OrderBookDelta(
            instrument.id,
            action,
            _order(instrument, side, price, size),
            RecordFlag.F_LAST if i == len(rows) - 1 else 0,
            sequence,
            ts_event,
            ts_init,
        )
        for i, (action, side, price, size) in enumerate(rows)
    ]
    return OrderBookDeltas(instrument.id, deltas)


def quote_from_book(
    instrument: Instrument,
    bids: Levels,
    asks: Levels,
    ts_event: int,
    ts_init: int,
) -> QuoteTick | None:
    """Return the top-of-book quote (``None`` while either side is empty)."""
    if not bids or not asks:
        return None
    bid, ask = max(bids), min(asks)
    return QuoteTick(
        instrument.id,
        instrument.make_price(bid),
        instrument.make_price(ask),
        instrument.make_qty(bids[bid]),
        instrument.make_qty(asks[ask]),
        ts_event,
        ts_init,
    )


def trade_tick(instrument: Instrument, trade: dict[str, Any], ts_init: int) -> TradeTick:
    """Return the Nautilus trade tick of a ccxt public trade."""
    side = str(trade.get("side") or "").lower()
    aggressor = {"buy": AggressorSide.BUYER, "sell": AggressorSide.SELLER}.get(
        side, AggressorSide.NO_AGGRESSOR
    )
    return TradeTick(
        instrument.id,
        instrument.make_price(Decimal(str(trade["price"]))),
        instrument.make_qty(Decimal(str(trade["amount"]))),
        aggressor,
        TradeId(str(trade["id"])),
        ms_to_ns(trade.get("timestamp"), ts_init),
        ts_init,
    )


def mark_price(instrument: Instrument, ticker: dict[str, Any], ts_init: int) -> MarkPriceUpdate | None:
    """Return the mark price of a ccxt ticker (``None`` if the venue sent none)."""
    value = ticker.get("markPrice")
    info = ticker.get("info")
    if value is None and isinstance(info, dict):
        # ccxt leaves markPrice empty on some venues' streamed tickers (Hyperliquid's
        # activeAssetCtx carries it as markPx)
        value = info.get("markPx") or info.get("markPrice")
    if value is None:
        return None
    ts = ms_to_ns(ticker.get("timestamp"), ts_init)
    return MarkPriceUpdate(instrument.id, instrument.make_price(Decimal(str(value))), ts, ts_init)


def funding_rate(
    instrument: Instrument,
    funding: dict[str, Any],
    ts_init: int,
) -> FundingRateUpdate | None:
    """Return the funding rate of a ccxt funding-rate structure (``None`` if absent)."""
    rate = funding.get("fundingRate")
    if rate is None:
        return None
    next_ms = funding.get("nextFundingTimestamp") or funding.get("fundingTimestamp")
    interval = str(funding.get("interval") or "")
    minutes = int(interval[:-1]) * 60 if interval.endswith("h") and interval[:-1].isdigit() else None
    return FundingRateUpdate(
        instrument.id,
        Decimal(str(rate)),
        ms_to_ns(funding.get("timestamp"), ts_init),
        ts_init,
        interval=minutes,
        next_funding_ns=ms_to_ns(next_ms, 0) or None,
    )
