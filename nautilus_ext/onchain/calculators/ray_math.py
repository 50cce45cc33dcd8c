"""
AAVE v3 fixed-point math on Python integers, rounding exactly as the protocol does.

Ports ``WadRayMath.sol``, ``PercentageMath.sol`` and ``MathUtils.sol`` of aave-v3-core
(v3.0.x, the version whose test suite is in ``../shared/data/aave-v3-core``). Every function
takes and returns non-negative ``int`` values in the protocol's units:

- wad: 1e18 fixed point (token amounts with 18 decimals, health factor),
- ray: 1e27 fixed point (indices and rates),
- percentage: basis points where 10000 means 100 % (LTV, liquidation threshold).

Where Solidity would revert (overflow of ``uint256``, division by zero) these functions raise
``ArithmeticError`` so a calculation can never silently differ from what the chain computes.
"""

from __future__ import annotations

from typing import Final

UINT256_MAX: Final[int] = 2**256 - 1
"""``type(uint256).max``."""

WAD: Final[int] = 10**18
HALF_WAD: Final[int] = WAD // 2
RAY: Final[int] = 10**27
HALF_RAY: Final[int] = RAY // 2
WAD_RAY_RATIO: Final[int] = 10**9

PERCENTAGE_FACTOR: Final[int] = 10_000
HALF_PERCENTAGE_FACTOR: Final[int] = PERCENTAGE_FACTOR // 2

SECONDS_PER_YEAR: Final[int] = 365 * 24 * 3600
"""``MathUtils.SECONDS_PER_YEAR`` (365 days, no leap years)."""


