"""
Normalised funding-rate records and the arithmetic users get wrong (seed 002, funding service).

Venues quote funding per *funding interval* (Hyperliquid hourly; Binance 8 h or 4 h per symbol;
Bybit and OKX per symbol; Deribit and Paradex quote an 8 h-equivalent of continuous funding), so
a raw rate is meaningless without its interval. Every record here carries the rate exactly as the
venue quotes it, the interval it applies to, and derives:

- ``rate_per_hour = rate / interval_hours`` (exact ``Decimal``),
- ``apr = rate_per_hour * 24 * 365`` (simple, not compounded: what desks quote),

under one sign convention: **a positive rate means longs pay shorts**. Venues that quote the
other way are normalised at the adapter boundary (:data:`VENUE_CONVENTIONS` records, per venue,
the sign the venue uses and the default interval when the venue does not say).

The quote currency is kept: USDT, USDC and USD perps are different instruments, and stablecoins
are not exactly 1:1 (seed 004), so a divergence between a USDT and a USDC perp carries a basis.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from nautilus_ext.errors import InvalidConfig

HOURS_PER_YEAR: Final[Decimal] = Decimal(24 * 365)
NANOS_PER_HOUR: Final[int] = 3_600 * 1_000_000_000

# Plausible bounds for a funding timestamp in UNIX nanoseconds (2015-01-01 .. 2200-01-01): a value
# outside is a unit error (seconds or milliseconds passed as nanoseconds), never real data.
_MIN_TS_NS: Final[int] = 1_420_070_400 * 1_000_000_000
_MAX_TS_NS: Final[int] = 7_258_118_400 * 1_000_000_000
# No venue caps funding beyond a few percent per interval; 100% per interval is a parsing error.
_MAX_ABS_RATE: Final[Decimal] = Decimal(1)


@dataclass(frozen=True, slots=True)
class VenueFundingConvention:
    """How one venue quotes funding: the sign and the default interval when a symbol gives none."""

    longs_pay_when_positive: bool  # True for every venue known so far
    default_interval_hours: Decimal  # used only when the venue's payload has no interval
    source: str  # the venue document the convention was checked against


VENUE_CONVENTIONS: Final[dict[str, VenueFundingConvention]] = {
    "BINANCE": VenueFundingConvention(True, Decimal(8), "Binance USD-M premiumIndex / fundingInfo"),
    "BYBIT": VenueFundingConvention(True, Decimal(8), "Bybit v5 tickers fundingIntervalHour"),
    "OKX": VenueFundingConvention(True, Decimal(8), "OKX v5 public/funding-rate"),
    "DERIBIT": VenueFundingConvention(True, Decimal(8), "Deribit funding_8h (continuous funding)"),
    "HYPERLIQUID": VenueFundingConvention(True, Decimal(1), "Hyperliquid metaAndAssetCtxs (hourly)"),
    "ASTER": VenueFundingConvention(True, Decimal(8), "Aster fapi premiumIndex / fundingInfo"),
    "BACKPACK": VenueFundingConvention(True, Decimal(8), "Backpack markPrices fundingRate"),
    "PARADEX": VenueFundingConvention(True, Decimal(8), "Paradex funding_rate (8h equivalent)"),
    "GRVT": VenueFundingConvention(True, Decimal(8), "GRVT ticker funding_rate_8h_curr"),
    "COINBASE": VenueFundingConvention(True, Decimal(1), "Coinbase INTX hourly funding"),
    "BITMEX": VenueFundingConvention(True, Decimal(8), "BitMEX instrument fundingRate (8h)"),
}


def convention_for(venue: str) -> VenueFundingConvention:
    """
    Return the funding convention of ``venue``.

    Raises
    ------
    InvalidConfig
        If the venue has no recorded convention (guessing a sign would invert a carry trade).
    """
    try:
        return VENUE_CONVENTIONS[venue.upper()]
    except KeyError:
        raise InvalidConfig(
            f"no funding convention recorded for venue {venue!r}; known: {sorted(VENUE_CONVENTIONS)}",
            venue=venue,
        ) from None


@dataclass(frozen=True, slots=True)
class FundingRateSample:
    """
    One funding observation of one perpetual on one venue, normalised.

    Parameters
    ----------
    venue : str
        Upper-case venue name (``BYBIT``).
    instrument_key : str
        The perpetual's canonical key (``BYBIT:PERPETUAL:BTC-USDT@LIN``).
    base : str
        The base asset the opportunity finder groups by (``BTC``).
    quote : str
        The quote/settlement currency (``USDT``, ``USDC``, ``USD``); never assumed 1:1 with USD.
    rate : Decimal
        The funding rate for one interval, longs pay shorts when positive.
    interval_hours : Decimal
        The interval ``rate`` applies to, in hours (> 0).
    ts_ns : int
        When the rate was observed (UNIX ns, UTC). For settled rates, the funding time.
    next_funding_ns : int | None
        The venue's next funding time, when known.
    predicted_rate : Decimal | None
        The venue's predicted rate for the next interval, when it publishes one.
    mark_price, index_price : Decimal | None
        Mark and index prices in ``quote`` at ``ts_ns``.
    open_interest : Decimal | None
        Open interest in base units.
    volume_24h : Decimal | None
        24 h traded volume in quote units.
    settled : bool
        True for a rate that was paid (history), False for the current/indicative one.
    """

    venue: str
    instrument_key: str
    base: str
    quote: str
    rate: Decimal
    interval_hours: Decimal
    ts_ns: int
    next_funding_ns: int | None = None
    predicted_rate: Decimal | None = None
    mark_price: Decimal | None = None
    index_price: Decimal | None = None
    open_interest: Decimal | None = None
    volume_24h: Decimal | None = None
    settled: bool = False

    def __post_init__(self) -> None:
        where = f"funding sample {self.venue} {self.instrument_key}"
        if not self.venue or self.venue != self.venue.upper():
            raise InvalidConfig(f"{where}: venue must be upper case, got {self.venue!r}")
        for name in ("rate", "interval_hours"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite():
                raise InvalidConfig(f"{where}: {name} must be a finite Decimal, got {value!r}")
        if self.interval_hours <= 0:
            raise InvalidConfig(f"{where}: interval_hours must be > 0, got {self.interval_hours}")
        if abs(self.rate) > _MAX_ABS_RATE:
            raise InvalidConfig(f"{where}: rate {self.rate} per interval is not plausible (>100%)")
        for name in ("ts_ns", "next_funding_ns"):
            ts = getattr(self, name)
            if ts is None and name == "next_funding_ns":
                continue
            if not isinstance(ts, int) or isinstance(ts, bool) or not _MIN_TS_NS <= ts <= _MAX_TS_NS:
                raise InvalidConfig(f"{where}: {name}={ts!r} is not UNIX nanoseconds in 2015..2200")
        for name in ("predicted_rate", "mark_price", "index_price", "open_interest", "volume_24h"):
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, Decimal) or not value.is_finite():
                raise InvalidConfig(f"{where}: {name} must be a finite Decimal, got {value!r}")
            if name != "predicted_rate" and value < 0:
                raise InvalidConfig(f"{where}: {name} must be >= 0, got {value}")

    @property
    def rate_per_hour(self) -> Decimal:
        """The rate per hour, same sign convention."""
        return rate_per_hour(self.rate, self.interval_hours)

    @property
    def apr(self) -> Decimal:
        """The simple annualised rate (``rate_per_hour * 8760``)."""
        return self.rate_per_hour * HOURS_PER_YEAR


def rate_per_hour(rate: Decimal, interval_hours: Decimal) -> Decimal:
    """Return ``rate`` (per ``interval_hours``) as a rate per hour."""
    if interval_hours <= 0:
        raise InvalidConfig(f"funding interval must be > 0 hours, got {interval_hours}")
    return rate / interval_hours


def normalise_rate(venue: str, raw_rate: Decimal) -> Decimal:
    """Return ``raw_rate`` as the venue quotes it under the longs-pay-when-positive convention."""
    return raw_rate if convention_for(venue).longs_pay_when_positive else -raw_rate


def funding_payment(position_size: Decimal, mark_price: Decimal, rate: Decimal) -> Decimal:
    """
    Return the funding cash flow of a position at one funding time, in the settlement currency.

    ``position_size`` is signed (long > 0). A long pays (negative flow) when ``rate`` > 0, a short
    receives: ``-position_size * mark_price * rate``.
    """
    return -(position_size * mark_price * rate)


__all__ = [
    "HOURS_PER_YEAR",
    "NANOS_PER_HOUR",
    "VENUE_CONVENTIONS",
    "FundingRateSample",
    "VenueFundingConvention",
    "convention_for",
    "funding_payment",
    "normalise_rate",
    "rate_per_hour",
]
