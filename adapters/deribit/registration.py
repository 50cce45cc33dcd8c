"""Register NautilusTrader's native Deribit adapter (``DERIBIT``), its execution WebSocket configurable."""

from __future__ import annotations

from typing import Any
from typing import Final

from nautilus_ext.adapters.registry import VenueClients
from nautilus_ext.adapters.registry import VenueFamily
from nautilus_ext.adapters.registry import VenueSettings
from nautilus_ext.adapters.registry import instrument_provider_config


def build_clients(venue: VenueSettings) -> VenueClients:
    """Return the Deribit clients of ``venue`` (testnet or mainnet; URL overrides are the server's base)."""
    from nautilus_trader.adapters.deribit import DeribitDataClientConfig
    from nautilus_trader.adapters.deribit import DeribitExecClientConfig
    from nautilus_trader.adapters.deribit import DeribitLiveDataClientFactory
    from nautilus_trader.core.nautilus_pyo3 import DeribitEnvironment

    from nautilus_ext.adapters.deribit.factories import DeribitUrlLiveExecClientFactory

    # the overrides are the server's base URL; Deribit's paths are /api/v2 and /ws/api/v2
    common: dict[str, Any] = {
        "environment": DeribitEnvironment.TESTNET if venue.testnet else DeribitEnvironment.MAINNET,
        "instrument_provider": instrument_provider_config(venue),
    }
    if venue.rest_url_override is not None and venue.ws_url_override is not None:
        common["base_url_http"] = venue.rest_url_override.rstrip("/") + "/api/v2"
        common["base_url_ws"] = venue.ws_url_override.rstrip("/") + "/ws/api/v2"
    return VenueClients(
        data_config=DeribitDataClientConfig(**common),
        exec_config=DeribitExecClientConfig(**common),
        data_factory=DeribitLiveDataClientFactory,
        exec_factory=DeribitUrlLiveExecClientFactory,
    )


FAMILY: Final = VenueFamily(
    name="deribit",
    adapter="native",
    venues=frozenset({"DERIBIT"}),
    build_clients=build_clients,
    url_overrides=True,
)
