"""Venues register themselves: each family builds its clients from a config; unknown ones are refused."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.data.client import DataClient
from nautilus_trader.live.config import LiveDataClientConfig
from nautilus_trader.live.config import LiveExecClientConfig
from nautilus_trader.live.execution_client import LiveExecutionClient
from nautilus_trader.live.factories import LiveDataClientFactory
from nautilus_trader.live.factories import LiveExecClientFactory
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.test_kit.stubs.component import TestComponentStubs
from pydantic import ValidationError

from nautilus_ext.adapters.registry import UnknownVenue
from nautilus_ext.adapters.registry import VenueClients
from nautilus_ext.adapters.registry import VenueFamily
from nautilus_ext.adapters.registry import build_clients
from nautilus_ext.adapters.registry import families
from nautilus_ext.adapters.registry import family_for
from nautilus_ext.adapters.registry import register
from nautilus_ext.adapters.registry import registered_venues
from nautilus_ext.adapters.registry import unregister
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.live.config import LiveNodeConfig
from nautilus_ext.live.config import VenueConfig
from nautilus_ext.live.node import build_trading_node_config

# one venue entry per registered family, as a user writes it in configs/live/*.yaml
VENUES: dict[str, dict[str, Any]] = {
    "ccxt": {"venue": "BYBIT", "adapter": "ccxt", "exchange_id": "bybit", "market_types": ["linear"]},
    "binance": {"venue": "BINANCE", "adapter": "native"},
    "bybit": {"venue": "BYBIT", "adapter": "native"},
    "okx": {"venue": "OKX", "adapter": "native", "market_types": ["swap"]},
    "deribit": {"venue": "DERIBIT", "adapter": "native", "testnet": True},
    "hyperliquid": {"venue": "HYPERLIQUID", "adapter": "native"},
    "betfair": {
        "venue": "BETFAIR",
        "adapter": "native",
        "betfair": {"account_currency": "GBP", "market_ids": ["1.240000001"]},
    },
    "interactive_brokers": {
        "venue": "INTERACTIVE_BROKERS",
        "adapter": "native",
        "interactive_brokers": {
            "host": "127.0.0.1",
            "port": 4002,
            "client_id": 7,
            "instrument_keys": ["CME:FUTURE:SP500-USD-241220@LIN"],
        },
    },
}

# dummy credentials under the variables each adapter reads (never real; nothing connects)
CREDENTIALS = {
    "NAUTILUS_EXT_BYBIT_API_KEY": "key",
    "NAUTILUS_EXT_BYBIT_API_SECRET": "secret",
    "BINANCE_API_KEY": "key",
    "BINANCE_API_SECRET": "secret",
    "BYBIT_API_KEY": "key",
    "BYBIT_API_SECRET": "secret",
    "OKX_API_KEY": "key",
    "OKX_API_SECRET": "secret",
    "OKX_API_PASSPHRASE": "passphrase",
    "DERIBIT_TESTNET_API_KEY": "key",
    "DERIBIT_TESTNET_API_SECRET": "secret",
    "HYPERLIQUID_PK": "0x" + "11" * 32,
    "HYPERLIQUID_VAULT": "0x" + "22" * 20,
    "BETFAIR_USERNAME": "user",
    "BETFAIR_PASSWORD": "password",
    "BETFAIR_APP_KEY": "app-key",
    "TWS_ACCOUNT": "DU1234567",
}


def test_every_venue_family_of_the_package_is_registered() -> None:
    assert set(families()) == set(VENUES)
    assert "ccxt: *" in registered_venues()
    assert "native: BETFAIR" in registered_venues()


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)


async def _create(clients: VenueClients, name: str) -> tuple[Any, Any]:
    # on a running loop, as in a node; asyncio.run cancels what the clients scheduled
    loop = asyncio.get_running_loop()
    clock = LiveClock()
    msgbus = MessageBus(trader_id=TraderId("TESTER-001"), clock=clock)
    cache = TestComponentStubs.cache()
    data = clients.data_factory.create(loop, name, clients.data_config, msgbus, cache, clock)
    execution = clients.exec_factory.create(loop, name, clients.exec_config, msgbus, cache, clock)
    return data, execution


# NautilusTrader's IB client starts connecting when it is created: it is built against the IB
# Gateway stand-in in tests/integration/adapters/interactive_brokers instead
@pytest.mark.parametrize("family", sorted(set(VENUES) - {"interactive_brokers"}))
def test_each_family_builds_its_clients_from_a_venue_config(family: str, credentials: None) -> None:
    venue = VenueConfig.model_validate(VENUES[family])
    assert family_for(venue.adapter, venue.venue).name == family
    clients = build_clients(venue)
    assert isinstance(clients, VenueClients)
    assert isinstance(clients.data_config, LiveDataClientConfig)
    assert isinstance(clients.exec_config, LiveExecClientConfig)
    assert issubclass(clients.data_factory, LiveDataClientFactory)
    assert issubclass(clients.exec_factory, LiveExecClientFactory)
    # and the family's own factories accept them: real clients, not yet connected
    data, execution = asyncio.run(_create(clients, venue.venue))
    assert isinstance(data, DataClient)
    assert isinstance(execution, LiveExecutionClient)
    assert execution.venue is not None
    assert execution.venue.value == venue.venue


def test_an_unknown_venue_is_a_typed_error_listing_the_registered_ones() -> None:
    class Entry:  # any object shaped like a venue entry
        venue = "NOWHERE"
        adapter = "native"

    with pytest.raises(UnknownVenue) as e:
        build_clients(Entry())  # type: ignore[arg-type]
    assert isinstance(e.value, InvalidConfig)
    assert e.value.code is ErrorCode.INVALID_CONFIG
    assert e.value.venue == "NOWHERE"
    assert e.value.registered == registered_venues()
    assert "native: OKX" in e.value.registered
    assert "native: OKX" in e.value.message
    assert "ccxt: *" in e.value.message


def test_the_live_yaml_refuses_an_unregistered_native_venue_naming_the_registered_ones() -> None:
    with pytest.raises(ValidationError, match=r"registered: .*native: BINANCE.*use adapter: ccxt"):
        VenueConfig(venue="KRAKEN", adapter="native")


def test_a_family_registered_from_outside_serves_the_node() -> None:
    def build(venue: Any) -> VenueClients:
        inner = build_clients(VenueConfig(venue=venue.venue, adapter="ccxt", exchange_id="kraken"))
        return VenueClients(inner.data_config, inner.exec_config, inner.data_factory, inner.exec_factory)

    family = VenueFamily(
        name="kraken-test", adapter="native", venues=frozenset({"KRAKEN"}), build_clients=build
    )
    register(family)
    try:
        assert register(family) is family  # idempotent
        with pytest.raises(InvalidConfig, match="already serves"):
            register(
                VenueFamily(name="other", adapter="native", venues=frozenset({"KRAKEN"}), build_clients=build)
            )
        config = LiveNodeConfig.model_validate(
            {
                "mode": "DRY_RUN",
                "venues": [{"venue": "KRAKEN", "adapter": "native"}],
                "dry_run": {"starting_balances": ["1000 USD"]},
            }
        )
        node_config, factories = build_trading_node_config(config)
        assert node_config.data_clients["KRAKEN"].exchange_id == "kraken"  # type: ignore[attr-defined]
        assert "KRAKEN" in factories
    finally:
        unregister("kraken-test")
    with pytest.raises(UnknownVenue):
        family_for("native", "KRAKEN")
