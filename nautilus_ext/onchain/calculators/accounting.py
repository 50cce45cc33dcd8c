"""
Wallet accounting: gas debt per share class (seed 003, #12) and the balance sheet (#24).

Amounts are ``Decimal`` in whole tokens; the wallet follows the on-chain model of seed 003 #4:
one Ethereum wallet whose ETH pays all gas, plus AAVE aTokens and debt tokens held as scaled
balances and valued through the indices.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from enum import unique

WEI_PER_ETH = Decimal(10**18)


@unique
class ShareClass(StrEnum):
    """Denomination of a strategy's capital and P&L."""

    ETH = "ETH"  # capital and P&L in ETH; gas reduces a positive ETH balance
    USDT = "USDT"  # capital and P&L in USD; starts with 0 ETH so gas becomes a debt


def gas_fee_eth(gas_used: int, effective_gas_price_wei: int) -> Decimal:
    """Return the fee of a transaction in ETH (``gas_used * price``, exact)."""
    if gas_used < 0 or effective_gas_price_wei < 0:
        raise ValueError("gas used and gas price must be non-negative")
    return Decimal(gas_used * effective_gas_price_wei) / WEI_PER_ETH


@dataclass(slots=True)
class GasLedger:
    """
    The wallet's ETH balance as gas is paid.

    Parameters
    ----------
    share_class : ShareClass
        Denomination of the strategy.
    eth_balance : Decimal
        Native ETH held (may go negative for a USDT share class: that is the gas debt).
    """

    share_class: ShareClass
    eth_balance: Decimal

    def pay(self, fee_eth: Decimal) -> None:
        """
        Deduct a gas fee.

        Raises
        ------
        ValueError
            For a negative fee, or for the ETH share class when the wallet cannot pay (an ETH
            fund never borrows gas).
        """
        if fee_eth < 0:
            raise ValueError(f"gas fee {fee_eth} must be non-negative")
        if self.share_class is ShareClass.ETH and self.eth_balance - fee_eth < 0:
            raise ValueError(f"ETH share class wallet holds {self.eth_balance} ETH, cannot pay {fee_eth}")
        self.eth_balance -= fee_eth

    @property
    def gas_debt_eth(self) -> Decimal:
        """ETH owed for gas (``-balance`` when negative, else 0)."""
        return -self.eth_balance if self.eth_balance < 0 else Decimal(0)

    @property
    def free_eth(self) -> Decimal:
        """Positive ETH balance available (0 when in gas debt)."""
        return self.eth_balance if self.eth_balance > 0 else Decimal(0)


@dataclass(frozen=True, slots=True)
class BalanceSheet:
    """
    Total value of a strategy in USD (seed 003, decision 24).

    Parameters
    ----------
    cex_balances_usd : Decimal
        Sum of all CEX account values.
    aave_collateral_usd : Decimal
        AAVE supply value (scaled balance × liquidity index × oracle price).
    aave_debt_usd : Decimal
        AAVE debt value (scaled debt × borrow index × price).
    gas_debt_eth : Decimal
        ETH owed for gas.
    free_eth : Decimal
        Positive ETH in the wallet.
    free_usdt : Decimal
        USDT in the wallet.
    free_lst_eth : Decimal
        ETH value of LSTs held but not supplied.
    eth_usd_price : Decimal
        ETH/USD price used for conversions.
    """

    cex_balances_usd: Decimal
    aave_collateral_usd: Decimal
    aave_debt_usd: Decimal
    gas_debt_eth: Decimal
    free_eth: Decimal
    free_usdt: Decimal
    free_lst_eth: Decimal
    eth_usd_price: Decimal

    @property
    def total_value_usd(self) -> Decimal:
        """Net value in USD."""
        return (
            self.cex_balances_usd
            + self.aave_collateral_usd
            - self.aave_debt_usd
            - self.gas_debt_eth * self.eth_usd_price
            + (self.free_eth + self.free_lst_eth) * self.eth_usd_price
            + self.free_usdt
        )

    @property
    def total_value_eth(self) -> Decimal:
        """Net value in ETH (for the ETH share class)."""
        if self.eth_usd_price <= 0:
            raise ValueError("ETH price must be positive to value in ETH")
        return self.total_value_usd / self.eth_usd_price


__all__ = ["BalanceSheet", "GasLedger", "ShareClass", "gas_fee_eth"]
