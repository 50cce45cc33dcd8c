"""The split optimiser: exact accounting, never worse than Uniswap's 5% grid, gas as a fixed cost."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext.dex import V2PoolState
from nautilus_ext.dex.errors import SwapRefused
from nautilus_ext.dex.pool_sets import stable_pool_set
from nautilus_ext.dex.split import Hop
from nautilus_ext.dex.split import PoolPath
from nautilus_ext.dex.split import grid_split
from nautilus_ext.dex.split import optimise_split
from nautilus_ext.dex.uniswap_v3 import initialize
from nautilus_ext.dex.uniswap_v3 import mint
from nautilus_ext.dex.uniswap_v3 import swap
from nautilus_ext.errors import InvalidOrder


def _v2(reserve_in: int, reserve_out: int, name: str, gas: int = 0) -> PoolPath:
    return PoolPath((Hop(V2PoolState(reserve_in, reserve_out), 0, 1, name),), gas_cost=gas)


def test_two_equal_pools_share_the_amount_equally_and_the_accounting_is_exact() -> None:
    legs = [_v2(10**12, 10**12, "a"), _v2(10**12, 10**12, "b")]
    split = optimise_split(legs, 10**10)
    assert sum(split.amounts_in) == 10**10
    assert abs(split.amounts_in[0] - split.amounts_in[1]) <= 10**10 // 1000
    assert split.amounts_out == tuple(leg.quote(a) for leg, a in zip(legs, split.amounts_in, strict=True))
    # splitting beats either pool alone (concave output)
    assert split.net_out > legs[0].quote(10**10)


def test_a_much_deeper_pool_takes_most_and_marginals_end_up_equal() -> None:
    legs = [_v2(10**13, 10**13, "deep"), _v2(10**11, 10**11, "shallow")]
    split = optimise_split(legs, 10**11)
    assert split.amounts_in[0] > 50 * split.amounts_in[1] > 0
    m = [leg.marginal(a) for leg, a in zip(legs, split.amounts_in, strict=True)]
    assert m[0] == pytest.approx(m[1], rel=1e-4)


def test_gas_turns_a_split_into_a_single_pool_when_the_gain_does_not_pay_for_it() -> None:
    free = [_v2(10**12, 10**12, "a"), _v2(10**12, 10**12, "b")]
    assert all(a > 0 for a in optimise_split(free, 10**8).amounts_in)
    costly = [_v2(10**12, 10**12, "a", gas=10**6), _v2(10**12, 10**12, "b", gas=10**6)]
    split = optimise_split(costly, 10**8)
    assert sorted(split.amounts_in) == [0, 10**8]
    assert split.fixed_costs == 10**6
    assert split.net_out == split.gross_out - 10**6


def test_legs_sharing_a_pool_are_never_combined() -> None:
    pool = V2PoolState(10**12, 10**12)
    legs = [PoolPath((Hop(pool, 0, 1, "p"),)), PoolPath((Hop(pool, 0, 1, "p"),))]
    for method in (optimise_split, grid_split):
        split = method(legs, 10**10)
        assert sorted(split.amounts_in) == [0, 10**10]


def test_a_two_hop_path_chains_quotes_and_its_marginal_is_the_chain_rule() -> None:
    first, second = V2PoolState(10**12, 3 * 10**12), V2PoolState(3 * 10**12, 2 * 10**12)
    path = PoolPath((Hop(first, 0, 1, "ab"), Hop(second, 0, 1, "bc")))
    x = 10**9
    assert path.quote(x) == second.quote_exact_input(0, 1, first.quote_exact_input(0, 1, x))
    step = 10**5
    slope = (path.quote(x + step) - path.quote(x)) / step
    assert path.marginal(x) == pytest.approx(slope, rel=1e-3)
    assert path.marginal(0) == pytest.approx(float(Fraction(3 * 997, 1000) * Fraction(2 * 997, 3 * 1000)))


def test_bad_requests_are_typed_errors() -> None:
    legs = [_v2(10**6, 10**6, "a")]
    with pytest.raises(InvalidOrder):
        optimise_split(legs, 0)
    with pytest.raises(InvalidOrder):
        optimise_split([], 10)
    with pytest.raises(InvalidOrder):
        PoolPath(())


def test_a_v3_leg_is_refused_past_its_liquidity_not_quoted_for_part_of_the_input() -> None:
    state = initialize(2**96, 3000, 60)
    state, _, _ = mint(state, -600, 600, 10**15)
    leg = PoolPath((Hop(state, 0, 1, "v3"),))
    with pytest.raises(SwapRefused):
        leg.quote(10**18)
    split = optimise_split([leg, _v2(10**18, 10**18, "v2")], 10**17)
    assert split.amounts_in[0] < 10**17  # the V3 leg takes what it can, the rest goes elsewhere
    assert sum(split.amounts_in) == 10**17


def test_the_empty_word_jump_ends_where_the_contract_walk_ends() -> None:
    state = initialize(2**96, 500, 10)
    state, _, _ = mint(state, -100, 100, 10**12)
    for zero_for_one in (True, False):
        fast = swap(state, zero_for_one, 10**20)
        # a state that claims to know every bitmap word walks them one by one, as the contract
        walked = swap(type(state)(**{**_fields(state), "word_range": (-3466, 3466)}), zero_for_one, 10**20)
        assert (fast.amount0, fast.amount1, fast.sqrt_price_x96, fast.tick, fast.liquidity) == (
            walked.amount0,
            walked.amount1,
            walked.sqrt_price_x96,
            walked.tick,
            walked.liquidity,
        )


def _fields(state: object) -> dict[str, object]:
    names = ("sqrt_price_x96", "tick", "liquidity", "fee_pips", "tick_spacing", "ticks")
    return {n: getattr(state, n) for n in names}


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.sampled_from([2, 3, 5]),
    fraction=st.sampled_from(["0.001", "0.01", "0.1", "0.3", "0.5"]),
    gas=st.sampled_from(["0", "0.06"]),
)
def test_never_worse_than_the_five_percent_grid(seed: int, n: int, fraction: str, gas: str) -> None:
    pools = stable_pool_set(seed, n, gas_price_out=Decimal(gas))
    amount = int(pools.deepest_input_depth * Decimal(fraction))
    try:
        grid = grid_split(pools.paths, amount)
    except SwapRefused:
        return
    ours = optimise_split(pools.paths, amount)
    assert sum(ours.amounts_in) == amount
    # on a flat optimum the two may differ by integer rounding: at most one base unit per leg
    assert ours.net_out >= grid.net_out - len(pools.paths)
