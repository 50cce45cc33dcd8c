"""
Constant-product (Uniswap V2) swap math and oracle-bounded slippage limits, in integers.

``get_amount_out``/``get_amount_in`` port ``UniswapV2Library`` (0.3 % fee). The slippage bound
of an in-bundle swap comes from the oracle, never from the pool being traded against (seed 000,
"Slippage Protection": use oracle prices for validation).
"""

from __future__ import annotations

from decimal import ROUND_FLOOR
from decimal import Decimal

from nautilus_ext.errors import InvalidOrder

WAD = 10**18


def get_amount_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """Return the output of an exact-input swap (``UniswapV2Library.getAmountOut``)."""
    if amount_in <= 0:
        raise InvalidOrder("INSUFFICIENT_INPUT_AMOUNT: swap input must be positive")
    if reserve_in <= 0 or reserve_out <= 0:
        raise InvalidOrder("INSUFFICIENT_LIQUIDITY: pool reserves must be positive")
    with_fee = amount_in * 997
    return with_fee * reserve_out // (reserve_in * 1000 + with_fee)


def get_amount_in(amount_out: int, reserve_in: int, reserve_out: int) -> int:
    """Return the input needed for an exact output (``UniswapV2Library.getAmountIn``)."""
    if amount_out <= 0:
        raise InvalidOrder("INSUFFICIENT_OUTPUT_AMOUNT: swap output must be positive")
    if reserve_in <= 0 or reserve_out <= amount_out:
        raise InvalidOrder("INSUFFICIENT_LIQUIDITY: pool cannot deliver that output")
    return reserve_in * amount_out * 1000 // ((reserve_out - amount_out) * 997) + 1


def oracle_amount_out(
    amount_in: int,
    price_in: int,
    price_out: int,
    decimals_in: int,
    decimals_out: int,
) -> int:
    """
    Return what ``amount_in`` is worth in the output token at oracle prices, rounded down.

    Prices are in the same base currency units (AAVE oracle).
    """
    if price_in <= 0 or price_out <= 0:
        raise InvalidOrder("oracle prices must be positive")
    scale_out: int = 10**decimals_out
    scale_in: int = 10**decimals_in
    return amount_in * price_in * scale_out // (price_out * scale_in)


def min_amount_out(oracle_out: int, max_slippage: Decimal) -> int:
    """
    Return the least acceptable output: ``oracle_out × (1 - max_slippage)``, rounded up.

    Raises
    ------
    InvalidOrder
        If ``max_slippage`` is not in ``[0, 1)``.
    """
    if not isinstance(max_slippage, Decimal) or not Decimal(0) <= max_slippage < Decimal(1):
        raise InvalidOrder(f"max_slippage {max_slippage!r} must be a Decimal in [0, 1)")
    num, den = (Decimal(1) - max_slippage).as_integer_ratio()
    return -(-oracle_out * num // den)


def unit_amount_wad(min_out: int, sell_amount: int, decimals_in: int, decimals_out: int) -> int:
    """
    Return the Instadapp ``unitAmt`` (min buy per unit sold, 18-decimal wad), rounded down.

    The connector checks ``wmul(unitAmt, sellAmt_18) / 10**(18-buyDec) <= quote``. A wad
    ``unitAmt`` can only express the bound in steps of ``sellAmt_18 / 1e18`` base units;
    rounding down keeps a quote that meets ``min_out`` from failing on that granularity, at
    the cost of an on-chain bound at most one step looser than ``min_out``.
    """
    if sell_amount <= 0:
        raise InvalidOrder("sell amount must be positive")
    if not 0 <= decimals_in <= 18 or not 0 <= decimals_out <= 18:
        raise InvalidOrder("token decimals must be between 0 and 18")
    min_out_18: int = min_out * 10 ** (18 - decimals_out)
    sell_18: int = sell_amount * 10 ** (18 - decimals_in)
    return min_out_18 * WAD // sell_18


def slippage_of(quote_out: int, oracle_out: int) -> Decimal:
    """Return the shortfall of a quote versus the oracle value (negative when better)."""
    if oracle_out <= 0:
        raise InvalidOrder("oracle value must be positive")
    return (Decimal(oracle_out - quote_out) / Decimal(oracle_out)).quantize(
        Decimal("0.000001"), rounding=ROUND_FLOOR
    )


__all__ = [
    "get_amount_in",
    "get_amount_out",
    "min_amount_out",
    "oracle_amount_out",
    "slippage_of",
    "unit_amount_wad",
]
