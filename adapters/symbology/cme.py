"""
CME symbology (Databento/IB raw symbols): ``ESZ4`` futures (root, month code, year digit), the
registry's ``exchange_raw_symbol`` for options and indices.
"""

from __future__ import annotations

import re
from typing import Final

from nautilus_trader.model.instruments import FuturesContract
from nautilus_trader.model.instruments import OptionContract

from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.attributes import VenueSpec
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.registry import InstrumentRegistry

MONTH_CODES: Final = "FGHJKMNQUVXZ"
"""CME futures month codes, January to December."""


def format_symbol(key: InstrumentKey, spec: VenueSpec, attrs: InstrumentAttributes | None) -> str | None:
    """Return the CME raw symbol of ``key``, or ``None`` if no rule applies."""
    if attrs is not None and attrs.exchange_raw_symbol:
        return attrs.exchange_raw_symbol
    t, base, exp = key.instrument_type, key.base_asset or "", key.expiry_date
    if t is InstrumentType.FUTURE and exp is not None:
        roots = {canonical: root for root, canonical in spec.root_aliases.items()}
        return f"{roots.get(base, base)}{MONTH_CODES[exp.month - 1]}{exp.year % 10}"
    if t in (InstrumentType.INDEX, InstrumentType.EQUITY):
        return base
    return None


def parse_symbol(symbol: str, spec: VenueSpec, registry: InstrumentRegistry) -> InstrumentKey | None:
    """Return the key of a CME raw symbol (registry symbols first), or ``None``."""
    # the registry's exchange symbols first: options (ESM4 C5000) and indices (VIX) too
    for attrs in registry:
        if attrs.instrument_key.venue == spec.code and attrs.exchange_raw_symbol == symbol:
            return attrs.instrument_key
    m = re.fullmatch(r"([A-Z0-9]{1,3}?)([FGHJKMNQUVXZ])(\d)", symbol)
    if m is None:
        return None
    # a one-digit year is ambiguous by decade: take the registered contract if there is one
    base = spec.root_aliases.get(m.group(1), m.group(1))
    month, year_digit = MONTH_CODES.index(m.group(2)) + 1, int(m.group(3))
    for attrs in registry.by_type(InstrumentType.FUTURE):
        k = attrs.instrument_key
        if (
            k.venue == spec.code
            and k.base_asset == base
            and k.expiry_date is not None
            and k.expiry_date.month == month
            and k.expiry_date.year % 10 == year_digit
        ):
            return k
    return None


def contract_root(instrument: FuturesContract | OptionContract) -> str:
    """Return a listed contract's root (``ES``): an option's underlying future loses its month."""
    underlying = str(instrument.underlying)
    if not underlying:
        # NautilusTrader's IB adapter leaves a future's underlying empty: the raw symbol has it
        m = re.fullmatch(r"([A-Z0-9]{1,3}?)[FGHJKMNQUVXZ]\d{1,2}", instrument.raw_symbol.value)
        return m.group(1) if m else underlying
    if isinstance(instrument, OptionContract):
        # Databento/IB option underlyings are the future (ESM4): strip month and year
        m = re.fullmatch(r"([A-Z0-9]{1,3}?)[FGHJKMNQUVXZ]\d{1,2}", underlying)
        return m.group(1) if m else underlying
    return underlying
