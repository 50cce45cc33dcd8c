"""OKX symbology: ``BTC-USDT`` (spot), ``BTC-USDT-SWAP``, ``BTC-USD-241227``, ``BTC-USD-241227-60000-C``."""

from __future__ import annotations

from nautilus_ext.adapters.symbology.common import OPTION_KINDS
from nautilus_ext.adapters.symbology.common import make_key
from nautilus_ext.adapters.symbology.common import option_letter
from nautilus_ext.adapters.symbology.common import strike_text
from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.attributes import VenueSpec
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.nautilus import yymmdd
from nautilus_ext.instruments.registry import InstrumentRegistry


def format_symbol(key: InstrumentKey, spec: VenueSpec, attrs: InstrumentAttributes | None) -> str | None:
    """Return the Nautilus symbol of ``key`` on OKX, or ``None`` if no rule applies."""
    t, base, quote, exp = key.instrument_type, key.base_asset or "", key.quote_asset or "", key.expiry_date
    if t is InstrumentType.SPOT_PAIR:
        return f"{base}-{quote}"
    if t is InstrumentType.PERPETUAL:
        return f"{base}-{quote}-SWAP"
    if t is InstrumentType.FUTURE and exp is not None:
        return f"{base}-{quote}-{yymmdd(exp)}"
    if t is InstrumentType.OPTION and exp is not None:
        return f"{base}-{quote}-{yymmdd(exp)}-{strike_text(key.strike)}-{option_letter(key.option_kind)}"
    return None


def parse_symbol(symbol: str, spec: VenueSpec, registry: InstrumentRegistry) -> InstrumentKey | None:
    """Return the key of an OKX symbol, or ``None``."""
    parts = symbol.split("-")
    if len(parts) == 2:
        return make_key(spec, InstrumentType.SPOT_PAIR, symbol)
    if len(parts) == 3 and parts[2] == "SWAP":
        suffix = "INV" if parts[1] == "USD" else "LIN"
        return make_key(spec, InstrumentType.PERPETUAL, f"{parts[0]}-{parts[1]}", suffix)
    suffix = "INV" if len(parts) > 1 and parts[1] == "USD" else "LIN"
    if len(parts) == 3:
        return make_key(spec, InstrumentType.FUTURE, symbol, suffix)
    if len(parts) == 5:
        kind = OPTION_KINDS.get(parts[4], parts[4])
        return make_key(
            spec, InstrumentType.OPTION, f"{parts[0]}-{parts[1]}-{parts[2]}-{parts[3]}-{kind}", suffix
        )
    return None
