"""
Loaders from the sources a user has into the basis data tables (:mod:`nautilus_ext.basis.data`).

CSV exports (header row required; ``timestamp`` is ISO 8601, UTC when no offset is given, or
UNIX seconds/milliseconds/microseconds as an integer; numbers are read as exact decimals):

=====================  ===============================================================  ==========
file                   columns                                                          to hourly
=====================  ===============================================================  ==========
spot                   ``timestamp, asset, price`` (e.g. Binance 1h klines' close)      last value
AAVE reserves          ``timestamp, reserve, liquidity_index, variable_borrow_index``   linear
                       (ray integers, as ``Pool.getReserveData`` returns them)
oracle                 ``timestamp, lst, rate`` (ETH per LST, AAVE oracle; daily ok)    linear (#20)
gas                    ``timestamp, gas_price_gwei``                                     last value
token prices           ``timestamp, token, price`` (USD)                                 last value
distributions          ``token, payout_timestamp, period_start, period_end,``           as is (#18)
                       ``rate_per_lst``
=====================  ===============================================================  ==========

CEX marks and funding come from Tardis ``derivative_ticker`` CSVs (one exchange/symbol per
file, plain or gzip): the hourly mark is the last ``mark_price`` at or before each hour, and
each settled funding rate (found by the funding module's Tardis reader) is placed on the
first hour at or after its funding time. "last value" and "linear" never extrapolate: an hour
before the first observation stays missing, so the run's checks name it.
"""

from __future__ import annotations

import bisect
import csv
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from decimal import ROUND_DOWN
from decimal import Decimal
from decimal import InvalidOperation
from pathlib import Path
from typing import Any

from nautilus_ext.basis.data import HOUR
from nautilus_ext.basis.data import Rows
from nautilus_ext.basis.ledger import CONTEXT
from nautilus_ext.errors import InvalidConfig

_COLUMNS: dict[str, tuple[str, ...]] = {
    "spot": ("timestamp", "asset", "price"),
    "aave": ("timestamp", "reserve", "liquidity_index", "variable_borrow_index"),
    "oracle": ("timestamp", "lst", "rate"),
    "gas": ("timestamp", "gas_price_gwei"),
    "token_price": ("timestamp", "token", "price"),
    "distributions": ("token", "payout_timestamp", "period_start", "period_end", "rate_per_lst"),
}


def parse_timestamp(text: str, where: str) -> datetime:
    """Parse an ISO 8601 or UNIX (s/ms/us) timestamp as an aware UTC datetime."""
    value = text.strip()
    if value.lstrip("-").isdigit():
        n = int(value)
        seconds = n / 1_000_000 if n > 10**14 else n / 1000 if n > 10**11 else float(n)
        return datetime.fromtimestamp(seconds, tz=UTC)
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidConfig(f"{where}: timestamp {value!r} is neither ISO 8601 nor UNIX time") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _number(text: str, where: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidConfig(f"{where}: {text!r} is not a number") from None
    if not value.is_finite():
        raise InvalidConfig(f"{where}: {text!r} is not finite")
    return value


def read_csv_export(path: str | Path, kind: str) -> list[dict[str, str]]:
    """Read one CSV export, checking its header has the documented columns."""
    p = Path(path)
    if kind not in _COLUMNS:
        raise InvalidConfig(f"unknown CSV export kind {kind!r} (known: {', '.join(_COLUMNS)})")
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in _COLUMNS[kind] if c not in header]
            if missing:
                raise InvalidConfig(
                    f"{p}: a {kind} export needs columns {', '.join(missing)} (has {', '.join(header)})"
                )
            return list(reader)
    except OSError as e:
        raise InvalidConfig(f"{p}: cannot read ({e.strerror or type(e).__name__})") from None


def _hourly(
    points: list[tuple[datetime, Any]],
    hours: list[datetime],
    how: str,
    combine: Callable[[Any, Any, Decimal], Any],
) -> list[tuple[datetime, Any]]:
    points = sorted(points, key=lambda p: p[0])
    stamps = [p[0] for p in points]
    out: list[tuple[datetime, Any]] = []
    for h in hours:
        i = bisect.bisect_right(stamps, h) - 1
        if i < 0:
            continue
        t0, v0 = points[i]
        if t0 == h or how == "last":
            out.append((h, v0))
        elif i + 1 < len(points):
            t1, v1 = points[i + 1]
            w = Decimal((h - t0).total_seconds()) / Decimal((t1 - t0).total_seconds())
            out.append((h, combine(v0, v1, w)))
    return out


def _lerp(a: Decimal, b: Decimal, w: Decimal) -> Decimal:
    return CONTEXT.add(a, CONTEXT.multiply(CONTEXT.subtract(b, a), w)).quantize(
        Decimal("1e-18"), rounding=ROUND_DOWN, context=CONTEXT
    )


def _lerp_pair(a: tuple[int, int], b: tuple[int, int], w: Decimal) -> tuple[int, int]:
    return (
        int(Decimal(a[0]) + (Decimal(b[0]) - Decimal(a[0])) * w),
        int(Decimal(a[1]) + (Decimal(b[1]) - Decimal(a[1])) * w),
    )


