"""
Venue symbology: canonical keys <-> NautilusTrader instrument ids, one module per venue.

Each venue's rules are a module here with ``format_symbol(key, spec, attrs)`` and
``parse_symbol(symbol, spec, registry)`` (:data:`RULES`, keyed by the registry's
:class:`~nautilus_ext.instruments.attributes.Symbology`); the modules import no client code, so
looking an id up never loads ccxt or a native adapter. On top of them:

* :func:`to_instrument_id` — a key's Nautilus ``InstrumentId``: the registry's explicit id if it
  has one, otherwise the venue's rule (``BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN`` ->
  ``BTCUSDT-PERP.BINANCE``).
* :func:`from_instrument_id` — the inverse: registry first, then the rules of every venue
  sharing that Nautilus venue (exactly one must match).
* :func:`key_for_instrument` — the key of a Nautilus instrument object, from its own fields.
* :func:`build_instrument` / :func:`build_instruments` — Nautilus instrument objects from
  registry attributes (venue-neutral construction in :mod:`nautilus_ext.instruments.nautilus`).
"""

from __future__ import annotations

from types import ModuleType
from typing import Final

from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.instruments import BettingInstrument
from nautilus_trader.model.instruments import CryptoFuture
from nautilus_trader.model.instruments import CryptoOption
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.instruments import FuturesContract
from nautilus_trader.model.instruments import IndexInstrument
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.instruments import OptionContract

from nautilus_ext.adapters.symbology import betfair
from nautilus_ext.adapters.symbology import binance
from nautilus_ext.adapters.symbology import bybit
from nautilus_ext.adapters.symbology import ccxt
from nautilus_ext.adapters.symbology import cme
from nautilus_ext.adapters.symbology import deribit
from nautilus_ext.adapters.symbology import hyperliquid
from nautilus_ext.adapters.symbology import okx
from nautilus_ext.adapters.symbology import pools
from nautilus_ext.adapters.symbology.betfair import betting_market_key
from nautilus_ext.adapters.symbology.ccxt import ccxt_symbol
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.attributes import Symbology
from nautilus_ext.instruments.attributes import VenueSpec
from nautilus_ext.instruments.enums import SPORTS_TYPES
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.nautilus import CANONICAL_KEY_INFO
from nautilus_ext.instruments.nautilus import NOT_NAUTILUS
from nautilus_ext.instruments.nautilus import instrument_from_attributes
from nautilus_ext.instruments.nautilus import invalid_key
from nautilus_ext.instruments.nautilus import nautilus_venue
from nautilus_ext.instruments.nautilus import ns_date
from nautilus_ext.instruments.nautilus import option_kind_name
from nautilus_ext.instruments.nautilus import price_text
from nautilus_ext.instruments.nautilus import registered_form
from nautilus_ext.instruments.nautilus import sizing
from nautilus_ext.instruments.nautilus import spec_for
from nautilus_ext.instruments.nautilus import yymmdd
from nautilus_ext.instruments.registry import InstrumentRegistry

RULES: Final[dict[Symbology, ModuleType]] = {
    Symbology.BINANCE: binance,
    Symbology.BYBIT: bybit,
    Symbology.OKX: okx,
    Symbology.DERIBIT: deribit,
    Symbology.HYPERLIQUID: hyperliquid,
    Symbology.CCXT: ccxt,
    Symbology.CME: cme,
    Symbology.POOL: pools,
    Symbology.BETFAIR: betfair,
}
"""Each venue symbology's rules (``Symbology.NONE``: the venue has no Nautilus ids)."""


# -- key -> InstrumentId --------------------------------------------------------------------


