"""ccxt markets -> canonical keys and Nautilus instruments (pure functions)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_trader.model.enums import CurrencyType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.instruments import CryptoFuture
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Currency
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from nautilus_ext.adapters.symbology import to_instrument_id
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments import InstrumentKey
from nautilus_ext.instruments import InstrumentType
from nautilus_ext.instruments.nautilus import CANONICAL_KEY_INFO
from nautilus_ext.instruments.registry import InstrumentRegistry

# ccxt precision modes (ccxt.base.decimal_to_precision)
DECIMAL_PLACES: Final = 2
SIGNIFICANT_DIGITS: Final = 3
TICK_SIZE: Final = 4
CCXT_SYMBOL_INFO: Final = "ccxt_symbol"
_MAX_PRECISION: Final = 16


def currency(code: str) -> Currency:
    """Return Nautilus's currency for ``code``, or a new 8-decimal crypto currency."""
    try:
        return Currency.from_str(code)
    except ValueError:
        return Currency(code, 8, 0, code, CurrencyType.CRYPTO)


def increment(value: Any, mode: int) -> Decimal | None:
    """Return the increment (tick or step) of a ccxt precision value in ``mode``."""
    if value is None:
        return None
    if mode == TICK_SIZE:
        return Decimal(str(value)).normalize()
    if mode == DECIMAL_PLACES:
        return Decimal(1).scaleb(-int(value))
    # SIGNIFICANT_DIGITS has no fixed increment: the caller falls back to a fine step
    return None


def precision_of(step: Decimal) -> int:
    """Return the number of decimals of ``step`` (0 for integers)."""
    exponent = step.normalize().as_tuple().exponent
    return min(max(-int(exponent), 0), _MAX_PRECISION)


def canonical_key(market: dict[str, Any], venue_code: str) -> InstrumentKey | None:
    """
    Return the canonical key of a ccxt market, or ``None`` for types we do not model.

    Linear/inverse comes from ccxt's ``linear``/``inverse`` flags (settle in quote = linear).
    """
    base = str(market.get("base") or "").upper()
    quote = str(market.get("quote") or "").upper()
    if not base.isalnum() or not quote.isalnum():
        return None
    pair = f"{base}-{quote}"
    kind = market.get("type")
    try:
        if kind == "spot":
            return InstrumentKey(venue_code, InstrumentType.SPOT_PAIR, pair)
        suffix = "INV" if market.get("inverse") else "LIN"
        if kind == "swap":
            return InstrumentKey(venue_code, InstrumentType.PERPETUAL, pair, suffix)
        if kind == "future" and market.get("expiryDatetime"):
            expiry = str(market["expiryDatetime"])[2:10].replace("-", "")
            return InstrumentKey(venue_code, InstrumentType.FUTURE, f"{pair}-{expiry}", suffix)
    except InvalidInstrumentKey:
        return None
    return None


def instrument_id_for(
    key: InstrumentKey,
    market: dict[str, Any],
    venue: str,
    registry: InstrumentRegistry | None,
) -> InstrumentId:
    """
    Return the Nautilus id: the registry's symbology when it knows the venue (the same ids
    the native adapters use, so switching native <-> ccxt is transparent to strategies),
    otherwise ccxt's unified symbol at ``venue``.
    """
    if registry is not None:
        try:
            return to_instrument_id(key, registry)
        except InvalidInstrumentKey:
            pass
    return InstrumentId(Symbol(str(market["symbol"])), Venue(venue))


