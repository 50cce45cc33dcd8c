"""
NautilusTrader's IB client factories, safe for more than one node per process.

NautilusTrader 1.231 caches one ``InteractiveBrokersClient`` (and instrument provider) per
``(host, port, client_id)`` for the whole process (``factories.IB_CLIENTS``): a second node
(a restart in the same process, a test after a test) would get the first node's client, bound
to its closed event loop. These factories drop a cached client that belongs to another loop
before delegating, so each node gets a client on its own loop; within one node the data and
execution clients still share one socket, as NautilusTrader intends.
"""

from __future__ import annotations

import asyncio
from typing import Any

from nautilus_trader.adapters.interactive_brokers import factories as ib_factories
from nautilus_trader.adapters.interactive_brokers.factories import InteractiveBrokersLiveDataClientFactory
from nautilus_trader.adapters.interactive_brokers.factories import InteractiveBrokersLiveExecClientFactory


def _forget_foreign_clients(loop: asyncio.AbstractEventLoop, config: Any) -> None:
    key = (config.ibg_host, config.ibg_port, config.ibg_client_id)
    cached = ib_factories.IB_CLIENTS.get(key)
    if cached is not None and cached._loop is not loop:
        ib_factories.IB_CLIENTS.pop(key, None)
        # providers are keyed on (client key, config hash): drop the stale client's
        for pkey in [k for k in ib_factories.IB_INSTRUMENT_PROVIDERS if k[0] == key]:
            ib_factories.IB_INSTRUMENT_PROVIDERS.pop(pkey, None)


class IBLiveDataClientFactory(InteractiveBrokersLiveDataClientFactory):
    """NautilusTrader's IB data client factory with a per-loop client cache."""

    @staticmethod
    def create(
        loop: asyncio.AbstractEventLoop, name: str, config: Any, msgbus: Any, cache: Any, clock: Any
    ) -> Any:
        """Create the data client (see the module docstring)."""
        _forget_foreign_clients(loop, config)
        return InteractiveBrokersLiveDataClientFactory.create(loop, name, config, msgbus, cache, clock)


class IBLiveExecClientFactory(InteractiveBrokersLiveExecClientFactory):
    """NautilusTrader's IB execution client factory with a per-loop client cache."""

    @staticmethod
    def create(
        loop: asyncio.AbstractEventLoop, name: str, config: Any, msgbus: Any, cache: Any, clock: Any
    ) -> Any:
        """Create the execution client (see the module docstring)."""
        _forget_foreign_clients(loop, config)
        return InteractiveBrokersLiveExecClientFactory.create(loop, name, config, msgbus, cache, clock)