def to_instrument_id(
    key: InstrumentKey | str,
    registry: InstrumentRegistry,
    *,
    selection: str | None = None,
) -> InstrumentId:
    """
    Return the Nautilus ``InstrumentId`` of a canonical key.

    Parameters
    ----------
    key : InstrumentKey | str
        The canonical key.
    registry : InstrumentRegistry
        Venues (symbology) and instruments (explicit ids, Betfair market and selection ids).
    selection : str, optional
        For betting markets: the selection (``HOME``, ``OVER``...); Nautilus models one
        instrument per selection.

    Raises
    ------
    InvalidInstrumentKey
        If the key has no Nautilus instrument or the registry lacks what the mapping needs.
    """
    k = key if isinstance(key, InstrumentKey) else InstrumentKey.parse(key)
    if k.instrument_type in NOT_NAUTILUS:
        raise invalid_key(k, f"{k.instrument_type} positions are not NautilusTrader instruments")
    attrs = registry.find(k)
    if k.is_sports:
        return betfair.betting_instrument_id(k, attrs, selection)
    if selection is not None:
        raise invalid_key(k, "selection applies to betting markets only")
    if attrs is not None and attrs.nautilus_instrument_id is not None:
        return InstrumentId.from_str(attrs.nautilus_instrument_id)
    spec = registry.venue(k.venue)
    return InstrumentId(Symbol(_symbol(k, spec, attrs)), Venue(nautilus_venue(spec, k)))


def _symbol(key: InstrumentKey, spec: VenueSpec, attrs: InstrumentAttributes | None) -> str:
    rules = RULES.get(spec.symbology)
    symbol = rules.format_symbol(key, spec, attrs) if rules is not None else None
    if symbol is None:
        raise invalid_key(
            key,
            f"no {spec.symbology} symbology rule for {key.instrument_type}; register nautilus_instrument_id",
        )
    return str(symbol)


# -- InstrumentId -> key --------------------------------------------------------------------


def from_instrument_id(instrument_id: InstrumentId | str, registry: InstrumentRegistry) -> InstrumentKey:
    """
    Return the canonical key of a Nautilus ``InstrumentId``.

    Raises
    ------
    InvalidInstrumentKey
        If no venue rule or registry entry maps it, or more than one does.
    """
    text = str(instrument_id)
    known = registry.key_for_nautilus_id(text)
    if known is not None:
        return known
    try:
        iid = instrument_id if isinstance(instrument_id, InstrumentId) else InstrumentId.from_str(text)
    except ValueError as e:
        raise invalid_key(text, f"not a NautilusTrader instrument id ({e})") from e
    symbol, venue = iid.symbol.value, iid.venue.value
    candidates: set[InstrumentKey] = set()
    for spec in registry.venues.values():
        if venue != spec.nautilus_venue and venue not in spec.nautilus_venue_aliases:
            continue
        rules = RULES.get(spec.symbology)
        key = rules.parse_symbol(symbol, spec, registry) if rules is not None else None
        if key is not None and key.instrument_type in spec.instrument_types:
            candidates.add(registered_form(key, registry))
    if len(candidates) == 1:
        return candidates.pop()
    if not candidates:
        raise invalid_key(text, "no registered venue symbology maps this instrument id")
    raise invalid_key(text, f"ambiguous: maps to {sorted(map(str, candidates))}")


# -- instrument object -> key ---------------------------------------------------------------


