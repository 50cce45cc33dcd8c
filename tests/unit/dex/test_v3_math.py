"""Uniswap V3 math: TickMath against the protocol's vectors and an independent port, swap invariants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext.dex import SwapRefused
from nautilus_ext.dex import V3PoolState
from nautilus_ext.dex import V3Tick
from nautilus_ext.dex.uniswap_v3 import initialize
from nautilus_ext.dex.uniswap_v3 import mint
from nautilus_ext.dex.uniswap_v3 import swap
from nautilus_ext.dex.v3_math import MAX_SQRT_RATIO
from nautilus_ext.dex.v3_math import MAX_TICK
from nautilus_ext.dex.v3_math import MIN_SQRT_RATIO
from nautilus_ext.dex.v3_math import MIN_TICK
from nautilus_ext.dex.v3_math import get_sqrt_ratio_at_tick
from nautilus_ext.dex.v3_math import get_tick_at_sqrt_ratio
from nautilus_ext.dex.v3_math import mul_div
from nautilus_ext.dex.v3_math import mul_div_rounding_up
from nautilus_ext.onchain.calculators import tick_math as other_port

TICK_VECTORS = "uniswap-v3-core/test/__snapshots__/TickMath.vectors.json"


def test_get_sqrt_ratio_at_tick_matches_the_snapshot(shared_data: Path) -> None:
    data = json.loads((shared_data / TICK_VECTORS).read_text())
    cases = {
        int(k.split("tick ")[1].split(" ")[0]): int(v)
        for k, v in data.items()
        if k.startswith("TickMath #getSqrtRatioAtTick tick ") and " result " in k
    }
    assert len(cases) > 20
    for tick, expected in cases.items():
        assert get_sqrt_ratio_at_tick(tick) == expected, tick
    assert get_sqrt_ratio_at_tick(MIN_TICK) == MIN_SQRT_RATIO
    assert get_sqrt_ratio_at_tick(MAX_TICK) == MAX_SQRT_RATIO
    with pytest.raises(SwapRefused) as e:
        get_sqrt_ratio_at_tick(MAX_TICK + 1)
    assert e.value.reason == "T"


@given(st.integers(MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1))
@settings(max_examples=300, deadline=None)
def test_get_tick_at_sqrt_ratio_is_the_greatest_tick_below(price: int) -> None:
    tick = get_tick_at_sqrt_ratio(price)
    assert get_sqrt_ratio_at_tick(tick) <= price
    assert tick == MAX_TICK - 1 or get_sqrt_ratio_at_tick(tick + 1) > price
    assert tick == other_port.get_tick_at_sqrt_ratio(price)  # the assembly-log port in onchain/


@given(st.integers(MIN_TICK, MAX_TICK))
def test_sqrt_ratio_agrees_with_the_onchain_port(tick: int) -> None:
    assert get_sqrt_ratio_at_tick(tick) == other_port.get_sqrt_ratio_at_tick(tick)


def test_get_tick_at_sqrt_ratio_refuses_out_of_range() -> None:
    for price in (MIN_SQRT_RATIO - 1, MAX_SQRT_RATIO):
        with pytest.raises(SwapRefused) as e:
            get_tick_at_sqrt_ratio(price)
        assert e.value.reason == "R"


def test_full_math_bounds() -> None:
    assert mul_div(2**255, 4, 8) == 2**254
    assert mul_div_rounding_up(7, 3, 2) == 11
    for args in ((2**255, 4, 1), (1, 1, 0)):
        with pytest.raises(SwapRefused):
            mul_div(*args)


def _pool() -> tuple[V3PoolState, int, int]:
    state = initialize(2**96, 3000, 60)
    state, a0, a1 = mint(state, -600, 600, 10**18)
    state, b0, b1 = mint(state, -60, 120, 5 * 10**18)
    return state, a0 + b0, a1 + b1


def test_swap_crosses_initialized_ticks_and_updates_liquidity() -> None:
    state, _, _ = _pool()
    assert state.liquidity == 6 * 10**18
    result = swap(state, True, 25 * 10**15)
    assert result.ticks_crossed == 1
    assert result.liquidity == 10**18
    assert result.tick < -60
    assert result.amount0 == 25 * 10**15
    assert result.amount1 < 0
    assert result.fee_growth_global0_delta_x128 > 0
    assert result.fee_growth_global1_delta_x128 == 0
    back = swap(result.pool_after, False, -(-result.amount1 // 2))
    assert back.ticks_crossed == 1
    assert back.liquidity == 6 * 10**18


def test_price_limit_stops_the_swap_and_a_wrong_side_limit_is_spl() -> None:
    state, _, _ = _pool()
    limit = get_sqrt_ratio_at_tick(-30)
    result = swap(state, True, 10**30, limit)
    assert result.sqrt_price_x96 == limit
    assert result.amount0 < 10**30
    with pytest.raises(SwapRefused) as e:
        swap(state, False, 10**18, limit)
    assert e.value.reason == "SPL"
    with pytest.raises(SwapRefused) as e:
        swap(state, True, 0)
    assert e.value.reason == "AS"


def test_exact_output_beyond_the_pool_is_refused() -> None:
    state, balance0, _ = _pool()
    with pytest.raises(SwapRefused) as e:
        state.swap_exact_output(1, 0, balance0)
    assert e.value.reason == "LIQUIDITY"


def test_bitmap_traversal_finds_ticks_within_one_word() -> None:
    state = V3PoolState(2**96, 0, 0, 3000, 60, (V3Tick(-120, 1, 1), V3Tick(600, -1, 1)))
    assert state.next_initialized_tick_within_one_word(0, True) == (0, False)  # -120 is in word -1
    assert state.next_initialized_tick_within_one_word(-1, True) == (-120, True)
    assert state.next_initialized_tick_within_one_word(-121, True) == (-256 * 60, False)
    assert state.next_initialized_tick_within_one_word(0, False) == (600, True)
    assert state.next_initialized_tick_within_one_word(600, False) == (255 * 60, False)


def test_a_swap_past_the_known_bitmap_words_is_refused() -> None:
    state, _, _ = _pool()
    partial = V3PoolState(
        state.sqrt_price_x96, state.tick, state.liquidity, 3000, 60, state.ticks, word_range=(-1, 0)
    )
    small = partial.swap_exact_input(0, 1, 10**15)
    assert small.amount_out == state.swap_exact_input(0, 1, 10**15).amount_out
    with pytest.raises(SwapRefused) as e:
        partial.swap_exact_input(0, 1, 10**24)  # runs out of range [-600, 600] into unknown words
    assert e.value.reason == "TICKS_UNKNOWN"
