"""
GRVT wire pieces of the fake exchange, free of I/O: EIP-712 typed data and signer recovery,
the session cookie, GRVT's error payloads and its instrument, order, fill and position shapes.

Sources: GRVT's API docs (https://api-docs.grvt.io: "Authentication", ``schemas/order``,
``schemas/order_metadata``, the error-code table) and ccxt 4.5.90's ``grvt.py`` (which signs
what the venue verifies: ``eip_definitions``, ``eip_message_for_order``, ``create_signed_request``).

* Every order carries an EIP-712 signature of ``Order`` (or ``OrderWithBuilderFee``) under the
  domain ``GRVT Exchange`` / version ``0`` / chain id 325 (mainnet; 326 testnet), without a
  verifying contract. Leg sizes are integers in units of ``10**-base_decimals`` (9 for every
  perpetual), limit prices in units of ``10**-9``, the asset id is the instrument hash, the
  nonce a ``uint32`` and the expiration unix nanoseconds.
* A wallet signs in with ``WalletLogin{signer, nonce, expiration}`` under the same domain.
* Errors are ``{"code": int, "message": str, "status": http_status}``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from typing import Final

from eth_account import Account
from eth_account.messages import encode_typed_data

from nautilus_ext_testkit.fake_exchange.engine import EngineFill
from nautilus_ext_testkit.fake_exchange.engine import EngineOrder
from nautilus_ext_testkit.fake_exchange.engine import EnginePosition
from nautilus_ext_testkit.fake_exchange.engine import MarketSpec
from nautilus_ext_testkit.fake_exchange.engine import OrderStatus
from nautilus_ext_testkit.fake_exchange.engine import RejectReason
from nautilus_ext_testkit.fake_exchange.engine import Side
from nautilus_ext_testkit.fake_exchange.engine import TimeInForce

# A throwaway key (never funded anywhere) and its address: the fake's default GRVT wallet,
# which is also the registered trading key of its sub-account. Distinct from the other venues'
# test keys so a signature made for one venue fails on another.
TEST_PRIVATE_KEY: Final = "0x" + "33" * 32
TEST_WALLET: Final = str(Account.from_key(TEST_PRIVATE_KEY).address).lower()
TEST_SUB_ACCOUNT: Final = "1234567890123456"
TEST_API_KEY: Final = "2WYgf9fKibj9wUB1mMb9BpMgFZn"

MAINNET_CHAIN_ID: Final = 325
TESTNET_CHAIN_ID: Final = 326
DOMAIN_NAME: Final = "GRVT Exchange"
PRICE_MULTIPLIER: Final = 10**9
BASE_DECIMALS: Final = 9
QUOTE_DECIMALS: Final = 6
# GRVT refuses order signatures valid for longer than 30 days (error 2008)
MAX_SIGNATURE_NS: Final = 30 * 86_400 * 10**9
SESSION_COOKIE: Final = "gravity"
SESSION_SECS: Final = 86_400  # API-key and wallet sessions last one day
BUILDER_FEE_MULTIPLIER: Final = 10_000

TIF_CODES: Final[dict[str, int]] = {
    "GOOD_TILL_TIME": 1,
    "ALL_OR_NONE": 2,
    "IMMEDIATE_OR_CANCEL": 3,
    "FILL_OR_KILL": 4,
    "RETAIL_PRICE_IMPROVEMENT": 5,
}
TIF_IN: Final[dict[str, TimeInForce]] = {
    "GOOD_TILL_TIME": TimeInForce.GTC,
    "IMMEDIATE_OR_CANCEL": TimeInForce.IOC,
    "FILL_OR_KILL": TimeInForce.FOK,
}
_HEX64: Final = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")

_DOMAIN_TYPE: Final = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
]
_LEG_TYPE: Final = [
    {"name": "assetID", "type": "uint256"},
    {"name": "contractSize", "type": "uint64"},
    {"name": "limitPrice", "type": "uint64"},
    {"name": "isBuyingContract", "type": "bool"},
]
_ORDER_HEAD: Final = [
    {"name": "subAccountID", "type": "uint64"},
    {"name": "isMarket", "type": "bool"},
    {"name": "timeInForce", "type": "uint8"},
    {"name": "postOnly", "type": "bool"},
    {"name": "reduceOnly", "type": "bool"},
    {"name": "legs", "type": "OrderLeg[]"},
]
_ORDER_TAIL: Final = [{"name": "nonce", "type": "uint32"}, {"name": "expiration", "type": "int64"}]
_BUILDER: Final = [{"name": "builder", "type": "address"}, {"name": "builderFee", "type": "uint32"}]
_WALLET_LOGIN: Final = [
    {"name": "signer", "type": "address"},
    {"name": "nonce", "type": "uint32"},
    {"name": "expiration", "type": "int64"},
]


@dataclass(frozen=True)
class GrvtError:
    """One of GRVT's error payloads (``code`` as in ccxt's and GRVT's tables)."""

    status: int
    code: int
    message: str

    def body(self) -> dict[str, Any]:
        """Return the JSON body GRVT sends."""
        return {"code": self.code, "message": self.message, "status": self.status}


