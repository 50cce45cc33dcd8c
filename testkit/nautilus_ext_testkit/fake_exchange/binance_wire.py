"""
Binance USD-M futures wire pieces of the fake exchange, free of I/O: request signatures, error
codes, market metadata and the diff-depth sequencer.

References: https://developers.binance.com/docs/derivatives/usds-margined-futures (general info:
"SIGNED endpoint security", "Error codes"; market streams: "Diff. Book Depth Streams" and "How
to manage a local order book correctly") and NautilusTrader's recorded payloads under
``crates/adapters/binance/test_data/futures``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any
from typing import Final
from urllib.parse import parse_qsl

from nautilus_ext_testkit.fake_exchange.engine import EngineOrder
from nautilus_ext_testkit.fake_exchange.engine import MarketSpec
from nautilus_ext_testkit.fake_exchange.engine import OrderStatus
from nautilus_ext_testkit.fake_exchange.engine import RejectReason
from nautilus_ext_testkit.fake_exchange.engine import Side
from nautilus_ext_testkit.fake_exchange.engine import TimeInForce

USER: Final = "USER"  # the engine account the fake's API key trades

# Binance's server refuses a timestamp more than this far ahead of its clock
MAX_AHEAD_MS: Final = 1_000
DEFAULT_RECV_WINDOW_MS: Final = 5_000
MAX_RECV_WINDOW_MS: Final = 60_000
# GET /fapi/v1/depth accepts only these limits
DEPTH_LIMITS: Final = frozenset({5, 10, 20, 50, 100, 500, 1000})


@dataclass(frozen=True)
class BinanceError:
    """A Binance error answer: HTTP status and the ``{"code", "msg"}`` body."""

    status: int
    code: int
    msg: str

    def body(self) -> dict[str, Any]:
        """Return the JSON body Binance sends."""
        return {"code": self.code, "msg": self.msg}


# Real codes and messages (https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code)
INVALID_API_KEY: Final = BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")
BAD_SIGNATURE: Final = BinanceError(400, -1022, "Signature for this request is not valid.")
TIMESTAMP_OUTSIDE_WINDOW: Final = BinanceError(
    400, -1021, "Timestamp for this request is outside of the recvWindow."
)
TIMESTAMP_AHEAD: Final = BinanceError(
    400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."
)
BAD_RECV_WINDOW: Final = BinanceError(400, -1131, "recvWindow must be less than 60000")
TOO_MANY_REQUESTS: Final = BinanceError(
    429,
    -1003,
    "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute. Please use "
    "the websocket for live updates to avoid polling the API.",
)
INVALID_SYMBOL: Final = BinanceError(400, -1121, "Invalid symbol.")
MARGIN_INSUFFICIENT: Final = BinanceError(400, -2019, "Margin is insufficient.")
POST_ONLY_REJECTED: Final = BinanceError(
    400,
    -5022,
    "Due to the order could not be executed as maker, the Post Only order will be rejected.",
)
REDUCE_ONLY_REJECTED: Final = BinanceError(400, -2022, "ReduceOnly Order is rejected.")
DUPLICATE_CLIENT_ID: Final = BinanceError(400, -4116, "ClientOrderId is duplicated.")
UNKNOWN_ORDER: Final = BinanceError(400, -2011, "Unknown order sent.")
ORDER_DOES_NOT_EXIST: Final = BinanceError(400, -2013, "Order does not exist.")
PRECISION: Final = BinanceError(400, -1111, "Precision is over the maximum defined for this asset.")
QTY_BELOW_MIN: Final = BinanceError(400, -4004, "Quantity less than min quantity.")
PRICE_TICK: Final = BinanceError(400, -4014, "Price not increased by tick size.")
INVALID_ORDER_TYPE: Final = BinanceError(400, -1116, "Invalid orderType.")
INVALID_TIF: Final = BinanceError(400, -1115, "Invalid timeInForce.")
INVALID_SIDE: Final = BinanceError(400, -1117, "Invalid side.")
INVALID_DEPTH_LIMIT: Final = BinanceError(400, -4021, "Invalid depth limit.")
NO_NEED_TO_MODIFY: Final = BinanceError(400, -5027, "No need to modify the order.")
INVALID_LISTEN_KEY: Final = BinanceError(400, -1125, "This listenKey does not exist.")
INJECTED_REJECT: Final = BinanceError(
    400, -2010, "Order was rejected by the fake exchange's fault injection (NEW_ORDER_REJECTED)."
)


def missing(name: str) -> BinanceError:
    """Return Binance's -1102 for a mandatory parameter that was not sent."""
    return BinanceError(
        400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def min_notional(notional: Decimal) -> BinanceError:
    """Return Binance's -4164 for an order below the symbol's minimum notional."""
    return BinanceError(
        400,
        -4164,
        f"Order's notional must be no smaller than {notional.normalize():f} (unless you choose reduce only).",
    )


ENGINE_REJECTS: Final[dict[RejectReason, BinanceError]] = {
    RejectReason.UNKNOWN_SYMBOL: INVALID_SYMBOL,
    RejectReason.INVALID_QUANTITY: PRECISION,
    RejectReason.INVALID_PRICE: PRICE_TICK,
    RejectReason.INSUFFICIENT_BALANCE: MARGIN_INSUFFICIENT,
    RejectReason.POST_ONLY_WOULD_TAKE: POST_ONLY_REJECTED,
    RejectReason.REDUCE_ONLY_INCREASES: REDUCE_ONLY_REJECTED,
    RejectReason.DUPLICATE_CLIENT_ID: DUPLICATE_CLIENT_ID,
    RejectReason.ORDER_NOT_FOUND: UNKNOWN_ORDER,
    RejectReason.INJECTED: INJECTED_REJECT,
}


TIF_IN: Final = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "GTX": TimeInForce.POST_ONLY,
}
TIF_OUT: Final = {v: k for k, v in TIF_IN.items()}
EXPIRED_REASONS: Final = frozenset({"EXPIRED_IOC", "FOK_NOT_FILLABLE", "POST_ONLY_WOULD_TAKE"})


