"""
Backpack Exchange wire shapes and request authentication for the fake exchange.

Field names follow Backpack's API docs (https://docs.backpack.exchange/) and the payloads
ccxt 4.5.90 parses (``ccxt/backpack.py`` ``parse_market``/``parse_order``/``parse_trade``/
``parse_position``/``parse_balance``, ``ccxt/pro/backpack.py`` ``parse_ws_*``): symbols such as
``BTC_USDC_PERP``, sides ``Bid``/``Ask``, decimal strings, REST times in milliseconds (history
rows as ISO-8601 UTC without a zone, as Backpack prints them) and stream times in microseconds.
Trade ids are numbered per market from 1 (Backpack's are "sequential ... for the symbol"), so
the same id appears in different markets.

Authentication (docs, "Authentication"): every private request carries ``X-API-Key`` (the
base64 ED25519 public key), ``X-Timestamp`` (ms), ``X-Window`` (ms, default 5000, at most
60000) and ``X-Signature``: the base64 ED25519 signature of
``instruction=<instruction>&<params sorted by key as k=v joined by &>&timestamp=<ts>&window=<w>``
where the parameters are the query string (GET) or the JSON body (POST/DELETE). Private
stream subscriptions sign ``instruction=subscribe&timestamp=<ts>&window=<w>``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import Any
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.serialization import PublicFormat

from nautilus_ext_testkit.fake_exchange.engine import EngineFill
from nautilus_ext_testkit.fake_exchange.engine import EngineOrder
from nautilus_ext_testkit.fake_exchange.engine import EnginePosition
from nautilus_ext_testkit.fake_exchange.engine import MarketSpec
from nautilus_ext_testkit.fake_exchange.engine import OrderStatus
from nautilus_ext_testkit.fake_exchange.engine import RejectReason
from nautilus_ext_testkit.fake_exchange.engine import Side

# A throwaway ED25519 seed (never registered anywhere) and its keys: the fake's default account.
# ccxt takes the base64 seed as ``secret`` and the base64 public key as ``apiKey``.
TEST_SEED: Final = bytes(range(1, 33))
TEST_API_SECRET: Final = base64.b64encode(TEST_SEED).decode()
TEST_API_KEY: Final = base64.b64encode(
    Ed25519PrivateKey.from_private_bytes(TEST_SEED).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
).decode()

USER: Final = "USER"
USER_ID: Final = 1_813_870
# Backpack order ids are large decimal strings; engine order n is ORDER_ID_BASE + n here
ORDER_ID_BASE: Final = 111_000_000_000
DEFAULT_WINDOW_MS: Final = 5_000
MAX_WINDOW_MS: Final = 60_000
# the instruction each signed (path, method) must name (docs, and ccxt's options.instructions)
INSTRUCTIONS: Final[dict[tuple[str, str], str]] = {
    ("/api/v1/capital", "GET"): "balanceQuery",
    ("/api/v1/capital/collateral", "GET"): "collateralQuery",
    ("/api/v1/account", "GET"): "accountQuery",
    ("/api/v1/position", "GET"): "positionQuery",
    ("/api/v1/order", "GET"): "orderQuery",
    ("/api/v1/order", "POST"): "orderExecute",
    ("/api/v1/order", "DELETE"): "orderCancel",
    ("/api/v1/orders", "GET"): "orderQueryAll",
    ("/api/v1/orders", "DELETE"): "orderCancelAll",
    ("/wapi/v1/history/orders", "GET"): "orderHistoryQueryAll",
    ("/wapi/v1/history/fills", "GET"): "fillHistoryQueryAll",
    ("/wapi/v1/history/funding", "GET"): "fundingHistoryQueryAll",
}
SUBSCRIBE_INSTRUCTION: Final = "subscribe"

# Refusals of order entry: (HTTP status, Backpack error code, message). The codes are the ones
# ccxt's backpack exception table lists; the messages are the fake's own wording unless noted.
ORDER_ERRORS: Final[dict[RejectReason, tuple[int, str, str]]] = {
    RejectReason.INVALID_QUANTITY: (400, "INVALID_QUANTITY", "Quantity is invalid for this market"),
    RejectReason.INVALID_PRICE: (400, "INVALID_PRICE", "Price is invalid for this market"),
    RejectReason.INSUFFICIENT_BALANCE: (400, "INSUFFICIENT_MARGIN", "Insufficient margin"),
    # Backpack's text for a post-only order that would cross
    RejectReason.POST_ONLY_WOULD_TAKE: (400, "INVALID_ORDER", "Order would immediately match and take."),
    RejectReason.REDUCE_ONLY_INCREASES: (
        400,
        "INVALID_ORDER",
        "Reduce only order would not reduce the position",
    ),
    RejectReason.ORDER_NOT_FOUND: (404, "RESOURCE_NOT_FOUND", "Order not found"),
    RejectReason.INJECTED: (400, "INVALID_ORDER", "Order rejected by fake exchange fault injection"),
}
# An unknown symbol fails request parsing before any business rule: a plain-text 400
# (the text ccxt's backpack module quotes)
INVALID_SYMBOL_TEXT: Final = (
    'Bad Request parse request payload error: failed to parse "MarketSymbol": Invalid market '
    'symbol (occurred while parsing "OrderExecutePayload")'
)
_STATUS: Final = {
    OrderStatus.NEW: "New",
    OrderStatus.PARTIALLY_FILLED: "PartiallyFilled",
    OrderStatus.FILLED: "Filled",
    OrderStatus.REJECTED: "Cancelled",
}
# engine cancel reasons that Backpack reports as an expiry (IOC/FOK leftovers), not a cancel
EXPIRY_REASONS: Final = frozenset({"EXPIRED_IOC", str(RejectReason.FOK_NOT_FILLABLE)})


class AuthError(Exception):
    """A private request or subscription Backpack would refuse (HTTP status and body)."""

    def __init__(self, status: int, code: str | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, str]:
        """Return Backpack's JSON error body."""
        return {"code": self.code or "UNAUTHORIZED", "message": self.message}


