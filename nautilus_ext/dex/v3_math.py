"""
Uniswap V3 core math in Python integers, step for step as ``v3-core`` computes it.

FullMath (``mulDiv``/``mulDivRoundingUp``), TickMath (``getSqrtRatioAtTick``,
``getTickAtSqrtRatio``), SqrtPriceMath and ``SwapMath.computeSwapStep``. Solidity's 256-bit
bounds are checked where the contract checks them (a revert becomes :class:`SwapRefused` with
the contract's reason); Python's unbounded integers never silently wrap, and the one place the
contract relies on wrapping (fee growth) does it explicitly.
"""

from __future__ import annotations

import math
from typing import Final

from nautilus_ext.dex.errors import SwapRefused

Q96: Final[int] = 1 << 96
Q128: Final[int] = 1 << 128
MAX_UINT128: Final[int] = (1 << 128) - 1
MAX_UINT160: Final[int] = (1 << 160) - 1
MAX_UINT256: Final[int] = (1 << 256) - 1
MAX_INT256: Final[int] = (1 << 255) - 1
MIN_TICK: Final[int] = -887272
MAX_TICK: Final[int] = 887272
MIN_SQRT_RATIO: Final[int] = 4295128739
MAX_SQRT_RATIO: Final[int] = 1461446703485210103287273052203988822378723970342
FEE_PIPS_DENOMINATOR: Final[int] = 1_000_000

# getSqrtRatioAtTick: 1/sqrt(1.0001)^(2^i) as Q128.128, one per bit of |tick| (TickMath.sol)
_TICK_FACTORS: Final[tuple[int, ...]] = (
    0xFFF97272373D413259A46990580E213A,
    0xFFF2E50F5F656932EF12357CF3C7FDCC,
    0xFFE5CACA7E10E4E61C3624EAA0941CD0,
    0xFFCB9843D60F6159C9DB58835C926644,
    0xFF973B41FA98C081472E6896DFB254C0,
    0xFF2EA16466C96A3843EC78B326B52861,
    0xFE5DEE046A99A2A811C461F1969C3053,
    0xFCBE86C7900A88AEDCFFC83B479AA3A4,
    0xF987A7253AC413176F2B074CF7815E54,
    0xF3392B0822B70005940C7A398E4B70F3,
    0xE7159475A2C29B7443B29C7FA6E889D9,
    0xD097F3BDFD2022B8845AD8F792AA5825,
    0xA9F746462D870FDF8A65DC1F90E061E5,
    0x70D869A156D2A1B890BB3DF62BAF32F7,
    0x31BE135F97D08FD981231505542FCFA6,
    0x9AA508B5B7A84E1C677DE54F3E99BC9,
    0x5D6AF8DEDB81196699C329225EE604,
    0x2216E584F5FA1EA926041BEDFE98,
    0x48A170391F7DC42444E8FA2,
)
_TICK_BIT0: Final[int] = 0xFFFCB933BD6FAD37AA2D162D1A594001


# -- FullMath ---------------------------------------------------------------------------------


def mul_div(a: int, b: int, denominator: int) -> int:
    """``floor(a * b / denominator)``; refuses a zero denominator or a result above 2**256 - 1."""
    if denominator <= 0:
        raise SwapRefused("MULDIV", "mulDiv by zero")
    result = a * b // denominator
    if result > MAX_UINT256:
        raise SwapRefused("MULDIV", "mulDiv result overflows uint256")
    return result


def mul_div_rounding_up(a: int, b: int, denominator: int) -> int:
    """``ceil(a * b / denominator)`` with FullMath's bounds."""
    result = mul_div(a, b, denominator)
    if (a * b) % denominator:
        if result >= MAX_UINT256:
            raise SwapRefused("MULDIV", "mulDivRoundingUp result overflows uint256")
        result += 1
    return result


def div_rounding_up(x: int, y: int) -> int:
    """``UnsafeMath.divRoundingUp``: ``ceil(x / y)`` for unsigned operands."""
    return x // y + (1 if x % y else 0)


