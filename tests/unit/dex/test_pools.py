"""Pool models: public API, fixed-point and log/exp accuracy, ramps, typed errors for bad states."""

from __future__ import annotations

from decimal import Decimal
from decimal import localcontext

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import nautilus_ext.dex as dex
from nautilus_ext.dex import StableSwapState
from nautilus_ext.dex import SwapPool
from nautilus_ext.dex import SwapRefused
from nautilus_ext.dex import V2PoolState
from nautilus_ext.dex import V3PoolState
from nautilus_ext.dex import WeightedPoolState
from nautilus_ext.dex import ramped_amp
from nautilus_ext.dex import swap_exact_input_path
from nautilus_ext.dex.balancer import div_up
from nautilus_ext.dex.balancer import log_exp_pow
from nautilus_ext.dex.balancer import mul_up
from nautilus_ext.dex.uniswap_v2 import get_amount_in
from nautilus_ext.dex.uniswap_v2 import get_amount_out
from nautilus_ext.errors import InvalidConfig


def test_public_names_are_pinned() -> None:
    assert sorted(dex.__all__) == [
        "StableSwapState",
        "SwapPool",
        "SwapQuote",
        "SwapRefused",
        "V2PoolState",
        "V3PoolState",
        "V3SwapResult",
        "V3Tick",
        "WeightedPoolState",
        "ramped_amp",
        "swap_exact_input_path",
    ]


def test_every_state_is_a_swap_pool() -> None:
    pools = [
        V2PoolState(10**18, 10**18),
        V3PoolState(2**96, 0, 10**18, 3000, 60),
        StableSwapState((10**18, 10**6), (10**18, 10**30), 200, 4 * 10**6),
        WeightedPoolState((10**18, 10**6), (5 * 10**17, 5 * 10**17), (1, 10**12), 3 * 10**15),
    ]
    for pool in pools:
        assert isinstance(pool, SwapPool)
        assert pool.quote_exact_input(0, 1, 10**3) >= 0


def test_v2_library_values() -> None:
    # UniswapV2Library: 1 in at 100/100 reserves -> 0; the classic 5/10 example
    assert get_amount_out(2, 100, 100) == 1
    assert get_amount_out(10**18, 5 * 10**18, 10 * 10**18) == 1662497915624478906
    assert get_amount_in(1662497915624478906, 5 * 10**18, 10 * 10**18) == 10**18
    with pytest.raises(SwapRefused):
        get_amount_in(100, 100, 100)


@given(
    st.integers(10**15, 10**24),
    st.integers(10**16, 50 * 10**18),
)
@settings(max_examples=200, deadline=None)
def test_log_exp_pow_is_accurate_within_its_error_bound(x: int, y: int) -> None:
    with localcontext() as ctx:
        ctx.prec = 60
        exact = (Decimal(x) / 10**18) ** (Decimal(y) / 10**18) * 10**18
    if not Decimal(-41) <= exact.ln() - Decimal(10**18).ln() <= Decimal(130):  # pow's domain
        return
    try:
        raw = log_exp_pow(x, y)
    except SwapRefused as e:
        assert e.reason == "BAL#008"  # noqa: PT017 - the product bound, checked on ln(x) * y
        return
    # FixedPoint.powUp/powDown add 1e-14 relative + 1 wei around `raw`: the exact value lies within
    assert abs(Decimal(raw) - exact) <= exact * Decimal("1e-14") + 1


def test_fixed_point_rounds_up() -> None:
    assert mul_up(1, 1) == 1
    assert div_up(1, 3 * 10**18) == 1
    with pytest.raises(SwapRefused) as e:
        div_up(1, 0)
    assert e.value.reason == "BAL#004"


def test_ramped_amp_interpolates_like_the_contract() -> None:
    assert ramped_amp(100, 200, 1000, 2000, 1500) == 150
    assert ramped_amp(200, 100, 1000, 2000, 1250) == 175
    assert ramped_amp(100, 200, 1000, 2000, 2500) == 200
    assert ramped_amp(100, 200, 1000, 2000, 1001) == 100  # integer division, as in Vyper


def test_balancer_ratio_limits_are_the_contract_errors() -> None:
    pool = WeightedPoolState((10**18, 10**18), (5 * 10**17, 5 * 10**17), (1, 1), 0)
    with pytest.raises(SwapRefused) as e:
        pool.swap_exact_input(0, 1, 31 * 10**16)
    assert e.value.reason == "BAL#304"
    with pytest.raises(SwapRefused) as e:
        pool.swap_exact_output(0, 1, 31 * 10**16)
    assert e.value.reason == "BAL#305"


@pytest.mark.parametrize(
    "build",
    [
        lambda: V2PoolState(-1, 5),
        lambda: V2PoolState(1 << 112, 5),
        lambda: V3PoolState(1, 0, 0, 3000, 60),
        lambda: V3PoolState(2**96, 0, 0, 10**6, 60),
        lambda: StableSwapState((1,), (1,), 100, 0),
        lambda: StableSwapState((10, 10), (1, 1), 1, 0),
        lambda: WeightedPoolState((1, 1), (4 * 10**17, 4 * 10**17), (1, 1), 0),
        lambda: WeightedPoolState((1, 1), (5 * 10**17, 5 * 10**17), (1, 1), 10**18),
    ],
)
def test_impossible_states_are_invalid_config(build: object) -> None:
    with pytest.raises(InvalidConfig):
        build()  # type: ignore[operator]


def test_wrong_token_indices_are_refused() -> None:
    for pool in (V2PoolState(10**18, 10**18), V3PoolState(2**96, 0, 10**18, 3000, 60)):
        with pytest.raises(SwapRefused) as e:
            pool.quote_exact_input(0, 0, 1)
        assert e.value.reason == "TOKEN"


def test_a_path_feeds_each_hop_and_reuses_a_pool_state() -> None:
    a = V2PoolState(10**21, 2 * 10**21)
    b = WeightedPoolState((10**21, 10**9), (5 * 10**17, 5 * 10**17), (1, 10**12), 3 * 10**15)
    quotes = swap_exact_input_path([(a, 0, 1), (b, 0, 1)], 10**18)
    assert quotes[0].amount_out == a.quote_exact_input(0, 1, 10**18)
    assert quotes[1].amount_in == quotes[0].amount_out
    assert quotes[1].amount_out == b.quote_exact_input(0, 1, quotes[0].amount_out)
    there_and_back = swap_exact_input_path([(a, 0, 1), (a, 1, 0)], 10**18)
    # the second hop sees the first hop's reserves: the round trip loses both fees
    assert there_and_back[1].amount_in == quotes[0].amount_out
    assert there_and_back[1].amount_out < 10**18
    after_first = quotes[0].pool_after
    assert there_and_back[1].amount_out == after_first.quote_exact_input(1, 0, quotes[0].amount_out)
