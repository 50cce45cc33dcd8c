"""
Property tests over every pool model: output monotonic in size, never more than the pool holds,
fee >= 0, exact-in/exact-out round trips, and no trade beats the marginal price.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction

from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext.dex import StableSwapState
from nautilus_ext.dex import SwapPool
from nautilus_ext.dex import SwapRefused
from nautilus_ext.dex import V2PoolState
from nautilus_ext.dex import V3PoolState
from nautilus_ext.dex import WeightedPoolState
from nautilus_ext.dex.uniswap_v3 import initialize
from nautilus_ext.dex.uniswap_v3 import mint
from nautilus_ext.dex.v3_math import get_sqrt_ratio_at_tick

SETTINGS = settings(max_examples=150, deadline=None)


@st.composite
def v2_pools(draw: st.DrawFn) -> tuple[SwapPool, tuple[int, ...]]:
    r0 = draw(st.integers(10**3, 10**30))
    r1 = draw(st.integers(10**3, 10**30))
    return V2PoolState(r0, r1), (r0, r1)


@st.composite
def v3_pools(draw: st.DrawFn) -> tuple[SwapPool, tuple[int, ...]]:
    fee, spacing = draw(st.sampled_from([(500, 10), (3000, 60), (10000, 200)]))
    tick = draw(st.integers(-50_000, 50_000))
    state = initialize(get_sqrt_ratio_at_tick(tick) + draw(st.integers(0, 10**6)), fee, spacing)
    balance0 = balance1 = 0
    centre = tick // spacing
    for n in range(draw(st.integers(1, 4))):
        if n == 0:  # the first position spans the price, so the pool has liquidity in range
            lower = (centre - draw(st.integers(1, 400))) * spacing
            upper = (centre + draw(st.integers(1, 400))) * spacing
        else:
            lower = (centre + draw(st.integers(-1000, 999))) * spacing
            upper = lower + draw(st.integers(1, 400)) * spacing
        state, a0, a1 = mint(state, lower, upper, draw(st.integers(10**9, 10**24)))
        balance0, balance1 = balance0 + a0, balance1 + a1
    assume(state.liquidity > 0)
    return state, (balance0, balance1)


@st.composite
def curve_pools(draw: st.DrawFn) -> tuple[SwapPool, tuple[int, ...]]:
    n = draw(st.integers(2, 3))
    decimals = [draw(st.sampled_from([6, 18])) for _ in range(n)]
    value = draw(st.integers(10**3, 10**9))
    balances = tuple(value * 10**d * draw(st.integers(50, 200)) // 100 for d in decimals)
    a_precision = draw(st.sampled_from([1, 100]))
    amp = draw(st.integers(2, 5000)) * a_precision
    state = StableSwapState(
        balances, tuple(10 ** (36 - d) for d in decimals), amp, draw(st.integers(0, 4 * 10**7)), a_precision
    )
    return state, balances


@st.composite
def balancer_pools(draw: st.DrawFn) -> tuple[SwapPool, tuple[int, ...]]:
    w0 = draw(st.integers(2, 98)) * 10**16
    decimals = (draw(st.sampled_from([6, 8, 18])), draw(st.sampled_from([6, 18])))
    balances = tuple(draw(st.integers(10**3, 10**12)) * 10**d for d in decimals)
    fee = draw(st.integers(10**12, 10**17))
    state = WeightedPoolState(balances, (w0, 10**18 - w0), tuple(10 ** (18 - d) for d in decimals), fee)
    return state, balances


ANY_POOL = st.one_of(v2_pools(), v3_pools(), curve_pools(), balancer_pools())


def _pair(data: st.DataObject, pool: SwapPool) -> tuple[int, int]:
    i = data.draw(st.integers(0, pool.token_count - 1))
    j = data.draw(st.integers(0, pool.token_count - 2))
    return i, j if j < i else j + 1


def _size(data: st.DataObject, balance: int) -> int:
    # 1e-6 .. 25 % of the input-side balance (Balancer refuses beyond 30 %)
    return max(1, balance * data.draw(st.integers(1, 250_000)) // 1_000_000)


@given(ANY_POOL, st.data())
@SETTINGS
def test_exact_input_is_monotonic_bounded_and_fee_non_negative(
    pool_and_balances: tuple[SwapPool, tuple[int, ...]], data: st.DataObject
) -> None:
    pool, balances = pool_and_balances
    i, j = _pair(data, pool)
    assume(balances[i] > 0 and balances[j] > 0)
    a = _size(data, balances[i])
    b = a + _size(data, balances[i]) // 4 + 1
    try:
        small = pool.swap_exact_input(i, j, a)
        large = pool.swap_exact_input(i, j, b)
    except SwapRefused as e:
        assume(
            e.reason not in {"UniswapV2: INSUFFICIENT_OUTPUT_AMOUNT", "UNDERFLOW", "BAL#304", "NO_LIQUIDITY"}
        )
        raise
    assert small.amount_out <= large.amount_out
    assert 0 <= large.amount_out < balances[j]
    assert small.fee >= 0
    assert large.fee >= 0
    assert small.amount_in <= a
    # concavity: no trade gets a better average price than the marginal one (+1: Curve floors
    # its fee in base units, so a small trade may pay one unit less fee than the exact rate)
    assert Fraction(small.amount_out) <= small.amount_in * pool.marginal_price(i, j) + 1
    assert pool.quote_exact_input(i, j, a) == small.amount_out


@given(ANY_POOL, st.data())
@SETTINGS
def test_exact_output_round_trips_with_exact_input(
    pool_and_balances: tuple[SwapPool, tuple[int, ...]], data: st.DataObject
) -> None:
    pool, balances = pool_and_balances
    i, j = _pair(data, pool)
    assume(balances[j] > 10)
    want = max(1, balances[j] * data.draw(st.integers(1, 200_000)) // 1_000_000)
    try:
        bought = pool.swap_exact_output(i, j, want)
    except SwapRefused as e:
        assume(e.reason not in {"LIQUIDITY", "BAL#305", "BAL#304", "UNDERFLOW", "NO_LIQUIDITY"})
        raise
    assert bought.fee >= 0
    if isinstance(pool, StableSwapState):  # no exact-out on chain: the least input reaching `want`
        assert bought.amount_out >= want
    else:
        assert bought.amount_out == want
    # paying the exact-out input as exact input buys at least what was asked
    try:
        again = pool.swap_exact_input(i, j, bought.amount_in)
    except SwapRefused as e:
        assume(e.reason != "BAL#304")
        raise
    if isinstance(pool, WeightedPoolState):
        # both directions use powUp, whose error bound (1e-14 of the power, + 1) favours the pool
        # each way; the output is balance_out * (1 - power), so the round trip may fall short by
        # that bound times the output balance (never more)
        assert again.amount_out >= want - balances[j] // 10**13 - 2
    else:
        assert again.amount_out >= want
    # and exact output is monotonic: asking for more never costs less
    more = (
        pool.quote_exact_output(i, j, want + max(1, want // 10))
        if want + want // 10 < balances[j] // 4
        else None
    )
    if more is not None:
        assert more >= bought.amount_in


@given(st.one_of(v2_pools(), curve_pools()), st.data())
@SETTINGS
def test_exact_output_is_the_least_sufficient_input(
    pool_and_balances: tuple[SwapPool, tuple[int, ...]], data: st.DataObject
) -> None:
    pool, balances = pool_and_balances
    i, j = _pair(data, pool)
    want = max(1, balances[j] * data.draw(st.integers(1, 200_000)) // 1_000_000)
    try:
        need = pool.quote_exact_output(i, j, want)
    except SwapRefused as e:
        assume(e.reason not in {"LIQUIDITY", "UNDERFLOW"})
        raise
    assert pool.quote_exact_input(i, j, need) >= want
    if need > 1:
        # one unit less buys less than `want` (or nothing at all: Curve refuses a dust trade)
        with contextlib.suppress(SwapRefused):
            assert pool.quote_exact_input(i, j, need - 1) < want


@given(v3_pools(), st.data())
@SETTINGS
def test_v3_swap_leaves_a_consistent_state(
    pool_and_balances: tuple[V3PoolState, tuple[int, ...]], data: st.DataObject
) -> None:
    pool, balances = pool_and_balances
    i, j = _pair(data, pool)
    assume(balances[i] > 0)
    try:
        q = pool.swap_exact_input(i, j, _size(data, balances[i]))
    except SwapRefused as e:
        assume(e.reason != "NO_LIQUIDITY")
        raise
    after = q.pool_after
    assert isinstance(after, V3PoolState)
    assert get_sqrt_ratio_at_tick(after.tick) <= after.sqrt_price_x96
    if i == 0:  # selling token0 never raises the price, selling token1 never lowers it
        assert after.sqrt_price_x96 <= pool.sqrt_price_x96
    else:
        assert after.sqrt_price_x96 >= pool.sqrt_price_x96
