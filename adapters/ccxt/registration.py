"""Register the ccxt family: any venue entry with ``adapter: ccxt`` (by its ``exchange_id``)."""

from __future__ import annotations

from typing import Any
from typing import Final

from nautilus_ext.adapters.registry import VenueClients
from nautilus_ext.adapters.registry import VenueFamily
from nautilus_ext.adapters.registry import VenueSettings
from nautilus_ext.adapters.registry import instrument_provider_config
from nautilus_ext.errors import InvalidConfig


def _common(venue: VenueSettings) -> dict[str, Any]:
    if not venue.exchange_id:
        raise InvalidConfig(f"venue {venue.venue}: adapter 'ccxt' needs exchange_id", venue=venue.venue)
    return {
        "exchange_id": venue.exchange_id,
        "venue": venue.venue,
        "market_types": tuple(venue.market_types) if venue.market_types else None,
        "testnet": venue.testnet,
        "rest_url_override": venue.rest_url_override,
        "ws_url_override": venue.ws_url_override,
        "enable_rate_limit": venue.enable_rate_limit,
        "timeout_ms": venue.timeout_ms,
        "instrument_provider": instrument_provider_config(venue),
    }


def build_clients(venue: VenueSettings) -> VenueClients:
    """Return the ccxt data and execution client configs and factories of ``venue``."""
    from nautilus_ext.adapters.ccxt.config import CcxtDataClientConfig
    from nautilus_ext.adapters.ccxt.config import CcxtExecClientConfig
    from nautilus_ext.adapters.ccxt.factories import CcxtLiveDataClientFactory
    from nautilus_ext.adapters.ccxt.factories import CcxtLiveExecClientFactory

    return VenueClients(
        data_config=CcxtDataClientConfig(**_common(venue)),
        exec_config=CcxtExecClientConfig(
            **_common(venue),
            fill_poll_interval_ms=venue.fill_poll_interval_ms,
            position_poll_interval_ms=venue.position_poll_interval_ms,
            margin_poll_interval_ms=venue.margin_poll_interval_ms,
            funding_poll_interval_ms=venue.funding_poll_interval_ms,
            key_scope=venue.key_scope,
        ),
        data_factory=CcxtLiveDataClientFactory,
        exec_factory=CcxtLiveExecClientFactory,
    )


FAMILY: Final = VenueFamily(
    name="ccxt", adapter="ccxt", venues=None, build_clients=build_clients, url_overrides=True
)
