"""Deribit symbology: ``BTC-PERPETUAL`` (inverse), ``BTC_USDC-PERPETUAL``, ``BTC-27DEC24``, options."""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from nautilus_ext.adapters.symbology.common import OPTION_KINDS
from nautilus_ext.adapters.symbology.common import make_key
from nautilus_ext.adapters.symbology.common import option_letter
from nautilus_ext.adapters.symbology.common import strike_text
from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.attributes import VenueSpec
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.enums import SettlementStyle
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.nautilus import yymmdd
from nautilus_ext.instruments.registry import InstrumentRegistry

MONTHS: Final = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def ddmmmyy(d: date) -> str:
    """Return Deribit's expiry form (``27DEC24``)."""
    return f"{d.day}{MONTHS[d.month - 1]}{d:%y}"


def parse_ddmmmyy(text: str) -> date | None:
    """Return the date of a Deribit expiry (``27DEC24``), or ``None``."""
    m = re.fullmatch(r"(\d{1,2})([A-Z]{3})(\d{2})", text)
    if m is None or m.group(2) not in MONTHS:
        return None
    try:
        return date(2000 + int(m.group(3)), MONTHS.index(m.group(2)) + 1, int(m.group(1)))
    except ValueError:
        return None


def format_symbol(key: InstrumentKey, spec: VenueSpec, attrs: InstrumentAttributes | None) -> str | None:
    """Return the Nautilus symbol of ``key`` on Deribit, or ``None`` if no rule applies."""
    t, base, quote, exp = key.instrument_type, key.base_asset or "", key.quote_asset or "", key.expiry_date
    root = base if key.settlement is SettlementStyle.INV else f"{base}_{quote}"
    if t is InstrumentType.PERPETUAL:
        return f"{root}-PERPETUAL"
    if t is InstrumentType.FUTURE and exp is not None:
        return f"{root}-{ddmmmyy(exp)}"
    if t is InstrumentType.OPTION and exp is not None:
        return f"{root}-{ddmmmyy(exp)}-{strike_text(key.strike)}-{option_letter(key.option_kind)}"
    return None


def parse_symbol(symbol: str, spec: VenueSpec, registry: InstrumentRegistry) -> InstrumentKey | None:
    """Return the key of a Deribit symbol, or ``None``."""
    parts = symbol.split("-")
    base, _, quote = parts[0].partition("_")
    suffix = "LIN" if quote else "INV"
    quote = quote or "USD"
    if len(parts) == 2 and parts[1] == "PERPETUAL":
        return make_key(spec, InstrumentType.PERPETUAL, f"{base}-{quote}", suffix)
    expiry = parse_ddmmmyy(parts[1]) if len(parts) >= 2 else None
    if expiry is not None and len(parts) == 2:
        return make_key(spec, InstrumentType.FUTURE, f"{base}-{quote}-{yymmdd(expiry)}", suffix)
    if expiry is not None and len(parts) == 4:
        kind = OPTION_KINDS.get(parts[3], parts[3])
        return make_key(
            spec, InstrumentType.OPTION, f"{base}-{quote}-{yymmdd(expiry)}-{parts[2]}-{kind}", suffix
        )
    return None
