"""Register NautilusTrader's native OKX adapter (``OKX``; ``market_types`` are OKX instrument types)."""

from __future__ import annotations

from typing import Any
from typing import Final

from nautilus_ext.adapters.registry import VenueClients
from nautilus_ext.adapters.registry import VenueFamily
from nautilus_ext.adapters.registry import VenueSettings
from nautilus_ext.adapters.registry import instrument_provider_config
from nautilus_ext.errors import InvalidConfig


def build_clients(venue: VenueSettings) -> VenueClients:
    """
    Return the OKX clients of ``venue``.

    Raises
    ------
    InvalidConfig
        If a ``market_types`` entry is not an OKX instrument type.
    """
    from nautilus_trader.adapters.okx import OKXDataClientConfig
    from nautilus_trader.adapters.okx import OKXExecClientConfig
    from nautilus_trader.adapters.okx import OKXLiveDataClientFactory
    from nautilus_trader.adapters.okx import OKXLiveExecClientFactory
    from nautilus_trader.core.nautilus_pyo3 import OKXInstrumentType

    kinds = {
        "spot": OKXInstrumentType.SPOT,
        "margin": OKXInstrumentType.MARGIN,
        "swap": OKXInstrumentType.SWAP,
        "future": OKXInstrumentType.FUTURES,
        "option": OKXInstrumentType.OPTION,
    }
    common: dict[str, Any] = {"instrument_provider": instrument_provider_config(venue)}
    if venue.market_types:
        unknown = sorted(set(venue.market_types) - set(kinds))
        if unknown:
            raise InvalidConfig(
                f"venue OKX: native market_types {unknown} not in {sorted(kinds)}", venue=venue.venue
            )
        common["instrument_types"] = tuple(kinds[t] for t in venue.market_types)
    data_urls: dict[str, Any] = {}
    exec_urls: dict[str, Any] = {}
    if venue.rest_url_override and venue.ws_url_override:
        # base_url_ws is the full public (data) or private (exec) URL; the adapter derives
        # the business URL from it by replacing the last path segment
        ws = venue.ws_url_override.rstrip("/") + "/ws/v5"
        data_urls = {"base_url_http": venue.rest_url_override, "base_url_ws": ws + "/public"}
        exec_urls = {"base_url_http": venue.rest_url_override, "base_url_ws": ws + "/private"}
    return VenueClients(
        data_config=OKXDataClientConfig(**common, **data_urls),
        exec_config=OKXExecClientConfig(**common, **exec_urls),
        data_factory=OKXLiveDataClientFactory,
        exec_factory=OKXLiveExecClientFactory,
    )


FAMILY: Final = VenueFamily(
    name="okx", adapter="native", venues=frozenset({"OKX"}), build_clients=build_clients, url_overrides=True
)
