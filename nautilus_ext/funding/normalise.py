"""
Venue payloads -> :class:`~nautilus_ext.funding.model.FundingRateSample` (pure functions).

What each venue says and where (checked against ccxt 4.5.90's parsers and the venues' docs):

- **interval**: Bybit's ticker ``fundingIntervalHour`` (and instruments-info ``fundingInterval``
  minutes, which ccxt turns into ``interval``); Binance's ``/fapi/v1/fundingInfo``
  ``fundingIntervalHours`` (``premiumIndex`` has none: ccxt's ``interval`` is ``None``); OKX's
  ``nextFundingTime - fundingTime`` (ccxt's ``interval``); Hyperliquid is hourly (ccxt says
  ``1h``). When the payload says nothing, the venue convention's default applies
  (:data:`~nautilus_ext.funding.model.VENUE_CONVENTIONS`).
- **sign**: every venue recorded so far quotes "positive = longs pay"; :func:`normalise_rate`
  applies the convention so a venue quoting the other way is flipped here, once.
- **open interest** in base units: Bybit linear and Hyperliquid tickers carry it (``openInterest``);
  otherwise ccxt's ``openInterestAmount`` (contracts) x the market's contract size.
- **24 h volume** in quote units: Bybit ``turnover24h``, Hyperliquid ``dayNtlVlm``, OKX swap
  ``volCcy24h`` (base) x last; otherwise ccxt's ``quoteVolume``.

Numbers come from ccxt as floats parsed from the venue's decimal text; ``Decimal(str(x))`` gives
back that text exactly (Python prints the shortest repr that round-trips).
"""

from __future__ import annotations

import re
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any
from typing import Final

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.funding.model import NANOS_PER_HOUR
from nautilus_ext.funding.model import FundingRateSample
from nautilus_ext.funding.model import convention_for
from nautilus_ext.funding.model import normalise_rate

NANOS_PER_MS: Final = 1_000_000

# ccxt exchange id -> the funding venue name (the key of VENUE_CONVENTIONS)
FUNDING_VENUE_BY_EXCHANGE_ID: Final[dict[str, str]] = {
    "bybit": "BYBIT",
    "binanceusdm": "BINANCE",
    "binancecoinm": "BINANCE",
    "okx": "OKX",
    "hyperliquid": "HYPERLIQUID",
    "deribit": "DERIBIT",
    "aster": "ASTER",
    "backpack": "BACKPACK",
    "paradex": "PARADEX",
    "grvt": "GRVT",
    "coinbaseinternational": "COINBASE",
    "bitmex": "BITMEX",
}

_INTERVAL_RE: Final = re.compile(r"^(?P<n>[0-9]+(\.[0-9]+)?)(?P<unit>[mhd])$")
_UNIT_HOURS: Final = {"h": Decimal(1), "d": Decimal(24)}
# raw payload fields that carry the interval in hours, by venue family
_INTERVAL_HOURS_FIELDS: Final = ("fundingIntervalHour", "fundingIntervalHours")


def funding_venue(exchange_id: str) -> str:
    """
    Return the funding venue name of a ccxt exchange id.

    Raises
    ------
    InvalidConfig
        If the exchange has no recorded funding convention (its sign would be a guess).
    """
    venue = FUNDING_VENUE_BY_EXCHANGE_ID.get(exchange_id)
    if venue is None:
        raise InvalidConfig(
            f"exchange {exchange_id!r} has no recorded funding convention; "
            f"known: {sorted(FUNDING_VENUE_BY_EXCHANGE_ID)}",
            venue=exchange_id,
        )
    convention_for(venue)
    return venue