def _check_uint(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0 or value > UINT256_MAX:
        raise ArithmeticError(f"{name}={value} is outside the uint256 range")


def wad_mul(a: int, b: int) -> int:
    """
    Multiply two wads, rounding half up (``WadRayMath.wadMul``).

    Raises
    ------
    ArithmeticError
        If ``a * b + HALF_WAD`` overflows ``uint256`` (the protocol reverts).
    """
    _check_uint("a", a)
    _check_uint("b", b)
    if b != 0 and a > (UINT256_MAX - HALF_WAD) // b:
        raise ArithmeticError("wad_mul overflow")
    return (a * b + HALF_WAD) // WAD


def wad_div(a: int, b: int) -> int:
    """
    Divide two wads, rounding half up (``WadRayMath.wadDiv``).

    Raises
    ------
    ArithmeticError
        If ``b`` is zero or ``a * WAD + b / 2`` overflows ``uint256``.
    """
    _check_uint("a", a)
    _check_uint("b", b)
    if b == 0 or a > (UINT256_MAX - b // 2) // WAD:
        raise ArithmeticError("wad_div by zero or overflow")
    return (a * WAD + b // 2) // b


def ray_mul(a: int, b: int) -> int:
    """
    Multiply two rays, rounding half up (``WadRayMath.rayMul``).

    Raises
    ------
    ArithmeticError
        If ``a * b + HALF_RAY`` overflows ``uint256``.
    """
    _check_uint("a", a)
    _check_uint("b", b)
    if b != 0 and a > (UINT256_MAX - HALF_RAY) // b:
        raise ArithmeticError("ray_mul overflow")
    return (a * b + HALF_RAY) // RAY


def ray_div(a: int, b: int) -> int:
    """
    Divide two rays, rounding half up (``WadRayMath.rayDiv``).

    Raises
    ------
    ArithmeticError
        If ``b`` is zero or ``a * RAY + b / 2`` overflows ``uint256``.
    """
    _check_uint("a", a)
    _check_uint("b", b)
    if b == 0 or a > (UINT256_MAX - b // 2) // RAY:
        raise ArithmeticError("ray_div by zero or overflow")
    return (a * RAY + b // 2) // b


def ray_to_wad(a: int) -> int:
    """Convert a ray to a wad, rounding half up (``WadRayMath.rayToWad``)."""
    _check_uint("a", a)
    quotient, remainder = divmod(a, WAD_RAY_RATIO)
    return quotient + 1 if remainder >= WAD_RAY_RATIO // 2 else quotient


def wad_to_ray(a: int) -> int:
    """
    Convert a wad to a ray (``WadRayMath.wadToRay``).

    Raises
    ------
    ArithmeticError
        If the result overflows ``uint256``.
    """
    _check_uint("a", a)
    result = a * WAD_RAY_RATIO
    if result > UINT256_MAX:
        raise ArithmeticError("wad_to_ray overflow")
    return result


def percent_mul(value: int, percentage: int) -> int:
    """
    Apply a basis-point percentage, rounding half up (``PercentageMath.percentMul``).

    Raises
    ------
    ArithmeticError
        If ``value * percentage + HALF_PERCENTAGE_FACTOR`` overflows ``uint256``.
    """
    _check_uint("value", value)
    _check_uint("percentage", percentage)
    if percentage != 0 and value > (UINT256_MAX - HALF_PERCENTAGE_FACTOR) // percentage:
        raise ArithmeticError("percent_mul overflow")
    return (value * percentage + HALF_PERCENTAGE_FACTOR) // PERCENTAGE_FACTOR


def percent_div(value: int, percentage: int) -> int:
    """
    Divide by a basis-point percentage, rounding half up (``PercentageMath.percentDiv``).

    Raises
    ------
    ArithmeticError
        If ``percentage`` is zero or the intermediate product overflows ``uint256``.
    """
    _check_uint("value", value)
    _check_uint("percentage", percentage)
    if percentage == 0 or value > (UINT256_MAX - percentage // 2) // PERCENTAGE_FACTOR:
        raise ArithmeticError("percent_div by zero or overflow")
    return (value * PERCENTAGE_FACTOR + percentage // 2) // percentage


def calculate_linear_interest(rate_ray: int, elapsed_seconds: int) -> int:
    """
    Return the linear interest factor in ray (``MathUtils.calculateLinearInterest``).

    Parameters
    ----------
    rate_ray : int
        Annual rate in ray (for example ``currentLiquidityRate``).
    elapsed_seconds : int
        Seconds since the reserve's ``lastUpdateTimestamp``.

    Returns
    -------
    int
        ``RAY + rate * elapsed / SECONDS_PER_YEAR`` with the integer division of the protocol.
    """
    _check_uint("rate_ray", rate_ray)
    _check_uint("elapsed_seconds", elapsed_seconds)
    return RAY + (rate_ray * elapsed_seconds) // SECONDS_PER_YEAR


def calculate_compounded_interest(rate_ray: int, elapsed_seconds: int) -> int:
    """
    Return the compounded interest factor in ray (``MathUtils.calculateCompoundedInterest``).

    Uses the protocol's third-order binomial approximation of ``(1 + rate/secs)^elapsed``,
    term by term with the same integer divisions, so the result matches the chain to the unit.

    Parameters
    ----------
    rate_ray : int
        Annual rate in ray (for example ``currentVariableBorrowRate``).
    elapsed_seconds : int
        Seconds since the reserve's ``lastUpdateTimestamp``.
    """
    _check_uint("rate_ray", rate_ray)
    _check_uint("elapsed_seconds", elapsed_seconds)
    exp = elapsed_seconds
    if exp == 0:
        return RAY
    exp_minus_one = exp - 1
    exp_minus_two = exp - 2 if exp > 2 else 0
    base_power_two = ray_mul(rate_ray, rate_ray) // (SECONDS_PER_YEAR * SECONDS_PER_YEAR)
    base_power_three = ray_mul(base_power_two, rate_ray) // SECONDS_PER_YEAR
    second_term = (exp * exp_minus_one * base_power_two) // 2
    third_term = (exp * exp_minus_one * exp_minus_two * base_power_three) // 6
    return RAY + (rate_ray * exp) // SECONDS_PER_YEAR + second_term + third_term


__all__ = [
    "HALF_PERCENTAGE_FACTOR",
    "HALF_RAY",
    "HALF_WAD",
    "PERCENTAGE_FACTOR",
    "RAY",
    "SECONDS_PER_YEAR",
    "UINT256_MAX",
    "WAD",
    "WAD_RAY_RATIO",
    "calculate_compounded_interest",
    "calculate_linear_interest",
    "percent_div",
    "percent_mul",
    "ray_div",
    "ray_mul",
    "ray_to_wad",
    "wad_div",
    "wad_mul",
    "wad_to_ray",
]
