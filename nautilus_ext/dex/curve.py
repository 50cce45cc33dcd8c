"""
Curve stableswap math (``get_D``, ``get_y``, ``get_dy``), as the plain-pool template computes it.

The model is Curve's plain pool (3pool generation, ``StableSwap3Pool.vy`` and the later
``SwapTemplateBase.vy``): balances are normalised with per-coin ``rates``
(``10**(36 - decimals)``, so ``xp = balance * rate / 1e18``), ``D`` and ``y`` are found by
Newton's method with integer division and the contract's convergence test (difference <= 1,
at most 255 rounds), and the fee (``fee / 1e10``) is taken from the output.
``amp`` is the contract's stored ``A`` times ``a_precision`` (3pool: ``a_precision = 1``;
pools with ``A_PRECISION = 100`` store ``A * 100``).

A ramp: the contract interpolates ``A`` linearly between ``initial_A`` and ``future_A`` over
``[initial_A_time, future_A_time]``. A :class:`StableSwapState` carries one ``amp``, so a
ramp in progress is ignored unless the caller builds the state with the time-interpolated value
from :func:`ramped_amp` (the contract's ``A()`` at the block's timestamp).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace
from fractions import Fraction
from typing import Final

from nautilus_ext.dex.errors import SwapRefused
from nautilus_ext.dex.pool import SwapQuote
from nautilus_ext.errors import InvalidConfig

PRECISION: Final[int] = 10**18
FEE_DENOMINATOR: Final[int] = 10**10
MAX_ITERATIONS: Final[int] = 255


def ramped_amp(initial_amp: int, future_amp: int, initial_time: int, future_time: int, timestamp: int) -> int:
    """The contract's ``_A()``: ``amp`` linearly interpolated at ``timestamp`` (integer division)."""
    if timestamp >= future_time:
        return future_amp
    elapsed, span = timestamp - initial_time, future_time - initial_time
    if future_amp > initial_amp:
        return initial_amp + (future_amp - initial_amp) * elapsed // span
    return initial_amp - (initial_amp - future_amp) * elapsed // span