@dataclass(frozen=True)
class SignedRequest:
    """The authentication headers of one private request."""

    api_key: str
    signature: str
    timestamp: str
    window: str


def signing_string(instruction: str, params: dict[str, Any], timestamp: str, window: str) -> str:
    """Return the text Backpack signs for ``instruction`` with ``params`` (sorted by key)."""
    parts = [f"instruction={instruction}"]
    parts += [f"{k}={_param(v)}" for k, v in sorted(params.items())]
    parts += [f"timestamp={timestamp}", f"window={window}"]
    return "&".join(parts)


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def sign(seed_b64: str, message: str) -> str:
    """Return the base64 ED25519 signature of ``message`` by the base64 32-byte ``seed_b64``."""
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed_b64)[:32])
    return base64.b64encode(key.sign(message.encode())).decode()


def verify(
    signed: SignedRequest,
    *,
    registered_key: str,
    instruction: str,
    params: dict[str, Any],
    now_ms: int,
) -> None:
    """
    Check a private request as Backpack does.

    Raises
    ------
    AuthError
        Unknown key (401 ``UNAUTHORIZED``), a window above 60 s (400
        ``INVALID_CLIENT_REQUEST``), a timestamp outside the window (401, plain text
        ``Request has expired``, as Backpack answers) or a signature that does not verify
        against the registered public key (401 ``INVALID_SIGNATURE``).
    """
    if not signed.api_key or signed.api_key != registered_key:
        raise AuthError(401, "UNAUTHORIZED", "API key is not registered")
    try:
        timestamp = int(signed.timestamp)
        window = int(signed.window or DEFAULT_WINDOW_MS)
    except ValueError:
        raise AuthError(400, "INVALID_CLIENT_REQUEST", "Invalid timestamp or window") from None
    if not 0 < window <= MAX_WINDOW_MS:
        raise AuthError(400, "INVALID_CLIENT_REQUEST", f"Window must be at most {MAX_WINDOW_MS}")
    # the venue refuses a request older than its window; the fake also refuses one further
    # ahead of its clock than the window (a clock-skew guard, not confirmed from the venue)
    if abs(now_ms - timestamp) > window:
        raise AuthError(401, None, "Request has expired")
    message = signing_string(instruction, params, signed.timestamp, signed.window or str(DEFAULT_WINDOW_MS))
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(registered_key))
        public.verify(base64.b64decode(signed.signature), message.encode())
    except (InvalidSignature, ValueError, binascii.Error):
        raise AuthError(401, "INVALID_SIGNATURE", "Invalid signature") from None


# -- formatting -----------------------------------------------------------------------------


def dec(value: Decimal | None) -> str | None:
    """Return a decimal string without exponent or trailing zeros (``None`` stays ``None``)."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def iso_ms(ms: int) -> str:
    """Return Backpack's history timestamp: ISO-8601 UTC with milliseconds and no zone."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def wire_side(side: Side) -> str:
    """Return ``Bid`` or ``Ask``."""
    return "Bid" if side is Side.BUY else "Ask"


def venue_order_id(engine_order_id: str) -> str:
    """Return the Backpack order id of an engine order id (``00000007-fake`` -> ``111000000007``)."""
    return str(ORDER_ID_BASE + int(engine_order_id.split("-", 1)[0]))


def engine_order_id(order_id: Any) -> str | None:
    """Return the engine order id of a Backpack order id (``None`` if it is not one of ours)."""
    try:
        n = int(str(order_id)) - ORDER_ID_BASE
    except ValueError:
        return None
    return f"{n:08d}-fake" if n > 0 else None


