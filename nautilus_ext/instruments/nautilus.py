"""
Canonical keys <-> NautilusTrader instrument objects, without venue symbology.

Which Nautilus *id* a key has is each venue's symbology and lives with the adapters
(:mod:`nautilus_ext.adapters.symbology`: ``to_instrument_id``, ``from_instrument_id``,
``key_for_instrument``, ``build_instrument``). This module holds what every venue shares:

* :func:`instrument_from_attributes` — the Nautilus instrument object of registry attributes,
  given its id: precisions, increments, sizes, fees and the canonical key in ``info``;
* the canonical grammar's forms of Nautilus fields (:func:`yymmdd`, :func:`price_text`,
  :func:`option_kind_name`, :func:`slug`) and registry look-ups (:func:`registered_form`,
  :func:`spec_for`).

Lending and staking positions (aTokens, debt tokens, LSTs) and plain asset holdings are not
Nautilus instruments: asking for one raises :class:`InvalidInstrumentKey` naming the key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_trader.model.enums import AssetClass as NautilusAssetClass
from nautilus_trader.model.enums import CurrencyType
from nautilus_trader.model.enums import OptionKind as NautilusOptionKind
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.instruments import CryptoFuture
from nautilus_trader.model.instruments import CryptoOption
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.instruments import FuturesContract
from nautilus_trader.model.instruments import IndexInstrument
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.instruments import OptionContract
from nautilus_trader.model.objects import Currency
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.attributes import VenueFamily
from nautilus_ext.instruments.attributes import VenueSpec
from nautilus_ext.instruments.enums import AssetClass
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.enums import OptionKind
from nautilus_ext.instruments.enums import SettlementStyle
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.registry import InstrumentRegistry

_MAX_PRECISION: Final = 16
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
CANONICAL_KEY_INFO: Final = "canonical_key"
"""The ``Instrument.info`` entry holding the canonical key text of instruments we build."""

NOT_NAUTILUS: Final = frozenset(
    {
        InstrumentType.SPOT_ASSET,
        InstrumentType.LST,
        InstrumentType.A_TOKEN,
        InstrumentType.DEBT_TOKEN,
    },
)
"""Instrument types that are positions or holdings, not NautilusTrader instruments."""


def invalid_key(key: object, why: str) -> InvalidInstrumentKey:
    """Return the error for ``key`` (``why`` names what is wrong)."""
    return InvalidInstrumentKey(f"{key!s}: {why}", instrument_key=str(key))


# -- the canonical grammar's forms of Nautilus fields ---------------------------------------


def yymmdd(d: date) -> str:
    """Return the grammar's expiry form (``241227``)."""
    return f"{d:%y%m%d}"


def ns_date(ns: int) -> date:
    """Return the UTC date of a UNIX nanosecond timestamp."""
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).date()


def price_text(price: Price) -> str:
    """Return a price without trailing zeros or exponent (a strike in a key)."""
    return format(price.as_decimal().normalize(), "f")


def option_kind_name(kind: NautilusOptionKind) -> str:
    """Return the grammar's option kind (``CALL``/``PUT``)."""
    return "CALL" if kind == NautilusOptionKind.CALL else "PUT"


def slug(text: str, sep: str = "_") -> str:
    """Return an upper-case key name for free text (``Premier League`` -> ``PREMIER_LEAGUE``)."""
    # fold accents first (ATLETICO, not ATL-TICO): keys hold only A-Z and 0-9
    ascii_text = unicodedata.normalize("NFKD", text.upper()).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Z0-9]+", sep, ascii_text).strip(sep) or "UNKNOWN"


# -- registry look-ups ----------------------------------------------------------------------


def nautilus_venue(spec: VenueSpec, key: InstrumentKey) -> str:
    """Return the Nautilus venue name of ``spec`` (raises if the venue is not modelled)."""
    if spec.nautilus_venue is None:
        raise invalid_key(key, f"venue {spec.code} is not modelled in NautilusTrader")
    return spec.nautilus_venue