def parse_market(
    market: dict[str, Any],
    *,
    venue: str,
    venue_code: str,
    precision_mode: int,
    ts_init: int,
    registry: InstrumentRegistry | None = None,
    inverse_amount_in_quote: bool = False,
) -> Instrument | None:
    """
    Return the Nautilus instrument of a ccxt market, or ``None`` if it is not modelled
    (options, inactive markets, unparseable precisions).

    Parameters
    ----------
    market : dict
        ccxt's unified market structure.
    venue : str
        The Nautilus venue name (fallback ids).
    venue_code : str
        The canonical-key venue code.
    precision_mode : int
        The exchange's ccxt ``precisionMode``.
    ts_init : int
        Nanosecond timestamp for ``ts_event``/``ts_init``.
    registry : InstrumentRegistry, optional
        Venue symbology for the instrument ids.
    inverse_amount_in_quote : bool, default False
        Whether the venue's amounts of inverse contracts are quote value (Deribit: USD, in
        steps of the contract size) rather than a count of contracts: the multiplier is then 1,
        so Nautilus's inverse notional ``qty * multiplier / price`` is the coin value.
    """
    if market.get("active") is False:
        return None
    key = canonical_key(market, venue_code)
    if key is None:
        return None
    precision = market.get("precision") or {}
    tick = increment(precision.get("price"), precision_mode)
    step = increment(precision.get("amount"), precision_mode)
    if tick is None or step is None or tick <= 0 or step <= 0:
        return None
    price_precision, size_precision = precision_of(tick), precision_of(step)
    limits = market.get("limits") or {}
    amount_limits = limits.get("amount") or {}
    cost_limits = limits.get("cost") or {}
    price_limits = limits.get("price") or {}
    base, quote = currency(str(market["base"])), currency(str(market["quote"]))
    settle = currency(str(market.get("settle") or market["quote"]))
    instrument_id = instrument_id_for(key, market, venue, registry)
    maker = Decimal(str(market.get("maker") or 0))
    taker = Decimal(str(market.get("taker") or 0))
    contract_size = Decimal(str(market.get("contractSize") or 1))
    min_qty = _qty(amount_limits.get("min"), size_precision)
    max_qty = _qty(amount_limits.get("max"), size_precision)
    min_notional = Money(cost_limits["min"], settle) if cost_limits.get("min") else None
    max_price = _px(price_limits.get("max"), price_precision)
    min_price = _px(price_limits.get("min"), price_precision)
    info = {
        CANONICAL_KEY_INFO: str(key),
        CCXT_SYMBOL_INFO: str(market["symbol"]),
        "ccxt_id": str(market.get("id")),
    }
    common: dict[str, Any] = {
        "instrument_id": instrument_id,
        "raw_symbol": Symbol(str(market.get("id") or market["symbol"])),
        "price_precision": price_precision,
        "size_precision": size_precision,
        "price_increment": Price(tick, price_precision),
        "size_increment": Quantity(step, size_precision),
        "ts_event": ts_init,
        "ts_init": ts_init,
        "max_quantity": max_qty,
        "min_quantity": min_qty,
        "max_price": max_price,
        "min_price": min_price,
        "margin_init": Decimal(0),
        "margin_maint": Decimal(0),
        "maker_fee": maker,
        "taker_fee": taker,
        "info": info,
    }
    if key.instrument_type is InstrumentType.SPOT_PAIR:
        return CurrencyPair(
            base_currency=base,
            quote_currency=quote,
            min_notional=min_notional,
            **common,
        )
    is_inverse = bool(market.get("inverse"))
    if is_inverse and inverse_amount_in_quote:
        contract_size = Decimal(1)
    multiplier = Quantity.from_str(format(contract_size.normalize(), "f"))
    if key.instrument_type is InstrumentType.PERPETUAL:
        return CryptoPerpetual(
            base_currency=base,
            quote_currency=quote,
            settlement_currency=settle,
            is_inverse=is_inverse,
            multiplier=multiplier,
            min_notional=min_notional,
            **common,
        )
    expiry_ms = int(market.get("expiry") or 0)
    return CryptoFuture(
        underlying=base,
        quote_currency=quote,
        settlement_currency=settle,
        is_inverse=is_inverse,
        activation_ns=0,
        expiration_ns=expiry_ms * 1_000_000,
        multiplier=multiplier,
        min_notional=min_notional,
        **common,
    )


def _qty(value: Any, precision: int) -> Quantity | None:
    if value is None or Decimal(str(value)) <= 0:
        return None
    return Quantity(Decimal(str(value)), precision)


def _px(value: Any, precision: int) -> Price | None:
    if value is None or Decimal(str(value)) <= 0:
        return None
    return Price(Decimal(str(value)), precision)