def to_decimal(value: Any) -> Decimal | None:
    """Return ``value`` (venue text, int or float) as an exact Decimal; ``None``/empty stays None."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        out = Decimal(value if isinstance(value, str) else str(value))
    except (InvalidOperation, ValueError):
        return None
    return out if out.is_finite() else None


def positive_or_none(value: Any) -> Decimal | None:
    """Return a positive Decimal, or ``None`` for missing, zero or negative (venues send 0 for n/a)."""
    out = to_decimal(value)
    return out if out is not None and out > 0 else None


def interval_hours_of(rate: dict[str, Any], extra: dict[str, Any] | None = None) -> Decimal | None:
    """
    Return the funding interval a ccxt funding-rate structure (or its raw ``info``) states.

    ``extra`` is a second raw payload (Binance's ``fundingInfo`` row) consulted first.
    """
    for payload in (extra or {}, rate.get("info") or {}):
        for name in _INTERVAL_HOURS_FIELDS:
            hours = positive_or_none(payload.get(name))
            if hours is not None:
                return hours
    text = rate.get("interval")
    if isinstance(text, str):
        match = _INTERVAL_RE.match(text.strip())
        if match:
            n, unit = Decimal(match["n"]), match["unit"]
            hours = n / Decimal(60) if unit == "m" else n * _UNIT_HOURS[unit]
            return hours if hours > 0 else None
    return None


def _ms_to_ns(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        ms = int(value)
    except (TypeError, ValueError):
        return None
    return ms * NANOS_PER_MS if ms > 0 else None


def sample_from_ccxt(
    *,
    venue: str,
    instrument_key: str,
    base: str,
    quote: str,
    rate: dict[str, Any],
    ts_ns: int,
    interval_hours: Decimal | None = None,
    open_interest: Decimal | None = None,
    volume_24h: Decimal | None = None,
    mark_price: Decimal | None = None,
    index_price: Decimal | None = None,
) -> FundingRateSample:
    """
    Normalise one ccxt funding-rate structure into an indicative (unsettled) sample.

    Raises
    ------
    InvalidConfig
        If the payload has no usable funding rate or fails the sample's checks.
    """
    raw = to_decimal(rate.get("fundingRate"))
    if raw is None:
        raise InvalidConfig(f"{venue} {instrument_key}: funding payload has no fundingRate", venue=venue)
    hours = interval_hours or interval_hours_of(rate) or convention_for(venue).default_interval_hours
    predicted = to_decimal(rate.get("nextFundingRate"))
    return FundingRateSample(
        venue=venue,
        instrument_key=instrument_key,
        base=base,
        quote=quote,
        rate=normalise_rate(venue, raw),
        interval_hours=hours,
        ts_ns=ts_ns,
        next_funding_ns=_ms_to_ns(rate.get("fundingTimestamp")),
        predicted_rate=None if predicted is None else normalise_rate(venue, predicted),
        mark_price=mark_price or positive_or_none(rate.get("markPrice")),
        index_price=index_price or positive_or_none(rate.get("indexPrice")),
        open_interest=open_interest,
        volume_24h=volume_24h,
        settled=False,
    )


def open_interest_from_info(info: dict[str, Any]) -> Decimal | None:
    """Return the base-unit open interest a ticker/asset context carries (Bybit, Hyperliquid)."""
    return to_decimal(info.get("openInterest"))


def volume_from_info(info: dict[str, Any]) -> Decimal | None:
    """Return the 24 h quote volume a ticker/asset context carries (Bybit, Hyperliquid)."""
    for name in ("turnover24h", "dayNtlVlm"):
        value = to_decimal(info.get(name))
        if value is not None:
            return value
    return None


def volume_from_ticker(exchange_id: str, ticker: dict[str, Any]) -> Decimal | None:
    """Return a ccxt ticker's 24 h volume in quote units (OKX swaps quote it in base)."""
    info = ticker.get("info") or {}
    if exchange_id == "okx":
        base_volume, last = to_decimal(info.get("volCcy24h")), positive_or_none(info.get("last"))
        return None if base_volume is None or last is None else base_volume * last
    from_info = volume_from_info(info)
    if from_info is not None:
        return from_info
    quote_volume = to_decimal(ticker.get("quoteVolume"))
    if quote_volume is not None:
        return quote_volume
    base_volume, last = to_decimal(ticker.get("baseVolume")), positive_or_none(ticker.get("last"))
    return None if base_volume is None or last is None else base_volume * last


def open_interest_from_ccxt(oi: dict[str, Any], contract_size: Decimal) -> Decimal | None:
    """Return a ccxt open-interest structure in base units."""
    amount = to_decimal(oi.get("openInterestAmount"))
    if amount is not None:
        return amount * contract_size
    base_volume = to_decimal(oi.get("baseVolume"))
    return base_volume


def history_intervals(ts_ns: list[int], default_hours: Decimal) -> list[Decimal]:
    """
    Return the interval of each settled funding time (sorted ascending).

    A point's interval is the smaller of its distances to its neighbours when that is a whole
    number of hours (a single missing settlement doubles only one side), else ``default_hours``
    (the venue's current interval for the symbol).
    """
    out: list[Decimal] = []
    for i, ts in enumerate(ts_ns):
        gaps = [ts - ts_ns[j] if j < i else ts_ns[j] - ts for j in (i - 1, i + 1) if 0 <= j < len(ts_ns)]
        gaps = [g for g in gaps if g > 0]
        smallest = min(gaps) if gaps else 0
        if smallest and smallest % NANOS_PER_HOUR == 0:
            out.append(Decimal(smallest // NANOS_PER_HOUR))
        else:
            out.append(default_hours)
    return out


__all__ = [
    "FUNDING_VENUE_BY_EXCHANGE_ID",
    "funding_venue",
    "history_intervals",
    "interval_hours_of",
    "open_interest_from_ccxt",
    "open_interest_from_info",
    "positive_or_none",
    "sample_from_ccxt",
    "to_decimal",
    "volume_from_info",
    "volume_from_ticker",
]
