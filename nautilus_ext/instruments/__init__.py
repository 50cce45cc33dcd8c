"""Canonical instrument keys, instrument attributes, the registry and the NautilusTrader mapping."""

from nautilus_ext.instruments.enums import AssetClass
from nautilus_ext.instruments.enums import InstrumentRole
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.enums import OptionKind
from nautilus_ext.instruments.enums import SettlementStyle
from nautilus_ext.instruments.key import InstrumentKey

__all__ = [
    "AssetClass",
    "InstrumentKey",
    "InstrumentRole",
    "InstrumentType",
    "OptionKind",
    "SettlementStyle",
]