NOT_AUTHENTICATED: Final = GrvtError(401, 1000, "You need to authenticate prior to using this functionality")
NOT_AUTHORIZED: Final = GrvtError(403, 1001, "You are not authorized to access this functionality")
MALFORMED: Final = GrvtError(400, 1003, "Request could not be processed due to malformed syntax")
NOT_FOUND: Final = GrvtError(404, 1004, "Data Not Found")
RATE_LIMITED: Final = GrvtError(429, 1006, "You have surpassed the allocated rate limit for your tier")
BAD_CHAIN_ID: Final = GrvtError(400, 1012, "Invalid signature chain ID")
UNAUTHORIZED_SIGNER: Final = GrvtError(403, 2000, "Signature is from an unauthorized signer")
SIGNATURE_EXPIRED: Final = GrvtError(400, 2001, "Signature has expired")
SIGNATURE_MISMATCH: Final = GrvtError(400, 2002, "Signature does not match payload")
WRONG_SUB_ACCOUNT: Final = GrvtError(403, 2003, "Order sub account does not match logged in user")
BAD_V: Final = GrvtError(400, 2005, "Signature V must be 27/28")
BAD_RS: Final = GrvtError(400, 2006, "Signature R/S must have exactly 64 characters long without 0x prefix")
TOO_LONG: Final = GrvtError(400, 2008, "Signature exceeds maximum allowed duration.")
NO_CLIENT_ID: Final = GrvtError(400, 2011, "Client Order ID should be supplied when creating an order")
CLIENT_ID_OVERLAP: Final = GrvtError(400, 2012, "Client Order ID overlaps with existing active order")
MARKET_WITH_PRICE: Final = GrvtError(400, 2020, "Market Order must always be supplied without a limit price")
LIMIT_WITHOUT_PRICE: Final = GrvtError(400, 2021, "Limit Order must always be supplied with a limit price")
BAD_TIF: Final = GrvtError(400, 2030, "Orderbook Orders must have a TimeInForce of GTT/IOC/FOK")
POST_ONLY_TIF: Final = GrvtError(400, 2032, "Post Only can only be set to true for GTT/AON orders")
ONE_LEG: Final = GrvtError(400, 2042, "Orderbook Orders must contain only one leg")
UNSUPPORTED_INSTRUMENT: Final = GrvtError(400, 2061, "Unsupported Instrument Requested")
BELOW_MIN_SIZE: Final = GrvtError(400, 2062, "Order size smaller than min size")
BAD_TICK: Final = GrvtError(400, 2064, "Invalid limit price tick")
TOO_GRANULAR: Final = GrvtError(400, 2065, "Order size too granular")
INSUFFICIENT_MARGIN: Final = GrvtError(400, 2080, "Insufficient margin to create order")
PRE_ORDER_CHECK: Final = GrvtError(400, 2082, "Pre-order check failed")
REDUCE_ONLY_NO_POSITION: Final = GrvtError(400, 2400, "Reduce only order with no position")
REDUCE_ONLY_INCREASES: Final = GrvtError(400, 2401, "Reduce only order must not increase position size")
ORDER_ID_REQUIRED: Final = GrvtError(400, 3021, "Either order ID or client order ID must be supplied")

