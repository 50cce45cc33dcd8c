"""Separate read-only and trade keys for ccxt venues (seed 001, section 15; issue 13, item 6)."""

from __future__ import annotations

import pytest

from nautilus_ext.adapters.ccxt.credentials import KeyScope
from nautilus_ext.adapters.ccxt.credentials import check_credentials
from nautilus_ext.adapters.ccxt.credentials import env_var
from nautilus_ext.adapters.ccxt.credentials import load_credentials
from nautilus_ext.errors import InvalidConfig

TRADE = {"NAUTILUS_EXT_BYBIT_API_KEY": "trade-key", "NAUTILUS_EXT_BYBIT_API_SECRET": "trade-secret"}
READ = {"NAUTILUS_EXT_BYBIT_READ_API_KEY": "read-key", "NAUTILUS_EXT_BYBIT_READ_API_SECRET": "read-secret"}


def test_scopes_read_their_own_variables() -> None:
    assert env_var("bybit", "apiKey", KeyScope.READ) == "NAUTILUS_EXT_BYBIT_READ_API_KEY"
    both = {**TRADE, **READ}
    read = load_credentials("bybit", both, KeyScope.READ)
    assert read.values == {"apiKey": "read-key", "secret": "read-secret"}
    assert read.scope is KeyScope.READ
    trade = load_credentials("bybit", both)
    assert trade.values == {"apiKey": "trade-key", "secret": "trade-secret"}
    assert "read-key" not in repr(read)


def test_read_scope_never_falls_back_to_the_trade_key() -> None:
    with pytest.raises(InvalidConfig, match="NAUTILUS_EXT_BYBIT_READ_API_KEY") as err:
        check_credentials("bybit", KeyScope.READ, TRADE)
    assert "trade-key" not in str(err.value)


def test_a_trade_key_is_refused_where_only_read_is_configured() -> None:
    env = {**TRADE, "NAUTILUS_EXT_BYBIT_READ_API_KEY": "trade-key", "NAUTILUS_EXT_BYBIT_READ_API_SECRET": "x"}
    with pytest.raises(InvalidConfig, match="read-only") as err:
        load_credentials("bybit", env, KeyScope.READ)
    assert "trade-key" not in str(err.value)


def test_required_fields_follow_ccxt() -> None:
    with pytest.raises(InvalidConfig, match="NAUTILUS_EXT_BYBIT_API_SECRET"):
        check_credentials("bybit", KeyScope.TRADE, {"NAUTILUS_EXT_BYBIT_API_KEY": "k"})
    assert check_credentials("bybit", KeyScope.TRADE, TRADE).values["apiKey"] == "trade-key"
    with pytest.raises(InvalidConfig, match="NAUTILUS_EXT_HYPERLIQUID_READ_PRIVATE_KEY"):
        check_credentials(
            "hyperliquid", KeyScope.READ, {"NAUTILUS_EXT_HYPERLIQUID_READ_WALLET_ADDRESS": "0x1"}
        )