def registered_form(key: InstrumentKey, registry: InstrumentRegistry) -> InstrumentKey:
    """Return the registry's form of a key derived from Nautilus fields (asset-class prefix)."""
    # a key derived from Nautilus fields has no asset-class prefix: if the registry holds the
    # same instrument under a prefix (EQUITY-INDEX:CME:FUTURE:...), that is its canonical key
    if key in registry:
        return key
    same = {
        k
        for k in (a.instrument_key for a in registry)
        if (k.venue, k.instrument_type, k.payload, k.suffix)
        == (key.venue, key.instrument_type, key.payload, key.suffix)
    }
    return same.pop() if len(same) == 1 else key


def spec_for(nautilus_venue: str, t: InstrumentType, registry: InstrumentRegistry) -> VenueSpec:
    """
    Return the one registered venue listing ``t`` on a Nautilus venue.

    Raises
    ------
    InvalidInstrumentKey
        If no venue, or several, match.
    """
    matches = [
        spec
        for spec in registry.venues.values()
        if (nautilus_venue == spec.nautilus_venue or nautilus_venue in spec.nautilus_venue_aliases)
        and t in spec.instrument_types
    ]
    if len(matches) != 1:
        why = "no registered venue" if not matches else f"several venues {[s.code for s in matches]}"
        raise InvalidInstrumentKey(
            f"Nautilus venue {nautilus_venue} with {t}: {why} (add it to configs/venues)",
            venue=nautilus_venue,
        )
    return matches[0]


# -- attributes -> instrument object --------------------------------------------------------


def _currency(code: str) -> Currency:
    existing = Currency.from_str(code) if _is_known_currency(code) else None
    if existing is not None:
        return existing
    return Currency(code, 8, 0, code, CurrencyType.CRYPTO)


def _is_known_currency(code: str) -> bool:
    try:
        return Currency.from_str(code) is not None
    except ValueError:
        return False