# Engine refusals at entry -> GRVT's synchronous errors (post-only and FOK refusals are
# order states instead: REJECTED/FAIL_POST_ONLY and CANCELLED/FOK_CANCEL)
ENGINE_REJECTS: Final[dict[RejectReason, GrvtError]] = {
    RejectReason.UNKNOWN_SYMBOL: UNSUPPORTED_INSTRUMENT,
    RejectReason.INVALID_PRICE: BAD_TICK,
    RejectReason.INSUFFICIENT_BALANCE: INSUFFICIENT_MARGIN,
    RejectReason.REDUCE_ONLY_INCREASES: REDUCE_ONLY_INCREASES,
    RejectReason.DUPLICATE_CLIENT_ID: CLIENT_ID_OVERLAP,
    RejectReason.INJECTED: PRE_ORDER_CHECK,
}


def s(value: Decimal | None) -> str:
    """Return GRVT's decimal text (always with a fractional part: ``"0.0"``, ``"50000.1"``)."""
    if value is None:
        return "0.0"
    text = format(value.normalize(), "f")
    return text if "." in text else text + ".0"


def ns(ms: int) -> str:
    """Return unix nanoseconds (GRVT's timestamps) as text from milliseconds."""
    return str(ms * 1_000_000)


# -- signatures ------------------------------------------------------------------------------


def domain(chain_id: int = MAINNET_CHAIN_ID) -> dict[str, Any]:
    """Return GRVT's EIP-712 domain."""
    return {"name": DOMAIN_NAME, "version": "0", "chainId": chain_id}


def order_typed_data(
    message: dict[str, Any], *, builder: bool, chain_id: int = MAINNET_CHAIN_ID
) -> dict[str, Any]:
    """Return the typed data of an ``Order`` (``OrderWithBuilderFee`` with ``builder``) message."""
    primary = "OrderWithBuilderFee" if builder else "Order"
    fields = _ORDER_HEAD + (_BUILDER if builder else []) + _ORDER_TAIL
    return {
        "domain": domain(chain_id),
        "types": {"EIP712Domain": _DOMAIN_TYPE, primary: fields, "OrderLeg": _LEG_TYPE},
        "primaryType": primary,
        "message": message,
    }


def login_typed_data(
    signer: str, nonce: int, expiration: int, chain_id: int = MAINNET_CHAIN_ID
) -> dict[str, Any]:
    """Return the typed data of a ``WalletLogin`` message."""
    return {
        "domain": domain(chain_id),
        "types": {"EIP712Domain": _DOMAIN_TYPE, "WalletLogin": _WALLET_LOGIN},
        "primaryType": "WalletLogin",
        "message": {"signer": signer, "nonce": nonce, "expiration": expiration},
    }


def units(text: str, multiplier: int) -> int:
    """Return ``text`` (a decimal string) times ``multiplier`` as an exact integer."""
    value = Decimal(text) * multiplier
    if value != value.to_integral_value():
        raise ValueError(f"{text} is finer than 1/{multiplier}")
    return int(value)


def order_message(order: dict[str, Any], instrument_hash: dict[str, str], *, builder: bool) -> dict[str, Any]:
    """
    Return the EIP-712 message a GRVT order's signature covers, rebuilt from its JSON.

    Raises
    ------
    KeyError, ValueError, TypeError
        If a field is missing or malformed (GRVT answers 1003).
    """
    sig = order["signature"]
    legs = []
    for leg in order["legs"]:
        price = leg.get("limit_price")
        legs.append(
            {
                "assetID": int(instrument_hash[str(leg["instrument"])], 16),
                "contractSize": units(str(leg["size"]), 10**BASE_DECIMALS),
                "limitPrice": units(str(price), PRICE_MULTIPLIER) if price not in (None, "", "0") else 0,
                "isBuyingContract": bool(leg["is_buying_asset"]),
            }
        )
    message: dict[str, Any] = {
        "subAccountID": int(order["sub_account_id"]),
        "isMarket": bool(order.get("is_market", False)),
        "timeInForce": TIF_CODES.get(str(order.get("time_in_force")), 0),
        "postOnly": bool(order.get("post_only", False)),
        "reduceOnly": bool(order.get("reduce_only", False)),
        "legs": legs,
        "nonce": int(sig["nonce"]),
        "expiration": int(sig["expiration"]),
    }
    if builder:
        message["builder"] = str(order["builder"])
        message["builderFee"] = int(Decimal(str(order["builder_fee"])) * BUILDER_FEE_MULTIPLIER)
    return message


