"""
Coinbase Advanced Trade wire shapes (REST ``/api/v3/brokerage/...``, the ``/v2`` currency
endpoints ccxt reads at start, and the WebSocket channels), built from engine state.

Field names and enums follow the Advanced Trade API reference
(https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/) and the samples quoted in
ccxt's own parsers (``parse_spot_market``, ``parse_order``, ``parse_trade``,
``parse_custom_balance``, ``parse_ws_order`` in ccxt 4.5.90), which parse these payloads
unmodified. Times are RFC 3339 with microseconds and a ``Z``, as Coinbase writes them.
"""

from __future__ import annotations

import uuid
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_ext_testkit.fake_exchange.engine import EngineFill
from nautilus_ext_testkit.fake_exchange.engine import EngineOrder
from nautilus_ext_testkit.fake_exchange.engine import MarketSpec
from nautilus_ext_testkit.fake_exchange.engine import OrderStatus
from nautilus_ext_testkit.fake_exchange.engine import Side
from nautilus_ext_testkit.fake_exchange.engine import TimeInForce

USER: Final = "USER"
USER_ID: Final = "a1b2c3d4-0000-4000-8000-00000000f00d"
PORTFOLIO_ID: Final = "b2c3d4e5-0000-4000-8000-00000000beef"
FIAT_CURRENCIES: Final = frozenset({"USD", "EUR", "GBP"})
_STATUS: Final = {
    OrderStatus.NEW: "OPEN",
    OrderStatus.PARTIALLY_FILLED: "OPEN",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELLED",
    OrderStatus.REJECTED: "FAILED",
}
_TIF: Final = {
    TimeInForce.GTC: "GOOD_UNTIL_CANCELLED",
    TimeInForce.POST_ONLY: "GOOD_UNTIL_CANCELLED",
    TimeInForce.IOC: "IMMEDIATE_OR_CANCEL",
    TimeInForce.FOK: "FILL_OR_KILL",
}