def _precision(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _require(attrs: InstrumentAttributes, *names: str) -> None:
    missing = [n for n in names if getattr(attrs, n) is None]
    if missing:
        raise InvalidConfig(f"instrument {attrs.instrument_key}: {', '.join(missing)} required to build it")


def _fees(attrs: InstrumentAttributes, spec: VenueSpec) -> dict[str, Decimal]:
    return {
        "maker_fee": attrs.maker_fee if attrs.maker_fee is not None else spec.maker_fee,
        "taker_fee": attrs.taker_fee if attrs.taker_fee is not None else spec.taker_fee,
    }


def _ns(dt: datetime | None) -> int:
    # integer arithmetic: float seconds * 1e9 is off by up to ~256 ns for today's timestamps
    return 0 if dt is None else (dt - _EPOCH) // timedelta(microseconds=1) * 1_000


@dataclass(frozen=True)
class Sizing:
    """Price and size precisions and increments of registry attributes."""

    price_precision: int
    size_precision: int
    price_increment: Price
    size_increment: Quantity
    min_quantity: Quantity | None


def sizing(attrs: InstrumentAttributes) -> Sizing:
    """
    Return the precisions and increments of ``attrs``.

    Raises
    ------
    InvalidConfig
        If tick size or size increment is missing, too fine for NautilusTrader, or the
        minimum size is finer than the size increment.
    """
    key = attrs.instrument_key
    tick, step = attrs.tick_size, attrs.size_increment
    if tick is None or step is None:
        _require(attrs, "tick_size", "size_increment")
        raise AssertionError  # pragma: no cover - _require raised
    p_prec, s_prec = _precision(tick), _precision(step)
    if max(p_prec, s_prec) > _MAX_PRECISION:
        raise InvalidConfig(
            f"instrument {key}: tick_size/size_increment need {max(p_prec, s_prec)} decimals; "
            f"NautilusTrader allows at most {_MAX_PRECISION}",
        )
    min_qty = Quantity(attrs.min_size, s_prec) if attrs.min_size is not None else None
    if min_qty is not None and min_qty.as_decimal() != attrs.min_size:
        raise InvalidConfig(
            f"instrument {key}: min_size: {attrs.min_size} is finer than size_increment {step} "
            f"(it would round to {min_qty})",
        )
    return Sizing(p_prec, s_prec, Price(tick, p_prec), Quantity(step, s_prec), min_qty)


def instrument_from_attributes(
    attrs: InstrumentAttributes,
    spec: VenueSpec,
    instrument_id: InstrumentId,
    *,
    ts_init: int = 0,
) -> Instrument:
    """
    Return the Nautilus instrument of registry attributes with the id its venue gives it.

    CEX pairs -> ``CurrencyPair``; perpetuals -> ``CryptoPerpetual``; CEX futures/options ->
    ``CryptoFuture``/``CryptoOption``; TradFi futures/options -> ``FuturesContract``/
    ``OptionContract``; equities -> ``Equity``; indices -> ``IndexInstrument``; DEX pools ->
    ``CurrencyPair`` on the pool venue. Betting markets are the Betfair symbology's
    (:func:`nautilus_ext.adapters.symbology.build_instrument`). The canonical key is stored in
    ``info["canonical_key"]``; NautilusTrader's own refusals propagate as ``ValueError``.

    Raises
    ------
    InvalidInstrumentKey
        If the instrument type is not a Nautilus instrument.
    InvalidConfig
        If attributes the instrument needs (tick size, size increment...) are missing.
    """
    key = attrs.instrument_key
    t = key.instrument_type
    if t in NOT_NAUTILUS:
        raise invalid_key(key, f"{t} positions are not NautilusTrader instruments")
    if key.is_sports:
        raise invalid_key(key, "betting instruments are built by the venue's symbology (one per selection)")
    sizes = sizing(attrs)
    p_prec, s_prec, min_qty = sizes.price_precision, sizes.size_precision, sizes.min_quantity
    price_increment, size_increment = sizes.price_increment, sizes.size_increment
    info: dict[str, Any] = {CANONICAL_KEY_INFO: str(key)}
    raw = Symbol(attrs.exchange_raw_symbol or instrument_id.symbol.value)
    fees = _fees(attrs, spec)
    multiplier = Quantity.from_str(str(attrs.contract_size or 1))
    common: dict[str, Any] = {
        "instrument_id": instrument_id,
        "raw_symbol": raw,
        "price_precision": p_prec,
        "price_increment": price_increment,
        "ts_event": ts_init,
        "ts_init": ts_init,
        "info": info,
        **fees,
    }

    base = _currency(key.base_asset or "")
    quote = _currency(key.quote_asset or "USD")
    if t in (InstrumentType.SPOT_PAIR, InstrumentType.POOL):
        if t is InstrumentType.POOL and key.pool_fee_rate is not None:
            common["maker_fee"] = common["taker_fee"] = key.pool_fee_rate
        return CurrencyPair(
            base_currency=base,
            quote_currency=quote,
            size_precision=s_prec,
            size_increment=size_increment,
            min_quantity=min_qty,
            min_notional=Money(attrs.min_notional, quote) if attrs.min_notional is not None else None,
            margin_init=Decimal(0),
            margin_maint=Decimal(0),
            **common,
        )
    inverse = key.settlement is SettlementStyle.INV
    settle = _currency(key.settle_asset or key.quote_asset or "USD")
    if t is InstrumentType.PERPETUAL:
        return CryptoPerpetual(
            base_currency=base,
            quote_currency=quote,
            settlement_currency=settle,
            is_inverse=inverse,
            size_precision=s_prec,
            size_increment=size_increment,
            multiplier=multiplier,
            min_quantity=min_qty,
            margin_init=Decimal("0.1"),
            margin_maint=Decimal("0.05"),
            **common,
        )
    expiry_ns = _ns(attrs.expiry)
    if spec.family is VenueFamily.CEX and t is InstrumentType.FUTURE:
        return CryptoFuture(
            underlying=base,
            quote_currency=quote,
            settlement_currency=settle,
            is_inverse=inverse,
            activation_ns=0,
            expiration_ns=expiry_ns,
            size_precision=s_prec,
            size_increment=size_increment,
            multiplier=multiplier,
            lot_size=Quantity.from_int(1),
            min_quantity=min_qty,
            margin_init=Decimal("0.1"),
            margin_maint=Decimal("0.05"),
            **common,
        )
    if spec.family is VenueFamily.CEX and t is InstrumentType.OPTION:
        return CryptoOption(
            underlying=base,
            quote_currency=quote,
            settlement_currency=settle,
            is_inverse=inverse,
            option_kind=NautilusOptionKind.CALL
            if key.option_kind is OptionKind.CALL
            else NautilusOptionKind.PUT,
            strike_price=Price.from_str(format(key.strike, "f")),
            activation_ns=0,
            expiration_ns=expiry_ns,
            size_precision=s_prec,
            size_increment=size_increment,
            multiplier=multiplier,
            min_quantity=min_qty,
            **common,
        )
    asset_class = (
        NautilusAssetClass.INDEX if key.asset_class is None else _nautilus_asset_class(key.asset_class)
    )
    if t is InstrumentType.FUTURE:
        _require(attrs, "underlying")
        return FuturesContract(
            asset_class=asset_class,
            currency=quote,
            multiplier=multiplier,
            lot_size=Quantity.from_int(1),
            underlying=str(attrs.underlying),
            activation_ns=0,
            expiration_ns=expiry_ns,
            exchange=attrs.exchange,
            **common,
        )
    if t is InstrumentType.OPTION:
        _require(attrs, "underlying")
        return OptionContract(
            asset_class=asset_class,
            currency=quote,
            multiplier=multiplier,
            lot_size=Quantity.from_int(1),
            underlying=str(attrs.underlying),
            option_kind=NautilusOptionKind.CALL
            if key.option_kind is OptionKind.CALL
            else NautilusOptionKind.PUT,
            strike_price=Price.from_str(format(key.strike, "f")),
            activation_ns=0,
            expiration_ns=expiry_ns,
            exchange=attrs.exchange,
            **common,
        )
    if t is InstrumentType.EQUITY:
        return Equity(currency=quote, lot_size=Quantity.from_int(1), **common)
    if t is InstrumentType.INDEX:
        for fee in ("maker_fee", "taker_fee"):  # an index is not traded
            common.pop(fee)
        return IndexInstrument(currency=quote, size_precision=s_prec, size_increment=size_increment, **common)
    raise invalid_key(key, f"no Nautilus instrument for {t}")  # pragma: no cover - types exhausted


def _nautilus_asset_class(asset_class: AssetClass) -> NautilusAssetClass:
    return {
        AssetClass.COMMODITIES: NautilusAssetClass.COMMODITY,
        AssetClass.EQUITY: NautilusAssetClass.EQUITY,
        AssetClass.BOND: NautilusAssetClass.DEBT,
        AssetClass.FX: NautilusAssetClass.FX,
        AssetClass.CEFI: NautilusAssetClass.CRYPTOCURRENCY,
        AssetClass.DEFI: NautilusAssetClass.CRYPTOCURRENCY,
    }.get(asset_class, NautilusAssetClass.INDEX)


__all__ = [
    "CANONICAL_KEY_INFO",
    "NOT_NAUTILUS",
    "Sizing",
    "instrument_from_attributes",
    "invalid_key",
    "nautilus_venue",
    "ns_date",
    "option_kind_name",
    "price_text",
    "registered_form",
    "sizing",
    "slug",
    "spec_for",
    "yymmdd",
]
