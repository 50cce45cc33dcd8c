"""The DEX venue's pool simulator: state at a time, own impact carried until the next snapshot, gas."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.backtest.dex_venue import DexPoolSimulator
from nautilus_ext.backtest.dex_venue import gas_cost_quote
from nautilus_ext.catalogs.custom import DexPoolState
from nautilus_ext.dex.uniswap_v2 import V2PoolState
from nautilus_ext.errors import InvalidConfig

IID = "ETH-USDT.UNISWAPV2"


def _snap(block: int, ts: int, r0: int, r1: int) -> DexPoolState:
    return DexPoolState(
        instrument_id=InstrumentId.from_str(IID),
        kind="V2",
        block_number=block,
        base_fee_wei=10 * 10**9,
        reserve0=str(r0),
        reserve1=str(r1),
        decimals0=18,
        decimals1=6,
        ts_event=ts,
        ts_init=ts,
    )


def test_fills_carry_our_impact_until_the_next_snapshot() -> None:
    snaps = [
        _snap(10, 100, 1000 * 10**18, 2_000_000 * 10**6),
        _snap(12, 300, 1000 * 10**18, 2_100_000 * 10**6),
    ]
    sim = DexPoolSimulator({IID: snaps})
    with pytest.raises(InvalidConfig):
        sim.swap(IID, True, 10**18, 99)  # before the pool's first state
    with pytest.raises(InvalidConfig):
        sim.swap("BTC-USDT.UNISWAPV2", True, 10**18, 200)
    assert sim.swap(IID, True, 10**18, 150, limit=Decimal(2000)) is None  # the pool cannot meet it
    first = sim.swap(IID, True, 10**18, 150, limit=Decimal(2010))
    assert first is not None
    expected = V2PoolState(1000 * 10**18, 2_000_000 * 10**6).swap_exact_output(1, 0, 10**18)
    assert first.quote_units == expected.amount_in
    assert not first.carried
    second = sim.swap(IID, True, 10**18, 200)  # same snapshot: the pool we left
    assert second is not None
    assert second.carried
    assert second.quote_units == expected.pool_after.swap_exact_output(1, 0, 10**18).amount_in
    third = sim.swap(IID, False, 10**18, 300)  # a newer recorded state replaces ours
    assert third is not None
    assert not third.carried
    assert (
        third.quote_units
        == V2PoolState(1000 * 10**18, 2_100_000 * 10**6).swap_exact_input(0, 1, 10**18).amount_out
    )
    assert third.price == Decimal(third.quote_units).scaleb(-6)


def test_gas_is_priced_in_the_quote_currency() -> None:
    assert gas_cost_quote(100_000, 20 * 10**9, "WETH", Decimal(2000), None) == Decimal("4.000")
    assert gas_cost_quote(100_000, 20 * 10**9, "BTC", Decimal(60000), "2500") == Decimal("5.000")
    with pytest.raises(InvalidConfig, match="gas_token_price"):
        gas_cost_quote(100_000, 20 * 10**9, "BTC", Decimal(60000), None)