def dec_str(value: Decimal | None) -> str:
    """Return a plain decimal string without exponent or trailing zeros ('' for ``None``)."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def rfc3339(ms: int) -> str:
    """Return Coinbase's timestamp format for Unix milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def account_uuid(currency: str) -> str:
    """Return the stable account uuid of the user's wallet in ``currency``."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fake-coinbase/{USER_ID}/{currency}"))


def product_dict(spec: MarketSpec, price: Decimal) -> dict[str, Any]:
    """Return one ``products`` row (List Public Products)."""
    return {
        "product_id": spec.symbol,
        "price": dec_str(price),
        "price_percentage_change_24h": "0",
        "volume_24h": "0",
        "volume_percentage_change_24h": "0",
        "base_increment": dec_str(spec.qty_step),
        "quote_increment": dec_str(spec.tick_size),
        "quote_min_size": "1",
        "quote_max_size": "150000000",
        "base_min_size": dec_str(spec.min_qty),
        "base_max_size": "3400",
        "base_name": spec.base,
        "quote_name": spec.quote,
        "watched": False,
        "is_disabled": False,
        "new": False,
        "status": "online",
        "cancel_only": False,
        "limit_only": False,
        "post_only": False,
        "trading_disabled": False,
        "auction_mode": False,
        "product_type": "SPOT",
        "quote_currency_id": spec.quote,
        "base_currency_id": spec.base,
        "fcm_trading_session_details": None,
        "mid_market_price": "",
        "alias": "",
        "alias_to": [],
        "base_display_symbol": spec.base,
        "quote_display_symbol": spec.quote,
        "view_only": False,
        "price_increment": dec_str(spec.tick_size),
        "display_name": f"{spec.base}-{spec.quote}",
        "product_venue": "CBE",
        "approximate_quote_24h_volume": "0",
    }


def order_configuration(order: EngineOrder, post_only: bool) -> dict[str, Any]:
    """Return the ``order_configuration`` of an order, keyed the way it was placed."""
    base_size = dec_str(order.qty)
    if order.order_type == "market":
        return {"market_market_ioc": {"base_size": base_size}}
    price = dec_str(order.price)
    if order.tif is TimeInForce.IOC:
        return {"sor_limit_ioc": {"base_size": base_size, "limit_price": price}}
    if order.tif is TimeInForce.FOK:
        return {"limit_limit_fok": {"base_size": base_size, "limit_price": price}}
    return {"limit_limit_gtc": {"base_size": base_size, "limit_price": price, "post_only": post_only}}


def order_dict(order: EngineOrder, *, post_only: bool, edits: list[dict[str, Any]]) -> dict[str, Any]:
    """Return one historical order (Get Order / List Orders)."""
    avg = order.avg_price
    filled_value = order.notional_filled
    status = _STATUS[order.status]
    pct = order.filled / order.qty * 100 if order.qty else Decimal(0)
    return {
        "order_id": order.order_id,
        "product_id": order.symbol,
        "user_id": USER_ID,
        "order_configuration": order_configuration(order, post_only),
        "side": "BUY" if order.side is Side.BUY else "SELL",
        "client_order_id": order.client_id,
        "status": status,
        "time_in_force": _TIF[order.tif] if order.order_type == "limit" else "IMMEDIATE_OR_CANCEL",
        "created_time": rfc3339(order.created_ms),
        "completion_percentage": dec_str(pct.quantize(Decimal("0.01"))),
        "filled_size": dec_str(order.filled),
        "average_filled_price": dec_str(avg) if avg is not None else "0",
        "fee": "",
        "number_of_fills": "0",
        "filled_value": dec_str(filled_value),
        "pending_cancel": False,
        "size_in_quote": False,
        "total_fees": dec_str(order.fee_paid),
        "size_inclusive_of_fees": False,
        "total_value_after_fees": dec_str(
            filled_value + order.fee_paid if order.side is Side.BUY else filled_value - order.fee_paid
        ),
        "trigger_status": "INVALID_ORDER_TYPE",
        "order_type": "MARKET" if order.order_type == "market" else "LIMIT",
        "reject_reason": "REJECT_REASON_UNSPECIFIED",
        "settled": not order.is_open,
        "product_type": "SPOT",
        "reject_message": "",
        "cancel_message": "User requested cancel" if order.cancel_reason == "CANCEL_BY_USER" else "",
        "order_placement_source": "RETAIL_ADVANCED",
        "outstanding_hold_amount": "0",
        "is_liquidation": False,
        "last_fill_time": None,
        "edit_history": edits,
        "leverage": "",
        "margin_type": "UNKNOWN_MARGIN_TYPE",
        "retail_portfolio_id": PORTFOLIO_ID,
    }


def ws_order_dict(order: EngineOrder, *, post_only: bool) -> dict[str, Any]:
    """Return one order of the ``user`` channel."""
    avg = order.avg_price
    return {
        "avg_price": dec_str(avg) if avg is not None else "0",
        "cancel_reason": "User requested cancel" if order.cancel_reason == "CANCEL_BY_USER" else "",
        "client_order_id": order.client_id,
        "completion_percentage": dec_str((order.filled / order.qty * 100).quantize(Decimal("0.01"))),
        "contract_expiry_type": "UNKNOWN_CONTRACT_EXPIRY_TYPE",
        "cumulative_quantity": dec_str(order.filled),
        "filled_value": dec_str(order.notional_filled),
        "leaves_quantity": dec_str(order.leaves),
        "limit_price": dec_str(order.price) if order.price is not None else "0",
        "number_of_fills": "0",
        "order_id": order.order_id,
        "order_side": "BUY" if order.side is Side.BUY else "SELL",
        "order_type": "Market" if order.order_type == "market" else "Limit",
        "outstanding_hold_amount": "0",
        "post_only": "true" if post_only else "false",
        "product_id": order.symbol,
        "product_type": "SPOT",
        "reject_Reason": "",
        "retail_portfolio_id": PORTFOLIO_ID,
        "risk_managed_by": "UNKNOWN_RISK_MANAGEMENT_TYPE",
        "status": _STATUS[order.status],
        "stop_price": "",
        "time_in_force": _TIF[order.tif] if order.order_type == "limit" else "IMMEDIATE_OR_CANCEL",
        "total_fees": dec_str(order.fee_paid),
        "total_value_after_fees": dec_str(order.notional_filled + order.fee_paid),
        "trigger_status": "INVALID_ORDER_TYPE",
        "creation_time": rfc3339(order.created_ms),
        "end_time": "0001-01-01T00:00:00Z",
        "start_time": "0001-01-01T00:00:00Z",
    }


def fill_dict(fill: EngineFill) -> dict[str, Any]:
    """Return one row of List Fills (the account's own executions)."""
    return {
        "entry_id": fill.exec_id,
        "trade_id": fill.exec_id,
        "order_id": fill.order_id,
        "trade_time": rfc3339(fill.ts_ms),
        "trade_type": "FILL",
        "price": dec_str(fill.price),
        "size": dec_str(fill.qty),
        "commission": dec_str(fill.fee),
        "product_id": fill.symbol,
        "sequence_timestamp": rfc3339(fill.ts_ms),
        "liquidity_indicator": "MAKER" if fill.is_maker else "TAKER",
        "size_in_quote": False,
        "user_id": USER_ID,
        "side": "BUY" if fill.side is Side.BUY else "SELL",
        "retail_portfolio_id": PORTFOLIO_ID,
    }


def account_dict(currency: str, available: Decimal, hold: Decimal, created_ms: int) -> dict[str, Any]:
    """Return one wallet of List Accounts."""
    return {
        "uuid": account_uuid(currency),
        "name": f"{currency} Wallet",
        "currency": currency,
        "available_balance": {"value": dec_str(available), "currency": currency},
        "default": True,
        "active": True,
        "created_at": rfc3339(created_ms),
        "updated_at": rfc3339(created_ms),
        "deleted_at": None,
        "type": "ACCOUNT_TYPE_FIAT" if currency in FIAT_CURRENCIES else "ACCOUNT_TYPE_CRYPTO",
        "ready": True,
        "hold": {"value": dec_str(hold), "currency": currency},
        "retail_portfolio_id": PORTFOLIO_ID,
    }


def fee_tier(spec: MarketSpec) -> dict[str, Any]:
    """Return ``transaction_summary``'s ``fee_tier`` for the account's (single) tier."""
    return {
        "pricing_tier": "Advanced 1",
        "usd_from": "0",
        "usd_to": "1000",
        "taker_fee_rate": dec_str(spec.taker_fee),
        "maker_fee_rate": dec_str(spec.maker_fee),
        "aop_from": "",
        "aop_to": "",
    }


def fiat_currency_rows(codes: list[str]) -> list[dict[str, Any]]:
    """Return ``/v2/currencies`` rows."""
    names = {"USD": "US Dollar", "EUR": "Euro", "GBP": "British Pound"}
    return [{"id": c, "name": names.get(c, c), "min_size": "0.01"} for c in codes]


def crypto_currency_rows(codes: list[str]) -> list[dict[str, Any]]:
    """Return ``/v2/currencies/crypto`` rows."""
    names = {"BTC": "Bitcoin", "ETH": "Ethereum", "SOL": "Solana"}
    return [
        {
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"fake-coinbase/asset/{c}")),
            "code": c,
            "name": names.get(c, c),
            "color": "#F7931A",
            "sort_index": i,
            "exponent": 8,
            "type": "crypto",
            "address_regex": "^.+$",
        }
        for i, c in enumerate(codes)
    ]


def error_response(error: str, message: str, preview_reason: str, details: str = "") -> dict[str, Any]:
    """Return Create Order's refusal body (HTTP 200, ``success: false``)."""
    return {
        "success": False,
        "failure_reason": "UNKNOWN_FAILURE_REASON",
        "order_id": "",
        "error_response": {
            "error": error,
            "message": message,
            "error_details": details,
            "preview_failure_reason": preview_reason,
            "new_order_failure_reason": "UNKNOWN_FAILURE_REASON",
        },
    }
