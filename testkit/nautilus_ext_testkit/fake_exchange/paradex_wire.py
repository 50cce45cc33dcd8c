"""
Paradex wire shapes for the fake exchange: markets, errors, the JWT, and order/fill/position
payloads (REST ``/v1`` and the JSON-RPC WebSocket pushes carry the same objects).

Field names and string-typed numbers follow docs.paradex.trade (``/markets``,
``/orders``, ``/fills``, ``/positions``, ``/balance``) and the sample payloads quoted in ccxt's
``paradex.py`` parsers. Order ids are numeric strings; sizes and prices are decimal strings;
timestamps are Unix milliseconds; an order's ``cancel_reason`` is present only once it was
closed by something other than a full fill.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_ext_testkit.fake_exchange.engine import EngineFill
from nautilus_ext_testkit.fake_exchange.engine import EngineOrder
from nautilus_ext_testkit.fake_exchange.engine import EnginePosition
from nautilus_ext_testkit.fake_exchange.engine import MarketSpec
from nautilus_ext_testkit.fake_exchange.engine import OrderStatus
from nautilus_ext_testkit.fake_exchange.engine import RejectReason
from nautilus_ext_testkit.fake_exchange.engine import Side

# GET /system/config: the fields ccxt reads. The class hashes are the fake's own felts (the
# account address derivation only needs the venue and the client to agree on them).
STARKNET_CHAIN_ID: Final = "PRIVATE_SN_PARACLEAR_MAINNET"
L1_CHAIN_ID: Final = "1"
ACCOUNT_CLASS_HASH: Final = "0x" + "0a11ce" * 10
ACCOUNT_PROXY_CLASS_HASH: Final = "0x" + "0b0b" * 15 + "0b"
# Paradex JWTs live five minutes; ccxt re-authenticates after 180 s
JWT_LIFETIME_MS: Final = 300_000
# POST /auth: PARADEX-TIMESTAMP may lag or lead the venue clock by this much, and the
# signature expiration may be at most this far ahead of it (the fake's bounds; ccxt uses 180 s)
AUTH_CLOCK_TOLERANCE_S: Final = 30
AUTH_MAX_VALIDITY_S: Final = 7 * 86_400

# Engine cancel/reject reasons -> Paradex ``cancel_reason``. NOT_ENOUGH_MARGIN and
# ORDER_EXCEEDS_POSITION_LIMIT are the two that ccxt turns into status "rejected" (confirmed
# by its parser); the others are the fake's names for closures ccxt reports as "canceled".
CANCEL_REASONS: Final[dict[str, str]] = {
    "CANCEL_BY_USER": "USER_CANCELED",
    "EXPIRED_IOC": "IOC_CANCEL",
    str(RejectReason.POST_ONLY_WOULD_TAKE): "POST_ONLY_WOULD_CROSS",
    str(RejectReason.FOK_NOT_FILLABLE): "FOK_CANCEL",
    str(RejectReason.INSUFFICIENT_BALANCE): "NOT_ENOUGH_MARGIN",
    str(RejectReason.REDUCE_ONLY_INCREASES): "REDUCE_ONLY_WOULD_INCREASE",
    str(RejectReason.INJECTED): "ORDER_EXCEEDS_POSITION_LIMIT",
}


@dataclass(frozen=True)
class ParadexError:
    """One of Paradex's ``{"error": CODE, "message": ...}`` refusals with its HTTP status."""

    code: str
    message: str
    status: int = 400

    def body(self) -> dict[str, Any]:
        """Return the JSON body."""
        return {"error": self.code, "message": self.message, "data": None}


# ccxt's comment quotes this body verbatim for an account that never onboarded
NOT_ONBOARDED: Final = ParadexError("NOT_ONBOARDED", "User has never called /onboarding endpoint")
# ccxt maps "missing or malformed jwt" (broad) to AuthenticationError
MISSING_JWT: Final = ParadexError("UNAUTHORIZED", "missing or malformed jwt", 401)
INVALID_JWT: Final = ParadexError("UNAUTHORIZED", "invalid or expired jwt", 401)