def key_for_instrument(instrument: Instrument, registry: InstrumentRegistry) -> InstrumentKey:
    """
    Return the canonical key of a Nautilus instrument object.

    Instruments built by :func:`build_instrument` carry their key in ``info``; otherwise the key
    is derived from the instrument's own fields (type, currencies, expiry, strike, Betfair
    event and market fields) and the venue that lists that type.

    Raises
    ------
    InvalidInstrumentKey
        If the instrument's type or venue has no canonical form.
    """
    info = instrument.info or {}
    if isinstance(info.get(CANONICAL_KEY_INFO), str):
        return InstrumentKey.parse(info[CANONICAL_KEY_INFO])
    known = registry.key_for_nautilus_id(str(instrument.id))
    if known is not None:
        return known
    if isinstance(instrument, BettingInstrument):
        registered = registry.key_for_betfair_market(instrument.market_id)
        return registered if registered is not None else betfair.betting_key(instrument)
    venue = instrument.id.venue.value
    if any(s.symbology is Symbology.POOL and s.nautilus_venue == venue for s in registry.venues.values()):
        return from_instrument_id(instrument.id, registry)
    if isinstance(instrument, CurrencyPair):
        t, payload, suffix = (
            InstrumentType.SPOT_PAIR,
            f"{instrument.base_currency.code}-{instrument.quote_currency.code}",
            None,
        )
    elif isinstance(instrument, CryptoPerpetual):
        t = InstrumentType.PERPETUAL
        payload = f"{instrument.base_currency.code}-{instrument.quote_currency.code}"
        suffix = "INV" if instrument.is_inverse else "LIN"
    elif isinstance(instrument, CryptoFuture | CryptoOption):
        d = ns_date(instrument.expiration_ns)
        payload = f"{instrument.underlying.code}-{instrument.quote_currency.code}-{yymmdd(d)}"
        suffix = "INV" if instrument.is_inverse else "LIN"
        t = InstrumentType.FUTURE
        if isinstance(instrument, CryptoOption):
            t = InstrumentType.OPTION
            payload += f"-{price_text(instrument.strike_price)}-{option_kind_name(instrument.option_kind)}"
    elif isinstance(instrument, FuturesContract | OptionContract):
        listed = InstrumentType.OPTION if isinstance(instrument, OptionContract) else InstrumentType.FUTURE
        spec = spec_for(instrument.id.venue.value, listed, registry)
        root = cme.contract_root(instrument)
        base = spec.root_aliases.get(root, root)
        d = ns_date(instrument.expiration_ns)
        payload, suffix, t = (
            f"{base}-{instrument.quote_currency.code}-{yymmdd(d)}",
            "LIN",
            InstrumentType.FUTURE,
        )
        if isinstance(instrument, OptionContract):
            t = InstrumentType.OPTION
            payload += f"-{price_text(instrument.strike_price)}-{option_kind_name(instrument.option_kind)}"
        key = InstrumentKey(venue=spec.code, instrument_type=t, payload=payload, suffix=suffix)
        return registered_form(key, registry)
    elif isinstance(instrument, Equity | IndexInstrument):
        t = InstrumentType.EQUITY if isinstance(instrument, Equity) else InstrumentType.INDEX
        payload, suffix = f"{instrument.raw_symbol.value}-{instrument.quote_currency.code}", None
    else:
        raise invalid_key(instrument.id, f"{type(instrument).__name__} has no canonical instrument type")
    spec = spec_for(instrument.id.venue.value, t, registry)
    key = InstrumentKey(venue=spec.code, instrument_type=t, payload=payload, suffix=suffix)
    return registered_form(key, registry)


# -- attributes -> instrument object --------------------------------------------------------


def build_instrument(
    attrs: InstrumentAttributes,
    registry: InstrumentRegistry,
    *,
    selection: str | None = None,
    ts_init: int = 0,
) -> Instrument:
    """
    Build the Nautilus instrument for registry attributes, with its venue's id.

    See :func:`~nautilus_ext.instruments.nautilus.instrument_from_attributes` for the classes;
    betting markets -> ``BettingInstrument`` (one per ``selection``).

    Raises
    ------
    InvalidInstrumentKey
        If the instrument type is not a Nautilus instrument.
    InvalidConfig
        If attributes the instrument needs (tick size, size increment...) are missing, or
        NautilusTrader refuses them.
    """
    key = attrs.instrument_key
    try:
        if key.instrument_type in NOT_NAUTILUS:
            raise invalid_key(key, f"{key.instrument_type} positions are not NautilusTrader instruments")
        spec = registry.venue(key.venue)
        iid = to_instrument_id(key, registry, selection=selection)
        if key.is_sports:
            sizes = sizing(attrs)
            info = {CANONICAL_KEY_INFO: str(key)}
            return betfair.build_betting(
                attrs,
                iid,
                selection,
                sizes.price_precision,
                sizes.size_precision,
                sizes.min_quantity,
                ts_init,
                info,
            )
        return instrument_from_attributes(attrs, spec, iid, ts_init=ts_init)
    except NautilusExtError:
        raise
    except ValueError as e:  # NautilusTrader's own checks (price/size limits...) as a config error
        raise InvalidConfig(f"instrument {key}: NautilusTrader refuses these attributes: {e}") from e


def build_instruments(
    attrs: InstrumentAttributes, registry: InstrumentRegistry, *, ts_init: int = 0
) -> list[Instrument]:
    """Build every Nautilus instrument of ``attrs`` (one per selection for betting markets)."""
    if attrs.instrument_key.instrument_type in SPORTS_TYPES:
        return [build_instrument(attrs, registry, selection=s, ts_init=ts_init) for s in attrs.selections]
    return [build_instrument(attrs, registry, ts_init=ts_init)]


__all__ = [
    "RULES",
    "betting_market_key",
    "build_instrument",
    "build_instruments",
    "ccxt_symbol",
    "from_instrument_id",
    "key_for_instrument",
    "to_instrument_id",
]
