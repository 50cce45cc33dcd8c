"""Factories building the ccxt data and execution clients for a Nautilus ``TradingNode``."""

from __future__ import annotations

import asyncio
from typing import Any

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.live.factories import LiveDataClientFactory
from nautilus_trader.live.factories import LiveExecClientFactory

from nautilus_ext.adapters.ccxt.client import create_exchange
from nautilus_ext.adapters.ccxt.config import CcxtDataClientConfig
from nautilus_ext.adapters.ccxt.config import CcxtExecClientConfig
from nautilus_ext.adapters.ccxt.constants import MARKET_TYPE_DEFAULT_EXCHANGES
from nautilus_ext.adapters.ccxt.constants import MARKET_TYPES_FILTERED_LOCALLY
from nautilus_ext.adapters.ccxt.constants import venue_for
from nautilus_ext.adapters.ccxt.credentials import env_var
from nautilus_ext.adapters.ccxt.credentials import load_credentials
from nautilus_ext.adapters.ccxt.data import CcxtDataClient
from nautilus_ext.adapters.ccxt.execution import CcxtExecutionClient
from nautilus_ext.adapters.ccxt.providers import CcxtInstrumentProvider
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.instruments.registry import InstrumentRegistry


def _validated(config: Any) -> None:
    try:
        config.validate()
    except Exception as e:
        raise InvalidConfig(f"invalid {type(config).__name__}: {e}") from e


def _registry() -> InstrumentRegistry | None:
    try:
        return InstrumentRegistry.default()
    except InvalidConfig:
        return None


def _venue_code(exchange_id: str, registry: InstrumentRegistry | None) -> str:
    if registry is not None:
        for spec in registry.venues.values():
            if spec.ccxt_id == exchange_id:
                return str(spec.code)
    return venue_for(exchange_id)


def build_provider(
    exchange: Any,
    config: CcxtDataClientConfig | CcxtExecClientConfig,
    clock: LiveClock,
) -> CcxtInstrumentProvider:
    """Return the instrument provider of a client config (registry symbology when known)."""
    registry = _registry()
    return CcxtInstrumentProvider(
        exchange,
        venue=config.venue or venue_for(config.exchange_id),
        venue_code=_venue_code(config.exchange_id, registry),
        config=config.instrument_provider,
        registry=registry,
        timeout_secs=max(config.timeout_ms / 1000 * 3, 10.0),
        clock=clock,
        market_types=(
            config.market_types
            if config.exchange_id in MARKET_TYPE_DEFAULT_EXCHANGES | MARKET_TYPES_FILTERED_LOCALLY
            else None
        ),
    )


class CcxtLiveDataClientFactory(LiveDataClientFactory):
    """Build :class:`CcxtDataClient` instances."""

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: CcxtDataClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> CcxtDataClient:
        """Validate ``config`` and return a new data client (public endpoints, no secrets)."""
        _validated(config)
        exchange = create_exchange(config)
        return CcxtDataClient(
            loop=loop,
            exchange=exchange,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=build_provider(exchange, config, clock),
            config=config,
            venue=config.venue or venue_for(config.exchange_id),
            name=name,
        )


class CcxtLiveExecClientFactory(LiveExecClientFactory):
    """Build :class:`CcxtExecutionClient` instances (credentials from the environment)."""

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: CcxtExecClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> CcxtExecutionClient:
        """
        Validate ``config`` and return a new execution client.

        Raises
        ------
        InvalidConfig
            If the config is invalid or no credentials are set for the exchange.
        """
        _validated(config)
        credentials = load_credentials(config.exchange_id, scope=config.key_scope)
        if credentials.is_empty:
            raise InvalidConfig(
                f"no {config.key_scope} credentials for {config.exchange_id}: set "
                f"{env_var(config.exchange_id, 'apiKey', config.key_scope)} and the venue's other fields",
                venue=config.exchange_id,
            )
        exchange = create_exchange(config, credentials)
        return CcxtExecutionClient(
            loop=loop,
            exchange=exchange,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=build_provider(exchange, config, clock),
            config=config,
            venue=config.venue or venue_for(config.exchange_id),
            name=name,
        )