def tables_from_csv(kind: str, path: str | Path, hours: list[datetime]) -> Rows:
    """
    Load one CSV export into rows of the table of the same name, resampled to ``hours``.

    Raises
    ------
    InvalidConfig
        Naming the file, line and column of a bad value or a missing column.
    """
    rows = read_csv_export(path, kind)
    p = Path(path)
    if kind == "distributions":
        out: Rows = []
        for n, r in enumerate(rows, start=2):
            where = f"{p} line {n}"
            out.append(
                {
                    "payout_ts": parse_timestamp(r["payout_timestamp"], where),
                    "token": r["token"].strip().upper(),
                    "period_start": parse_timestamp(r["period_start"], where),
                    "period_end": parse_timestamp(r["period_end"], where),
                    "rate_per_lst": _number(r["rate_per_lst"], where),
                }
            )
        return out
    key_column = {"spot": "asset", "aave": "reserve", "oracle": "lst", "token_price": "token", "gas": None}[
        kind
    ]
    groups: dict[str, list[tuple[datetime, Any]]] = defaultdict(list)
    for n, r in enumerate(rows, start=2):
        where = f"{p} line {n}"
        ts = parse_timestamp(r["timestamp"], where)
        key = "" if key_column is None else r[key_column].strip().upper()
        if kind == "aave":
            try:
                value: Any = (int(r["liquidity_index"]), int(r["variable_borrow_index"]))
            except ValueError:
                raise InvalidConfig(f"{where}: AAVE indices must be ray integers") from None
        else:
            column = {"spot": "price", "oracle": "rate", "token_price": "price", "gas": "gas_price_gwei"}[
                kind
            ]
            value = _number(r[column], f"{where} column {column}")
        groups[key].append((ts, value))
    out = []
    for key, points in groups.items():
        if kind == "aave":
            for h, (li, bi) in _hourly(points, hours, "linear", _lerp_pair):
                out.append({"ts": h, "reserve": key, "liquidity_index": li, "variable_borrow_index": bi})
        elif kind == "oracle":
            for h, v in _hourly(points, hours, "linear", _lerp):
                out.append({"ts": h, "lst": key, "rate": v})
        elif kind == "spot":
            out += [{"ts": h, "asset": key, "price": v} for h, v in _hourly(points, hours, "last", _lerp)]
        elif kind == "token_price":
            out += [{"ts": h, "token": key, "price": v} for h, v in _hourly(points, hours, "last", _lerp)]
        else:
            out += [{"ts": h, "gas_price_gwei": v} for h, v in _hourly(points, hours, "last", _lerp)]
    return out


def perp_rows_from_tardis(path: str | Path, hours: list[datetime]) -> Rows:
    """
    Hourly ``perp`` rows (mark and settled funding) of one Tardis ``derivative_ticker`` file.

    The venue is the canonical venue code of the file's exchange (``BINANCE-FUTURES``,
    ``BYBIT``, ``OKX`` ...), the asset its base (``ETH``).
    """
    from nautilus_ext.catalogs.tardis import DERIVATIVE_TICKER
    from nautilus_ext.catalogs.tardis import scan_tardis_csv
    from nautilus_ext.funding.history import samples_from_tardis

    scan = scan_tardis_csv(path)
    if scan.kind != DERIVATIVE_TICKER:
        raise InvalidConfig(f"{path}: a {scan.kind} file, not derivative_ticker")
    venue = scan.symbol.key.venue
    asset = scan.symbol.base
    table = scan.table
    scale = 1 if scan.nanosecond_timestamps else 1_000
    stamps = [int(v) * scale for v in table.column("timestamp").to_pylist()]
    marks = table.column("mark_price").to_pylist()
    points = [
        (datetime.fromtimestamp(ns / 1e9, tz=UTC), _number(str(m), f"{path} mark_price"))
        for ns, m in zip(stamps, marks, strict=True)
        if m not in (None, "")
    ]
    funding: dict[datetime, Decimal] = {}
    for sample in samples_from_tardis(path):
        t = datetime.fromtimestamp(sample.ts_ns // 1_000_000_000, tz=UTC)
        hour = t.replace(minute=0, second=0, microsecond=0)
        if hour < t:
            hour += HOUR
        funding[hour] = funding.get(hour, Decimal(0)) + sample.rate
    return [
        {"ts": h, "venue": venue, "asset": asset, "mark_price": m, "funding_rate": funding.get(h)}
        for h, m in _hourly(points, hours, "last", _lerp)
    ]


def spot_rows_from_tardis_trades(path: str | Path, hours: list[datetime]) -> Rows:
    """
    Hourly ``spot`` rows from a Tardis ``trades`` CSV of a spot market (e.g. Binance ETHUSDT):
    the last trade price at or before each hour (decision 20: the spot the perps are compared to).

    Raises
    ------
    InvalidConfig
        If the file is not a trades file or not of a spot market.
    """
    from nautilus_ext.catalogs.tardis import TRADES
    from nautilus_ext.catalogs.tardis import scan_tardis_csv
    from nautilus_ext.instruments.enums import InstrumentType

    scan = scan_tardis_csv(path)
    if scan.kind != TRADES:
        raise InvalidConfig(f"{path}: a {scan.kind} file, not trades")
    if scan.symbol.key.instrument_type is not InstrumentType.SPOT_PAIR:
        raise InvalidConfig(
            f"{path}: {scan.symbol.key} is not a spot market (perpetual marks come from derivative_ticker)"
        )
    scale = 1 if scan.nanosecond_timestamps else 1_000
    stamps = [int(v) * scale for v in scan.table.column("timestamp").to_pylist()]
    prices = scan.table.column("price").to_pylist()
    points = [
        (datetime.fromtimestamp(ns / 1e9, tz=UTC), _number(str(p), f"{path} price"))
        for ns, p in zip(stamps, prices, strict=True)
    ]
    asset = scan.symbol.base
    return [{"ts": h, "asset": asset, "price": v} for h, v in _hourly(points, hours, "last", _lerp)]


__all__ = [
    "parse_timestamp",
    "perp_rows_from_tardis",
    "read_csv_export",
    "spot_rows_from_tardis_trades",
    "tables_from_csv",
]