def match_key(trade_or_exec_id: str) -> str:
    """Return the engine's match id of a public trade id or a fill's exec id (``T00000012-M``)."""
    return trade_or_exec_id.split("-", 1)[0]


def order_status(order: EngineOrder) -> str:
    """Return Backpack's order status (``Expired`` for IOC/FOK leftovers)."""
    if order.status is OrderStatus.CANCELED:
        return "Expired" if order.cancel_reason in EXPIRY_REASONS else "Cancelled"
    return _STATUS[order.status]


# -- REST shapes ------------------------------------------------------------------------------


def market(spec: MarketSpec) -> dict[str, Any]:
    """Return a ``GET /api/v1/markets`` row of a perpetual."""
    return {
        "baseSymbol": spec.base,
        "createdAt": "2025-01-01T00:00:00",
        "filters": {
            "price": {
                "borrowEntryFeeMaxMultiplier": None,
                "borrowEntryFeeMinMultiplier": None,
                "maxImpactMultiplier": "1.03",
                "maxMultiplier": "1.25",
                "maxPrice": None,
                "meanMarkPriceBand": {"maxMultiplier": "1.15", "minMultiplier": "0.9"},
                "meanPremiumBand": None,
                "minImpactMultiplier": "0.97",
                "minMultiplier": "0.75",
                "minPrice": dec(spec.tick_size),
                "tickSize": dec(spec.tick_size),
            },
            "quantity": {
                "maxQuantity": None,
                "minQuantity": dec(spec.min_qty),
                "stepSize": dec(spec.qty_step),
            },
        },
        "fundingInterval": "3600000",
        "fundingRateLowerBound": "-100",
        "fundingRateUpperBound": "100",
        "imfFunction": {"base": "0.02", "factor": "0.0001275", "type": "sqrt"},
        "marketType": "PERP",
        "mmfFunction": {"base": "0.0125", "factor": "0.0000765", "type": "sqrt"},
        "openInterestLimit": "4000000",
        "orderBookState": "Open",
        "quoteSymbol": spec.quote,
        "symbol": spec.symbol,
    }


def asset(symbol: str, blockchain: str) -> dict[str, Any]:
    """Return a ``GET /api/v1/assets`` row."""
    return {
        "coingeckoId": None,
        "displayName": symbol,
        "symbol": symbol,
        "tokens": [
            {
                "blockchain": blockchain,
                "contractAddress": None,
                "depositEnabled": True,
                "displayName": symbol,
                "maximumWithdrawal": None,
                "minimumDeposit": "0.0001",
                "minimumWithdrawal": "0.0001",
                "withdrawEnabled": True,
                "withdrawalFee": "0.0001",
            }
        ],
    }


def order(o: EngineOrder, client_id: int | None, *, history: bool = False) -> dict[str, Any]:
    """Return an order as ``/api/v1/order`` prints it (with ``history``: as the order history does)."""
    row: dict[str, Any] = {
        "clientId": client_id,
        "createdAt": iso_ms(o.created_ms) if history else o.created_ms,
        "executedQuantity": dec(o.filled),
        "executedQuoteQuantity": dec(o.notional_filled),
        "id": venue_order_id(o.order_id),
        "orderType": "Limit" if o.order_type == "limit" else "Market",
        "postOnly": o.tif.value == "POST_ONLY",
        "price": dec(o.price),
        "quantity": dec(o.qty),
        "reduceOnly": o.reduce_only or None,
        "relatedOrderId": None,
        "selfTradePrevention": "RejectTaker",
        "side": wire_side(o.side),
        "status": order_status(o),
        "stopLossLimitPrice": None,
        "stopLossTriggerBy": None,
        "stopLossTriggerPrice": None,
        "strategyId": None,
        "symbol": o.symbol,
        "systemOrderType": None,
        "takeProfitLimitPrice": None,
        "takeProfitTriggerBy": None,
        "takeProfitTriggerPrice": None,
        "timeInForce": "GTC" if o.tif.value == "POST_ONLY" else o.tif.value,
        "triggerBy": None,
        "triggerPrice": None,
        "triggerQuantity": None,
        "triggeredAt": None,
    }
    if history:
        row["expiryReason"] = "ImmediateOrCancel" if o.cancel_reason in EXPIRY_REASONS else None
    return row


def fill(f: EngineFill, client_id: int | None, trade_id: int) -> dict[str, Any]:
    """Return a ``GET /wapi/v1/history/fills`` row."""
    return {
        "clientId": None if client_id is None else str(client_id),
        "fee": dec(f.fee),
        "feeSymbol": "USDC",
        "isMaker": f.is_maker,
        "orderId": venue_order_id(f.order_id),
        "price": dec(f.price),
        "quantity": dec(f.qty),
        "side": wire_side(f.side),
        "symbol": f.symbol,
        "systemOrderType": None,
        "timestamp": iso_ms(f.ts_ms),
        "tradeId": trade_id,
    }


