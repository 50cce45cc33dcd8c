"""Register NautilusTrader's native Binance adapter (``BINANCE``: USD-M futures, HMAC keys)."""

from __future__ import annotations

from typing import Any
from typing import Final

from nautilus_ext.adapters.registry import VenueClients
from nautilus_ext.adapters.registry import VenueFamily
from nautilus_ext.adapters.registry import VenueSettings
from nautilus_ext.adapters.registry import instrument_provider_config


def build_clients(venue: VenueSettings) -> VenueClients:
    """
    Return the Binance USD-M futures clients of ``venue``.

    Keys come from ``BINANCE_API_KEY``/``_SECRET`` (NautilusTrader's variables): orders over
    REST, user data over a REST listenKey. A ``ws_url_override`` is the server root: market
    streams at ``<root>/public`` (combined), user data at ``<root>/private/ws?listenKey=``, and
    the WS API (``session.logon``, used only with Ed25519 keys) at ``<root>/ws-fapi/v1``.
    """
    from nautilus_trader.adapters.binance import BinanceAccountType
    from nautilus_trader.adapters.binance import BinanceDataClientConfig
    from nautilus_trader.adapters.binance import BinanceExecClientConfig
    from nautilus_trader.adapters.binance import BinanceLiveDataClientFactory
    from nautilus_trader.adapters.binance import BinanceLiveExecClientFactory

    ws = venue.ws_url_override.rstrip("/") if venue.ws_url_override else None
    urls: dict[str, Any] = {"base_url_http": venue.rest_url_override}
    account = BinanceAccountType.USDT_FUTURES
    return VenueClients(
        data_config=BinanceDataClientConfig(
            account_type=account,
            base_url_ws=f"{ws}/public" if ws else None,
            instrument_provider=instrument_provider_config(venue),
            **urls,
        ),
        exec_config=BinanceExecClientConfig(
            account_type=account,
            base_url_ws=f"{ws}/ws-fapi/v1" if ws else None,
            base_url_ws_stream=f"{ws}/private" if ws else None,
            instrument_provider=instrument_provider_config(venue),
            **urls,
        ),
        data_factory=BinanceLiveDataClientFactory,
        exec_factory=BinanceLiveExecClientFactory,
    )


FAMILY: Final = VenueFamily(
    name="binance",
    adapter="native",
    venues=frozenset({"BINANCE"}),
    build_clients=build_clients,
    url_overrides=True,
)