def signature_shape_error(sig: dict[str, Any]) -> GrvtError | None:
    """Return GRVT's refusal of a malformed ``r``/``s``/``v``, or ``None``."""
    try:
        v = int(sig.get("v", 0))
    except (TypeError, ValueError):
        return BAD_V
    if v not in (27, 28):
        return BAD_V
    if not all(_HEX64.match(str(sig.get(k, ""))) for k in ("r", "s")):
        return BAD_RS
    return None


def recover(typed: dict[str, Any], sig: dict[str, Any]) -> str | None:
    """Return the (lower-case) address that signed ``typed``, or ``None`` for a junk signature."""
    try:
        vrs = (int(sig["v"]), int(str(sig["r"]), 16), int(str(sig["s"]), 16))
        address = Account.recover_message(encode_typed_data(full_message=typed), vrs=vrs)
    except Exception:  # eth_keys raises BadSignature/ValidationError on junk
        return None
    return str(address).lower()


def sign_typed(private_key: str, typed: dict[str, Any]) -> dict[str, Any]:
    """Return ``{r, s, v}`` for typed data (a reference signer for tests)."""
    signed = Account.sign_message(encode_typed_data(full_message=typed), private_key)
    return {"r": f"0x{signed.r:064x}", "s": f"0x{signed.s:064x}", "v": signed.v}


def new_session_token() -> str:
    """Return a fresh opaque session token (the ``gravity`` cookie's value)."""
    return secrets.token_urlsafe(32)


# -- payloads --------------------------------------------------------------------------------


def default_grvt_markets() -> list[MarketSpec]:
    """Return BTC_USDT_Perp and ETH_USDT_Perp with GRVT's increments and fees (-0.01%/0.045%)."""
    maker, taker = Decimal("-0.0001"), Decimal("0.00045")
    return [
        MarketSpec(
            "BTC_USDT_Perp",
            "BTC",
            "USDT",
            Decimal("0.1"),
            Decimal("0.001"),
            Decimal("0.001"),
            maker_fee=maker,
            taker_fee=taker,
            max_leverage=50,
        ),
        MarketSpec(
            "ETH_USDT_Perp",
            "ETH",
            "USDT",
            Decimal("0.01"),
            Decimal("0.01"),
            Decimal("0.01"),
            maker_fee=maker,
            taker_fee=taker,
            max_leverage=50,
        ),
    ]


def instrument_dict(spec: MarketSpec, instrument_hash: str, created_ns: int) -> dict[str, Any]:
    """Return one ``full/v1/all_instruments`` entry."""
    return {
        "instrument": spec.symbol,
        "instrument_hash": instrument_hash,
        "base": spec.base,
        "quote": spec.quote,
        "kind": "PERPETUAL",
        "venues": ["ORDERBOOK", "RFQ"],
        "settlement_period": "PERPETUAL",
        "base_decimals": BASE_DECIMALS,
        "quote_decimals": QUOTE_DECIMALS,
        "tick_size": s(spec.tick_size),
        "min_size": s(spec.min_qty),
        "create_time": str(created_ns),
        "max_position_size": "1000.0",
        "funding_interval_hours": 8,
        "adjusted_funding_rate_cap": "0.3",
        "adjusted_funding_rate_floor": "-0.3",
        "min_notional": "1.0",
    }


_ORDER_STATUS: Final = {
    OrderStatus.NEW: "OPEN",
    OrderStatus.PARTIALLY_FILLED: "OPEN",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELLED",
    OrderStatus.REJECTED: "REJECTED",
}
_TIF_OUT: Final = {v: k for k, v in TIF_IN.items()}


