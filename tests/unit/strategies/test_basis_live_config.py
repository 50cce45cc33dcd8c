"""The basis live service refuses a configuration it could not run, naming what is wrong."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.strategies.basis_live import BasisLiveConfig
from nautilus_ext.strategies.basis_live import BasisLiveStrategy

HEDGES = {
    "BINANCE-FUTURES": "ETHUSDT-PERP.BINANCE",
    "BYBIT": "ETHUSDT-LINEAR.BYBIT",
    "OKX": "ETH-USDT-SWAP.OKX",
}
CHAIN = {"onchain_config_path": "x.yaml", "rpc_url": "http://127.0.0.1:8545", "wallet": "0x" + "1" * 40}


def test_every_hedge_venue_needs_an_instrument() -> None:
    with pytest.raises(InvalidConfig, match=r"has no instrument for hedge venue\(s\) BINANCE-FUTURES, OKX"):
        BasisLiveStrategy(BasisLiveConfig(hedge_instruments={"BYBIT": HEDGES["BYBIT"]}, **CHAIN))


def test_an_instrument_for_a_venue_the_mode_does_not_hedge_on_is_refused() -> None:
    with pytest.raises(InvalidConfig, match=r"names venue\(s\) DERIBIT the mode does not hedge on"):
        BasisLiveStrategy(
            BasisLiveConfig(hedge_instruments={**HEDGES, "DERIBIT": "ETH-PERPETUAL.DERIBIT"}, **CHAIN)
        )


def test_onchain_legs_need_a_chain() -> None:
    with pytest.raises(InvalidConfig, match="onchain_config_path, rpc_url and wallet are required"):
        BasisLiveStrategy(BasisLiveConfig(hedge_instruments=HEDGES))


def test_mode_overrides_are_validated_like_the_backtest() -> None:
    with pytest.raises(InvalidConfig, match="no setting 'nope'"):
        BasisLiveStrategy(
            BasisLiveConfig(hedge_instruments=HEDGES, overrides={"leverage.nope": "1"}, **CHAIN)
        )
    ok = BasisLiveStrategy(
        BasisLiveConfig(hedge_instruments=HEDGES, overrides={"leverage.target_ltv": "0.7"}, **CHAIN)
    )
    assert ok.cfg.mode.leverage.target_ltv == Decimal("0.7")
