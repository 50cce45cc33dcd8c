"""
How report tables show numbers: what a person reads, not every digit the run computed.

- prices and quantities at the instrument's precision (its tick and lot size digits); prices
  derived from several ticks (average fill prices, mids) get one digit more, since the mid of
  two adjacent ticks is a half tick;
- ratios (fill ratios) to :data:`RATIO_DIGITS` significant digits;
- money at its currency's precision with trailing zeros dropped;
- missing values (``None``, NaN, pandas' ``NA``) as an empty cell, never ``nan``.

Stored results and the report's embedded JSON keep every digit; only the tables round.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any
from typing import Final

RATIO_DIGITS: Final = 4
"""Significant digits of ratios (fill ratio)."""
DERIVED_EXTRA_DIGITS: Final = 1
"""Extra decimal places of derived prices (averages, mids) beyond the instrument's precision."""
DEFAULT_PLACES: Final = 8
"""Decimal places of a price or quantity whose instrument is unknown (trailing zeros dropped)."""


@dataclass(frozen=True, slots=True)
class InstrumentDisplay:
    """
    What a report needs to know about one instrument.

    Parameters
    ----------
    price_precision, size_precision : int
        Decimal places of the instrument's prices and quantities.
    base, quote : str, optional
        Base and quote currency codes (``base`` is ``None`` for instruments without one).
    derivative : bool
        A contract whose PnL is settled in the quote currency (perpetuals, futures), as
        opposed to a spot pair whose base currency moves between balances.
    multiplier : Decimal
        Quote currency per unit of price per contract.
    inverse : bool
        An inverse contract (PnL settles in the base currency).
    """

    price_precision: int
    size_precision: int
    base: str | None = None
    quote: str | None = None
    derivative: bool = False
    multiplier: Decimal = Decimal(1)
    inverse: bool = False


def is_missing(value: Any) -> bool:
    """Return whether ``value`` is a missing value (``None``, NaN, ``pd.NA``/``NaT``, ``"nan"``)."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, Decimal):
        return value.is_nan()
    if isinstance(value, str):
        return value.strip().lower() in ("nan", "<na>", "nat", "none")
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (ImportError, TypeError, ValueError):
        return False


def _decimal(value: Any) -> Decimal | None:
    if is_missing(value):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def fixed(value: Any, places: int) -> str:
    """Return ``value`` rounded half-even to ``places`` decimals (empty if missing)."""
    number = _decimal(value)
    if number is None:
        return ""
    rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return format(rounded, "f")


def trimmed(value: Any, places: int = DEFAULT_PLACES) -> str:
    """Return ``value`` rounded to ``places`` decimals, trailing zeros dropped (empty if missing)."""
    text = fixed(value, places)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") and _decimal(value) is not None else text


def ratio(value: Any, digits: int = RATIO_DIGITS) -> str:
    """Return ``value`` to ``digits`` significant digits (``0.99998`` is ``1.000``)."""
    number = _decimal(value)
    if number is None:
        return ""
    if number == 0:
        return "0"
    number = number.normalize()  # 1.000 and 1 read the same: "1"
    return (
        format(number, f".{digits}g")
        if abs(number) >= Decimal("0.0001")
        else format(number, f".{digits - 1}e")
    )


def price(value: Any, info: InstrumentDisplay | None, *, derived: bool = False) -> str:
    """Return a price at the instrument's precision (one digit more when ``derived``)."""
    if info is None:
        return trimmed(value)
    return fixed(value, info.price_precision + (DERIVED_EXTRA_DIGITS if derived else 0))


def quantity(value: Any, info: InstrumentDisplay | None) -> str:
    """Return a quantity at the instrument's size precision."""
    return trimmed(value) if info is None else fixed(value, info.size_precision)


def money(value: Any, currency: str | None = None) -> str:
    """Return an amount of money at its currency's precision, trailing zeros dropped."""
    places = DEFAULT_PLACES
    if currency:
        try:
            from nautilus_trader.model.objects import Currency

            places = Currency.from_str(currency).precision
        except (ValueError, KeyError, TypeError):  # an unknown code: the default
            places = DEFAULT_PLACES
    return trimmed(value, places)


def cell(value: Any) -> str:
    """Return any table value as text; a missing value is an empty cell."""
    return "" if is_missing(value) else str(value)


def lookup(instruments: Mapping[str, InstrumentDisplay], *names: Any) -> InstrumentDisplay | None:
    """Return the first instrument known under one of ``names`` (Nautilus id or canonical key)."""
    for name in names:
        if name is not None and not is_missing(name) and str(name) in instruments:
            return instruments[str(name)]
    return None


__all__ = [
    "DEFAULT_PLACES",
    "DERIVED_EXTRA_DIGITS",
    "RATIO_DIGITS",
    "InstrumentDisplay",
    "cell",
    "fixed",
    "is_missing",
    "lookup",
    "money",
    "price",
    "quantity",
    "ratio",
    "trimmed",
]
