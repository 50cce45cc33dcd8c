"""
Funding history outside the live poll: Tardis ``derivative_ticker`` files and gap detection.

**Tardis.** A ``derivative_ticker`` row is a ticker snapshot: ``funding_rate`` is the rate that
will be paid at ``funding_timestamp`` (the next funding time). The rate *settled* at a funding
time ``T`` is therefore the last ``funding_rate`` seen while ``funding_timestamp == T``,
provided the file reaches ``T`` (a later row has moved on to the next funding time, or the row
itself is stamped at or after ``T``). :func:`samples_from_tardis` emits one settled sample per
such ``T``, with the interval taken from the spacing of the funding times when it is a whole
number of hours, else the venue default, and the mark/index/OI/predicted rate of that last row.

**Gaps.** :func:`detect_gaps` walks the settled samples of one ``(venue, base, quote)`` in time
order. A settlement at ``t`` with interval ``h`` pays for ``(t - h, t]``; when that period starts
after the previous settlement, the settlements in between are missing (``uncovered / h`` of
them). Judging by the later sample's own interval means a venue moving a symbol from 8 h to 4 h
(or back) shows no false gap. A tolerance absorbs venues that stamp a few seconds late.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from pathlib import Path
from typing import Final

import pyarrow.compute as pc

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.funding.model import NANOS_PER_HOUR
from nautilus_ext.funding.model import FundingRateSample
from nautilus_ext.funding.model import convention_for
from nautilus_ext.funding.model import normalise_rate
from nautilus_ext.funding.normalise import history_intervals
from nautilus_ext.funding.normalise import positive_or_none
from nautilus_ext.funding.normalise import to_decimal

# a settlement stamped up to this late still counts as on time
GAP_TOLERANCE_NS: Final = 5 * 60 * 1_000_000_000
_OI_QUANTUM: Final = Decimal("1e-8")  # base units of a converted inverse open interest


def funding_venue_of_key_venue(key_venue: str) -> str:
    """Return the funding venue of a canonical key's venue (``BINANCE-FUTURES`` -> ``BINANCE``)."""
    venue = key_venue.upper().split("-")[0]
    convention_for(venue)
    return venue


def samples_from_tardis(path: str | Path) -> list[FundingRateSample]:
    """
    Return the settled funding samples of one Tardis ``derivative_ticker`` CSV (plain or .gz).

    Raises
    ------
    InvalidConfig
        If the file is not a derivative_ticker file, has no ``funding_timestamp`` column, names
        a venue with no recorded funding convention, or holds a malformed value.
    """
    from nautilus_ext.catalogs.tardis import DERIVATIVE_TICKER
    from nautilus_ext.catalogs.tardis import scan_tardis_csv

    scan = scan_tardis_csv(path)
    if scan.kind != DERIVATIVE_TICKER:
        raise InvalidConfig(f"{path}: a {scan.kind} file, not derivative_ticker", details={"file": str(path)})
    table = scan.table
    if "funding_timestamp" not in table.column_names:
        raise InvalidConfig(f"{path}: derivative_ticker file lacks funding_timestamp")
    venue = funding_venue_of_key_venue(scan.symbol.key.venue)
    scale = 1 if scan.nanosecond_timestamps else 1_000
    stamps = [
        int(v) * scale if v is not None else None
        for v in pc.cast(table.column("timestamp"), "int64").to_pylist()
    ]
    funding_ts = [
        int(v) * scale if v not in (None, "") else None for v in table.column("funding_timestamp").to_pylist()
    ]

    def column(name: str) -> list[str | None]:
        return table.column(name).to_pylist() if name in table.column_names else [None] * table.num_rows

    rates, predicted = column("funding_rate"), column("predicted_funding_rate")
    marks, indexes, ois = column("mark_price"), column("index_price"), column("open_interest")
    last_row: dict[int, int] = {}  # funding time -> index of the last row quoting it
    reached: set[int] = set()
    for i, t in enumerate(funding_ts):
        if t is None or rates[i] in (None, ""):
            continue
        last_row[t] = i
        stamp = stamps[i]
        if stamp is not None and stamp >= t:
            reached.add(t)
    latest = max(last_row, default=0)  # every earlier funding time was rolled past
    times = sorted(t for t in last_row if t in reached or t < latest)
    intervals = history_intervals(times, convention_for(venue).default_interval_hours)
    key = scan.symbol.key
    samples = []
    for t, hours in zip(times, intervals, strict=True):
        i = last_row[t]
        rate = to_decimal(rates[i])
        if rate is None:
            raise InvalidConfig(f"{path}:{i + 2}: funding_rate {rates[i]!r} is not a number")
        pred = to_decimal(predicted[i])
        mark, oi = positive_or_none(marks[i]), to_decimal(ois[i])
        if scan.symbol.inverse and oi is not None:
            # inverse contracts count open interest in quote (USD) contracts: base = USD / mark
            oi = (oi / mark).quantize(_OI_QUANTUM, rounding=ROUND_HALF_EVEN) if mark is not None else None
        samples.append(
            FundingRateSample(
                venue=venue,
                instrument_key=str(key),
                base=scan.symbol.base,
                quote=scan.symbol.quote,
                rate=normalise_rate(venue, rate),
                interval_hours=hours,
                ts_ns=t,
                predicted_rate=None if pred is None else normalise_rate(venue, pred),
                mark_price=mark,
                index_price=positive_or_none(indexes[i]),
                open_interest=oi,
                settled=True,
            )
        )
    return samples


@dataclass(frozen=True, slots=True)
class FundingGap:
    """Settlements missing between two recorded funding times of one series."""

    venue: str
    base: str
    quote: str
    after_ns: int  # the last funding time recorded before the gap
    before_ns: int  # the first funding time recorded after it
    missing: int  # how many settlements the interval implies are missing
    interval_hours: Decimal

    @property
    def first_missing_ns(self) -> int:
        """The first funding time that should have been recorded."""
        return self.after_ns + int(self.interval_hours * NANOS_PER_HOUR)


def detect_gaps(
    samples: Iterable[FundingRateSample], *, tolerance_ns: int = GAP_TOLERANCE_NS
) -> list[FundingGap]:
    """
    Return the gaps in the settled samples of each ``(venue, base, quote)`` series.

    Unsettled (indicative) samples are ignored; each settled sample covers the interval before
    its funding time, and the time no sample covers is reported.
    """
    series: dict[tuple[str, str, str], list[FundingRateSample]] = {}
    for s in samples:
        if s.settled:
            series.setdefault((s.venue, s.base, s.quote), []).append(s)
    gaps: list[FundingGap] = []
    for (venue, base, quote), rows in sorted(series.items()):
        rows.sort(key=lambda s: s.ts_ns)
        for prev, nxt in itertools.pairwise(rows):
            step = int(nxt.interval_hours * NANOS_PER_HOUR)
            # ``nxt`` pays for (nxt.ts - interval, nxt.ts]; anything between prev and that is unpaid
            uncovered = nxt.ts_ns - step - prev.ts_ns
            if step <= 0 or uncovered <= tolerance_ns:
                continue
            missing = max(1, (uncovered + tolerance_ns) // step)
            gaps.append(
                FundingGap(venue, base, quote, prev.ts_ns, nxt.ts_ns, int(missing), nxt.interval_hours)
            )
    return gaps


__all__ = [
    "GAP_TOLERANCE_NS",
    "FundingGap",
    "detect_gaps",
    "funding_venue_of_key_venue",
    "samples_from_tardis",
]