def order_state(order: EngineOrder) -> tuple[str, str]:
    """Return GRVT's ``(status, reject_reason)`` of an engine order."""
    if order.status is OrderStatus.CANCELED:
        reason = order.cancel_reason
        if reason == RejectReason.POST_ONLY_WOULD_TAKE:
            return "REJECTED", "FAIL_POST_ONLY"
        if reason == RejectReason.FOK_NOT_FILLABLE or order.tif is TimeInForce.FOK:
            return "CANCELLED", "FOK_CANCEL"
        if reason == "CANCEL_BY_USER":
            return "CANCELLED", "CLIENT_CANCEL"
        return "CANCELLED", "MARKET_CANCEL" if order.order_type == "market" else "IOC_CANCEL"
    return _ORDER_STATUS[order.status], "UNSPECIFIED"


@dataclass(frozen=True)
class OrderEcho:
    """The signed, client-supplied part of an order, echoed back in every order payload."""

    sub_account_id: str
    time_in_force: str
    post_only: bool
    is_market: bool
    signature: dict[str, Any]
    builder: str
    builder_fee: str


def order_dict(
    order: EngineOrder, order_id: str, echo: OrderEcho, *, pending: bool = False
) -> dict[str, Any]:
    """Return an order in GRVT's ``Order`` shape (``pending``: as ``create_order`` answers)."""
    status, reason = ("PENDING", "UNSPECIFIED") if pending else order_state(order)
    filled = Decimal(0) if pending else order.filled
    book = order.qty if pending else order.leaves
    return {
        "order_id": "0x00" if pending else order_id,
        "sub_account_id": echo.sub_account_id,
        "is_market": echo.is_market,
        "time_in_force": echo.time_in_force,
        "post_only": echo.post_only,
        "reduce_only": order.reduce_only,
        "legs": [
            {
                "instrument": order.symbol,
                "size": s(order.qty),
                "limit_price": s(order.price) if order.price is not None else "0.0",
                "is_buying_asset": order.side is Side.BUY,
            }
        ],
        "signature": echo.signature,
        "metadata": {
            "client_order_id": order.client_id,
            "create_time": ns(order.created_ms),
            "trigger": {
                "trigger_type": "UNSPECIFIED",
                "tpsl": {"trigger_by": "UNSPECIFIED", "trigger_price": "0.0", "close_position": False},
            },
            "broker": "UNSPECIFIED",
            "is_position_transfer": False,
            "allow_crossing": False,
        },
        "state": {
            "status": status,
            "reject_reason": reason,
            "book_size": [s(book)],
            "traded_size": [s(filled)],
            "update_time": ns(order.created_ms if pending else order.updated_ms),
            "avg_fill_price": [s(None if pending else order.avg_price)],
        },
        "builder": echo.builder,
        "builder_fee": echo.builder_fee,
    }


def fill_dict(
    fill: EngineFill, order_id: str, sub_account_id: str, signer: str, mark: Decimal
) -> dict[str, Any]:
    """Return a fill in GRVT's ``fill_history`` / ``v1.fill`` shape."""
    return {
        "event_time": ns(fill.ts_ms),
        "sub_account_id": sub_account_id,
        "instrument": fill.symbol,
        "is_buyer": fill.side is Side.BUY,
        "is_taker": not fill.is_maker,
        "size": s(fill.qty),
        "price": s(fill.price),
        "mark_price": s(mark),
        "index_price": s(mark),
        "interest_rate": "0.0",
        "forward_price": "0.0",
        "realized_pnl": "0.0",
        "fee": s(fill.fee),
        "fee_rate": s(fill.fee_rate * 100),  # GRVT quotes fee rates in percent
        "trade_id": f"{fill.seq}-1",
        "order_id": order_id,
        "venue": "ORDERBOOK",
        "is_liquidation": False,
        "client_order_id": fill.client_id,
        "signer": signer,
        "broker": "UNSPECIFIED",
        "is_rpi": False,
        "builder": "0x00",
        "builder_fee_rate": "0.0",
        "builder_fee": "0",
    }


