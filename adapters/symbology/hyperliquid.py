"""Hyperliquid symbology (NautilusTrader's): ``BTC-USD-PERP`` (USDC-margined), ``PURR-USDC-SPOT``."""

from __future__ import annotations

from nautilus_ext.adapters.symbology.common import make_key
from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.attributes import VenueSpec
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.enums import SettlementStyle
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.registry import InstrumentRegistry


def format_symbol(key: InstrumentKey, spec: VenueSpec, attrs: InstrumentAttributes | None) -> str | None:
    """Return the Nautilus symbol of ``key`` on Hyperliquid, or ``None`` if no rule applies."""
    t, base, quote = key.instrument_type, key.base_asset or "", key.quote_asset or ""
    if t is InstrumentType.PERPETUAL and quote == "USDC" and key.settlement is not SettlementStyle.INV:
        return f"{base}-USD-PERP"
    if t is InstrumentType.SPOT_PAIR:
        return f"{base}-{quote}-SPOT"
    return None


def parse_symbol(symbol: str, spec: VenueSpec, registry: InstrumentRegistry) -> InstrumentKey | None:
    """Return the key of a Hyperliquid symbol, or ``None``."""
    parts = symbol.split("-")
    if len(parts) == 3 and parts[1:] == ["USD", "PERP"]:
        return make_key(spec, InstrumentType.PERPETUAL, f"{parts[0]}-USDC", "LIN")
    if len(parts) == 3 and parts[2] == "SPOT":
        return make_key(spec, InstrumentType.SPOT_PAIR, f"{parts[0]}-{parts[1]}")
    return None
