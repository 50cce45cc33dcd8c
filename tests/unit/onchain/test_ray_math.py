"""AAVE WadRayMath / PercentageMath / MathUtils ports: exact rounding and revert conditions."""

from __future__ import annotations

import math
from decimal import Decimal
from decimal import localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nautilus_ext.onchain.calculators.ray_math import HALF_RAY
from nautilus_ext.onchain.calculators.ray_math import RAY
from nautilus_ext.onchain.calculators.ray_math import SECONDS_PER_YEAR
from nautilus_ext.onchain.calculators.ray_math import UINT256_MAX
from nautilus_ext.onchain.calculators.ray_math import WAD
from nautilus_ext.onchain.calculators.ray_math import calculate_compounded_interest
from nautilus_ext.onchain.calculators.ray_math import calculate_linear_interest
from nautilus_ext.onchain.calculators.ray_math import percent_div
from nautilus_ext.onchain.calculators.ray_math import percent_mul
from nautilus_ext.onchain.calculators.ray_math import ray_div
from nautilus_ext.onchain.calculators.ray_math import ray_mul
from nautilus_ext.onchain.calculators.ray_math import ray_to_wad
from nautilus_ext.onchain.calculators.ray_math import wad_div
from nautilus_ext.onchain.calculators.ray_math import wad_mul
from nautilus_ext.onchain.calculators.ray_math import wad_to_ray

uint = st.integers(min_value=0, max_value=UINT256_MAX)
amounts = st.integers(min_value=0, max_value=10**38)
indices = st.integers(min_value=RAY, max_value=100 * RAY)


def half_up(value: Fraction) -> int:
    """Round a non-negative fraction half up (the protocol's rounding)."""
    return math.floor(value + Fraction(1, 2))


@given(amounts, amounts)
def test_ray_mul_rounds_half_up(a: int, b: int) -> None:
    assert ray_mul(a, b) == half_up(Fraction(a * b, RAY))


@given(amounts, st.integers(min_value=1, max_value=10**38))
def test_ray_div_rounds_half_up(a: int, b: int) -> None:
    assert ray_div(a, b) == half_up(Fraction(a * RAY, b))


@given(amounts, amounts)
def test_wad_mul_and_div_round_half_up(a: int, b: int) -> None:
    assert wad_mul(a, b) == half_up(Fraction(a * b, WAD))
    if b:
        assert wad_div(a, b) == half_up(Fraction(a * WAD, b))


@given(uint, uint)
def test_ray_mul_raises_exactly_where_solidity_reverts(a: int, b: int) -> None:
    if a * b + HALF_RAY > UINT256_MAX:
        with pytest.raises(ArithmeticError):
            ray_mul(a, b)
    else:
        assert ray_mul(a, b) == (a * b + HALF_RAY) // RAY


@given(uint)
def test_ray_div_by_zero_reverts(a: int) -> None:
    with pytest.raises(ArithmeticError):
        ray_div(a, 0)


@given(amounts, indices)
def test_scaling_round_trip_loses_at_most_one_unit(amount: int, index: int) -> None:
    # aToken mint stores amount.rayDiv(index); balanceOf gives scaled.rayMul(index).
    assert abs(ray_mul(ray_div(amount, index), index) - amount) <= 1 + index // RAY


@given(st.integers(min_value=0, max_value=10**50))
def test_wad_ray_conversions(a: int) -> None:
    assert ray_to_wad(wad_to_ray(a)) == a
    assert ray_to_wad(a) == half_up(Fraction(a, 10**9))


@given(amounts, st.integers(min_value=1, max_value=10_000))
def test_percent_mul_and_div(value: int, bps: int) -> None:
    assert percent_mul(value, bps) == half_up(Fraction(value * bps, 10_000))
    assert percent_div(value, bps) == half_up(Fraction(value * 10_000, bps))


def test_known_values() -> None:
    assert ray_mul(RAY, RAY) == RAY
    assert ray_mul(1, HALF_RAY) == 1  # exactly half rounds up
    assert ray_mul(1, HALF_RAY - 1) == 0
    assert ray_div(1, 2 * RAY) == 1  # 0.5 rounds up
    assert percent_mul(10_001, 5_000) == 5_001  # 5000.5 rounds up
    assert wad_div(2, 3) == 666_666_666_666_666_667


def test_rejects_floats_and_negatives() -> None:
    with pytest.raises(TypeError):
        ray_mul(1.5, RAY)  # type: ignore[arg-type]
    with pytest.raises(ArithmeticError):
        ray_mul(-1, RAY)


def test_linear_interest_one_year() -> None:
    rate = 5 * RAY // 100
    assert calculate_linear_interest(rate, SECONDS_PER_YEAR) == RAY + rate
    assert calculate_linear_interest(rate, 0) == RAY


rates = st.integers(min_value=0, max_value=3 * RAY)  # up to 300 % a year
elapsed = st.integers(min_value=0, max_value=2 * SECONDS_PER_YEAR)


@given(rates, elapsed)
def test_compounded_interest_brackets_exact_compounding(rate: int, seconds: int) -> None:
    compounded = calculate_compounded_interest(rate, seconds)
    linear = calculate_linear_interest(rate, seconds)
    assert compounded >= linear
    # Third-order binomial expansion never exceeds true per-second compounding.
    with localcontext() as ctx:
        ctx.prec = 80
        per_second = Decimal(rate) / Decimal(RAY) / Decimal(SECONDS_PER_YEAR)
        exact = (Decimal(1) + per_second) ** seconds * Decimal(RAY)
    assert Decimal(compounded) <= exact + Decimal(3)


@given(rates, st.integers(min_value=3, max_value=SECONDS_PER_YEAR))
def test_compounded_interest_matches_the_protocol_formula(rate: int, seconds: int) -> None:
    # The formula of MathUtils.calculateCompoundedInterest, written out independently.
    base2 = (rate * rate + HALF_RAY) // RAY // SECONDS_PER_YEAR**2
    base3 = (base2 * rate + HALF_RAY) // RAY // SECONDS_PER_YEAR
    expected = (
        RAY
        + rate * seconds // SECONDS_PER_YEAR
        + seconds * (seconds - 1) * base2 // 2
        + seconds * (seconds - 1) * (seconds - 2) * base3 // 6
    )
    assert calculate_compounded_interest(rate, seconds) == expected


def test_compounded_interest_edges() -> None:
    rate = 29 * RAY // 1000
    assert calculate_compounded_interest(rate, 0) == RAY
    assert calculate_compounded_interest(rate, 1) == calculate_linear_interest(rate, 1)