def order_status(order: EngineOrder) -> str:
    """Return Binance's status of an engine order (IOC/FOK leftovers are ``EXPIRED``)."""
    if order.status is OrderStatus.CANCELED:
        return "EXPIRED" if order.cancel_reason in EXPIRED_REASONS else "CANCELED"
    return {
        OrderStatus.NEW: "NEW",
        OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
        OrderStatus.FILLED: "FILLED",
        OrderStatus.REJECTED: "REJECTED",
    }[order.status]


def order_type_name(order: EngineOrder) -> str:
    """Return Binance's order type of ``order`` (``LIQUIDATION`` for a venue's forced close)."""
    if order.order_type == "limit":
        return "LIMIT"
    if order.order_type == "liquidation":
        return "LIQUIDATION"
    if order.order_type == "adl":
        return "LIMIT"  # Binance books an ADL close as an IOC limit at the bankruptcy price
    return "MARKET"


def side_name(side: Side) -> str:
    """Return Binance's side name."""
    return "BUY" if side is Side.BUY else "SELL"


def trade_number(trade_id: str) -> int:
    """Return Binance's integer trade id of an engine trade or execution id."""
    return int(trade_id.lstrip("T").split("-")[0])


def order_number(engine_order_id: str) -> int:
    """Return Binance's integer ``orderId`` of an engine order id (``00000042-fake`` -> 42)."""
    return int(engine_order_id.split("-")[0])


def engine_order_id(order_id: int) -> str:
    """Return the engine order id of a Binance ``orderId`` (the inverse of :func:`order_number`)."""
    return f"{order_id:08d}-fake"


# -- signatures -----------------------------------------------------------------------------