def default_paradex_markets() -> list[MarketSpec]:
    """Return BTC and ETH perpetuals (quoted in USD, settled in USDC)."""
    return [
        MarketSpec(
            "BTC-USD-PERP",
            "BTC",
            "USD",
            Decimal("0.1"),
            Decimal("0.001"),
            Decimal("0.001"),
            maker_fee=Decimal("-0.00005"),
            taker_fee=Decimal("0.0003"),
            max_leverage=50,
            settle="USDC",
        ),
        MarketSpec(
            "ETH-USD-PERP",
            "ETH",
            "USD",
            Decimal("0.01"),
            Decimal("0.01"),
            Decimal("0.01"),
            maker_fee=Decimal("-0.00005"),
            taker_fee=Decimal("0.0003"),
            max_leverage=50,
            settle="USDC",
        ),
    ]


def s(value: Decimal | None) -> str:
    """Return a decimal as Paradex prints it (``"0"`` for none)."""
    if value is None:
        return "0"
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def market_dict(spec: MarketSpec) -> dict[str, Any]:
    """Return one ``GET /markets`` result."""
    return {
        "symbol": spec.symbol,
        "base_currency": spec.base,
        "quote_currency": spec.quote,
        "settlement_currency": spec.settle or spec.quote,
        "order_size_increment": s(spec.qty_step),
        "price_tick_size": s(spec.tick_size),
        "min_notional": "10",
        "open_at": 1_700_000_000_000,
        "expiry_at": 0,
        "asset_kind": "PERP",
        "market_kind": "cross",
        "position_limit": "1000",
        "price_bands_width": "0.05",
        "max_open_orders": 100,
        "max_funding_rate": "0.05",
        "delta1_cross_margin_params": {
            "imf_base": str(Decimal(1) / spec.max_leverage),
            "imf_shift": "0",
            "imf_factor": "0",
            "mmf_factor": "0.5",
        },
        "price_feed_id": "fake-feed-" + spec.base,
        "oracle_ewma_factor": "0.2",
        "max_order_size": "1000",
        "max_funding_rate_change": "0.0005",
        "max_tob_spread": "0.2",
        "funding_period_hours": "8",
        "tags": [],
    }


# -- the JWT ----------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_jwt(secret: bytes, account: str, now_ms: int) -> str:
    """Return an HS256 JWT for ``account`` valid for :data:`JWT_LIFETIME_MS`."""
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {
        "sub": account,
        "iat": now_ms // 1000,
        "exp": (now_ms + JWT_LIFETIME_MS) // 1000,
        "token_usage": "trading",
        "iss": "Paradex fake",
    }
    signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(mac)


