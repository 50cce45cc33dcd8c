"""
Balancer V2 weighted-pool swap math: ``FixedPoint``, ``LogExpMath`` and ``WeightedMath``.

Written after the sources of the pools the ``20210418-weighted-pool`` deployment task ships
(balancer-v2-monorepo, April 2021): 18-decimal fixed point with explicit rounding direction,
``powUp`` = ``LogExpMath.pow`` plus its maximum relative error, the 30 % in/out ratio limits,
the swap fee taken from the input before scaling (exact in) or added after (exact out), and
token amounts scaled to 18 decimals by ``10**(18 - decimals)``. Solidity's signed division
truncates towards zero; :func:`_sdiv` and :func:`_smod` reproduce that (Python's ``//`` floors).
Reverts raise :class:`SwapRefused` with Balancer's ``BAL#nnn`` code.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace
from fractions import Fraction
from typing import Final

from nautilus_ext.dex.errors import SwapRefused
from nautilus_ext.dex.pool import SwapQuote
from nautilus_ext.errors import InvalidConfig

ONE: Final[int] = 10**18
MAX_POW_RELATIVE_ERROR: Final[int] = 10000  # 1e-14
MAX_IN_RATIO: Final[int] = 3 * 10**17
MAX_OUT_RATIO: Final[int] = 3 * 10**17
MIN_WEIGHT: Final[int] = 10**16
_UINT256_MAX: Final[int] = (1 << 256) - 1


def _bal(code: int, what: str) -> SwapRefused:
    return SwapRefused(f"BAL#{code:03d}", what)


# -- FixedPoint -----------------------------------------------------------------------------------


def add(a: int, b: int) -> int:
    """Checked addition (``BAL#000``)."""
    c = a + b
    if c > _UINT256_MAX:
        raise _bal(0, "fixed-point addition overflows")
    return c


def sub(a: int, b: int) -> int:
    """Checked subtraction (``BAL#001``)."""
    if b > a:
        raise _bal(1, "fixed-point subtraction underflows")
    return a - b


def mul_down(a: int, b: int) -> int:
    """``a * b / 1e18`` rounded down."""
    product = a * b
    if product > _UINT256_MAX:
        raise _bal(3, "fixed-point multiplication overflows")
    return product // ONE


def mul_up(a: int, b: int) -> int:
    """``a * b / 1e18`` rounded up."""
    product = a * b
    if product > _UINT256_MAX:
        raise _bal(3, "fixed-point multiplication overflows")
    return 0 if product == 0 else (product - 1) // ONE + 1


def div_down(a: int, b: int) -> int:
    """``a * 1e18 / b`` rounded down."""
    if b == 0:
        raise _bal(4, "fixed-point division by zero")
    if a == 0:
        return 0
    if a * ONE > _UINT256_MAX:
        raise _bal(5, "fixed-point division overflows")
    return a * ONE // b


def div_up(a: int, b: int) -> int:
    """``a * 1e18 / b`` rounded up."""
    if b == 0:
        raise _bal(4, "fixed-point division by zero")
    if a == 0:
        return 0
    if a * ONE > _UINT256_MAX:
        raise _bal(5, "fixed-point division overflows")
    return (a * ONE - 1) // b + 1


def pow_up(x: int, y: int) -> int:
    """``x ** y`` rounded up: ``LogExpMath.pow`` plus its maximum relative error and one."""
    raw = log_exp_pow(x, y)
    return add(raw, add(mul_up(raw, MAX_POW_RELATIVE_ERROR), 1))


def pow_down(x: int, y: int) -> int:
    """``x ** y`` rounded down (zero when the error bound exceeds the result)."""
    raw = log_exp_pow(x, y)
    max_error = add(mul_up(raw, MAX_POW_RELATIVE_ERROR), 1)
    return 0 if raw < max_error else raw - max_error


def complement(x: int) -> int:
    """``1 - x``, floored at zero."""
    return ONE - x if x < ONE else 0


# -- LogExpMath -----------------------------------------------------------------------------------

ONE_18: Final[int] = 10**18
ONE_20: Final[int] = 10**20
ONE_36: Final[int] = 10**36
MAX_NATURAL_EXPONENT: Final[int] = 130 * ONE_18
MIN_NATURAL_EXPONENT: Final[int] = -41 * ONE_18
LN_36_LOWER_BOUND: Final[int] = ONE_18 - 10**17
LN_36_UPPER_BOUND: Final[int] = ONE_18 + 10**17
MILD_EXPONENT_BOUND: Final[int] = 2**254 // ONE_20

# (x_n, a_n = e^x_n): x0, x1 in 18 decimals with a0, a1 as plain integers; the rest in 20 decimals
_X0, _A0 = 128 * ONE_18, 38877084059945950922200000000000000000000000000000000000
_X1, _A1 = 64 * ONE_18, 6235149080811616882910000000
_TABLE_20: Final[tuple[tuple[int, int], ...]] = (
    (3200 * ONE_18, 7896296018268069516100000000000000),
    (1600 * ONE_18, 888611052050787263676000000),
    (800 * ONE_18, 298095798704172827474000),
    (400 * ONE_18, 5459815003314423907810),
    (200 * ONE_18, 738905609893065022723),
    (100 * ONE_18, 271828182845904523536),
    (50 * ONE_18, 164872127070012814685),
    (25 * ONE_18, 128402541668774148407),
    (125 * 10**17, 113314845306682631683),
    (625 * 10**16, 106449445891785942956),
)


def _sdiv(a: int, b: int) -> int:
    """Solidity signed division: truncate towards zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _smod(a: int, b: int) -> int:
    """Solidity signed remainder: the sign of the dividend."""
    return a - _sdiv(a, b) * b


def log_exp_pow(x: int, y: int) -> int:
    """``LogExpMath.pow``: ``x ** y`` for 18-decimal fixed-point ``x`` and ``y``."""
    if y == 0:
        return ONE_18
    if x == 0:
        return 0
    if x >= 2**255:
        raise _bal(6, "pow base out of bounds")
    if y >= MILD_EXPONENT_BOUND:
        raise _bal(7, "pow exponent out of bounds")
    if LN_36_LOWER_BOUND < x < LN_36_UPPER_BOUND:
        ln_36_x = _ln_36(x)
        logx_times_y = _sdiv(ln_36_x, ONE_18) * y + _sdiv(_smod(ln_36_x, ONE_18) * y, ONE_18)
    else:
        logx_times_y = _ln(x) * y
    logx_times_y = _sdiv(logx_times_y, ONE_18)
    if not MIN_NATURAL_EXPONENT <= logx_times_y <= MAX_NATURAL_EXPONENT:
        raise _bal(8, "pow product out of bounds")
    return _exp(logx_times_y)


def _exp(x: int) -> int:
    if not MIN_NATURAL_EXPONENT <= x <= MAX_NATURAL_EXPONENT:
        raise _bal(9, "exp argument out of bounds")
    if x < 0:
        return _sdiv(ONE_18 * ONE_18, _exp(-x))
    if x >= _X0:
        x -= _X0
        first_an = _A0
    elif x >= _X1:
        x -= _X1
        first_an = _A1
    else:
        first_an = 1
    x *= 100  # 20 decimals from here
    product = ONE_20
    for x_n, a_n in _TABLE_20[:8]:  # a2..a9
        if x >= x_n:
            x -= x_n
            product = _sdiv(product * a_n, ONE_20)
    series_sum = ONE_20
    term = x
    series_sum += term
    for n in range(2, 13):
        term = _sdiv(_sdiv(term * x, ONE_20), n)
        series_sum += term
    return _sdiv(_sdiv(product * series_sum, ONE_20) * first_an, 100)


def _ln(a: int) -> int:
    if a <= 0:
        raise _bal(100, "ln of a non-positive number")
    if a < ONE_18:
        return -_ln(_sdiv(ONE_18 * ONE_18, a))
    total = 0
    if a >= _A0 * ONE_18:
        a = _sdiv(a, _A0)
        total += _X0
    if a >= _A1 * ONE_18:
        a = _sdiv(a, _A1)
        total += _X1
    total *= 100
    a *= 100
    for x_n, a_n in _TABLE_20:  # a2..a11
        if a >= a_n:
            a = _sdiv(a * ONE_20, a_n)
            total += x_n
    z = _sdiv((a - ONE_20) * ONE_20, a + ONE_20)
    z_squared = _sdiv(z * z, ONE_20)
    num = z
    series_sum = num
    for k in (3, 5, 7, 9, 11):
        num = _sdiv(num * z_squared, ONE_20)
        series_sum += _sdiv(num, k)
    series_sum *= 2
    return _sdiv(total + series_sum, 100)


def _ln_36(x: int) -> int:
    x *= ONE_18
    z = _sdiv((x - ONE_36) * ONE_36, x + ONE_36)
    z_squared = _sdiv(z * z, ONE_36)
    num = z
    series_sum = num
    for k in (3, 5, 7, 9, 11, 13, 15):
        num = _sdiv(num * z_squared, ONE_36)
        series_sum += _sdiv(num, k)
    return series_sum * 2


# -- WeightedMath ---------------------------------------------------------------------------------


def calc_out_given_in(
    balance_in: int, weight_in: int, balance_out: int, weight_out: int, amount_in: int
) -> int:
    """``WeightedMath._calcOutGivenIn`` (18-decimal upscaled amounts, fee already taken)."""
    if amount_in > mul_down(balance_in, MAX_IN_RATIO):
        raise _bal(304, f"amount in {amount_in} exceeds 30 % of the balance {balance_in}")
    base = div_up(balance_in, add(balance_in, amount_in))
    exponent = div_down(weight_in, weight_out)
    power = pow_up(base, exponent)
    return mul_down(balance_out, complement(power))


def calc_in_given_out(
    balance_in: int, weight_in: int, balance_out: int, weight_out: int, amount_out: int
) -> int:
    """``WeightedMath._calcInGivenOut`` (18-decimal upscaled amounts, fee not yet added)."""
    if amount_out > mul_down(balance_out, MAX_OUT_RATIO):
        raise _bal(305, f"amount out {amount_out} exceeds 30 % of the balance {balance_out}")
    base = div_up(balance_out, sub(balance_out, amount_out))
    exponent = div_up(weight_out, weight_in)
    power = pow_up(base, exponent)
    return mul_up(balance_in, sub(power, ONE))


@dataclass(frozen=True, slots=True)
class WeightedPoolState:
    """
    A Balancer V2 weighted pool as the Vault sees it.

    Parameters
    ----------
    balances : tuple[int, ...]
        Token balances in base units (the Vault's ``getPoolTokens`` order).
    weights : tuple[int, ...]
        Normalized weights, 18 decimals, summing to 1e18.
    scaling_factors : tuple[int, ...]
        ``10 ** (18 - decimals)`` per token.
    swap_fee : int
        Swap fee percentage, 18 decimals (3e15 = 0.3 %).
    """

    balances: tuple[int, ...]
    weights: tuple[int, ...]
    scaling_factors: tuple[int, ...]
    swap_fee: int

    def __post_init__(self) -> None:
        n = len(self.balances)
        if n < 2 or len(self.weights) != n or len(self.scaling_factors) != n:
            raise InvalidConfig("weighted pool needs >= 2 tokens with one weight and scaling factor each")
        if any(w < MIN_WEIGHT for w in self.weights) or sum(self.weights) != ONE:
            raise InvalidConfig(f"weighted pool weights {self.weights} must each be >= 1 % and sum to 1e18")
        if any(b < 0 for b in self.balances) or any(s <= 0 for s in self.scaling_factors):
            raise InvalidConfig("weighted pool balances must be >= 0 and scaling factors > 0")
        if not 0 <= self.swap_fee < ONE:
            raise InvalidConfig(f"weighted pool swap fee {self.swap_fee} is outside [0, 1e18)")

    @property
    def token_count(self) -> int:
        """Number of tokens."""
        return len(self.balances)

    def _check(self, token_in: int, token_out: int) -> None:
        n = len(self.balances)
        if token_in == token_out or not (0 <= token_in < n and 0 <= token_out < n):
            raise SwapRefused("TOKEN", f"pool has tokens 0..{n - 1}; cannot swap {token_in} -> {token_out}")

    def _after(self, token_in: int, token_out: int, amount_in: int, amount_out: int) -> WeightedPoolState:
        balances = list(self.balances)
        balances[token_in] += amount_in
        balances[token_out] -= amount_out
        return replace(self, balances=tuple(balances))

    def swap_exact_input(self, token_in: int, token_out: int, amount_in: int) -> SwapQuote:
        """``onSwap`` with ``GIVEN_IN``: fee off the input, upscale, ``_calcOutGivenIn``, round down."""
        self._check(token_in, token_out)
        if amount_in <= 0:
            raise SwapRefused("AS", f"amount_in {amount_in} must be positive")
        fee = mul_up(amount_in, self.swap_fee)
        net = sub(amount_in, fee)
        sf_in, sf_out = self.scaling_factors[token_in], self.scaling_factors[token_out]
        out = calc_out_given_in(
            self.balances[token_in] * sf_in,
            self.weights[token_in],
            self.balances[token_out] * sf_out,
            self.weights[token_out],
            net * sf_in,
        )
        amount_out = out // sf_out
        return SwapQuote(
            amount_in, amount_out, fee, token_in, self._after(token_in, token_out, amount_in, amount_out)
        )

    def swap_exact_output(self, token_in: int, token_out: int, amount_out: int) -> SwapQuote:
        """``onSwap`` with ``GIVEN_OUT``: upscale, ``_calcInGivenOut``, round up, add the fee."""
        self._check(token_in, token_out)
        if amount_out <= 0:
            raise SwapRefused("AS", f"amount_out {amount_out} must be positive")
        sf_in, sf_out = self.scaling_factors[token_in], self.scaling_factors[token_out]
        raw = calc_in_given_out(
            self.balances[token_in] * sf_in,
            self.weights[token_in],
            self.balances[token_out] * sf_out,
            self.weights[token_out],
            amount_out * sf_out,
        )
        before_fee = 0 if raw == 0 else (raw - 1) // sf_in + 1
        amount_in = div_up(before_fee, complement(self.swap_fee))
        return SwapQuote(
            amount_in,
            amount_out,
            amount_in - before_fee,
            token_in,
            self._after(token_in, token_out, amount_in, amount_out),
        )

    def quote_exact_input(self, token_in: int, token_out: int, amount_in: int) -> int:
        """Output for ``amount_in`` (what ``queryBatchSwap`` GIVEN_IN reports)."""
        return self.swap_exact_input(token_in, token_out, amount_in).amount_out

    def quote_exact_output(self, token_in: int, token_out: int, amount_out: int) -> int:
        """Input for ``amount_out`` (what ``queryBatchSwap`` GIVEN_OUT reports)."""
        return self.swap_exact_output(token_in, token_out, amount_out).amount_in

    def marginal_price(self, token_in: int, token_out: int) -> Fraction:
        """``(b_out / w_out) / (b_in / w_in) * (1 - fee)`` in base units."""
        self._check(token_in, token_out)
        b_in = self.balances[token_in] * self.scaling_factors[token_in]
        b_out = self.balances[token_out] * self.scaling_factors[token_out]
        if b_in == 0:
            raise SwapRefused("BAL#004", "empty input balance")
        price = Fraction(b_out * self.weights[token_in], b_in * self.weights[token_out])
        scale = Fraction(self.scaling_factors[token_in], self.scaling_factors[token_out])
        return price * scale * Fraction(ONE - self.swap_fee, ONE)


__all__ = [
    "ONE",
    "WeightedPoolState",
    "calc_in_given_out",
    "calc_out_given_in",
    "complement",
    "div_down",
    "div_up",
    "log_exp_pow",
    "mul_down",
    "mul_up",
    "pow_down",
    "pow_up",
]
