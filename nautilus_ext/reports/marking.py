"""
A run's PnL over time in one currency: account balances marked to the quote currency.

A Nautilus account report lists each currency's balance on its own (``1000000 USDT`` and
``10 BTC``): plotted on one axis, the large balance hides the small one, and neither is PnL.
:func:`pnl_curve` turns them into one series in the report currency (the most common quote
currency of the run's instruments):

``equity(t) = sum over venues and currencies of balance(t) * mark(t)
+ unrealised PnL of open derivative positions at t``, and ``PnL(t) = equity(t) - equity(start)``.

The mark of a currency is the latest price the run observed for an instrument quoting it in
the report currency (arrival mids, fills and end mids of the run's orders; nothing is
invented between them). Derivative positions (perpetuals, futures: their PnL is not in the
balances until realised) are rebuilt from the fills, average-cost, and marked the same way.
Currencies without any observed price, and inverse contracts, are listed as unmarked and left
out, never valued at zero.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.reports.display import InstrumentDisplay
from nautilus_ext.reports.display import lookup


@dataclass(slots=True)
class PnlCurve:
    """PnL over time in one currency (see the module docstring)."""

    currency: str | None
    ts_ns: list[int] = field(default_factory=list)
    total: list[Decimal] = field(default_factory=list)
    by_venue: dict[str, list[Decimal]] = field(default_factory=dict)
    unmarked: list[str] = field(default_factory=list)


class _Marks:
    # the observed prices of each instrument (and each currency in the report currency)
    def __init__(self) -> None:
        self._series: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)

    def add(self, name: str, ts_ns: int, value: Decimal | None) -> None:
        if value is not None and value > 0:
            self._series[name].append((ts_ns, value))

    def freeze(self) -> None:
        for series in self._series.values():
            series.sort(key=lambda p: p[0])

    def has(self, name: str) -> bool:
        return bool(self._series.get(name))

    def at(self, name: str, ts_ns: int) -> Decimal | None:
        # the latest observation at or before ts, else the first one (the value at the start)
        series = self._series.get(name)
        if not series:
            return None
        index = bisect.bisect_right(series, ts_ns, key=lambda p: p[0]) - 1
        return series[max(index, 0)][1]


def report_currency(instruments: Mapping[str, InstrumentDisplay]) -> str | None:
    """Return the most common quote currency of the instruments (``None`` without any)."""
    quotes = Counter(i.quote for i in set(instruments.values()) if i.quote)
    return None if not quotes else sorted(quotes.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def _balance_series(account_reports: Mapping[str, Any]) -> dict[tuple[str, str], list[tuple[int, Decimal]]]:
    series: dict[tuple[str, str], list[tuple[int, Decimal]]] = {}
    for venue, report in sorted(account_reports.items()):
        if report is None or len(report) == 0:
            continue
        stamps = report.index.to_numpy(dtype="datetime64[ns]").astype("int64")
        for ts, currency, total in zip(stamps, report["currency"], report["total"], strict=True):
            series.setdefault((venue, str(currency)), []).append((int(ts), Decimal(str(total))))
    for points in series.values():
        points.sort(key=lambda p: p[0])
    return series


def _value_at(points: list[tuple[int, Decimal]], ts_ns: int) -> Decimal:
    index = bisect.bisect_right(points, ts_ns, key=lambda p: p[0]) - 1
    return points[index][1] if index >= 0 else points[0][1]


def pnl_curve(
    account_reports: Mapping[str, Any],
    results: list[ExecutionResult],
    instruments: Mapping[str, InstrumentDisplay],
) -> PnlCurve:
    """Return the run's PnL over time in its report currency (see the module docstring)."""
    currency = report_currency(instruments)
    curve = PnlCurve(currency=currency)
    balances = _balance_series(account_reports)
    if currency is None or not balances:
        curve.unmarked = sorted({c for _, c in balances})
        return curve
    marks = _Marks()
    fills: list[tuple[int, str, InstrumentDisplay, Decimal, Decimal]] = []
    stamps: set[int] = {ts for points in balances.values() for ts, _ in points}
    for r in results:
        info = lookup(instruments, r.nautilus_instrument_id, r.instrument_key)
        if info is None:
            continue
        name = str(r.nautilus_instrument_id or r.instrument_key)
        observed = [(r.ts_decision_ns, r.arrival_mid)]
        observed += [(f.ts_ns, f.price) for f in r.fills]
        if r.fills:
            observed.append((max(f.ts_ns for f in r.fills), r.end_mid))
        for ts, value in observed:
            marks.add(name, ts, value)
            if info.quote == currency and info.base and not info.inverse:
                marks.add(f"ccy:{info.base}", ts, value)
            stamps.add(ts)
        if info.derivative and not info.inverse:
            sign = Decimal(1) if r.side in ("BUY", "LAY") else Decimal(-1)
            fills += [(f.ts_ns, name, info, sign * f.quantity, f.price) for f in r.fills]
    marks.freeze()
    fills.sort(key=lambda f: f[0])
    unmarked = sorted(
        {c for _, c in balances if c != currency and not marks.has(f"ccy:{c}")}
        | {i.quote for i in instruments.values() if i.derivative and i.quote and i.quote != currency}
        | {f"{i.base} (inverse contracts)" for i in instruments.values() if i.inverse and i.base}
    )
    curve.unmarked = unmarked
    positions: dict[str, tuple[Decimal, Decimal]] = {}  # name -> (signed qty, average cost)
    infos: dict[str, InstrumentDisplay] = {}
    next_fill = 0
    start: dict[str, Decimal] = {}
    for ts in sorted(stamps):
        while next_fill < len(fills) and fills[next_fill][0] <= ts:
            _, name, info, qty, px = fills[next_fill]
            positions[name] = _apply(positions.get(name, (Decimal(0), Decimal(0))), qty, px)
            infos[name] = info
            next_fill += 1
        by_venue: dict[str, Decimal] = defaultdict(Decimal)
        for (venue, ccy), points in balances.items():
            rate = Decimal(1) if ccy == currency else marks.at(f"ccy:{ccy}", ts)
            if rate is not None:
                by_venue[venue] += _value_at(points, ts) * rate
        for name, (qty, cost) in positions.items():
            info = infos[name]
            mark = marks.at(name, ts)
            if qty and mark is not None and info.quote == currency:
                by_venue[_venue_of(name, balances)] += qty * (mark - cost) * info.multiplier
        for venue, equity in by_venue.items():
            start.setdefault(venue, equity)
        curve.ts_ns.append(ts)
        for venue in sorted(start):
            curve.by_venue.setdefault(venue, [Decimal(0)] * (len(curve.ts_ns) - 1)).append(
                by_venue.get(venue, start[venue]) - start[venue]
            )
        curve.total.append(sum((values[-1] for values in curve.by_venue.values()), Decimal(0)))
    return curve


def _apply(position: tuple[Decimal, Decimal], qty: Decimal, px: Decimal) -> tuple[Decimal, Decimal]:
    held, cost = position
    if held == 0 or (held > 0) == (qty > 0):
        total = held + qty
        return total, (abs(held) * cost + abs(qty) * px) / abs(total)
    remaining = held + qty
    if remaining == 0:
        return Decimal(0), Decimal(0)
    if (remaining > 0) == (held > 0):
        return remaining, cost  # partly closed: the rest keeps its cost
    return remaining, px  # flipped: the remainder opened at this price


def _venue_of(name: str, balances: Mapping[tuple[str, str], Any]) -> str:
    # a Nautilus instrument id ends with its (simulated) venue, which names its account report
    venue = name.rsplit(".", 1)[-1]
    venues = {v for v, _ in balances}
    return venue if venue in venues else sorted(venues)[0]


__all__ = ["PnlCurve", "pnl_curve", "report_currency"]
