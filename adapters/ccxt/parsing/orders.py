"""ccxt orders, trades and positions -> Nautilus reports and enums (pure functions)."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.reports import FillReport
from nautilus_trader.execution.reports import OrderStatusReport
from nautilus_trader.execution.reports import PositionStatusReport
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import PositionSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Quantity

from nautilus_ext.adapters.ccxt.constants import VENUE_REJECT_CODES
from nautilus_ext.adapters.ccxt.parsing.instruments import currency

# ccxt unified order status -> Nautilus (partial fills are derived from filled > 0)
_STATUS: Final = {
    "open": OrderStatus.ACCEPTED,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}
_TIF_IN: Final = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "PO": TimeInForce.GTC,
}
TIF_OUT: Final = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK"}
# Venues whose client order id must be a 128-bit hex string (Hyperliquid's cloid)
HEX_CLIENT_ID_EXCHANGES: Final = frozenset({"hyperliquid"})
# Venues whose client order id is an unsigned 64-bit integer (GRVT, which asks API clients
# to use [2**63, 2**64 - 1] so their ids never meet its UI's)
UINT64_CLIENT_ID_EXCHANGES: Final = frozenset({"grvt"})
# Venues whose client order id must be 1-32 ASCII letters and digits (OKX's clOrdId)
ALNUM_CLIENT_ID_EXCHANGES: Final = frozenset({"okx"})
# Venues where ccxt does not map ``clientOrderId``: the venue's own parameter carries our id
# (Deribit's ``label``, up to 64 characters, echoed on orders and trades)
# (Coinbase: ccxt drops ``clientOrderId`` and sends a random ``ccxt-<uuid>``; the venue's own
# ``client_order_id`` overrides it, so a retried order keeps its id)
CLIENT_ID_PARAM: Final[dict[str, str]] = {"deribit": "label", "coinbase": "client_order_id"}
# Venues whose client order id is an unsigned 32-bit integer (Backpack's ``clientId``; ccxt
# reads ``clientOrderId`` with ``safe_integer`` and silently drops anything else)
UINT32_CLIENT_ID_EXCHANGES: Final = frozenset({"backpack"})
# Venues that do not refuse a reused client id (Deribit labels need not be unique; Backpack
# documents no uniqueness for ``clientId``): a request that may have reached the venue must be
# looked up before it is retried, or it doubles
NON_UNIQUE_CLIENT_ID_EXCHANGES: Final = frozenset({"deribit", "backpack"})


def rejection_reason(exchange_id: str, venue_order: dict[str, Any]) -> str:
    """
    Return the OrderRejected reason of an order ccxt reports ``rejected``: a taxonomy code
    (:data:`VENUE_REJECT_CODES`, else ``ORDER_REJECTED``) and the venue's own reason.
    """
    info = venue_order.get("info") or {}
    venue_reason = ""
    if isinstance(info, dict):
        venue_reason = str(info.get("rejectReason") or info.get("cancel_reason") or "")
    code = VENUE_REJECT_CODES.get(exchange_id, {}).get(venue_reason, "ORDER_REJECTED")
    return f"{code}: {venue_reason or 'rejected by venue'}"


def client_id_param(exchange_id: str) -> str:
    """Return the ccxt ``create_order`` parameter that carries the client order id."""
    return CLIENT_ID_PARAM.get(exchange_id, "clientOrderId")


def venue_client_id(exchange_id: str, client_order_id: ClientOrderId | str) -> str:
    """
    Return the client order id sent to the venue.

    Most venues take Nautilus's id as is. Hyperliquid needs ``0x`` + 32 hex digits: we use
    the first 128 bits of SHA-256 of the id, which is deterministic, so a retried or
    reconciled order maps to the same cloid. OKX takes up to 32 letters and digits: an id
    that already fits is sent as is, any other (Nautilus's ``O-...`` ids have hyphens) as the
    same 32 hex digits. Backpack takes an unsigned 32-bit integer: the first 32 bits of the same
    SHA-256, in decimal (two ids of one account collide with probability about n^2 / 2^33; the
    venue order id, known once acknowledged, is what later updates are matched on).
    GRVT takes an unsigned 64-bit integer: the top bit set and 63 bits of the same hash (GRVT
    asks API clients for [2**63, 2**64 - 1]).
    """
    text = str(client_order_id)
    if exchange_id in UINT64_CLIENT_ID_EXCHANGES:
        return str(2**63 | (int(hashlib.sha256(text.encode()).hexdigest()[:16], 16) >> 1))
    if exchange_id in UINT32_CLIENT_ID_EXCHANGES:
        return str(int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big"))
    if exchange_id in HEX_CLIENT_ID_EXCHANGES:
        return "0x" + hashlib.sha256(text.encode()).hexdigest()[:32]
    if exchange_id in ALNUM_CLIENT_ID_EXCHANGES and not (
        text.isascii() and text.isalnum() and len(text) <= 32
    ):
        return hashlib.sha256(text.encode()).hexdigest()[:32]
    return text


def edit_refusal(result: Any) -> str | None:
    """
    Return why the venue refused an edit that ccxt returned as an order, else ``None``.

    ccxt's Coinbase ``edit_order`` parses the response as an order without checking it: a
    refused edit (``{"success": false, "errors": [{"edit_failure_reason": ...}]}``) comes back
    as an order with no id, while the order is unchanged at the venue.
    """
    info = result.get("info") if isinstance(result, dict) else None
    if not isinstance(info, dict) or info.get("success") is not False:
        return None
    errors = info.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    return str(first.get("edit_failure_reason") or "edit refused by venue")


def ms_to_ns(value: Any, default: int) -> int:
    """Return nanoseconds from a ccxt millisecond timestamp (``default`` if missing)."""
    return int(value) * 1_000_000 if value is not None else default


def order_side(value: Any) -> OrderSide:
    """Return the Nautilus side of a ccxt side string."""
    return OrderSide.BUY if str(value).lower() == "buy" else OrderSide.SELL


def order_status(order: dict[str, Any]) -> OrderStatus:
    """Return the Nautilus status of a ccxt order (PARTIALLY_FILLED when open and filled)."""
    status = _STATUS.get(str(order.get("status") or "open"), OrderStatus.ACCEPTED)
    filled = Decimal(str(order.get("filled") or 0))
    if status is OrderStatus.ACCEPTED and filled > 0:
        return OrderStatus.PARTIALLY_FILLED
    if status is OrderStatus.CANCELED and filled > 0 and _is_fully_filled(order):
        return OrderStatus.FILLED
    return status


def _is_fully_filled(order: dict[str, Any]) -> bool:
    amount = order.get("amount")
    return amount is not None and Decimal(str(order.get("filled") or 0)) >= Decimal(str(amount))


def order_type(order: dict[str, Any]) -> OrderType:
    """Return the Nautilus order type of a ccxt order."""
    return OrderType.MARKET if str(order.get("type")).lower() == "market" else OrderType.LIMIT


def time_in_force(order: dict[str, Any]) -> TimeInForce:
    """Return the Nautilus time in force of a ccxt order (GTC if unknown)."""
    return _TIF_IN.get(str(order.get("timeInForce") or "GTC").upper(), TimeInForce.GTC)


def order_status_report(
    order: dict[str, Any],
    *,
    account_id: AccountId,
    instrument: Instrument,
    client_order_id: ClientOrderId | None,
    ts_init: int,
) -> OrderStatusReport:
    """Return the Nautilus order status report of a ccxt order."""
    amount = Decimal(str(order.get("amount") or 0))
    filled = Decimal(str(order.get("filled") or 0))
    ts_accepted = ms_to_ns(order.get("timestamp"), ts_init)
    ts_last = ms_to_ns(order.get("lastUpdateTimestamp") or order.get("timestamp"), ts_init)
    price = order.get("price")
    average = order.get("average")
    return OrderStatusReport(
        account_id=account_id,
        instrument_id=instrument.id,
        client_order_id=client_order_id,
        venue_order_id=VenueOrderId(str(order["id"])),
        order_side=order_side(order.get("side")),
        order_type=order_type(order),
        time_in_force=time_in_force(order),
        order_status=order_status(order),
        quantity=instrument.make_qty(amount),
        filled_qty=instrument.make_qty(filled),
        report_id=UUID4(),
        ts_accepted=ts_accepted,
        ts_last=ts_last,
        ts_init=ts_init,
        price=instrument.make_price(price) if price else None,
        avg_px=Decimal(str(average)) if average else None,
        post_only=bool(order.get("postOnly")),
        reduce_only=bool(order.get("reduceOnly")),
    )


def trade_commission(trade: dict[str, Any], instrument: Instrument) -> Money:
    """Return the fee of a ccxt trade (zero in the quote currency if the venue sent none)."""
    fee = trade.get("fee") or {}
    cost = fee.get("cost")
    code = fee.get("currency") or instrument.quote_currency.code
    return Money(Decimal(str(cost or 0)), currency(str(code)))


def liquidity_side(trade: dict[str, Any]) -> LiquiditySide:
    """Return maker/taker of a ccxt trade."""
    taker_or_maker = trade.get("takerOrMaker")
    if taker_or_maker == "maker":
        return LiquiditySide.MAKER
    if taker_or_maker == "taker":
        return LiquiditySide.TAKER
    return LiquiditySide.NO_LIQUIDITY_SIDE


def fill_report(
    trade: dict[str, Any],
    *,
    account_id: AccountId,
    instrument: Instrument,
    client_order_id: ClientOrderId | None,
    ts_init: int,
) -> FillReport:
    """Return the Nautilus fill report of a ccxt trade."""
    return FillReport(
        account_id=account_id,
        instrument_id=instrument.id,
        venue_order_id=VenueOrderId(str(trade.get("order"))),
        trade_id=TradeId(str(trade["id"])),
        order_side=order_side(trade.get("side")),
        last_qty=instrument.make_qty(Decimal(str(trade["amount"]))),
        last_px=instrument.make_price(Decimal(str(trade["price"]))),
        commission=trade_commission(trade, instrument),
        liquidity_side=liquidity_side(trade),
        report_id=UUID4(),
        ts_event=ms_to_ns(trade.get("timestamp"), ts_init),
        ts_init=ts_init,
        client_order_id=client_order_id,
    )


def position_status_report(
    position: dict[str, Any],
    *,
    account_id: AccountId,
    instrument_id: InstrumentId,
    size_precision: int,
    ts_init: int,
) -> PositionStatusReport:
    """Return the Nautilus position report of a ccxt position (FLAT for zero size)."""
    contracts = Decimal(str(position.get("contracts") or 0))
    side = str(position.get("side") or "").lower()
    if contracts == 0:
        position_side = PositionSide.FLAT
    else:
        position_side = PositionSide.LONG if side == "long" else PositionSide.SHORT
    entry = position.get("entryPrice")
    return PositionStatusReport(
        account_id=account_id,
        instrument_id=instrument_id,
        position_side=position_side,
        quantity=Quantity(abs(contracts), size_precision),
        report_id=UUID4(),
        ts_last=ms_to_ns(position.get("timestamp"), ts_init),
        ts_init=ts_init,
        avg_px_open=Decimal(str(entry)) if entry and contracts else None,
    )
