"""A native Deribit execution client and factory that honour ``base_url_ws``."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from nautilus_trader.adapters.deribit.config import DeribitExecClientConfig
from nautilus_trader.adapters.deribit.execution import DeribitExecutionClient
from nautilus_trader.adapters.deribit.factories import DeribitLiveExecClientFactory
from nautilus_trader.adapters.deribit.factories import get_cached_deribit_http_client
from nautilus_trader.adapters.deribit.factories import get_cached_deribit_instrument_provider
from nautilus_trader.adapters.deribit.providers import DeribitInstrumentProvider
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.core import nautilus_pyo3
from nautilus_trader.core.nautilus_pyo3 import DeribitEnvironment
from nautilus_trader.model.events import OrderFilled

from nautilus_ext.errors import InvalidConfig


def _credential(value: str | None, testnet: bool, name: str) -> str:
    # the same variables NautilusTrader's own Deribit clients read
    variable = f"DERIBIT_TESTNET_API_{name}" if testnet else f"DERIBIT_API_{name}"
    resolved = value or os.environ.get(variable)
    if not resolved:
        raise InvalidConfig(f"Deribit execution needs an API {name.lower()}: set {variable}")
    return resolved


class DeribitUrlExecutionClient(DeribitExecutionClient):
    """
    NautilusTrader's ``DeribitExecutionClient`` whose WebSocket connects to ``base_url_ws``.

    Every behaviour is NautilusTrader's except two: the WebSocket client is constructed with
    the configured URL (when one is set) instead of the environment's default, and fills of this
    client's own orders, which the Rust handler emits as ``OrderFilled`` events, reach the engine
    (1.231's Python client logs them as unhandled and drops them).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        http_client: nautilus_pyo3.DeribitHttpClient,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        instrument_provider: DeribitInstrumentProvider,
        config: DeribitExecClientConfig,
        name: str | None,
    ) -> None:
        super().__init__(
            loop=loop,
            http_client=http_client,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=instrument_provider,
            config=config,
            name=name,
        )
        if config.base_url_ws is not None:
            environment = config.environment or DeribitEnvironment.MAINNET
            testnet = environment == DeribitEnvironment.TESTNET
            self._ws_client = nautilus_pyo3.DeribitWebSocketClient(
                url=config.base_url_ws,
                api_key=_credential(config.api_key, testnet, "KEY"),
                api_secret=_credential(config.api_secret, testnet, "SECRET"),
                environment=environment,
                proxy_url=config.proxy_url,
            )
            self._ws_client.set_account_id(self.pyo3_account_id)

    def _handle_ws_message(self, msg: Any) -> None:
        if isinstance(msg, nautilus_pyo3.OrderFilled):
            try:
                self._send_order_event(OrderFilled.from_dict(msg.to_dict()))
            except Exception as e:  # never raise into the Rust callback
                self._log.exception("Error handling OrderFilled", e)
            return
        super()._handle_ws_message(msg)


class DeribitUrlLiveExecClientFactory(DeribitLiveExecClientFactory):
    """Build :class:`DeribitUrlExecutionClient` (NautilusTrader's factory otherwise)."""

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: DeribitExecClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> DeribitUrlExecutionClient:
        """Return the execution client for ``config`` (shared cached HTTP client and provider)."""
        config.validate()
        http_client = get_cached_deribit_http_client(
            api_key=config.api_key,
            api_secret=config.api_secret,
            base_url=config.base_url_http,
            environment=config.environment or DeribitEnvironment.MAINNET,
            timeout_secs=config.http_timeout_secs,
            max_retries=config.max_retries,
            retry_delay_ms=config.retry_delay_initial_ms,
            retry_delay_max_ms=config.retry_delay_max_ms,
            proxy_url=config.proxy_url,
        )
        provider = get_cached_deribit_instrument_provider(
            client=http_client,
            product_types=config.product_types,
            config=config.instrument_provider,
        )
        return DeribitUrlExecutionClient(
            loop=loop,
            http_client=http_client,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=provider,
            config=config,
            name=name,
        )
