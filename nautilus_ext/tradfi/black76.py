"""
Black-76: European options on a forward or future (price, Greeks, implied volatility).

Pure math on floats (Greeks and volatilities are model outputs, not balances): ``forward`` is
the underlying future's (or Deribit's synthetic underlying's) price, ``strike`` in the same
unit, ``years`` the time to expiry in years (ACT/365), ``vol`` the annualised volatility and
``rate`` the continuously compounded discount rate (0 for Deribit's and CME's margined options,
whose premium is not financed). Prices are per unit of underlying, discounted by ``exp(-rate *
years)``. :func:`implied_vol` inverts :func:`price` with a bracketed Newton/bisection solver that
always converges inside its bracket and refuses a price outside the no-arbitrage bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from nautilus_ext.errors import InvalidData
from nautilus_ext.instruments.enums import OptionKind

YEAR_NS: Final = 365 * 86_400 * 1_000_000_000
"""Nanoseconds of an ACT/365 year (time to expiry of a contract in years = ns / YEAR_NS)."""
MIN_VOL: Final = 1e-6
MAX_VOL: Final = 10.0  # 1000% a year: beyond any listed option's implied volatility
_SQRT_2: Final = math.sqrt(2.0)
_SQRT_2PI: Final = math.sqrt(2.0 * math.pi)


def norm_cdf(x: float) -> float:
    """Return the standard normal cumulative distribution at ``x``."""
    return 0.5 * math.erfc(-x / _SQRT_2)


def norm_pdf(x: float) -> float:
    """Return the standard normal density at ``x``."""
    return math.exp(-0.5 * x * x) / _SQRT_2PI


def _check(forward: float, strike: float, years: float) -> None:
    if not (forward > 0 and math.isfinite(forward)):
        raise InvalidData(f"Black-76: forward must be positive, got {forward}")
    if not (strike > 0 and math.isfinite(strike)):
        raise InvalidData(f"Black-76: strike must be positive, got {strike}")
    if not (years > 0 and math.isfinite(years)):
        raise InvalidData(f"Black-76: time to expiry must be positive, got {years} years")


def _d1_d2(forward: float, strike: float, years: float, vol: float) -> tuple[float, float]:
    sd = vol * math.sqrt(years)
    d1 = (math.log(forward / strike) + 0.5 * sd * sd) / sd
    return d1, d1 - sd


def price(
    kind: OptionKind, forward: float, strike: float, years: float, vol: float, rate: float = 0.0
) -> float:
    """
    Return the Black-76 price of a European call or put (per unit of underlying).

    Raises
    ------
    InvalidData
        If the forward, strike, time or volatility is not positive.
    """
    _check(forward, strike, years)
    if not (vol > 0 and math.isfinite(vol)):
        raise InvalidData(f"Black-76: volatility must be positive, got {vol}")
    d1, d2 = _d1_d2(forward, strike, years, vol)
    disc = math.exp(-rate * years)
    if kind is OptionKind.CALL:
        return disc * (forward * norm_cdf(d1) - strike * norm_cdf(d2))
    return disc * (strike * norm_cdf(-d2) - forward * norm_cdf(-d1))


@dataclass(frozen=True, slots=True)
class Greeks:
    """
    Black-76 Greeks of one option.

    Attributes
    ----------
    vol : float
        The volatility they were computed at (implied, or the data's).
    delta : float
        dPrice/dForward (calls in (0, 1), puts in (-1, 0), discounted).
    gamma : float
        d2Price/dForward2.
    vega : float
        dPrice/dVol per 1.00 of volatility (divide by 100 for one vol point).
    theta : float
        dPrice/dt per year of calendar time passing (negative for a long option at zero rate).
    source : str
        ``"data"`` when the vendor's Greeks were used, ``"black76"`` when computed here.
    """

    vol: float
    delta: float
    gamma: float
    vega: float
    theta: float
    source: str = "black76"


def greeks(
    kind: OptionKind, forward: float, strike: float, years: float, vol: float, rate: float = 0.0
) -> Greeks:
    """
    Return the Black-76 Greeks at ``vol``.

    Raises
    ------
    InvalidData
        If the forward, strike, time or volatility is not positive.
    """
    value = price(kind, forward, strike, years, vol, rate)
    d1, _ = _d1_d2(forward, strike, years, vol)
    disc = math.exp(-rate * years)
    sqrt_t = math.sqrt(years)
    delta = disc * norm_cdf(d1) if kind is OptionKind.CALL else -disc * norm_cdf(-d1)
    gamma = disc * norm_pdf(d1) / (forward * vol * sqrt_t)
    vega = disc * forward * norm_pdf(d1) * sqrt_t
    theta = -disc * forward * norm_pdf(d1) * vol / (2 * sqrt_t) + rate * value
    return Greeks(vol=vol, delta=delta, gamma=gamma, vega=vega, theta=theta)


def intrinsic(kind: OptionKind, forward: float, strike: float, years: float, rate: float = 0.0) -> float:
    """Return the discounted intrinsic value, the no-arbitrage floor of the option's price."""
    disc = math.exp(-rate * years)
    return disc * max(forward - strike, 0.0) if kind is OptionKind.CALL else disc * max(strike - forward, 0.0)


def implied_vol(
    kind: OptionKind,
    option_price: float,
    forward: float,
    strike: float,
    years: float,
    rate: float = 0.0,
    *,
    tolerance: float = 1e-10,
    max_iterations: int = 200,
) -> float:
    """
    Return the volatility at which :func:`price` equals ``option_price``.

    Newton steps on vega, kept inside a bracket ``[lo, hi]`` that shrinks every iteration
    (bisection when a Newton step leaves it or vega vanishes), so it converges for deep
    in- and out-of-the-money options where plain Newton diverges.

    Raises
    ------
    InvalidData
        If the price is outside the no-arbitrage bounds (below intrinsic value, at or above the
        discounted forward for a call or strike for a put) or outside what a volatility within
        ``[MIN_VOL, MAX_VOL]`` gives.
    """
    _check(forward, strike, years)
    disc = math.exp(-rate * years)
    floor = intrinsic(kind, forward, strike, years, rate)
    cap = disc * (forward if kind is OptionKind.CALL else strike)
    if not (math.isfinite(option_price) and floor < option_price < cap):
        raise InvalidData(
            f"Black-76: {kind} price {option_price} outside its no-arbitrage bounds ({floor}, {cap}) "
            f"for forward {forward}, strike {strike}, {years} years"
        )
    lo, hi = MIN_VOL, MAX_VOL
    f_lo = price(kind, forward, strike, years, lo, rate) - option_price
    f_hi = price(kind, forward, strike, years, hi, rate) - option_price
    if f_lo > 0 or f_hi < 0:
        raise InvalidData(
            f"Black-76: {kind} price {option_price} needs a volatility outside [{MIN_VOL}, {MAX_VOL}] "
            f"(forward {forward}, strike {strike}, {years} years)"
        )
    # start from the Brenner-Subrahmanyam at-the-money approximation, clamped into the bracket
    vol = min(max(math.sqrt(2 * math.pi / years) * option_price / (disc * forward), 0.05), 3.0)
    for _ in range(max_iterations):
        diff = price(kind, forward, strike, years, vol, rate) - option_price
        if abs(diff) <= tolerance * max(1.0, option_price):
            return vol
        if diff > 0:
            hi = vol
        else:
            lo = vol
        vega = greeks(kind, forward, strike, years, vol, rate).vega
        step = vol - diff / vega if vega > 1e-300 else math.nan
        vol = step if lo < step < hi else 0.5 * (lo + hi)
        if hi - lo < 1e-15:
            return vol
    return vol


def years_between(ts_ns: int, expiration_ns: int) -> float:
    """Return the ACT/365 years from ``ts_ns`` to ``expiration_ns`` (negative once expired)."""
    return (expiration_ns - ts_ns) / YEAR_NS


__all__ = [
    "MAX_VOL",
    "MIN_VOL",
    "YEAR_NS",
    "Greeks",
    "greeks",
    "implied_vol",
    "intrinsic",
    "norm_cdf",
    "norm_pdf",
    "price",
    "years_between",
]
