"""Register NautilusTrader's native Hyperliquid adapter (``HYPERLIQUID``; URLs not configurable in 1.231)."""

from __future__ import annotations

from typing import Final

from nautilus_ext.adapters.registry import VenueClients
from nautilus_ext.adapters.registry import VenueFamily
from nautilus_ext.adapters.registry import VenueSettings
from nautilus_ext.adapters.registry import instrument_provider_config


def build_clients(venue: VenueSettings) -> VenueClients:
    """Return the Hyperliquid clients of ``venue`` (wallet keys from NautilusTrader's variables)."""
    from nautilus_trader.adapters.hyperliquid import HyperliquidDataClientConfig
    from nautilus_trader.adapters.hyperliquid import HyperliquidExecClientConfig
    from nautilus_trader.adapters.hyperliquid import HyperliquidLiveDataClientFactory
    from nautilus_trader.adapters.hyperliquid import HyperliquidLiveExecClientFactory

    return VenueClients(
        data_config=HyperliquidDataClientConfig(instrument_provider=instrument_provider_config(venue)),
        exec_config=HyperliquidExecClientConfig(instrument_provider=instrument_provider_config(venue)),
        data_factory=HyperliquidLiveDataClientFactory,
        exec_factory=HyperliquidLiveExecClientFactory,
    )


FAMILY: Final = VenueFamily(
    name="hyperliquid", adapter="native", venues=frozenset({"HYPERLIQUID"}), build_clients=build_clients
)
