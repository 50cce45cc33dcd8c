"""
Staking yield with reward modes (seed 003, decisions 9, 18 and 31).

- ``base_only``: the LST's oracle rate growth only (the only mode for wstETH).
- ``base_eigen``: plus EIGEN distributions.
- ``base_eigen_seasonal``: plus EIGEN and ETHFI seasonal drops.

Base yield accrues continuously through the LST/ETH rate; EIGEN and ETHFI rewards are paid as
discrete events on their exact payout times, sized as ``rate × average LST balance`` over the
earning period (never smoothed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from enum import unique

from nautilus_ext.errors import InvalidConfig


@unique
class RewardsMode(StrEnum):
    """Which staking rewards a simulation counts."""

    BASE_ONLY = "base_only"  # LST rate growth only
    BASE_EIGEN = "base_eigen"  # plus EIGEN distributions
    BASE_EIGEN_SEASONAL = "base_eigen_seasonal"  # plus EIGEN and ETHFI seasonal drops


@unique
class RewardToken(StrEnum):
    """Discrete reward tokens."""

    EIGEN = "EIGEN"  # EigenLayer restaking rewards (venue EIGENLAYER)
    ETHFI = "ETHFI"  # EtherFi seasonal drops (venue ETHERFI)


_MODE_TOKENS: dict[RewardsMode, frozenset[RewardToken]] = {
    RewardsMode.BASE_ONLY: frozenset(),
    RewardsMode.BASE_EIGEN: frozenset({RewardToken.EIGEN}),
    RewardsMode.BASE_EIGEN_SEASONAL: frozenset({RewardToken.EIGEN, RewardToken.ETHFI}),
}


@dataclass(frozen=True, slots=True)
class RewardDistribution:
    """
    One discrete reward payout.

    Parameters
    ----------
    token : RewardToken
        Token paid.
    payout_ns : int
        Exact payout time (UNIX ns).
    period_start_ns, period_end_ns : int
        Earning period whose average LST balance sizes the payout.
    rate_per_lst : Decimal
        Reward tokens paid per LST held on average over the period.
    """

    token: RewardToken
    payout_ns: int
    period_start_ns: int
    period_end_ns: int
    rate_per_lst: Decimal

    def __post_init__(self) -> None:
        if self.period_end_ns <= self.period_start_ns:
            raise InvalidConfig("reward earning period must end after it starts")
        if self.rate_per_lst < 0:
            raise InvalidConfig("reward rate must be non-negative")


@dataclass(frozen=True, slots=True)
class RewardPayment:
    """
    A reward paid to the wallet.

    Parameters
    ----------
    token : RewardToken
        Token paid.
    payout_ns : int
        Payout time.
    amount : Decimal
        Tokens paid.
    period_start_ns, period_end_ns : int
        Earning period.
    """

    token: RewardToken
    payout_ns: int
    amount: Decimal
    period_start_ns: int
    period_end_ns: int


def validate_rewards_mode(lst_symbol: str, mode: RewardsMode) -> None:
    """
    Check that ``mode`` applies to ``lst_symbol``.

    Raises
    ------
    InvalidConfig
        If a restaking rewards mode is asked for wstETH (base Lido staking only).
    """
    if lst_symbol.upper() == "WSTETH" and mode is not RewardsMode.BASE_ONLY:
        raise InvalidConfig(f"wstETH supports only rewards mode base_only, got {mode}")


def base_yield_eth(lst_amount: Decimal, rate_start: Decimal, rate_end: Decimal) -> Decimal:
    """Return the ETH earned by holding ``lst_amount`` while its ETH rate moved."""
    return lst_amount * (rate_end - rate_start)


def time_weighted_average_balance(
    balances: Sequence[tuple[int, Decimal]], start_ns: int, end_ns: int
) -> Decimal:
    """
    Return the time-weighted average LST balance over ``[start_ns, end_ns)``.

    Parameters
    ----------
    balances : Sequence[tuple[int, Decimal]]
        ``(timestamp_ns, balance)`` change points in time order; a balance holds until the next
        point. Before the first point the balance is zero.
    """
    if end_ns <= start_ns:
        raise ValueError("period must end after it starts")
    total = Decimal(0)
    for index, (ts, balance) in enumerate(balances):
        if index and ts < balances[index - 1][0]:
            raise ValueError("balance change points must be in time order")
        next_ts = balances[index + 1][0] if index + 1 < len(balances) else end_ns
        lo = max(ts, start_ns)
        hi = min(next_ts, end_ns)
        if hi > lo:
            total += balance * (hi - lo)
    return total / Decimal(end_ns - start_ns)


def reward_payments(
    mode: RewardsMode,
    distributions: Sequence[RewardDistribution],
    balances: Sequence[tuple[int, Decimal]],
    *,
    start_ns: int,
    end_ns: int,
) -> list[RewardPayment]:
    """
    Return the discrete reward payments within ``[start_ns, end_ns]`` for a rewards mode.

    Only distributions whose token the mode counts and whose payout falls in the window are
    paid; each pays ``rate × average balance over its earning period``.
    """
    tokens = _MODE_TOKENS[mode]
    payments: list[RewardPayment] = []
    for dist in sorted(distributions, key=lambda d: d.payout_ns):
        if dist.token not in tokens or not start_ns <= dist.payout_ns <= end_ns:
            continue
        average = time_weighted_average_balance(balances, dist.period_start_ns, dist.period_end_ns)
        payments.append(
            RewardPayment(
                token=dist.token,
                payout_ns=dist.payout_ns,
                amount=dist.rate_per_lst * average,
                period_start_ns=dist.period_start_ns,
                period_end_ns=dist.period_end_ns,
            )
        )
    return payments


__all__ = [
    "RewardDistribution",
    "RewardPayment",
    "RewardToken",
    "RewardsMode",
    "base_yield_eth",
    "reward_payments",
    "time_weighted_average_balance",
    "validate_rewards_mode",
]
