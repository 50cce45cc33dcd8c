"""Binance symbology: ``BTCUSDT`` (spot), ``BTCUSDT-PERP`` (USD-M perpetual), ``BTCUSDT_241227`` (future)."""

from __future__ import annotations

import re

from nautilus_ext.adapters.symbology.common import make_key
from nautilus_ext.adapters.symbology.common import split_concat
from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.attributes import VenueSpec
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.enums import SettlementStyle
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.nautilus import yymmdd
from nautilus_ext.instruments.registry import InstrumentRegistry


def format_symbol(key: InstrumentKey, spec: VenueSpec, attrs: InstrumentAttributes | None) -> str | None:
    """Return the Nautilus symbol of ``key`` on Binance, or ``None`` if no rule applies."""
    t, base, quote = key.instrument_type, key.base_asset or "", key.quote_asset or ""
    inv = key.settlement is SettlementStyle.INV
    if t is InstrumentType.SPOT_PAIR:
        return f"{base}{quote}"
    if t is InstrumentType.PERPETUAL and not inv:
        return f"{base}{quote}-PERP"
    if t is InstrumentType.FUTURE and not inv and key.expiry_date is not None:
        return f"{base}{quote}_{yymmdd(key.expiry_date)}"
    return None


def parse_symbol(symbol: str, spec: VenueSpec, registry: InstrumentRegistry) -> InstrumentKey | None:
    """Return the key of a Binance symbol, or ``None``."""
    if symbol.endswith("-PERP") and (bq := split_concat(symbol[:-5])):
        return make_key(spec, InstrumentType.PERPETUAL, f"{bq[0]}-{bq[1]}", "LIN")
    m = re.fullmatch(r"([A-Z0-9]+)_(\d{6})", symbol)
    if m is not None and (bq := split_concat(m.group(1))):
        return make_key(spec, InstrumentType.FUTURE, f"{bq[0]}-{bq[1]}-{m.group(2)}", "LIN")
    if bq := split_concat(symbol):
        return make_key(spec, InstrumentType.SPOT_PAIR, f"{bq[0]}-{bq[1]}")
    return None