def get_d(xp: tuple[int, ...] | list[int], amp: int, a_precision: int) -> int:
    """The invariant ``D`` for normalised balances ``xp`` (``get_D``)."""
    n = len(xp)
    s = sum(xp)
    if s == 0:
        return 0
    d = s
    ann = amp * n
    for _ in range(MAX_ITERATIONS):
        d_p = d
        for x in xp:
            if x == 0:
                raise SwapRefused("D", "a normalised balance is zero")
            d_p = d_p * d // (x * n)
        d_prev = d
        d = (ann * s // a_precision + d_p * n) * d // ((ann - a_precision) * d // a_precision + (n + 1) * d_p)
        if abs(d - d_prev) <= 1:
            return d
    raise SwapRefused("D", "get_D did not converge")


def get_y(i: int, j: int, x: int, xp: tuple[int, ...] | list[int], amp: int, a_precision: int) -> int:
    """Normalised balance of coin ``j`` once coin ``i`` holds ``x`` (``get_y``)."""
    n = len(xp)
    d = get_d(xp, amp, a_precision)
    ann = amp * n
    c = d
    s_ = 0
    for k in range(n):
        if k == i:
            x_k = x
        elif k != j:
            x_k = xp[k]
        else:
            continue
        s_ += x_k
        c = c * d // (x_k * n)
    c = c * d * a_precision // (ann * n)
    b = s_ + d * a_precision // ann
    y = d
    for _ in range(MAX_ITERATIONS):
        y_prev = y
        y = (y * y + c) // (2 * y + b - d)
        if abs(y - y_prev) <= 1:
            return y
    raise SwapRefused("Y", "get_y did not converge")


@dataclass(frozen=True, slots=True)
class StableSwapState:
    """
    A Curve plain stableswap pool.

    Parameters
    ----------
    balances : tuple[int, ...]
        Coin balances in base units.
    rates : tuple[int, ...]
        ``10 ** (36 - decimals)`` per coin (``RATES``).
    amp : int
        Stored amplification ``A * a_precision`` (interpolate a ramp with :func:`ramped_amp`).
    fee : int
        Swap fee over ``1e10`` (4e6 = 0.04 %).
    a_precision : int
        ``A_PRECISION`` of the pool's template (1 for 3pool, 100 later).
    admin_fee : int
        Admin share of the fee over ``1e10`` (moves the post-swap balances only).
    """

    balances: tuple[int, ...]
    rates: tuple[int, ...]
    amp: int
    fee: int
    a_precision: int = 1
    admin_fee: int = 5 * 10**9

    def __post_init__(self) -> None:
        n = len(self.balances)
        if n < 2 or len(self.rates) != n:
            raise InvalidConfig("stableswap pool needs >= 2 coins with one rate each")
        if any(b <= 0 for b in self.balances) or any(r <= 0 for r in self.rates):
            raise InvalidConfig(f"stableswap balances {self.balances} and rates must be positive")
        if self.amp <= self.a_precision or self.a_precision <= 0:
            raise InvalidConfig(f"stableswap amp {self.amp} must exceed a_precision {self.a_precision}")
        if not 0 <= self.fee < FEE_DENOMINATOR or not 0 <= self.admin_fee <= FEE_DENOMINATOR:
            raise InvalidConfig(f"stableswap fee {self.fee} / admin fee {self.admin_fee} out of range")

    @property
    def token_count(self) -> int:
        """Number of coins."""
        return len(self.balances)

    def xp(self) -> list[int]:
        """Normalised balances (``_xp``)."""
        return [r * b // PRECISION for r, b in zip(self.rates, self.balances, strict=True)]

    def _check(self, i: int, j: int) -> None:
        n = len(self.balances)
        if i == j or not (0 <= i < n and 0 <= j < n):
            raise SwapRefused("TOKEN", f"pool has coins 0..{n - 1}; cannot swap {i} -> {j}")

    def _dy_parts(self, i: int, j: int, dx: int) -> tuple[int, int, int]:
        """``(dy net of fee, fee, xp_j - y - 1)`` in base / normalised units, as ``get_dy``."""
        xp = self.xp()
        x = xp[i] + dx * self.rates[i] // PRECISION
        y = get_y(i, j, x, xp, self.amp, self.a_precision)
        raw = xp[j] - y - 1
        if raw < 0:
            raise SwapRefused("UNDERFLOW", f"input {dx} is too small to buy anything")
        dy = raw * PRECISION // self.rates[j]
        fee = self.fee * dy // FEE_DENOMINATOR
        return dy - fee, fee, raw

    def get_dy(self, i: int, j: int, dx: int) -> int:
        """The contract's ``get_dy(i, j, dx)``."""
        self._check(i, j)
        if dx < 0:
            raise SwapRefused("AS", f"dx {dx} must be >= 0")
        return self._dy_parts(i, j, dx)[0]

    def swap_exact_input(self, token_in: int, token_out: int, amount_in: int) -> SwapQuote:
        """Swap ``amount_in`` (``get_dy``; post-swap balances as ``exchange`` leaves them)."""
        self._check(token_in, token_out)
        if amount_in <= 0:
            raise SwapRefused("AS", f"amount_in {amount_in} must be positive")
        dy, fee, raw = self._dy_parts(token_in, token_out, amount_in)
        # exchange(): the admin's share of the fee leaves the pool's balances too
        dy_fee = raw * self.fee // FEE_DENOMINATOR
        admin = dy_fee * self.admin_fee // FEE_DENOMINATOR * PRECISION // self.rates[token_out]
        balances = list(self.balances)
        balances[token_in] += amount_in
        balances[token_out] -= dy + admin
        return SwapQuote(amount_in, dy, fee, token_out, replace(self, balances=tuple(balances)))

    def swap_exact_output(self, token_in: int, token_out: int, amount_out: int) -> SwapQuote:
        """
        Buy ``amount_out``: the smallest input whose ``get_dy`` reaches it.

        Plain pools have no ``get_dx``; this inverts ``get_dy`` exactly (an estimate from
        ``get_y`` on the output side, then a bracketing search), so
        ``swap_exact_input(..., result.amount_in).amount_out >= amount_out`` always holds and one
        less input would not. The quote's ``amount_out`` is what that input buys, so it may exceed
        ``amount_out`` (one unit of a 6-decimal coin buys 1e12 units of an 18-decimal one).
        """
        self._check(token_in, token_out)
        if amount_out <= 0:
            raise SwapRefused("AS", f"amount_out {amount_out} must be positive")
        if amount_out >= self.balances[token_out]:
            raise SwapRefused("LIQUIDITY", f"amount_out {amount_out} >= balance {self.balances[token_out]}")
        xp = self.xp()
        gross = amount_out * FEE_DENOMINATOR // (FEE_DENOMINATOR - self.fee) + 1
        y = xp[token_out] - (gross * self.rates[token_out] // PRECISION + 1)
        if y <= 0:
            raise SwapRefused("LIQUIDITY", f"the pool cannot deliver {amount_out}")
        x = get_y(token_out, token_in, y, xp, self.amp, self.a_precision)
        estimate = max(1, (x - xp[token_in]) * PRECISION // self.rates[token_in])

        def reaches(dx: int) -> bool:
            try:
                return self._dy_parts(token_in, token_out, dx)[0] >= amount_out
            except SwapRefused:
                return False

        lo, hi = estimate, estimate
        step = max(1, estimate >> 20)
        while not reaches(hi):
            lo, hi = hi, hi + step
            step *= 2
            if hi > 1 << 200:
                raise SwapRefused("LIQUIDITY", f"the pool cannot deliver {amount_out}")
        if lo == hi:
            step = max(1, estimate >> 20)
            lo = hi - step
            while lo > 0 and reaches(lo):
                hi, lo, step = lo, lo - step, step * 2
            lo = max(lo, 0)
        while hi - lo > 1:  # invariant: not reaches(lo) (or lo == 0), reaches(hi)
            mid = (lo + hi) // 2
            if reaches(mid):
                hi = mid
            else:
                lo = mid
        return self.swap_exact_input(token_in, token_out, hi)

    def quote_exact_input(self, token_in: int, token_out: int, amount_in: int) -> int:
        """``get_dy``."""
        return self.get_dy(token_in, token_out, amount_in)

    def quote_exact_output(self, token_in: int, token_out: int, amount_out: int) -> int:
        """Smallest input reaching ``amount_out``."""
        return self.swap_exact_output(token_in, token_out, amount_out).amount_in

    def marginal_price(self, token_in: int, token_out: int) -> Fraction:
        """
        ``-dy/dx`` of the invariant at the current balances, in base units, times ``1 - fee``.

        With ``F = Ann*S + D - Ann*D - D**(n+1) / (n**n * prod(x))`` (Ann in the contract's
        convention), ``dy/dx = (Ann + K/x_i) / (Ann + K/x_j)`` where ``K = D**(n+1) / (n**n * prod(x))``.
        """
        self._check(token_in, token_out)
        xp = self.xp()
        n = len(xp)
        d = get_d(xp, self.amp, self.a_precision)
        ann = Fraction(self.amp * n, self.a_precision)
        prod = 1
        for x in xp:
            prod *= x
        k = Fraction(d ** (n + 1), n**n * prod)
        slope = (ann + k / xp[token_in]) / (ann + k / xp[token_out])
        scale = Fraction(self.rates[token_in], self.rates[token_out])
        return slope * scale * Fraction(FEE_DENOMINATOR - self.fee, FEE_DENOMINATOR)


__all__ = ["FEE_DENOMINATOR", "PRECISION", "StableSwapState", "get_d", "get_y", "ramped_amp"]
