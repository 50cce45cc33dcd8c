"""Configs: JSON round trip of every config class and each cross-field rule failing."""

from __future__ import annotations

import pytest
from nautilus_trader.config import InstrumentProviderConfig

from nautilus_ext.adapters.ccxt.config import CcxtDataClientConfig
from nautilus_ext.adapters.ccxt.config import CcxtExecClientConfig
from nautilus_ext.adapters.ccxt.credentials import env_var
from nautilus_ext.adapters.ccxt.credentials import load_credentials
from nautilus_ext.errors import InvalidConfig

CONFIGS = [
    CcxtDataClientConfig(
        exchange_id="bybit",
        market_types=("linear",),
        rest_url_override="http://127.0.0.1:1",
        ws_url_override="ws://127.0.0.1:1",
        exchange_options={"recvWindow": 5000},
        instrument_provider=InstrumentProviderConfig(load_all=True),
    ),
    CcxtExecClientConfig(exchange_id="hyperliquid", market_types=("swap",), max_retries=3),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: type(c).__name__)
def test_round_trip_through_json(config: CcxtDataClientConfig | CcxtExecClientConfig) -> None:
    assert config.validate()
    assert type(config).parse(config.json()) == config


@pytest.mark.parametrize("klass", [CcxtDataClientConfig, CcxtExecClientConfig])
@pytest.mark.parametrize(
    "kwargs",
    [
        {"exchange_id": "Bybit"},
        {"testnet": True, "rest_url_override": "http://x", "ws_url_override": "ws://x"},
        {"rest_url_override": "http://x"},
        {"reconnect_delay_initial_ms": 5000, "reconnect_delay_max_ms": 100},
    ],
)
def test_cross_field_rules_fail(klass: type, kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidConfig):
        klass(**kwargs)


def test_exec_retry_delays_rule() -> None:
    with pytest.raises(InvalidConfig):
        CcxtExecClientConfig(retry_delay_initial_ms=5000, retry_delay_max_ms=10)


def test_validate_checks_constraints_construction_does_not() -> None:
    config = CcxtDataClientConfig(timeout_ms=0)
    with pytest.raises(Exception, match="timeout_ms"):
        config.validate()


def test_credentials_from_env_only_and_redacted() -> None:
    env = {env_var("bybit", "apiKey"): "k-123", env_var("bybit", "secret"): "s-456"}
    creds = load_credentials("bybit", env)
    assert creds.as_ccxt_config() == {"apiKey": "k-123", "secret": "s-456"}
    assert "k-123" not in repr(creds)
    assert "s-456" not in repr(creds)
    assert load_credentials("okx", env).is_empty
    assert env_var("hyperliquid", "privateKey") == "NAUTILUS_EXT_HYPERLIQUID_PRIVATE_KEY"
