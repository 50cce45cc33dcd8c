"""Register NautilusTrader's native Bybit adapter (``BYBIT``; its URLs are not configurable in 1.231)."""

from __future__ import annotations

from typing import Final

from nautilus_ext.adapters.registry import VenueClients
from nautilus_ext.adapters.registry import VenueFamily
from nautilus_ext.adapters.registry import VenueSettings
from nautilus_ext.adapters.registry import instrument_provider_config


def build_clients(venue: VenueSettings) -> VenueClients:
    """Return the Bybit clients of ``venue`` (keys from NautilusTrader's ``BYBIT_API_KEY``/``_SECRET``)."""
    from nautilus_trader.adapters.bybit import BybitDataClientConfig
    from nautilus_trader.adapters.bybit import BybitExecClientConfig
    from nautilus_trader.adapters.bybit import BybitLiveDataClientFactory
    from nautilus_trader.adapters.bybit import BybitLiveExecClientFactory

    return VenueClients(
        data_config=BybitDataClientConfig(instrument_provider=instrument_provider_config(venue)),
        exec_config=BybitExecClientConfig(instrument_provider=instrument_provider_config(venue)),
        data_factory=BybitLiveDataClientFactory,
        exec_factory=BybitLiveExecClientFactory,
    )


FAMILY: Final = VenueFamily(
    name="bybit", adapter="native", venues=frozenset({"BYBIT"}), build_clients=build_clients
)
