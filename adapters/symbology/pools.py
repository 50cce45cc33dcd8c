"""On-chain pool symbology: ``WETH-USDC-500`` (assets, fee tier) on the pool's Nautilus venue."""

from __future__ import annotations

import re

from nautilus_ext.adapters.symbology.common import make_key
from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.attributes import VenueSpec
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.registry import InstrumentRegistry


def format_symbol(key: InstrumentKey, spec: VenueSpec, attrs: InstrumentAttributes | None) -> str | None:
    """Return the pool's symbol, or ``None`` if ``key`` is not a pool."""
    if key.instrument_type is not InstrumentType.POOL:
        return None
    fee = f"-{key.pool_fee_tier}" if key.pool_fee_tier is not None else ""
    return "-".join(key.pool_assets) + fee


def parse_symbol(symbol: str, spec: VenueSpec, registry: InstrumentRegistry) -> InstrumentKey | None:
    """Return the pool key of a symbol on ``spec``'s chain, or ``None``."""
    m = re.fullmatch(r"([A-Z0-9-]+?)(?:-(\d+))?", symbol)
    if m is None:
        return None
    fee = f":{m.group(2)}" if m.group(2) else ""
    return make_key(spec, InstrumentType.POOL, f"{m.group(1)}{fee}", spec.chain)
