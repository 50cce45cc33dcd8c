"""
Uniswap V2 constant-product math (``UniswapV2Library.getAmountOut/getAmountIn``).

The fee is a ratio ``fee_numerator / fee_denominator`` of the input kept for swapping
(Uniswap V2: 997/1000; forks differ, e.g. 9975/10000), applied exactly as the library does.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace
from fractions import Fraction

from nautilus_ext.dex.errors import SwapRefused
from nautilus_ext.dex.pool import SwapQuote
from nautilus_ext.errors import InvalidConfig


def get_amount_out(
    amount_in: int, reserve_in: int, reserve_out: int, fee_numerator: int = 997, fee_denominator: int = 1000
) -> int:
    """``UniswapV2Library.getAmountOut``: output for ``amount_in`` (rounded down)."""
    if amount_in <= 0:
        raise SwapRefused(
            "UniswapV2Library: INSUFFICIENT_INPUT_AMOUNT", f"amount_in {amount_in} must be positive"
        )
    if reserve_in <= 0 or reserve_out <= 0:
        raise SwapRefused("UniswapV2Library: INSUFFICIENT_LIQUIDITY", "a reserve is empty")
    amount_in_with_fee = amount_in * fee_numerator
    return amount_in_with_fee * reserve_out // (reserve_in * fee_denominator + amount_in_with_fee)


def get_amount_in(
    amount_out: int, reserve_in: int, reserve_out: int, fee_numerator: int = 997, fee_denominator: int = 1000
) -> int:
    """``UniswapV2Library.getAmountIn``: input for ``amount_out`` (rounded up, plus one)."""
    if amount_out <= 0:
        raise SwapRefused(
            "UniswapV2Library: INSUFFICIENT_OUTPUT_AMOUNT", f"amount_out {amount_out} must be positive"
        )
    if reserve_in <= 0 or reserve_out <= 0:
        raise SwapRefused("UniswapV2Library: INSUFFICIENT_LIQUIDITY", "a reserve is empty")
    if amount_out >= reserve_out:
        raise SwapRefused("ds-math-sub-underflow", f"amount_out {amount_out} >= reserve {reserve_out}")
    return reserve_in * amount_out * fee_denominator // ((reserve_out - amount_out) * fee_numerator) + 1


@dataclass(frozen=True, slots=True)
class V2PoolState:
    """
    A Uniswap V2 pair's reserves (``getReserves``).

    Parameters
    ----------
    reserve0, reserve1 : int
        Reserves in base units (uint112 on chain).
    fee_numerator, fee_denominator : int
        Share of the input that is swapped (997/1000 on Uniswap V2).
    """

    reserve0: int
    reserve1: int
    fee_numerator: int = 997
    fee_denominator: int = 1000

    def __post_init__(self) -> None:
        if self.reserve0 < 0 or self.reserve1 < 0 or max(self.reserve0, self.reserve1) >= 1 << 112:
            raise InvalidConfig(f"V2 reserves ({self.reserve0}, {self.reserve1}) are not uint112")
        if not 0 < self.fee_numerator <= self.fee_denominator:
            raise InvalidConfig(f"V2 fee {self.fee_numerator}/{self.fee_denominator} is not in (0, 1]")

    @property
    def token_count(self) -> int:
        """Two tokens: token0 and token1."""
        return 2

    def _reserves(self, token_in: int, token_out: int) -> tuple[int, int]:
        if (token_in, token_out) == (0, 1):
            return self.reserve0, self.reserve1
        if (token_in, token_out) == (1, 0):
            return self.reserve1, self.reserve0
        raise SwapRefused("TOKEN", f"a V2 pair swaps token 0 and 1, not {token_in} -> {token_out}")

    def _after(self, token_in: int, amount_in: int, amount_out: int) -> V2PoolState:
        if token_in == 0:
            return replace(self, reserve0=self.reserve0 + amount_in, reserve1=self.reserve1 - amount_out)
        return replace(self, reserve0=self.reserve0 - amount_out, reserve1=self.reserve1 + amount_in)

    def _fee(self, amount_in: int) -> int:
        return amount_in * (self.fee_denominator - self.fee_numerator) // self.fee_denominator

    def swap_exact_input(self, token_in: int, token_out: int, amount_in: int) -> SwapQuote:
        """Swap exactly ``amount_in`` (``getAmountOut``)."""
        r_in, r_out = self._reserves(token_in, token_out)
        out = get_amount_out(amount_in, r_in, r_out, self.fee_numerator, self.fee_denominator)
        if out <= 0:
            raise SwapRefused("UniswapV2: INSUFFICIENT_OUTPUT_AMOUNT", f"{amount_in} in buys nothing")
        return SwapQuote(
            amount_in, out, self._fee(amount_in), token_in, self._after(token_in, amount_in, out)
        )

    def swap_exact_output(self, token_in: int, token_out: int, amount_out: int) -> SwapQuote:
        """Buy exactly ``amount_out`` (``getAmountIn``)."""
        r_in, r_out = self._reserves(token_in, token_out)
        amount_in = get_amount_in(amount_out, r_in, r_out, self.fee_numerator, self.fee_denominator)
        return SwapQuote(
            amount_in,
            amount_out,
            self._fee(amount_in),
            token_in,
            self._after(token_in, amount_in, amount_out),
        )

    def quote_exact_input(self, token_in: int, token_out: int, amount_in: int) -> int:
        """Output for ``amount_in``."""
        r_in, r_out = self._reserves(token_in, token_out)
        return get_amount_out(amount_in, r_in, r_out, self.fee_numerator, self.fee_denominator)

    def quote_exact_output(self, token_in: int, token_out: int, amount_out: int) -> int:
        """Input for ``amount_out``."""
        r_in, r_out = self._reserves(token_in, token_out)
        return get_amount_in(amount_out, r_in, r_out, self.fee_numerator, self.fee_denominator)

    def marginal_price(self, token_in: int, token_out: int) -> Fraction:
        """``reserve_out / reserve_in * fee_numerator / fee_denominator``."""
        r_in, r_out = self._reserves(token_in, token_out)
        if r_in == 0:
            raise SwapRefused("UniswapV2Library: INSUFFICIENT_LIQUIDITY", "a reserve is empty")
        return Fraction(r_out * self.fee_numerator, r_in * self.fee_denominator)


def get_amounts_out(amount_in: int, path: list[tuple[V2PoolState, int, int]]) -> list[int]:
    """``UniswapV2Library.getAmountsOut`` over ``(pair, token_in, token_out)`` hops."""
    amounts = [amount_in]
    for pair, token_in, token_out in path:
        amounts.append(pair.quote_exact_input(token_in, token_out, amounts[-1]))
    return amounts


__all__ = ["V2PoolState", "get_amount_in", "get_amount_out", "get_amounts_out"]
