"""
Native BETFAIR in the live YAML: the section's rules, and a node built from the shipped
``configs/live/betfair.yaml`` has the safety chokepoint on ``ExecEngine.execute`` in front of
the Betfair execution client (a direct bet there is DENIED in LIVE without an arm).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import pytest
from betfair_parser.spec.betting.type_definitions import MarketCatalogue
from betfair_parser.spec.common import decode
from nautilus_trader.adapters.betfair.providers import make_instruments
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from pydantic import ValidationError

from nautilus_ext.adapters.betfair import BetfairUrlExecClientConfig
from nautilus_ext.adapters.betfair import BetfairUrlExecutionClient
from nautilus_ext.adapters.betfair import BetfairUrlLiveExecClientFactory
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.live.config import LiveNodeConfig
from nautilus_ext.live.config import VenueConfig
from nautilus_ext.live.config import load_live_config
from nautilus_ext.live.node import build_live_node
from nautilus_ext.live.node import build_trading_node_config
from nautilus_ext.safety.chokepoint import ENDPOINT
from nautilus_ext_testkit.fake_betfair import FakeBetfairExchange
from nautilus_ext_testkit.fake_betfair import arsenal_liverpool_match_odds
from tests.support.loops import current_loop
from tests.support.unguarded import SAFETY_SECTION

SHIPPED = Path(__file__).resolve().parents[3] / "configs" / "live" / "betfair.yaml"
HOME = InstrumentId.from_str("1-240000001-1096-None.BETFAIR")
SECTION: dict[str, Any] = {"account_currency": "GBP", "market_ids": ["1.240000001"]}


def test_shipped_betfair_config_wires_the_native_clients() -> None:
    config = load_live_config(SHIPPED)
    node_config, factories = build_trading_node_config(config)
    exec_config = node_config.exec_clients["BETFAIR"]
    assert isinstance(exec_config, BetfairUrlExecClientConfig)
    assert factories["BETFAIR"][1] is BetfairUrlLiveExecClientFactory
    # the real venue: Betfair's hosts, the stream over TLS, secrets only named
    assert exec_config.base_url_http is None
    assert exec_config.stream_url is None
    assert (exec_config.username, exec_config.password, exec_config.app_key) == (None, None, None)
    assert exec_config.username_env == "BETFAIR_USERNAME"
    assert exec_config.instrument_config is not None
    assert exec_config.instrument_config.market_ids == ["1.240000001"]
    assert config.safety is not None
    assert config.safety.config_path is not None
    assert config.safety.config_path.endswith("configs/safety/betfair.yaml")


@pytest.mark.parametrize(
    ("venue", "match"),
    [
        ({"venue": "BETFAIR", "adapter": "native"}, "betfair section goes with"),
        (
            {"venue": "BYBIT", "adapter": "ccxt", "exchange_id": "bybit", "betfair": SECTION},
            "betfair section",
        ),
        ({"venue": "BETFAIR", "adapter": "native", "betfair": {"account_currency": "GBP"}}, "market filter"),
        (
            {"venue": "BETFAIR", "adapter": "native", "betfair": {**SECTION, "account_currency": "gbp"}},
            "pattern",
        ),
        ({"venue": "BETFAIR", "adapter": "native", "betfair": {**SECTION, "password_env": "x-y"}}, "pattern"),
        ({"venue": "BETFAIR", "adapter": "native", "betfair": {**SECTION, "password": "p"}}, "Extra inputs"),
    ],
)
def test_betfair_section_rules_fail(venue: dict[str, Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        VenueConfig.model_validate(venue)


def test_betfair_overrides_reach_both_clients() -> None:
    venue = {
        "venue": "BETFAIR",
        "adapter": "native",
        "betfair": {**SECTION, "username_env": "BF_USER"},
        "rest_url_override": "http://127.0.0.1:9",
        "ws_url_override": "tcp://127.0.0.1:10",
    }
    config = LiveNodeConfig.model_validate(
        {"mode": "LIVE", "allow_live_orders": True, "venues": [venue], "safety": SAFETY_SECTION}
    )
    node_config, _ = build_trading_node_config(config)
    for client in (node_config.data_clients["BETFAIR"], node_config.exec_clients["BETFAIR"]):
        assert client.base_url_http == "http://127.0.0.1:9"  # type: ignore[attr-defined]
        assert client.stream_url == "tcp://127.0.0.1:10"  # type: ignore[attr-defined]
        assert client.username_env == "BF_USER"  # type: ignore[attr-defined]
    bad = {**venue, "ws_url_override": "ws://127.0.0.1:10"}
    config = LiveNodeConfig.model_validate(
        {"mode": "LIVE", "allow_live_orders": True, "venues": [bad], "safety": SAFETY_SECTION}
    )
    with pytest.raises(InvalidConfig, match="scheme must be one of"):
        build_trading_node_config(config)


def _home_instrument() -> Any:
    exchange = FakeBetfairExchange()
    exchange.add_market(arsenal_liverpool_match_odds())
    catalogue = decode(msgspec.json.encode(exchange.catalogue("1.240000001")), type=MarketCatalogue)
    (home,) = [i for i in make_instruments(catalogue, currency="GBP", ts_event=0, ts_init=0) if i.id == HOME]
    return home


def test_node_from_shipped_config_puts_the_gate_in_front_of_the_betfair_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("BETFAIR_USERNAME", "BETFAIR_PASSWORD", "BETFAIR_APP_KEY"):
        monkeypatch.setenv(name, f"unit-{name.lower()}")
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", "t" * 40)
    config = load_live_config(SHIPPED)
    config = config.model_copy(
        update={"safety": config.safety.model_copy(update={"control_port": 0}), "audit": None}  # type: ignore[union-attr]
    )
    loop = asyncio.new_event_loop()
    with current_loop(loop):  # the Betfair stream clients look the loop up while built
        live = build_live_node(config, loop)
    try:
        kernel = live.node.kernel
        client = kernel.exec_engine._clients[live.node.kernel.exec_engine.registered_clients[0]]
        assert isinstance(client, BetfairUrlExecutionClient)
        assert live.safety is not None
        assert ENDPOINT in kernel.msgbus.endpoints()
        # the Betfair client's streams would connect to Betfair over TLS
        assert (client._stream.host, client._stream.port, client._stream.use_ssl) == (
            "stream-api.betfair.com",
            443,
            True,
        )
        kernel.cache.add_instrument(_home_instrument())
        strategy = live.node.trader.strategies()[0]
        order = strategy.order_factory.limit(
            HOME, OrderSide.SELL, Quantity.from_str("2.00"), Price.from_str("2.50")
        )
        command = SubmitOrder(
            trader_id=TraderId(config.trader_id),
            strategy_id=StrategyId(strategy.id.value),
            order=order,
            command_id=UUID4(),
            ts_init=0,
        )
        kernel.msgbus.send(ENDPOINT, command)
        assert live.safety.chokepoint.forwarded == 0  # the execution engine never saw it
        ((coid, reason),) = live.safety.chokepoint.denied
        assert coid == order.client_order_id.value
        # judged as a bet (a BACK on the registry's HOME), refused fail-closed: no market data yet
        assert reason.startswith("MARKET_DATA_STALE"), reason
    finally:
        # the control endpoint binds when built; the node never ran, so close it here
        if live.safety is not None and live.safety.control is not None:
            live.safety.control.start()
            live.safety.control.stop()
        live.node.dispose()
        loop.close()