def check_jwt(secret: bytes, token: str, now_ms: int) -> str | None:
    """Return the account a valid, unexpired token was issued to, else ``None``."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    mac = hmac.new(secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(mac, _unb64(parts[2])):
            return None
        claims = json.loads(_unb64(parts[1]))
    except ValueError:
        return None
    if not isinstance(claims, dict) or int(claims.get("exp", 0)) * 1000 <= now_ms:
        return None
    sub = claims.get("sub")
    return str(sub) if sub else None


# -- orders -----------------------------------------------------------------------------------


@dataclass
class Ticket:
    """A Paradex order as the venue tracks it: the request, then the engine order if any."""

    order_id: str
    account: str
    market: str
    side: str  # BUY / SELL
    order_type: str  # LIMIT / MARKET
    instruction: str  # GTC / IOC / POST_ONLY
    size: Decimal
    price: Decimal | None
    client_id: str
    flags: list[str]
    received_ms: int
    engine_order: EngineOrder | None = None
    cancel_reason: str = ""  # set when closed before reaching the book
    closed_ms: int = 0
    seq: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        """Return whether the order is NEW (queued) or OPEN (resting)."""
        if self.engine_order is not None:
            return self.engine_order.is_open
        return not self.cancel_reason


def order_dict(ticket: Ticket, now_ms: int) -> dict[str, Any]:
    """Return the order in Paradex's ``OrderResp`` shape."""
    order = ticket.engine_order
    filled = order.filled if order is not None else Decimal(0)
    status = "NEW"
    cancel_reason = ticket.cancel_reason
    updated = ticket.closed_ms or ticket.received_ms
    size = order.qty if order is not None else ticket.size
    price = order.price if order is not None else ticket.price
    if order is not None:
        updated = order.updated_ms
        if order.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
            status = "OPEN"
        else:
            status = "CLOSED"
            if order.status is OrderStatus.CANCELED:
                cancel_reason = CANCEL_REASONS.get(order.cancel_reason, order.cancel_reason)
    elif cancel_reason:
        status = "CLOSED"
    wire: dict[str, Any] = {
        "account": ticket.account,
        "avg_fill_price": s(order.avg_price) if order is not None and order.filled else "0",
        "client_id": ticket.client_id,
        "created_at": ticket.received_ms,
        "flags": list(ticket.flags),
        "id": ticket.order_id,
        "instruction": ticket.instruction,
        "last_updated_at": updated,
        "market": ticket.market,
        "price": s(price) if ticket.order_type == "LIMIT" else "0",
        "published_at": now_ms,
        "received_at": ticket.received_ms,
        "remaining_size": s(size - filled),
        "seq_no": ticket.seq,
        "side": ticket.side,
        "size": s(size),
        "status": status,
        "stp": "EXPIRE_TAKER",
        "timestamp": ticket.received_ms,
        "trigger_price": "0",
        "type": ticket.order_type,
    }
    if cancel_reason:
        wire["cancel_reason"] = cancel_reason
    return wire


def fill_dict(fill: EngineFill, order_id: str, client_id: str) -> dict[str, Any]:
    """Return an account fill in Paradex's ``/fills`` shape."""
    return {
        "id": f"{fill.ts_ms}{fill.seq:012d}",
        "account": fill.account,
        "side": "BUY" if fill.side is Side.BUY else "SELL",
        "liquidity": "MAKER" if fill.is_maker else "TAKER",
        "market": fill.symbol,
        "order_id": order_id,
        "price": s(fill.price),
        "size": s(fill.qty),
        "fee": s(fill.fee),
        "fee_currency": "USDC",
        "created_at": fill.ts_ms,
        "remaining_size": s(fill.leaves_qty),
        "client_id": client_id,
        "fill_type": "FILL",
        "realized_pnl": "0",
        "realized_funding": "0",
    }


def position_dict(pos: EnginePosition, mark: Decimal, leverage: Decimal) -> dict[str, Any]:
    """Return a position in Paradex's ``/positions`` shape (``size`` signed, negative short)."""
    cost = pos.qty * pos.avg_price
    return {
        "id": f"{pos.account}-{pos.symbol}",
        "account": pos.account,
        "market": pos.symbol,
        "status": "OPEN" if pos.qty else "CLOSED",
        "side": "SHORT" if pos.qty < 0 else "LONG",
        "size": s(pos.qty),
        "average_entry_price": s(pos.avg_price),
        "average_entry_price_usd": s(pos.avg_price),
        "realized_pnl": s(pos.realized_pnl),
        "unrealized_pnl": s(pos.qty * (mark - pos.avg_price)) if pos.qty else "0",
        "unrealized_funding_pnl": "0",
        "leverage": s(leverage),
        "cost": s(cost),
        "cost_usd": s(cost),
        "cached_funding_index": "0",
        "created_at": pos.updated_ms,
        "last_updated_at": pos.updated_ms,
        "last_fill_id": "",
        "seq_no": pos.seq,
        "liquidation_price": "",
    }
