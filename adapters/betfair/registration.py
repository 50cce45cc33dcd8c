"""Register NautilusTrader's native Betfair adapter (``BETFAIR``) through this package's clients."""

from __future__ import annotations

from typing import Any
from typing import Final

from nautilus_ext.adapters.registry import VenueClients
from nautilus_ext.adapters.registry import VenueFamily
from nautilus_ext.adapters.registry import VenueSettings
from nautilus_ext.errors import InvalidConfig


def build_clients(venue: VenueSettings) -> VenueClients:
    """
    Return the Betfair clients of ``venue``: URLs and stream address configurable, credentials
    from the variables its ``betfair`` section names, venue positions reported.
    """
    from nautilus_trader.adapters.betfair.providers import BetfairInstrumentProviderConfig

    from nautilus_ext.adapters.betfair.config import BetfairUrlDataClientConfig
    from nautilus_ext.adapters.betfair.config import BetfairUrlExecClientConfig
    from nautilus_ext.adapters.betfair.factories import BetfairUrlLiveDataClientFactory
    from nautilus_ext.adapters.betfair.factories import BetfairUrlLiveExecClientFactory

    section = venue.betfair
    if section is None:
        raise InvalidConfig(f"venue {venue.venue}: native BETFAIR needs a betfair section", venue=venue.venue)
    provider = BetfairInstrumentProviderConfig(
        account_currency=section.account_currency,
        market_ids=section.market_ids,
        event_type_ids=section.event_type_ids,
        country_codes=section.country_codes,
        market_types=section.market_types,
    )
    common: dict[str, Any] = {
        "account_currency": section.account_currency,
        "instrument_config": provider,
        "base_url_http": venue.rest_url_override,
        "stream_url": venue.ws_url_override,
        "username_env": section.username_env,
        "password_env": section.password_env,
        "app_key_env": section.app_key_env,
        "certs_dir_env": section.certs_dir_env,
    }
    return VenueClients(
        data_config=BetfairUrlDataClientConfig(**common, keep_alive_secs=section.keep_alive_secs),
        exec_config=BetfairUrlExecClientConfig(
            **common,
            request_account_state_secs=section.request_account_state_secs,
            stream_market_ids_filter=section.market_ids,
        ),
        data_factory=BetfairUrlLiveDataClientFactory,
        exec_factory=BetfairUrlLiveExecClientFactory,
    )


FAMILY: Final = VenueFamily(
    name="betfair",
    adapter="native",
    venues=frozenset({"BETFAIR"}),
    build_clients=build_clients,
    url_overrides=True,
)
