"""Betfair configs, URL rewriting, stream addresses and credentials: each rule can fail."""

from __future__ import annotations

import pytest
from betfair_parser.spec.accounts.operations import GetAccountFunds
from betfair_parser.spec.betting.orders import PlaceOrders
from betfair_parser.spec.identity import Login
from betfair_parser.spec.navigation import Menu
from nautilus_trader.adapters.betfair.providers import BetfairInstrumentProviderConfig

import nautilus_ext.adapters.betfair
from nautilus_ext.adapters.betfair import BetfairCredentials
from nautilus_ext.adapters.betfair import BetfairUrlDataClientConfig
from nautilus_ext.adapters.betfair import BetfairUrlExecClientConfig
from nautilus_ext.adapters.betfair import BetfairUrlHttpClient
from nautilus_ext.adapters.betfair import StreamAddress
from nautilus_ext.adapters.betfair import parse_stream_url
from nautilus_ext.adapters.betfair import rewrite_url
from nautilus_ext.errors import InvalidConfig

PROVIDER = BetfairInstrumentProviderConfig(account_currency="GBP", market_ids=["1.240000001"])
CONFIGS = [
    BetfairUrlDataClientConfig(
        account_currency="GBP",
        instrument_config=PROVIDER,
        base_url_http="http://127.0.0.1:1",
        stream_url="tcp://127.0.0.1:2",
        username_env="MY_BF_USER",
    ),
    BetfairUrlExecClientConfig(
        account_currency="GBP", instrument_config=PROVIDER, stream_url="tls://host:443"
    ),
]


def test_public_api_is_pinned() -> None:
    assert sorted(nautilus_ext.adapters.betfair.__all__) == [
        "BetfairCredentials",
        "BetfairUrlDataClient",
        "BetfairUrlDataClientConfig",
        "BetfairUrlExecClientConfig",
        "BetfairUrlExecutionClient",
        "BetfairUrlHttpClient",
        "BetfairUrlLiveDataClientFactory",
        "BetfairUrlLiveExecClientFactory",
        "StreamAddress",
        "net_matched",
        "parse_stream_url",
        "rewrite_url",
    ]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: type(c).__name__)
def test_round_trip_through_json(config: BetfairUrlDataClientConfig | BetfairUrlExecClientConfig) -> None:
    assert config.validate()
    assert type(config).parse(config.json()) == config


@pytest.mark.parametrize("klass", [BetfairUrlDataClientConfig, BetfairUrlExecClientConfig])
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"password": "hunter2"}, "password must be None"),
        ({"username": "me"}, "username must be None"),
        ({"base_url_http": "ftp://x"}, "not an http"),
        ({"stream_url": "ws://127.0.0.1:1"}, "scheme must be one of"),
        ({"stream_url": "tcp://127.0.0.1"}, "needs host and port"),
        ({"stream_url": "tcp://127.0.0.1:1/path"}, "takes no path"),
    ],
)
def test_config_rules_fail(klass: type, kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidConfig, match=match):
        klass(account_currency="GBP", **kwargs)


def test_every_betfair_host_is_rewritten_onto_one_origin() -> None:
    base = "http://127.0.0.1:8080/"
    client = BetfairUrlHttpClient(BetfairCredentials("u", "p", "k"), base_url=base)
    assert client.url_for(Login.with_params(username="u", password="p")) == "http://127.0.0.1:8080/api/login"
    assert client.url_for(Menu.with_params()).endswith(
        ":8080/exchange/betting/rest/v1/en/navigation/menu.json"
    )
    assert client.url_for(PlaceOrders.with_params(market_id="1.1", instructions=[])) == (
        "http://127.0.0.1:8080/exchange/betting/json-rpc/v1/SportsAPING/v1.0/placeOrders"
    )
    assert client.url_for(GetAccountFunds.with_params()).endswith(
        "/exchange/account/json-rpc/v1/AccountAPING/v1.0/getAccountFunds"
    )
    real = BetfairUrlHttpClient(BetfairCredentials("u", "p", "k"))
    assert (
        real.url_for(Login.with_params(username="u", password="p"))
        == "https://identitysso.betfair.com/api/login"
    )
    assert rewrite_url("https://a.example/x?y=1", "http://h:1") == "http://h:1/x?y=1"


def test_stream_address_defaults_to_betfair_over_tls() -> None:
    assert parse_stream_url(None) == StreamAddress("stream-api.betfair.com", 443, ssl=True)
    assert parse_stream_url("tcp://127.0.0.1:9") == StreamAddress("127.0.0.1", 9, ssl=False)
    assert parse_stream_url("tls://stream.example:443") == StreamAddress("stream.example", 443, ssl=True)
    with pytest.raises(InvalidConfig, match="bad port"):
        parse_stream_url("tcp://127.0.0.1:99999")


def test_credentials_come_from_named_variables_and_are_redacted() -> None:
    env = {"U": "alice", "P": "s3cret", "K": "app-1", "C": "/certs"}
    creds = BetfairCredentials.from_env(
        username_env="U", password_env="P", app_key_env="K", certs_dir_env="C", environ=env
    )
    assert (creds.username, creds.password, creds.app_key, creds.certs_dir) == (
        "alice",
        "s3cret",
        "app-1",
        "/certs",
    )
    assert "alice" not in repr(creds)
    assert "s3cret" not in repr(creds)
    assert "app-1" not in repr(creds)
    with pytest.raises(InvalidConfig, match="set P, K") as info:
        BetfairCredentials.from_env(
            username_env="U", password_env="P", app_key_env="K", environ={"U": "alice"}
        )
    assert "alice" not in str(info.value)
    assert (
        BetfairCredentials.from_env(
            environ={**{f"BETFAIR_{n}": "x" for n in ("USERNAME", "PASSWORD", "APP_KEY")}}
        ).certs_dir
        is None
    )