def exposure(pos: EnginePosition, open_orders: list[EngineOrder]) -> Decimal:
    """
    Return the net exposure quantity Backpack reports: the position including open orders.

    Backpack documents ``netExposureQuantity`` as the exposure "including open orders"; the fake
    takes the larger of the long and short exposures the resting orders could create.
    """
    bids = sum((o.leaves for o in open_orders if o.side is Side.BUY), Decimal(0))
    asks = sum((o.leaves for o in open_orders if o.side is Side.SELL), Decimal(0))
    return max(abs(pos.qty + bids), abs(pos.qty - asks))


def position(
    pos: EnginePosition, mark: Decimal, open_orders: list[EngineOrder], position_id: str
) -> dict[str, Any]:
    """Return a ``GET /api/v1/position`` row (``netQuantity`` signed, ``netCost`` signed)."""
    exposure_qty = exposure(pos, open_orders)
    return {
        "breakEvenPrice": dec(pos.avg_price),
        "cumulativeFundingPayment": "0",
        "cumulativeInterest": "0",
        "entryPrice": dec(pos.avg_price),
        "estLiquidationPrice": "0",
        "imf": "0.02",
        "imfFunction": {"base": "0.02", "factor": "0.0001275", "type": "sqrt"},
        "markPrice": dec(mark),
        "mmf": "0.0125",
        "mmfFunction": {"base": "0.0125", "factor": "0.0000765", "type": "sqrt"},
        "netCost": dec(pos.qty * pos.avg_price),
        "netExposureNotional": dec(exposure_qty * mark),
        "netExposureQuantity": dec(exposure_qty),
        "netQuantity": dec(pos.qty),
        "pnlRealized": dec(pos.realized_pnl),
        "pnlUnrealized": dec(pos.qty * (mark - pos.avg_price)),
        "positionId": position_id,
        "subaccountId": None,
        "symbol": pos.symbol,
        "userId": USER_ID,
    }


# -- stream shapes ----------------------------------------------------------------------------


def order_event(
    event: str,
    o: EngineOrder,
    client_id: int | None,
    now_us: int,
    f: EngineFill | None = None,
    trade_id: int | None = None,
) -> dict[str, Any]:
    """Return an ``account.orderUpdate`` event (``l``/``L``/``t``/``m``/``n``/``N`` only on fills)."""
    data: dict[str, Any] = {
        "e": event,
        "E": now_us,
        "s": o.symbol,
        "S": wire_side(o.side),
        "o": "LIMIT" if o.order_type == "limit" else "MARKET",
        "f": "GTC" if o.tif.value == "POST_ONLY" else o.tif.value,
        "q": dec(o.qty),
        "X": order_status(o),
        "i": venue_order_id(o.order_id),
        "z": dec(o.filled),
        "Z": dec(o.notional_filled),
        "V": "RejectTaker",
        "T": now_us,
        "O": "USER",
    }
    if client_id is not None:
        data["c"] = client_id
    if o.price is not None:
        data["p"] = dec(o.price)
    if o.tif.value == "POST_ONLY":
        data["y"] = True
    if event == "orderExpired":
        data["R"] = "IMMEDIATE_OR_CANCEL" if o.cancel_reason == "EXPIRED_IOC" else "FILL_OR_KILL"
    if f is not None:
        data.update(
            {
                "t": trade_id,
                "l": dec(f.qty),
                "L": dec(f.price),
                "m": f.is_maker,
                "n": dec(f.fee),
                "N": "USDC",
                "T": f.ts_ms * 1000,
            }
        )
    return data


def position_event(
    event: str | None,
    pos: EnginePosition,
    mark: Decimal,
    open_orders: list[EngineOrder],
    position_id: str,
    now_us: int,
) -> dict[str, Any]:
    """Return an ``account.positionUpdate`` event (no ``e`` in the snapshot sent on subscribe)."""
    exposure_qty = exposure(pos, open_orders)
    data: dict[str, Any] = {
        "E": now_us,
        "s": pos.symbol,
        "b": dec(pos.avg_price),
        "B": dec(pos.avg_price),
        "f": "0.02",
        "M": dec(mark),
        "m": "0.0125",
        "q": dec(pos.qty),
        "Q": dec(exposure_qty),
        "n": dec(exposure_qty * mark),
        "i": position_id,
        "p": dec(pos.realized_pnl),
        "P": dec(pos.qty * (mark - pos.avg_price)),
        "T": now_us,
    }
    if event is not None:
        data["e"] = event
    return data
