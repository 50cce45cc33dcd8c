"""ccxt's unified symbology: ``BTC/USDT``, ``BTC/USDT:USDT``, ``BTC/USD:BTC-241227``, ``...-60000-C``."""

from __future__ import annotations

from nautilus_ext.adapters.symbology.common import OPTION_KINDS
from nautilus_ext.adapters.symbology.common import make_key
from nautilus_ext.adapters.symbology.common import option_letter
from nautilus_ext.adapters.symbology.common import strike_text
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.attributes import VenueSpec
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.nautilus import yymmdd
from nautilus_ext.instruments.registry import InstrumentRegistry


def ccxt_symbol(key: InstrumentKey | str) -> str:
    """
    Return ccxt's unified symbol of a pair or derivative key.

    Raises
    ------
    InvalidInstrumentKey
        If the key is not a pair, perpetual, future or option.
    """
    k = key if isinstance(key, InstrumentKey) else InstrumentKey.parse(key)
    t = k.instrument_type
    pair = f"{k.base_asset}/{k.quote_asset}"
    if t is InstrumentType.SPOT_PAIR:
        return pair
    if t in (InstrumentType.PERPETUAL, InstrumentType.FUTURE, InstrumentType.OPTION):
        symbol = f"{pair}:{k.settle_asset}"
        if k.expiry_date is not None:
            symbol += f"-{yymmdd(k.expiry_date)}"
        if t is InstrumentType.OPTION:
            symbol += f"-{strike_text(k.strike)}-{option_letter(k.option_kind)}"
        return symbol
    raise InvalidInstrumentKey(f"{k}: no ccxt symbol for {t}", instrument_key=str(k))


def format_symbol(key: InstrumentKey, spec: VenueSpec, attrs: InstrumentAttributes | None) -> str | None:
    """Return the ccxt symbol of ``key`` (ccxt venues use it as the Nautilus symbol)."""
    return ccxt_symbol(key)


def parse_symbol(symbol: str, spec: VenueSpec, registry: InstrumentRegistry) -> InstrumentKey | None:
    """Return the key of a ccxt unified symbol, or ``None``."""
    pair, _, rest = symbol.partition(":")
    base, slash, quote = pair.partition("/")
    if not slash:
        return None
    if not rest:
        return make_key(spec, InstrumentType.SPOT_PAIR, f"{base}-{quote}")
    parts = rest.split("-")
    suffix = "INV" if parts[0] == base else "LIN"
    if len(parts) == 1:
        return make_key(spec, InstrumentType.PERPETUAL, f"{base}-{quote}", suffix)
    if len(parts) == 2:
        return make_key(spec, InstrumentType.FUTURE, f"{base}-{quote}-{parts[1]}", suffix)
    if len(parts) == 4:
        kind = OPTION_KINDS.get(parts[3], parts[3])
        return make_key(spec, InstrumentType.OPTION, f"{base}-{quote}-{parts[1]}-{parts[2]}-{kind}", suffix)
    return None