# -- TickMath ---------------------------------------------------------------------------------


def get_sqrt_ratio_at_tick(tick: int) -> int:
    """``sqrt(1.0001**tick) * 2**96`` rounded up, exactly as ``TickMath.getSqrtRatioAtTick``."""
    abs_tick = -tick if tick < 0 else tick
    if abs_tick > MAX_TICK:
        raise SwapRefused("T", f"tick {tick} is outside [{MIN_TICK}, {MAX_TICK}]")
    ratio = _TICK_BIT0 if abs_tick & 1 else 1 << 128
    for bit, factor in enumerate(_TICK_FACTORS, start=1):
        if abs_tick & (1 << bit):
            ratio = (ratio * factor) >> 128
    if tick > 0:
        ratio = MAX_UINT256 // ratio
    return (ratio >> 32) + (0 if ratio % (1 << 32) == 0 else 1)


def get_tick_at_sqrt_ratio(sqrt_price_x96: int) -> int:
    """
    The greatest tick whose sqrt ratio is at most ``sqrt_price_x96`` (``TickMath.getTickAtSqrtRatio``).

    The contract computes a fixed-point log2 and then picks between two candidate ticks with
    ``getSqrtRatioAtTick``; its result is by construction the greatest tick ``t`` with
    ``getSqrtRatioAtTick(t) <= sqrt_price_x96``. This function computes that same tick from a
    float estimate corrected with the exact ``get_sqrt_ratio_at_tick``.
    """
    if not MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO:
        raise SwapRefused("R", f"sqrt price {sqrt_price_x96} is outside [MIN_SQRT_RATIO, MAX_SQRT_RATIO)")
    # log_{sqrt(1.0001)}(sqrtP / 2**96), via bit length to stay within float range
    shift = sqrt_price_x96.bit_length() - 53
    mantissa = sqrt_price_x96 >> shift if shift > 0 else sqrt_price_x96 << -shift
    log2 = math.log2(mantissa) + shift - 96
    estimate = math.floor(log2 / math.log2(1.0001) * 2)
    tick = max(MIN_TICK, min(MAX_TICK - 1, estimate))
    while tick < MAX_TICK - 1 and get_sqrt_ratio_at_tick(tick + 1) <= sqrt_price_x96:
        tick += 1
    while tick > MIN_TICK and get_sqrt_ratio_at_tick(tick) > sqrt_price_x96:
        tick -= 1
    return tick


# -- SqrtPriceMath ----------------------------------------------------------------------------


def _to_uint160(value: int) -> int:
    if value > MAX_UINT160:
        raise SwapRefused("SAFECAST", f"sqrt price {value} overflows uint160")
    return value


