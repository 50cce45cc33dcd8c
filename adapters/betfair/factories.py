"""
Factories building the Betfair clients of :mod:`nautilus_ext.adapters.betfair` for a ``TradingNode``.

Unlike NautilusTrader's Betfair factories they cache nothing keyed on credentials: each client
gets its own HTTP session (Betfair allows several per login) and its own instrument provider;
the data client loads the instruments into the node's cache, which the execution client reads.
"""

from __future__ import annotations

import asyncio

from nautilus_trader.adapters.betfair.client import BETFAIR_RATE_LIMIT_KEY_DEFAULT
from nautilus_trader.adapters.betfair.client import BETFAIR_RATE_LIMIT_KEY_ORDERS
from nautilus_trader.adapters.betfair.providers import BetfairInstrumentProvider
from nautilus_trader.adapters.betfair.providers import BetfairInstrumentProviderConfig
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.core.nautilus_pyo3 import Quota
from nautilus_trader.live.factories import LiveDataClientFactory
from nautilus_trader.live.factories import LiveExecClientFactory

from nautilus_ext.adapters.betfair.config import BetfairUrlDataClientConfig
from nautilus_ext.adapters.betfair.config import BetfairUrlExecClientConfig
from nautilus_ext.adapters.betfair.credentials import BetfairCredentials
from nautilus_ext.adapters.betfair.data import BetfairUrlDataClient
from nautilus_ext.adapters.betfair.execution import BetfairUrlExecutionClient
from nautilus_ext.adapters.betfair.http import BetfairUrlHttpClient
from nautilus_ext.errors import InvalidConfig

# Betfair's documented limits: 5 requests/s on the general API; order endpoints in their own bucket
_DEFAULT_RATE_PER_SECOND = 5


def _credentials(config: BetfairUrlDataClientConfig | BetfairUrlExecClientConfig) -> BetfairCredentials:
    return BetfairCredentials.from_env(
        username_env=config.username_env,
        password_env=config.password_env,
        app_key_env=config.app_key_env,
        certs_dir_env=config.certs_dir_env,
    )


def _http_client(
    config: BetfairUrlDataClientConfig | BetfairUrlExecClientConfig,
    credentials: BetfairCredentials,
    order_rate_per_second: int,
) -> BetfairUrlHttpClient:
    return BetfairUrlHttpClient(
        credentials,
        base_url=config.base_url_http,
        proxy_url=config.proxy_url,
        ratelimiter_default_quota=Quota.rate_per_second(_DEFAULT_RATE_PER_SECOND),
        ratelimiter_keyed_quotas=[
            (BETFAIR_RATE_LIMIT_KEY_DEFAULT, Quota.rate_per_second(_DEFAULT_RATE_PER_SECOND)),
            (BETFAIR_RATE_LIMIT_KEY_ORDERS, Quota.rate_per_second(order_rate_per_second)),
        ],
    )


def _provider(
    client: BetfairUrlHttpClient, config: BetfairInstrumentProviderConfig | None
) -> BetfairInstrumentProvider:
    if config is None:
        raise InvalidConfig("Betfair clients need an instrument_config (account currency and market filter)")
    return BetfairInstrumentProvider(client=client, config=config)


class BetfairUrlLiveDataClientFactory(LiveDataClientFactory):
    """Build :class:`~nautilus_ext.adapters.betfair.data.BetfairUrlDataClient`."""

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: BetfairUrlDataClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> BetfairUrlDataClient:
        """Return the data client for ``config`` (credentials read from the environment now)."""
        config.validate()
        credentials = _credentials(config)
        client = _http_client(config, credentials, order_rate_per_second=20)
        return BetfairUrlDataClient(
            loop=loop,
            client=client,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=_provider(client, config.instrument_config),
            config=config,
            certs_dir=credentials.certs_dir,
        )


class BetfairUrlLiveExecClientFactory(LiveExecClientFactory):
    """Build :class:`~nautilus_ext.adapters.betfair.execution.BetfairUrlExecutionClient`."""

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: BetfairUrlExecClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> BetfairUrlExecutionClient:
        """Return the execution client for ``config`` (credentials read from the environment now)."""
        config.validate()
        credentials = _credentials(config)
        client = _http_client(config, credentials, order_rate_per_second=config.order_request_rate_per_second)
        return BetfairUrlExecutionClient(
            loop=loop,
            client=client,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=_provider(client, config.instrument_config),
            config=config,
            certs_dir=credentials.certs_dir,
        )
