"""
Leverage math for looped LST/AAVE positions (seed 000, "Atomic Transactions"; seed 003, #10).

Equity ``E`` at target LTV ``λ``: flash amount ``F = λ/(1-λ)·E``, supply ``S = E + F``,
borrow ``B = F`` (the borrow repays the flash loan). The partial unwind repays ``R`` of debt
and withdraws collateral worth ``R/λ``. Amounts are integer wei; ``λ`` is an exact ``Decimal``
fraction, and every division rounds down so a plan never asks for more than the math allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from nautilus_ext.errors import InvalidOrder


def _ltv_ratio(target_ltv: Decimal) -> tuple[int, int]:
    if not isinstance(target_ltv, Decimal) or not target_ltv.is_finite():
        raise InvalidOrder(f"target LTV {target_ltv!r} must be a finite Decimal")
    if not Decimal(0) < target_ltv < Decimal(1):
        raise InvalidOrder(f"target LTV {target_ltv} must be strictly between 0 and 1")
    return target_ltv.as_integer_ratio()


def _check_amount(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidOrder(f"{name} {value!r} must be a positive integer amount of base units")


def flash_amount(equity_wei: int, target_ltv: Decimal) -> int:
    """
    Return ``F = λ/(1-λ)·E`` in wei, rounded down.

    Raises
    ------
    InvalidOrder
        If the equity is not positive or ``λ`` is not in ``(0, 1)``.
    """
    _check_amount("equity", equity_wei)
    num, den = _ltv_ratio(target_ltv)
    return equity_wei * num // (den - num)


@dataclass(frozen=True, slots=True)
class LeverageTargets:
    """
    ETH-denominated targets of a leveraged entry.

    Parameters
    ----------
    equity : int
        Own capital ``E`` (wei).
    flash : int
        Flash loan ``F`` (wei).
    supply : int
        ETH staked and supplied, ``S = E + F`` (wei).
    borrow : int
        AAVE borrow ``B = F`` (wei).
    target_ltv : Decimal
        ``λ``.
    """

    equity: int
    flash: int
    supply: int
    borrow: int
    target_ltv: Decimal

    @property
    def leverage(self) -> Decimal:
        """Gross leverage ``S / E``."""
        return Decimal(self.supply) / Decimal(self.equity)


def leverage_targets(equity_wei: int, target_ltv: Decimal) -> LeverageTargets:
    """Return ``F``, ``S`` and ``B`` for equity ``E`` at target LTV ``λ``."""
    flash = flash_amount(equity_wei, target_ltv)
    return LeverageTargets(
        equity=equity_wei,
        flash=flash,
        supply=equity_wei + flash,
        borrow=flash,
        target_ltv=target_ltv,
    )


def unwind_withdraw_value(repay_wei: int, target_ltv: Decimal) -> int:
    """
    Return the collateral value (ETH wei) to withdraw when repaying ``R``: ``R/λ``, rounded down.

    Withdrawing ``R/λ`` of collateral against ``R`` of debt keeps the LTV at ``λ``.
    """
    _check_amount("repay amount", repay_wei)
    num, den = _ltv_ratio(target_ltv)
    return repay_wei * den // num


def deleverage_repay_for_target(collateral_eth_wei: int, debt_eth_wei: int, target_ltv: Decimal) -> int:
    """
    Return the debt ``R`` to repay (with collateral worth ``R`` withdrawn and sold to repay it)
    so the position lands at ``target_ltv``: ``R = (D - λC)/(1 - λ)``, rounded up.

    Returns 0 when the position is already at or below the target.
    """
    num, den = _ltv_ratio(target_ltv)
    if collateral_eth_wei < 0 or debt_eth_wei < 0:
        raise InvalidOrder("collateral and debt must be non-negative")
    excess = debt_eth_wei * den - num * collateral_eth_wei
    if excess <= 0:
        return 0
    return -(-excess // (den - num))


@dataclass(frozen=True, slots=True)
class LoopStep:
    """
    One iteration of a sequential leverage loop.

    Parameters
    ----------
    iteration : int
        1-based iteration number.
    stake : int
        ETH staked and supplied in this iteration (wei).
    borrow : int
        WETH borrowed at the end of this iteration (wei; 0 on the last one).
    """

    iteration: int
    stake: int
    borrow: int


def sequential_loop_schedule(
    equity_wei: int,
    target_ltv: Decimal,
    *,
    min_step_wei: int,
    max_iterations: int | None = None,
) -> list[LoopStep]:
    """
    Plan the sequential loop (stake → supply → borrow, repeated) toward ``B = F``.

    Each iteration borrows ``λ`` times what it just supplied, never more than what is left of
    ``F``; the loop stops when the next borrow would be below ``min_step_wei`` or after
    ``max_iterations`` (``0`` means stake once without borrowing, seed 003 decision 10).

    Returns
    -------
    list[LoopStep]
        The iterations, the last one with ``borrow == 0``.
    """
    _check_amount("equity", equity_wei)
    num, den = _ltv_ratio(target_ltv)
    if min_step_wei <= 0:
        raise InvalidOrder(f"min_step_wei {min_step_wei} must be positive")
    if max_iterations is not None and max_iterations < 0:
        raise InvalidOrder(f"max_iterations {max_iterations} must be non-negative")
    target_borrow = equity_wei * num // (den - num)
    steps: list[LoopStep] = []
    stake = equity_wei
    borrowed = 0
    iteration = 0
    while True:
        iteration += 1
        can_borrow = max_iterations is None or iteration <= max_iterations
        borrow = min(stake * num // den, target_borrow - borrowed) if can_borrow else 0
        if borrow < min_step_wei:
            borrow = 0
        steps.append(LoopStep(iteration=iteration, stake=stake, borrow=borrow))
        if borrow == 0:
            return steps
        borrowed += borrow
        stake = borrow


__all__ = [
    "LeverageTargets",
    "LoopStep",
    "deleverage_repay_for_target",
    "flash_amount",
    "leverage_targets",
    "sequential_loop_schedule",
    "unwind_withdraw_value",
]
