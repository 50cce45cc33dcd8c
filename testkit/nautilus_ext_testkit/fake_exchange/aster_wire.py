"""
Aster v3 wire pieces of the fake exchange, free of I/O: the EIP-712 request signature, the
nonce book, Aster's error payloads and the spot listing.

Aster's v3 API (https://github.com/asterdex/api-docs, ``aster-finance-futures-api-v3.md``:
"V3 Nonce Mechanism", "Authentication signature payload", "Error Codes") signs every
TRADE/USER_DATA/USER_STREAM request with the API wallet ("signer") key: the request's
parameter string (``key=value&...``, as sent, including ``nonce`` in microseconds, ``user``
and ``signer``) is the ``msg`` of an EIP-712 ``Message`` under the domain
``AsterSignTransaction`` / version ``1`` / chain id 1666 / the zero verifying contract, and the
65-byte signature travels as the last parameter ``signature``. Everything else (market data,
order and account shapes, error envelope) is Binance USD-M's, reused from :mod:`.binance_wire`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any
from typing import Final
from urllib.parse import parse_qsl

from eth_account import Account
from eth_account.messages import encode_typed_data

from nautilus_ext_testkit.fake_exchange.binance_wire import BAD_SIGNATURE
from nautilus_ext_testkit.fake_exchange.binance_wire import INVALID_API_KEY
from nautilus_ext_testkit.fake_exchange.binance_wire import BinanceError
from nautilus_ext_testkit.fake_exchange.binance_wire import fixed
from nautilus_ext_testkit.fake_exchange.binance_wire import fmt
from nautilus_ext_testkit.fake_exchange.binance_wire import missing
from nautilus_ext_testkit.fake_exchange.binance_wire import precision
from nautilus_ext_testkit.fake_exchange.engine import MarketSpec
from nautilus_ext_testkit.fake_exchange.hyperliquid_signing import ZERO_ADDRESS

# A throwaway key (never funded anywhere) and its address: the fake's default Aster account.
# Distinct from the Hyperliquid test key so a request signed for one venue fails on the other.
TEST_PRIVATE_KEY: Final = "0x" + "22" * 32
TEST_WALLET: Final = str(Account.from_key(TEST_PRIVATE_KEY).address).lower()

CHAIN_ID: Final = 1666  # Aster's off-chain signing id (not Harmony's chain, docs "SEC-08")
DOMAIN_NAME: Final = "AsterSignTransaction"
# "valid only within a window of 60 seconds before and after server time"
NONCE_WINDOW_US: Final = 60_000_000
# "each agent address maintains only the most recent 100 nonces"
NONCES_KEPT: Final = 100

# Aster's answer to a used, evicted or out-of-window nonce (the docs' noop example shows it for
# a nonce already consumed); the docs do not give a distinct payload for the other two cases
NONCE_EXPIRED: Final = BinanceError(400, -4225, "Nonce Expired")
# A valid signature by a wallet that is neither the user nor an agent it approved: Aster's
# permission refusal (-2015 REJECTED_MBX_KEY), the same payload Binance uses for a bad key
SIGNER_NOT_APPROVED: Final = INVALID_API_KEY

_DOMAIN_TYPE: Final = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def typed_message(msg: str, chain_id: int = CHAIN_ID) -> dict[str, Any]:
    """Return the EIP-712 typed data Aster signs for a parameter string."""
    return {
        "domain": {
            "name": DOMAIN_NAME,
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": ZERO_ADDRESS,
        },
        "types": {"EIP712Domain": _DOMAIN_TYPE, "Message": [{"name": "msg", "type": "string"}]},
        "primaryType": "Message",
        "message": {"msg": msg},
    }


def sign_params(private_key: str, msg: str, chain_id: int = CHAIN_ID) -> str:
    """Return the ``0x``-hex signature of a parameter string (reference signer for tests)."""
    signed = Account.sign_message(encode_typed_data(full_message=typed_message(msg, chain_id)), private_key)
    return "0x" + bytes(signed.signature).hex()


def recover_signer(msg: str, signature: str) -> str | None:
    """Return the (lower-case) address that signed ``msg``, or ``None`` for a junk signature."""
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
        address = Account.recover_message(encode_typed_data(full_message=typed_message(msg)), signature=raw)
    except Exception:  # eth_keys raises BadSignature/ValidationError on junk, fromhex ValueError
        return None
    return str(address).lower()


@dataclass
class NonceBook:
    """
    The recent nonces of each signer (agent), with Aster's rules.

    A nonce is refused when it was already used, when the signer's list holds 100 nonces and
    it is below the smallest, or when it is more than 60 s away from the server clock.
    """

    recent: dict[str, deque[int]] = field(default_factory=dict)

    def accept(self, signer: str, nonce: int, now_us: int) -> bool:
        """Record ``nonce`` for ``signer`` and return whether it was acceptable."""
        if abs(nonce - now_us) > NONCE_WINDOW_US:
            return False
        seen = self.recent.setdefault(signer, deque())
        if nonce in seen:
            return False
        if len(seen) >= NONCES_KEPT:
            if nonce < min(seen):
                return False
            seen.remove(min(seen))
        seen.append(nonce)
        return True


@dataclass(frozen=True)
class SignedParams:
    """A verified request: its parameters and who signed it."""

    params: dict[str, str]
    user: str
    signer: str


def _split_signature(text: str) -> tuple[str, str | None]:
    head, sep, tail = text.rpartition("signature=")
    if not sep or "&" in tail:
        return text, None
    return (head[:-1] if head.endswith("&") else head), tail


def check_signed_request(
    *,
    text: str,
    wallet: str,
    agents: frozenset[str],
    nonces: NonceBook,
    now_us: int,
) -> tuple[SignedParams | None, BinanceError | None]:
    """
    Verify an Aster v3 signed request (its query string, or its body for POST/PUT/DELETE).

    Order of checks: mandatory ``user``/``signer``/``nonce``/``signature`` (-1102), the
    recovered address equals ``signer`` (-1022), the signer is the account or one of its
    agents (-2015), then the nonce (-4225).
    """
    msg, signature = _split_signature(text)
    params = dict(parse_qsl(msg, keep_blank_values=True))
    for name in ("user", "signer", "nonce"):
        if not params.get(name):
            return None, missing(name)
    if not signature:
        return None, missing("signature")
    try:
        nonce = int(params["nonce"])
    except ValueError:
        return None, missing("nonce")
    signer = params["signer"].lower()
    user = params["user"].lower()
    if recover_signer(msg, signature) != signer:
        return None, BAD_SIGNATURE
    if user != wallet or (signer != wallet and signer not in agents):
        return None, SIGNER_NOT_APPROVED
    if not nonces.accept(signer, nonce, now_us):
        return None, NONCE_EXPIRED
    return SignedParams(params, user, signer), None


def default_aster_spot_markets() -> list[MarketSpec]:
    """
    Return spot BTCUSDT, ETHUSDT and ASTERUSDT: Aster lists spot pairs under the same ids as
    its perpetuals (ccxt's own Aster examples show spot and perp ``ETHUSDT``), which is what
    makes ccxt tell the two apart by URL.
    """
    fees = {"maker_fee": Decimal("0.0001"), "taker_fee": Decimal("0.00035")}
    return [
        MarketSpec("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), Decimal("0.00001"), **fees),  # type: ignore[arg-type]
        MarketSpec("ETHUSDT", "ETH", "USDT", Decimal("0.01"), Decimal("0.0001"), Decimal("0.0001"), **fees),  # type: ignore[arg-type]
        MarketSpec("ASTERUSDT", "ASTER", "USDT", Decimal("0.0001"), Decimal("0.01"), Decimal("0.01"), **fees),  # type: ignore[arg-type]
    ]


def default_aster_markets() -> list[MarketSpec]:
    """Return BTCUSDT and ETHUSDT perpetuals with Aster's increments and fees (0.01%/0.035%)."""
    fees = {"maker_fee": Decimal("0.0001"), "taker_fee": Decimal("0.00035"), "max_leverage": 100}
    return [
        MarketSpec("BTCUSDT", "BTC", "USDT", Decimal("0.1"), Decimal("0.001"), Decimal("0.001"), **fees),  # type: ignore[arg-type]
        MarketSpec("ETHUSDT", "ETH", "USDT", Decimal("0.01"), Decimal("0.001"), Decimal("0.001"), **fees),  # type: ignore[arg-type]
    ]


def spot_symbol_info(spec: MarketSpec, listed_ms: int) -> dict[str, Any]:
    """Return one ``symbols[]`` entry of the spot ``GET /api/v3/exchangeInfo``."""
    return {
        "symbol": spec.symbol,
        "status": "TRADING",
        "baseAsset": spec.base,
        "quoteAsset": spec.quote,
        "pricePrecision": precision(spec.tick_size),
        "quantityPrecision": precision(spec.qty_step),
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "listingTime": listed_ms,
        "baseAssetAddress": None,
        "ocoAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fixed(spec.tick_size, precision(spec.tick_size)),
                "maxPrice": "1000000",
                "tickSize": fixed(spec.tick_size, precision(spec.tick_size)),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fmt(spec.min_qty),
                "maxQty": "9000",
                "stepSize": fmt(spec.qty_step),
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": fmt(spec.min_qty),
                "maxQty": "9000",
                "stepSize": fmt(spec.qty_step),
            },
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MIN_NOTIONAL", "minNotional": "5"},
        ],
        "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX", "HIDDEN"],
    }