def public_trade_dict(
    instrument: str,
    trade_id: str,
    buyer_taker: bool,
    size: Decimal,
    price: Decimal,
    ts_ms: int,
    mark: Decimal,
) -> dict[str, Any]:
    """Return a public trade in GRVT's ``trade_history`` / ``v1.trade`` shape."""
    return {
        "event_time": ns(ts_ms),
        "instrument": instrument,
        "is_taker_buyer": buyer_taker,
        "size": s(size),
        "price": s(price),
        "mark_price": s(mark),
        "index_price": s(mark),
        "interest_rate": "0.0",
        "forward_price": "0.0",
        "trade_id": trade_id,
        "venue": "ORDERBOOK",
        "is_rpi": False,
    }


def position_dict(
    sub_account_id: str, pos: EnginePosition, mark: Decimal, leverage: Decimal, now_ms: int
) -> dict[str, Any]:
    """Return a position in GRVT's ``positions`` / ``v1.position`` shape (signed ``size``)."""
    upnl = pos.qty * (mark - pos.avg_price)
    return {
        "event_time": ns(now_ms),
        "sub_account_id": sub_account_id,
        "instrument": pos.symbol,
        "size": s(pos.qty),
        "notional": s(pos.qty * mark),
        "entry_price": s(pos.avg_price if pos.qty else Decimal(0)),
        "exit_price": "0.0",
        "mark_price": s(mark),
        "unrealized_pnl": s(upnl),
        "realized_pnl": s(pos.realized_pnl),
        "total_pnl": s(upnl + pos.realized_pnl),
        "roi": "0.0",
        "quote_index_price": "1.0",
        "est_liquidation_price": "0.0",
        "leverage": s(leverage),
        "cumulative_fee": "0.0",
        "cumulative_realized_funding_payment": "0.0",
        "margin_type": "CROSS",
    }


def ticker_dict(
    instrument: str,
    now_ms: int,
    best_bid: tuple[Decimal, Decimal] | None,
    best_ask: tuple[Decimal, Decimal] | None,
    mark: Decimal,
    last: tuple[Decimal, Decimal] | None,
    funding_rate: Decimal,
) -> dict[str, Any]:
    """Return a ticker in GRVT's ``ticker`` / ``v1.ticker.s`` shape (``last``: price, size)."""
    funding = s(funding_rate * 100)  # GRVT quotes funding rates in percent
    return {
        "event_time": ns(now_ms),
        "instrument": instrument,
        "mark_price": s(mark),
        "index_price": s(mark),
        "last_price": s(last[0] if last else mark),
        "last_size": s(last[1] if last else Decimal(0)),
        "mid_price": s(mark),
        "best_bid_price": s(best_bid[0] if best_bid else None),
        "best_bid_size": s(best_bid[1] if best_bid else None),
        "best_ask_price": s(best_ask[0] if best_ask else None),
        "best_ask_size": s(best_ask[1] if best_ask else None),
        "funding_rate_8h_curr": funding,
        "funding_rate_8h_avg": funding,
        "interest_rate": "0.0",
        "forward_price": "0.0",
        "buy_volume_24h_b": "0.0",
        "sell_volume_24h_b": "0.0",
        "buy_volume_24h_q": "0.0",
        "sell_volume_24h_q": "0.0",
        "high_price": s(mark),
        "low_price": s(mark),
        "open_price": s(mark),
        "open_interest": "0.0",
        "long_short_ratio": "1.0",
        "funding_rate": funding,
        "funding_interval_hours": 8,
        "next_funding_time": str((now_ms // 28_800_000 + 1) * 28_800_000 * 1_000_000),
    }


def subscribed(request_id: Any, stream: str, selectors: list[str]) -> dict[str, Any]:
    """Return GRVT's JSON-RPC answer to a ``subscribe``."""
    return {
        "jsonrpc": "2.0",
        "result": {
            "stream": stream,
            "subs": selectors,
            "unsubs": [],
            "num_snapshots": [1 for _ in selectors],
            "first_sequence_number": ["0" for _ in selectors],
            "latest_sequence_number": ["0" for _ in selectors],
        },
        "id": request_id,
        "method": "subscribe",
    }


def ws_error(request_id: Any, method: str, code: int, message: str) -> dict[str, Any]:
    """Return GRVT's JSON-RPC error (``{"error": {"code", "message"}}``)."""
    return {"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": request_id, "method": method}
