"""Bybit symbology (NautilusTrader's): ``BTCUSDT-SPOT``, ``BTCUSDT-LINEAR``, ``BTCUSD-INVERSE``."""

from __future__ import annotations

from nautilus_ext.adapters.symbology.common import make_key
from nautilus_ext.adapters.symbology.common import split_concat
from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.attributes import VenueSpec
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.enums import SettlementStyle
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.registry import InstrumentRegistry


def format_symbol(key: InstrumentKey, spec: VenueSpec, attrs: InstrumentAttributes | None) -> str | None:
    """Return the Nautilus symbol of ``key`` on Bybit, or ``None`` if no rule applies."""
    t, base, quote = key.instrument_type, key.base_asset or "", key.quote_asset or ""
    if t is InstrumentType.SPOT_PAIR:
        return f"{base}{quote}-SPOT"
    if t is InstrumentType.PERPETUAL:
        return f"{base}{quote}-{'INVERSE' if key.settlement is SettlementStyle.INV else 'LINEAR'}"
    return None


def parse_symbol(symbol: str, spec: VenueSpec, registry: InstrumentRegistry) -> InstrumentKey | None:
    """Return the key of a Bybit symbol, or ``None``."""
    body, _, product = symbol.rpartition("-")
    bq = split_concat(body)
    if bq is None:
        return None
    payload = f"{bq[0]}-{bq[1]}"
    if product == "SPOT":
        return make_key(spec, InstrumentType.SPOT_PAIR, payload)
    if product in ("LINEAR", "INVERSE"):
        return make_key(spec, InstrumentType.PERPETUAL, payload, "LIN" if product == "LINEAR" else "INV")
    return None
