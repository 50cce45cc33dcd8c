"""NautilusTrader's ``BetfairDataClient`` with its market stream at a configurable address."""

from __future__ import annotations

import asyncio

from nautilus_trader.adapters.betfair.data import BetfairDataClient
from nautilus_trader.adapters.betfair.providers import BetfairInstrumentProvider
from nautilus_trader.adapters.betfair.sockets import BetfairMarketStreamClient
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus

from nautilus_ext.adapters.betfair.config import BetfairUrlDataClientConfig
from nautilus_ext.adapters.betfair.http import BetfairUrlHttpClient
from nautilus_ext.adapters.betfair.urls import parse_stream_url
from nautilus_ext.errors import InvalidConfig


class BetfairUrlDataClient(BetfairDataClient):
    """
    ``BetfairDataClient`` whose market stream connects to ``config.stream_url``.

    1.231 builds its ``BetfairMarketStreamClient`` with the default host and port and forces
    ``use_ssl = True``; this client replaces it (same handler, certificates directory) with one
    on the configured host and port, TLS as the URL's scheme says. Everything else is
    NautilusTrader's. The race (TPD) stream has its own host and cannot be redirected: it is
    refused together with a ``stream_url``.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        client: BetfairUrlHttpClient,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        instrument_provider: BetfairInstrumentProvider,
        config: BetfairUrlDataClientConfig,
        certs_dir: str | None = None,
    ) -> None:
        if config.stream_url is not None and config.subscribe_race_data:
            raise InvalidConfig("Betfair data: subscribe_race_data cannot be combined with stream_url")
        super().__init__(
            loop=loop,
            client=client,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=instrument_provider,
            config=config,
        )
        address = parse_stream_url(config.stream_url)
        stream = BetfairMarketStreamClient(
            http_client=client,
            message_handler=self.on_market_update,
            certs_dir=certs_dir,
            host=address.host,
            port=address.port,
        )
        stream.use_ssl = address.ssl
        self._stream = stream