def sign(secret: str, payload: str) -> str:
    """Return Binance's HMAC-SHA256 signature (lower-case hex) of ``payload``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _split_signature(text: str) -> tuple[str, str | None]:
    # the signature is the last parameter of the query string or of the body
    head, sep, tail = text.rpartition("signature=")
    if not sep or "&" in tail:
        return text, None
    return head[:-1] if head.endswith("&") else head, tail


def check_signed_request(
    *,
    query_string: str,
    body: str,
    api_key: str | None,
    expected_key: str,
    secret: str,
    now_ms: int,
) -> tuple[dict[str, str], BinanceError | None]:
    """
    Verify a SIGNED request the way Binance does; return its parameters and any error.

    The signed text is the query string (without ``signature``) concatenated with the body;
    the timestamp must satisfy ``now - recvWindow <= timestamp < now + 1000``.
    """
    query_part, query_sig = _split_signature(query_string)
    body_part, body_sig = _split_signature(body)
    params = dict(parse_qsl(query_part, keep_blank_values=True))
    params.update(parse_qsl(body_part, keep_blank_values=True))
    if api_key != expected_key:
        return params, INVALID_API_KEY
    signature = query_sig if query_sig is not None else body_sig
    if signature is None:
        return params, missing("signature")
    if not hmac.compare_digest(sign(secret, query_part + body_part), signature.lower()):
        return params, BAD_SIGNATURE
    try:
        timestamp = int(params["timestamp"])
        window = int(params.get("recvWindow", DEFAULT_RECV_WINDOW_MS))
    except (KeyError, ValueError):
        return params, missing("timestamp")
    if window > MAX_RECV_WINDOW_MS:
        return params, BAD_RECV_WINDOW
    if timestamp >= now_ms + MAX_AHEAD_MS:
        return params, TIMESTAMP_AHEAD
    if now_ms - timestamp > window:
        return params, TIMESTAMP_OUTSIDE_WINDOW
    return params, None


# -- market metadata ------------------------------------------------------------------------


def default_binance_markets() -> list[MarketSpec]:
    """Return BTCUSDT and ETHUSDT perpetuals with Binance USD-M's real filters and fees."""
    fees = {"maker_fee": Decimal("0.0002"), "taker_fee": Decimal("0.0005"), "max_leverage": 125}
    return [
        MarketSpec("BTCUSDT", "BTC", "USDT", Decimal("0.1"), Decimal("0.001"), Decimal("0.001"), **fees),  # type: ignore[arg-type]
        MarketSpec("ETHUSDT", "ETH", "USDT", Decimal("0.01"), Decimal("0.001"), Decimal("0.001"), **fees),  # type: ignore[arg-type]
    ]


# minimum notional per symbol (USDT); Binance lists it as the MIN_NOTIONAL filter
MIN_NOTIONAL: Final[dict[str, Decimal]] = {"BTCUSDT": Decimal(100), "ETHUSDT": Decimal(20)}
DEFAULT_MIN_NOTIONAL: Final = Decimal(5)


def fmt(value: Decimal | None) -> str:
    """Return a decimal as Binance prints it (plain notation, ``0`` for none)."""
    return "0" if value is None else format(value.normalize(), "f")


def fixed(value: Decimal, places: int) -> str:
    """Return ``value`` with exactly ``places`` decimals (how Binance prints prices and sizes)."""
    return format(value.quantize(Decimal(1).scaleb(-places)), "f")


def precision(step: Decimal) -> int:
    """Return the number of decimals of a tick or step."""
    return max(0, -int(step.normalize().as_tuple().exponent))


def symbol_info(spec: MarketSpec) -> dict[str, Any]:
    """Return one ``symbols[]`` entry of ``GET /fapi/v1/exchangeInfo``."""
    return {
        "symbol": spec.symbol,
        "pair": spec.symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": spec.base,
        "quoteAsset": spec.quote,
        "marginAsset": spec.quote,
        "pricePrecision": precision(spec.tick_size),
        "quantityPrecision": precision(spec.qty_step),
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": ["PoW"] if spec.base == "BTC" else ["Layer-1"],
        "settlePlan": 0,
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fixed(spec.tick_size, precision(spec.tick_size)),
                "maxPrice": fixed(Decimal(4529764), precision(spec.tick_size)),
                "tickSize": fixed(spec.tick_size, precision(spec.tick_size)),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fmt(spec.min_qty),
                "maxQty": "1000",
                "stepSize": fmt(spec.qty_step),
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": fmt(spec.min_qty),
                "maxQty": "120",
                "stepSize": fmt(spec.qty_step),
            },
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {
                "filterType": "MIN_NOTIONAL",
                "notional": fmt(MIN_NOTIONAL.get(spec.symbol, DEFAULT_MIN_NOTIONAL)),
            },
            {
                "filterType": "PERCENT_PRICE",
                "multiplierUp": "1.0500",
                "multiplierDown": "0.9500",
                "multiplierDecimal": "4",
            },
        ],
        "orderTypes": [
            "LIMIT",
            "MARKET",
            "STOP",
            "STOP_MARKET",
            "TAKE_PROFIT",
            "TAKE_PROFIT_MARKET",
            "TRAILING_STOP_MARKET",
        ],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        "permissionSets": ["GRID", "COPY"],
    }