def get_next_sqrt_price_from_amount0_rounding_up(
    sqrt_px96: int, liquidity: int, amount: int, add: bool
) -> int:
    """``SqrtPriceMath.getNextSqrtPriceFromAmount0RoundingUp``."""
    if amount == 0:
        return sqrt_px96
    numerator1 = liquidity << 96
    product = amount * sqrt_px96
    if add:
        if product <= MAX_UINT256 and numerator1 + product <= MAX_UINT256:
            return _to_uint160(mul_div_rounding_up(numerator1, sqrt_px96, numerator1 + product))
        return _to_uint160(div_rounding_up(numerator1, numerator1 // sqrt_px96 + amount))
    if product > MAX_UINT256 or numerator1 <= product:
        raise SwapRefused("SQRTPRICE", "output amount exceeds the token0 the liquidity holds")
    return _to_uint160(mul_div_rounding_up(numerator1, sqrt_px96, numerator1 - product))


def get_next_sqrt_price_from_amount1_rounding_down(
    sqrt_px96: int, liquidity: int, amount: int, add: bool
) -> int:
    """``SqrtPriceMath.getNextSqrtPriceFromAmount1RoundingDown``."""
    if add:
        quotient = (amount << 96) // liquidity if amount <= MAX_UINT160 else mul_div(amount, Q96, liquidity)
        return _to_uint160(sqrt_px96 + quotient)
    quotient = (
        div_rounding_up(amount << 96, liquidity)
        if amount <= MAX_UINT160
        else mul_div_rounding_up(amount, Q96, liquidity)
    )
    if sqrt_px96 <= quotient:
        raise SwapRefused("SQRTPRICE", "output amount exceeds the token1 the liquidity holds")
    return sqrt_px96 - quotient


def get_next_sqrt_price_from_input(sqrt_px96: int, liquidity: int, amount_in: int, zero_for_one: bool) -> int:
    """``SqrtPriceMath.getNextSqrtPriceFromInput``."""
    if sqrt_px96 <= 0 or liquidity <= 0:
        raise SwapRefused("SQRTPRICE", "zero price or liquidity")
    if zero_for_one:
        return get_next_sqrt_price_from_amount0_rounding_up(sqrt_px96, liquidity, amount_in, True)
    return get_next_sqrt_price_from_amount1_rounding_down(sqrt_px96, liquidity, amount_in, True)


def get_next_sqrt_price_from_output(
    sqrt_px96: int, liquidity: int, amount_out: int, zero_for_one: bool
) -> int:
    """``SqrtPriceMath.getNextSqrtPriceFromOutput``."""
    if sqrt_px96 <= 0 or liquidity <= 0:
        raise SwapRefused("SQRTPRICE", "zero price or liquidity")
    if zero_for_one:
        return get_next_sqrt_price_from_amount1_rounding_down(sqrt_px96, liquidity, amount_out, False)
    return get_next_sqrt_price_from_amount0_rounding_up(sqrt_px96, liquidity, amount_out, False)


def get_amount0_delta(sqrt_a: int, sqrt_b: int, liquidity: int, round_up: bool) -> int:
    """Token0 between two sqrt prices for ``liquidity`` (``SqrtPriceMath.getAmount0Delta``)."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    if sqrt_a <= 0:
        raise SwapRefused("SQRTPRICE", "zero sqrt price")
    numerator1 = liquidity << 96
    numerator2 = sqrt_b - sqrt_a
    if round_up:
        return div_rounding_up(mul_div_rounding_up(numerator1, numerator2, sqrt_b), sqrt_a)
    return mul_div(numerator1, numerator2, sqrt_b) // sqrt_a


def get_amount1_delta(sqrt_a: int, sqrt_b: int, liquidity: int, round_up: bool) -> int:
    """Token1 between two sqrt prices for ``liquidity`` (``SqrtPriceMath.getAmount1Delta``)."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    if round_up:
        return mul_div_rounding_up(liquidity, sqrt_b - sqrt_a, Q96)
    return mul_div(liquidity, sqrt_b - sqrt_a, Q96)


def get_amount0_delta_signed(sqrt_a: int, sqrt_b: int, liquidity: int) -> int:
    """Signed token0 delta for a signed liquidity change (rounds in the pool's favour)."""
    if liquidity < 0:
        return -get_amount0_delta(sqrt_a, sqrt_b, -liquidity, False)
    return get_amount0_delta(sqrt_a, sqrt_b, liquidity, True)


def get_amount1_delta_signed(sqrt_a: int, sqrt_b: int, liquidity: int) -> int:
    """Signed token1 delta for a signed liquidity change (rounds in the pool's favour)."""
    if liquidity < 0:
        return -get_amount1_delta(sqrt_a, sqrt_b, -liquidity, False)
    return get_amount1_delta(sqrt_a, sqrt_b, liquidity, True)


# -- SwapMath ---------------------------------------------------------------------------------


def compute_swap_step(
    sqrt_ratio_current_x96: int,
    sqrt_ratio_target_x96: int,
    liquidity: int,
    amount_remaining: int,
    fee_pips: int,
) -> tuple[int, int, int, int]:
    """
    One step of a swap within a single liquidity range (``SwapMath.computeSwapStep``).

    Parameters
    ----------
    sqrt_ratio_current_x96, sqrt_ratio_target_x96 : int
        Current price and the price the step may not pass (Q64.96).
    liquidity : int
        Usable liquidity in the range.
    amount_remaining : int
        Remaining amount: positive for exact input, negative for exact output.
    fee_pips : int
        Fee in hundredths of a bip (3000 = 0.3 %).

    Returns
    -------
    tuple[int, int, int, int]
        ``(sqrt_ratio_next_x96, amount_in, amount_out, fee_amount)``.
    """
    zero_for_one = sqrt_ratio_current_x96 >= sqrt_ratio_target_x96
    exact_in = amount_remaining >= 0
    amount_in = amount_out = 0
    if exact_in:
        remaining_less_fee = mul_div(amount_remaining, FEE_PIPS_DENOMINATOR - fee_pips, FEE_PIPS_DENOMINATOR)
        amount_in = (
            get_amount0_delta(sqrt_ratio_target_x96, sqrt_ratio_current_x96, liquidity, True)
            if zero_for_one
            else get_amount1_delta(sqrt_ratio_current_x96, sqrt_ratio_target_x96, liquidity, True)
        )
        if remaining_less_fee >= amount_in:
            sqrt_next = sqrt_ratio_target_x96
        else:
            sqrt_next = get_next_sqrt_price_from_input(
                sqrt_ratio_current_x96, liquidity, remaining_less_fee, zero_for_one
            )
    else:
        amount_out = (
            get_amount1_delta(sqrt_ratio_target_x96, sqrt_ratio_current_x96, liquidity, False)
            if zero_for_one
            else get_amount0_delta(sqrt_ratio_current_x96, sqrt_ratio_target_x96, liquidity, False)
        )
        if -amount_remaining >= amount_out:
            sqrt_next = sqrt_ratio_target_x96
        else:
            sqrt_next = get_next_sqrt_price_from_output(
                sqrt_ratio_current_x96, liquidity, -amount_remaining, zero_for_one
            )
    reached = sqrt_ratio_target_x96 == sqrt_next
    if zero_for_one:
        if not (reached and exact_in):
            amount_in = get_amount0_delta(sqrt_next, sqrt_ratio_current_x96, liquidity, True)
        if not (reached and not exact_in):
            amount_out = get_amount1_delta(sqrt_next, sqrt_ratio_current_x96, liquidity, False)
    else:
        if not (reached and exact_in):
            amount_in = get_amount1_delta(sqrt_ratio_current_x96, sqrt_next, liquidity, True)
        if not (reached and not exact_in):
            amount_out = get_amount0_delta(sqrt_ratio_current_x96, sqrt_next, liquidity, False)
    if not exact_in and amount_out > -amount_remaining:
        amount_out = -amount_remaining
    if exact_in and sqrt_next != sqrt_ratio_target_x96:
        fee_amount = amount_remaining - amount_in
    else:
        fee_amount = mul_div_rounding_up(amount_in, fee_pips, FEE_PIPS_DENOMINATOR - fee_pips)
    return sqrt_next, amount_in, amount_out, fee_amount


__all__ = [
    "FEE_PIPS_DENOMINATOR",
    "MAX_INT256",
    "MAX_SQRT_RATIO",
    "MAX_TICK",
    "MAX_UINT128",
    "MAX_UINT160",
    "MAX_UINT256",
    "MIN_SQRT_RATIO",
    "MIN_TICK",
    "Q96",
    "Q128",
    "compute_swap_step",
    "div_rounding_up",
    "get_amount0_delta",
    "get_amount0_delta_signed",
    "get_amount1_delta",
    "get_amount1_delta_signed",
    "get_next_sqrt_price_from_amount0_rounding_up",
    "get_next_sqrt_price_from_amount1_rounding_down",
    "get_next_sqrt_price_from_input",
    "get_next_sqrt_price_from_output",
    "get_sqrt_ratio_at_tick",
    "get_tick_at_sqrt_ratio",
    "mul_div",
    "mul_div_rounding_up",
]
