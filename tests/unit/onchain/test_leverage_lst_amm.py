"""Leverage, LST share math and constant-product swap math."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example
from hypothesis import given
from hypothesis import strategies as st

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.onchain.calculators.amm import get_amount_in
from nautilus_ext.onchain.calculators.amm import get_amount_out
from nautilus_ext.onchain.calculators.amm import min_amount_out
from nautilus_ext.onchain.calculators.amm import oracle_amount_out
from nautilus_ext.onchain.calculators.amm import unit_amount_wad
from nautilus_ext.onchain.calculators.leverage import deleverage_repay_for_target
from nautilus_ext.onchain.calculators.leverage import flash_amount
from nautilus_ext.onchain.calculators.leverage import leverage_targets
from nautilus_ext.onchain.calculators.leverage import sequential_loop_schedule
from nautilus_ext.onchain.calculators.leverage import unwind_withdraw_value
from nautilus_ext.onchain.calculators.lst import LstPoolState
from nautilus_ext.onchain.calculators.lst import lst_price_in_base
from nautilus_ext.onchain.calculators.lst import stake_and_wrap

ETH = 10**18


def test_seed_leverage_example() -> None:
    # E = 10, λ = 0.9: F = 0.9/0.1·10 = 90, S = 100, B = 90.
    t = leverage_targets(10 * ETH, Decimal("0.9"))
    assert (t.flash, t.supply, t.borrow) == (90 * ETH, 100 * ETH, 90 * ETH)
    assert t.leverage == Decimal(10)


@given(st.integers(1, 10**24), st.integers(1, 9_999))
@example(249_999_999_999_999_999_999_999, 9_922)  # failed the old 28-digit Decimal comparison
def test_flash_amount_keeps_ltv_at_or_below_target(equity: int, bps: int) -> None:
    ltv = Decimal(bps) / Decimal(10_000)
    flash = flash_amount(equity, ltv)
    # B / S = F / (E + F) never exceeds λ (flooring), and one more wei would; compared in exact
    # integers (F/(E+F) <= bps/10^4), since Decimal division rounds at 28 digits
    assert flash * 10_000 <= bps * (equity + flash)
    assert (flash + 1) * 10_000 > bps * (equity + flash + 1)


@pytest.mark.parametrize("bad", [Decimal(0), Decimal(1), Decimal("-0.1"), Decimal("NaN")])
def test_invalid_ltv_is_refused(bad: Decimal) -> None:
    with pytest.raises(InvalidOrder):
        flash_amount(ETH, bad)


def test_invalid_equity_is_refused() -> None:
    with pytest.raises(InvalidOrder, match="positive integer"):
        flash_amount(0, Decimal("0.5"))
    with pytest.raises(InvalidOrder):
        flash_amount(1.5, Decimal("0.5"))  # type: ignore[arg-type]


def test_unwind_and_deleverage_amounts() -> None:
    assert unwind_withdraw_value(9 * ETH, Decimal("0.9")) == 10 * ETH
    # C = 100, D = 90, target 0.8: R = (90 - 80) / 0.2 = 50 -> (40 / 50 = 0.8).
    assert deleverage_repay_for_target(100 * ETH, 90 * ETH, Decimal("0.8")) == 50 * ETH
    assert deleverage_repay_for_target(100 * ETH, 50 * ETH, Decimal("0.8")) == 0


def test_sequential_loop_converges_toward_the_flash_target() -> None:
    steps = sequential_loop_schedule(10 * ETH, Decimal("0.9"), min_step_wei=ETH // 10)
    borrowed = sum(s.borrow for s in steps)
    assert steps[0].stake == 10 * ETH
    assert steps[-1].borrow == 0
    assert all(b.stake == a.borrow for a, b in itertools.pairwise(steps))
    assert borrowed <= flash_amount(10 * ETH, Decimal("0.9"))
    assert borrowed > 89 * ETH
    assert len(steps) > 20
    no_leverage = sequential_loop_schedule(10 * ETH, Decimal("0.9"), min_step_wei=1, max_iterations=0)
    assert [(s.stake, s.borrow) for s in no_leverage] == [(10 * ETH, 0)]
    one_loop = sequential_loop_schedule(10 * ETH, Decimal("0.9"), min_step_wei=1, max_iterations=1)
    assert [(s.stake, s.borrow) for s in one_loop] == [(10 * ETH, 9 * ETH), (9 * ETH, 0)]


def test_stake_and_wrap_rounds_like_the_contracts() -> None:
    pool = LstPoolState(total_pooled_ether=1_063_400_000_000_000_012_345, total_shares=1_000 * ETH)
    result = stake_and_wrap(pool, 100 * ETH)
    shares = 100 * ETH * pool.total_shares // pool.total_pooled_ether
    assert result.shares_minted == shares
    after = LstPoolState(pool.total_pooled_ether + 100 * ETH, pool.total_shares + shares)
    assert result.pool_after == after
    assert result.rebasing_balance == shares * after.total_pooled_ether // after.total_shares
    assert result.wrapped_amount == result.rebasing_balance * after.total_shares // after.total_pooled_ether
    assert result.wrapped_amount in (shares, shares - 1)


def test_lst_pool_validation_and_price() -> None:
    with pytest.raises(ValueError, match="both zero"):
        LstPoolState(1, 0)
    with pytest.raises(ValueError, match="positive"):
        LstPoolState(10, 10).deposit(0)
    assert lst_price_in_base(1_063_400_000_000_000_000, 3000 * 10**8) == 3190_20000000


@given(st.integers(1, 10**22), st.integers(10**18, 10**24), st.integers(10**18, 10**24))
def test_amount_in_buys_at_least_the_requested_output(out: int, r_in: int, r_out: int) -> None:
    if out >= r_out:
        with pytest.raises(InvalidOrder):
            get_amount_in(out, r_in, r_out)
        return
    needed = get_amount_in(out, r_in, r_out)
    assert get_amount_out(needed, r_in, r_out) >= out


def test_oracle_bounds() -> None:
    oracle_out = oracle_amount_out(10 * ETH, 3190_00000000, 3000_00000000, 18, 18)
    assert oracle_out == 10_633_333_333_333_333_333
    assert min_amount_out(oracle_out, Decimal("0.01")) == 10_527_000_000_000_000_000
    with pytest.raises(InvalidOrder):
        min_amount_out(oracle_out, Decimal(1))
    unit = unit_amount_wad(10_527 * 10**15, 10 * ETH, 18, 18)
    assert (unit * 10 * ETH + ETH // 2) // ETH <= 10_527 * 10**15
    assert oracle_amount_out(1_000 * 10**6, 10**8, 3000 * 10**8, 6, 18) == ETH // 3


@given(
    st.integers(0, 10**40),
    st.decimals(min_value=0, max_value=Decimal("0.999999"), places=6),
)
def test_min_amount_out_is_the_exact_ceiling(oracle_out: int, slippage: Decimal) -> None:
    bound = min_amount_out(oracle_out, slippage)
    exact = Fraction(oracle_out) * (1 - Fraction(slippage))
    assert bound == math.ceil(exact)


@given(st.integers(1, 10**40), st.integers(1, 10**40))
def test_unit_amount_never_tightens_beyond_min_out(min_out: int, sell: int) -> None:
    unit = unit_amount_wad(min_out, sell, 18, 18)
    # unit is the floor of min_out/sell in wad: the on-chain bound never exceeds min_out.
    assert unit * sell <= min_out * 10**18 < (unit + 1) * sell
