"""
Liquid staking token math: share-based LSTs (Lido stETH/wstETH, EtherFi eETH/weETH).

Both protocols keep ``total_pooled_ether`` and ``total_shares``. Depositing ETH mints
``eth * shares / pooled`` shares (rounded down); the rebasing token's balance is
``shares * pooled / total_shares`` (rounded down); wrapping a rebasing amount mints the
non-rebasing token 1:1 with the shares that amount represents (``getSharesByPooledEth`` /
``sharesForAmount``). Everything is integer wei, rounded the way the contracts round.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from enum import unique


@unique
class LstProtocol(StrEnum):
    """Liquid staking protocols the module stakes with."""

    LIDO = "LIDO"  # ETH -> stETH (rebasing) -> wstETH (wrapped)
    ETHERFI = "ETHERFI"  # ETH -> eETH (rebasing) -> weETH (wrapped)


@dataclass(frozen=True, slots=True)
class LstPoolState:
    """
    The share accounting of a share-based liquid staking pool.

    Parameters
    ----------
    total_pooled_ether : int
        Wei backing all shares.
    total_shares : int
        Shares outstanding (equal to the wrapped token's units).
    """

    total_pooled_ether: int
    total_shares: int

    def __post_init__(self) -> None:
        if self.total_pooled_ether < 0 or self.total_shares < 0:
            raise ValueError("pool totals must be non-negative")
        if (self.total_pooled_ether == 0) != (self.total_shares == 0):
            raise ValueError("pooled ether and shares must be both zero or both positive")

    def shares_for_amount(self, amount_wei: int) -> int:
        """Return the shares an ETH (or rebasing token) amount represents, rounded down."""
        if amount_wei < 0:
            raise ValueError(f"amount {amount_wei} must be non-negative")
        if self.total_pooled_ether == 0:
            return amount_wei
        return amount_wei * self.total_shares // self.total_pooled_ether

    def amount_for_shares(self, shares: int) -> int:
        """Return the rebasing-token amount (wei of ETH) of ``shares``, rounded down."""
        if shares < 0:
            raise ValueError(f"shares {shares} must be non-negative")
        if self.total_shares == 0:
            return shares
        return shares * self.total_pooled_ether // self.total_shares

    def deposit(self, eth_wei: int) -> tuple[LstPoolState, int]:
        """
        Stake ``eth_wei``: return the new pool state and the shares minted.

        Raises
        ------
        ValueError
            If ``eth_wei`` is not positive or would mint zero shares.
        """
        if eth_wei <= 0:
            raise ValueError(f"stake amount {eth_wei} must be positive")
        shares = self.shares_for_amount(eth_wei)
        if shares == 0:
            raise ValueError(f"stake amount {eth_wei} wei mints no shares")
        return (
            LstPoolState(self.total_pooled_ether + eth_wei, self.total_shares + shares),
            shares,
        )

    def rate(self) -> Decimal:
        """Return the wrapped token's price in ETH (``pooled / shares``), 1 for an empty pool."""
        if self.total_shares == 0:
            return Decimal(1)
        return Decimal(self.total_pooled_ether) / Decimal(self.total_shares)


@dataclass(frozen=True, slots=True)
class StakeAndWrapResult:
    """
    Outcome of staking ETH and wrapping the whole rebasing balance.

    Parameters
    ----------
    pool_after : LstPoolState
        Pool totals after the deposit (wrapping does not change them).
    shares_minted : int
        Shares minted by the deposit.
    rebasing_balance : int
        The rebasing-token balance right after the deposit (what gets wrapped).
    wrapped_amount : int
        Wrapped tokens received (wstETH or weETH units).
    """

    pool_after: LstPoolState
    shares_minted: int
    rebasing_balance: int
    wrapped_amount: int


def stake_and_wrap(pool: LstPoolState, eth_wei: int) -> StakeAndWrapResult:
    """
    Predict staking ``eth_wei`` from an empty wallet and wrapping the full rebasing balance.

    Parameters
    ----------
    pool : LstPoolState
        Pool totals before the deposit.
    eth_wei : int
        ETH staked.

    Returns
    -------
    StakeAndWrapResult
        Amounts to the wei, as ``submit``/``deposit`` then ``wrap`` produce them on chain.
    """
    after, shares = pool.deposit(eth_wei)
    balance = after.amount_for_shares(shares)
    wrapped = after.shares_for_amount(balance)
    return StakeAndWrapResult(
        pool_after=after, shares_minted=shares, rebasing_balance=balance, wrapped_amount=wrapped
    )


def lst_price_in_base(rate_wad: int, eth_price_base: int) -> int:
    """
    Price one wrapped LST in the oracle's base currency from its ETH rate.

    Mirrors the rate-adapter oracles AAVE uses for weETH/wstETH:
    ``rate (wad, ETH per LST) * ETH price / 1e18``, rounded down.
    """
    if rate_wad < 0 or eth_price_base < 0:
        raise ValueError("rate and price must be non-negative")
    return rate_wad * eth_price_base // 10**18


def lst_value_in_eth(lst_amount: Decimal, oracle_rate: Decimal) -> Decimal:
    """Return the ETH value of ``lst_amount`` at the oracle's LST/ETH rate (seed 003, #20)."""
    return lst_amount * oracle_rate


__all__ = [
    "LstPoolState",
    "LstProtocol",
    "StakeAndWrapResult",
    "lst_price_in_base",
    "lst_value_in_eth",
    "stake_and_wrap",
]