def exchange_info(specs: list[MarketSpec], now_ms: int) -> dict[str, Any]:
    """Return the body of ``GET /fapi/v1/exchangeInfo``."""
    quotes = sorted({s.quote for s in specs})
    return {
        "timezone": "UTC",
        "serverTime": now_ms,
        "futuresType": "U_MARGINED",
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": q, "marginAvailable": True, "autoAssetExchange": "-10000"} for q in quotes],
        "symbols": [symbol_info(s) for s in specs],
    }


# -- diff depth -----------------------------------------------------------------------------


@dataclass
class DepthSequencer:
    """
    Aggregate one symbol's book changes into ``depthUpdate`` events with Binance's sequencing.

    Each engine book change carries the next update id. An event covers the ids ``U..u`` that
    arrived since the last event, and ``pu`` is the previous event's ``u``, so a client that
    holds a snapshot with ``lastUpdateId`` applies the first event with
    ``U <= lastUpdateId <= u`` and then requires ``pu`` to equal the previous ``u``.

    Parameters
    ----------
    symbol : str
        The Binance symbol.
    last_u : int
        The update id of the book before the first change (the first event's ``pu``).
    """

    symbol: str
    last_u: int
    price_places: int | None = None  # decimals printed (None: as few as needed)
    qty_places: int | None = None
    first_id: int | None = None
    final_id: int = 0
    levels: dict[tuple[Side, Decimal], Decimal] = field(default_factory=dict)

    @staticmethod
    def _text(value: Decimal, places: int | None) -> str:
        return fmt(value) if places is None else fixed(value, places)

    @property
    def pending(self) -> bool:
        """Return whether changes wait to be sent."""
        return self.first_id is not None

    def add(self, update_id: int, changes: list[tuple[Side, Decimal, Decimal]]) -> None:
        """Record the book change ``update_id`` (its levels' new total sizes)."""
        if update_id <= max(self.final_id, self.last_u):
            raise ValueError(f"update id {update_id} is not after {max(self.final_id, self.last_u)}")
        if self.first_id is None:
            self.first_id = update_id
        self.final_id = update_id
        for side, price, size in changes:
            self.levels[(side, price)] = size

    def flush(self, event_ms: int, transaction_ms: int) -> dict[str, Any] | None:
        """Return the event covering every change since the last flush (``None`` if none)."""
        if self.first_id is None:
            return None
        bids = sorted(((p, q) for (s, p), q in self.levels.items() if s is Side.BUY), reverse=True)
        asks = sorted((p, q) for (s, p), q in self.levels.items() if s is Side.SELL)
        event = {
            "e": "depthUpdate",
            "E": event_ms,
            "T": transaction_ms,
            "s": self.symbol,
            "U": self.first_id,
            "u": self.final_id,
            "pu": self.last_u,
            "b": [[self._text(p, self.price_places), self._text(q, self.qty_places)] for p, q in bids],
            "a": [[self._text(p, self.price_places), self._text(q, self.qty_places)] for p, q in asks],
        }
        self.last_u = self.final_id
        self.first_id = None
        self.levels = {}
        return event


def apply_depth_events(
    snapshot_id: int,
    events: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """
    Return the events a client applies on top of a snapshot, following Binance's rules.

    Drop events with ``u < lastUpdateId``; the first applied event must have
    ``U <= lastUpdateId <= u`` (or continue it exactly: ``pu == lastUpdateId``, which ccxt
    also accepts); every later one must have ``pu`` equal to the previous ``u``.

    Raises
    ------
    ValueError
        If the sequence has a gap (the client must resynchronise).
    """
    applied: list[dict[str, Any]] = []
    for event in events:
        if not applied:
            if event["u"] < snapshot_id:
                continue
            if not (event["U"] <= snapshot_id <= event["u"] or event["pu"] == snapshot_id):
                raise ValueError(f"first event {event['U']}..{event['u']} misses {snapshot_id}")
        elif event["pu"] != applied[-1]["u"]:
            raise ValueError(f"gap: pu {event['pu']} after u {applied[-1]['u']}")
        applied.append(event)
    return applied
