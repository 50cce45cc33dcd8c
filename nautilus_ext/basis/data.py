"""
Hourly market inputs of the basis engine and their on-disk format (seed 003 decisions 19, 20, 32).

On disk (day-chunked Parquet, like the project's other clusters)::

    <root>/<table>/date=YYYY-MM-DD/part-0.parquet

Tables and columns (decimals are stored as exact decimal strings; ``ts`` is a UTC timestamp on
the hour, ``timestamp[ns, tz=UTC]``):

=================  ==========================================================================
``spot``           ``ts, asset, price``: ETH/BTC spot in USD (Binance USDT spot close, #20)
``perp``           ``ts, venue, asset, mark_price, funding_rate``: per-exchange perpetual mark
                   (#14); ``funding_rate`` is the rate *settled at* ``ts`` (null otherwise)
``aave``           ``ts, reserve, liquidity_index, variable_borrow_index``: AAVE v3 reserve
                   indices as ray integers (``USDT``, ``WETH``, ``WEETH``, ``WSTETH``)
``oracle``         ``ts, lst, rate``: AAVE oracle LST/ETH rate (``WEETH``, ``WSTETH``)
``gas``            ``ts, gas_price_gwei``: effective gas price
``token_price``    ``ts, token, price``: reward token prices in USD (``EIGEN``, ``ETHFI``)
``distributions``  ``payout_ts, token, period_start, period_end, rate_per_lst``: discrete
                   reward payouts (#9, #18), chunked by payout day
=================  ==========================================================================

:func:`build_market_data` turns the tables into aligned hourly series for a period and fails
with :class:`~nautilus_ext.errors.InvalidConfig` naming every series a mode needs but the data
lacks (a missing hour, venue, reserve or reward schedule).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.onchain.calculators.staking import RewardDistribution
from nautilus_ext.onchain.calculators.staking import RewardToken

HOUR: Final = timedelta(hours=1)
_TS = pa.timestamp("ns", tz="UTC")
TABLE_SCHEMAS: Final[dict[str, pa.Schema]] = {
    "spot": pa.schema([("ts", _TS), ("asset", pa.string()), ("price", pa.string())]),
    "perp": pa.schema(
        [
            ("ts", _TS),
            ("venue", pa.string()),
            ("asset", pa.string()),
            ("mark_price", pa.string()),
            ("funding_rate", pa.string()),
        ]
    ),
    "aave": pa.schema(
        [
            ("ts", _TS),
            ("reserve", pa.string()),
            ("liquidity_index", pa.string()),
            ("variable_borrow_index", pa.string()),
        ]
    ),
    "oracle": pa.schema([("ts", _TS), ("lst", pa.string()), ("rate", pa.string())]),
    "gas": pa.schema([("ts", _TS), ("gas_price_gwei", pa.string())]),
    "token_price": pa.schema([("ts", _TS), ("token", pa.string()), ("price", pa.string())]),
    "distributions": pa.schema(
        [
            ("payout_ts", _TS),
            ("token", pa.string()),
            ("period_start", _TS),
            ("period_end", _TS),
            ("rate_per_lst", pa.string()),
        ]
    ),
}
_DAY_COLUMN: Final = {name: ("payout_ts" if name == "distributions" else "ts") for name in TABLE_SCHEMAS}

Rows = list[dict[str, Any]]


def parse_day(text: str) -> datetime:
    """Parse ``YYYY-MM-DD`` (or an ISO timestamp) as UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidConfig(f"date {text!r} is not ISO (YYYY-MM-DD)") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def hour_grid(start: datetime, end: datetime) -> list[datetime]:
    """Return the hours in ``[start, end)`` (both on the hour, decision 5)."""
    if start.minute or start.second or start.microsecond or end.minute or end.second:
        raise InvalidConfig(f"period {start} .. {end} must start and end on the hour")
    if end <= start:
        raise InvalidConfig(f"period end {end} must be after start {start}")
    hours = []
    t = start
    while t < end:
        hours.append(t)
        t += HOUR
    return hours


def to_ns(t: datetime) -> int:
    """UNIX nanoseconds of an aware datetime."""
    return int(t.timestamp()) * 1_000_000_000


# -- on-disk format ---------------------------------------------------------------------------


def write_tables(root: str | Path, tables: Mapping[str, Rows]) -> list[Path]:
    """
    Write tables day-chunked under ``root`` (replacing existing day files).

    Returns
    -------
    list[Path]
        The files written.
    """
    written: list[Path] = []
    base = Path(root)
    for name, rows in tables.items():
        if name not in TABLE_SCHEMAS:
            raise InvalidConfig(f"unknown table {name!r} (known: {', '.join(TABLE_SCHEMAS)})")
        by_day: dict[str, Rows] = defaultdict(list)
        for row in rows:
            by_day[row[_DAY_COLUMN[name]].strftime("%Y-%m-%d")].append(row)
        schema = TABLE_SCHEMAS[name]
        for day, day_rows in sorted(by_day.items()):
            folder = base / name / f"date={day}"
            folder.mkdir(parents=True, exist_ok=True)
            columns = {
                c: [
                    None if r.get(c) is None else (r[c] if isinstance(r[c], datetime) else str(r[c]))
                    for r in day_rows
                ]
                for c in schema.names
            }
            table = pa.table(columns, schema=schema)
            target = folder / "part-0.parquet"
            tmp = folder / ".part-0.parquet.tmp"
            pq.write_table(table, tmp)
            tmp.replace(target)
            written.append(target)
    return written


def read_tables(root: str | Path, start: datetime, end: datetime) -> dict[str, Rows]:
    """
    Read every table's day files overlapping ``[start, end)`` (distributions: all days, since a
    payout's earning period reaches back before it).
    """
    base = Path(root)
    if not base.is_dir():
        raise InvalidConfig(f"basis data directory {base} does not exist (run `nautilus-ext basis generate`)")
    first = (start - timedelta(days=1)).strftime("%Y-%m-%d")
    last = end.strftime("%Y-%m-%d")
    out: dict[str, Rows] = {}
    for name, schema in TABLE_SCHEMAS.items():
        rows: Rows = []
        folder = base / name
        if folder.is_dir():
            for day_dir in sorted(folder.glob("date=*")):
                day = day_dir.name.removeprefix("date=")
                if name != "distributions" and not first <= day <= last:
                    continue
                for file in sorted(day_dir.glob("*.parquet")):
                    table = pq.read_table(file, schema=schema)
                    rows.extend(table.to_pylist())
        out[name] = rows
    return out


# -- the engine's view ------------------------------------------------------------------------


@dataclass(slots=True)
class MarketData:
    """
    Aligned hourly series for one period.

    Attributes
    ----------
    hours : list[datetime]
        The hour grid ``[start, end)``.
    spot : dict[str, list[Decimal]]
        Asset -> USD price.
    perp_mark : dict[tuple[str, str], list[Decimal]]
        ``(venue, asset)`` -> mark price.
    funding_rate : dict[tuple[str, str], list[Decimal | None]]
        ``(venue, asset)`` -> rate settled at that hour, or ``None``.
    liquidity_index, borrow_index : dict[str, list[int]]
        AAVE reserve -> index (ray) per hour.
    oracle : dict[str, list[Decimal]]
        LST -> ETH per LST.
    gas_price_gwei : list[Decimal]
    token_price : dict[str, list[Decimal]]
        Reward token -> USD.
    distributions : list[RewardDistribution]
        Discrete reward payouts (any time; the engine pays those inside the period).
    """

    hours: list[datetime]
    spot: dict[str, list[Decimal]] = field(default_factory=dict)
    perp_mark: dict[tuple[str, str], list[Decimal]] = field(default_factory=dict)
    funding_rate: dict[tuple[str, str], list[Decimal | None]] = field(default_factory=dict)
    liquidity_index: dict[str, list[int]] = field(default_factory=dict)
    borrow_index: dict[str, list[int]] = field(default_factory=dict)
    oracle: dict[str, list[Decimal]] = field(default_factory=dict)
    gas_price_gwei: list[Decimal] = field(default_factory=list)
    token_price: dict[str, list[Decimal]] = field(default_factory=dict)
    distributions: list[RewardDistribution] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Requirements:
    """
    The series a run needs (derived from the effective configuration).

    Attributes
    ----------
    spot_assets : tuple[str, ...]
    perps : tuple[tuple[str, str], ...]
        ``(venue, asset)`` pairs.
    reserves : tuple[str, ...]
        AAVE reserves.
    oracles : tuple[str, ...]
        LSTs.
    gas : bool
    reward_tokens : tuple[str, ...]
        Tokens whose distributions and prices the rewards mode needs.
    """

    spot_assets: tuple[str, ...] = ()
    perps: tuple[tuple[str, str], ...] = ()
    reserves: tuple[str, ...] = ()
    oracles: tuple[str, ...] = ()
    gas: bool = False
    reward_tokens: tuple[str, ...] = ()


def _dec(value: Any, series: str) -> Decimal:
    try:
        out = Decimal(str(value))
    except ArithmeticError:
        raise InvalidConfig(f"series {series}: {value!r} is not a decimal") from None
    if not out.is_finite():
        raise InvalidConfig(f"series {series}: {value!r} is not finite")
    return out


def _aligned(
    rows: Iterable[tuple[datetime, Any]], grid: dict[datetime, int], series: str, missing: list[str]
) -> list[Any] | None:
    values: list[Any] = [None] * len(grid)
    for ts, value in rows:
        i = grid.get(ts)
        if i is not None:
            values[i] = value
    gaps = [i for i, v in enumerate(values) if v is None]
    if gaps:
        hours = list(grid)
        missing.append(
            f"{series} ({len(gaps)} of {len(grid)} hours missing, first {hours[gaps[0]].isoformat()})"
        )
        return None
    return values


def build_market_data(
    tables: Mapping[str, Rows], start: datetime, end: datetime, needs: Requirements
) -> MarketData:
    """
    Align the tables on the hour grid ``[start, end)`` and check every required series.

    Raises
    ------
    InvalidConfig
        Naming every missing series (and its first missing hour).
    """
    hours = hour_grid(start, end)
    grid = {h: i for i, h in enumerate(hours)}
    data = MarketData(hours=hours)
    missing: list[str] = []
    spot_rows: dict[str, list[tuple[datetime, Any]]] = defaultdict(list)
    for r in tables.get("spot", []):
        spot_rows[r["asset"]].append((r["ts"], r["price"]))
    for asset in needs.spot_assets:
        values = _aligned(spot_rows.get(asset, []), grid, f"spot/{asset}", missing)
        if values is not None:
            data.spot[asset] = [_dec(v, f"spot/{asset}") for v in values]
    perp_rows: dict[tuple[str, str], list[tuple[datetime, Any]]] = defaultdict(list)
    for r in tables.get("perp", []):
        perp_rows[(r["venue"], r["asset"])].append((r["ts"], (r["mark_price"], r["funding_rate"])))
    for key in needs.perps:
        name = f"perp/{key[0]}/{key[1]}"
        values = _aligned(perp_rows.get(key, []), grid, name, missing)
        if values is not None:
            data.perp_mark[key] = [_dec(m, name) for m, _ in values]
            data.funding_rate[key] = [None if f is None else _dec(f, name) for _, f in values]
    aave_rows: dict[str, list[tuple[datetime, Any]]] = defaultdict(list)
    for r in tables.get("aave", []):
        aave_rows[r["reserve"]].append((r["ts"], (r["liquidity_index"], r["variable_borrow_index"])))
    for reserve in needs.reserves:
        values = _aligned(aave_rows.get(reserve, []), grid, f"aave/{reserve}", missing)
        if values is not None:
            data.liquidity_index[reserve] = [int(li) for li, _ in values]
            data.borrow_index[reserve] = [int(bi) for _, bi in values]
    oracle_rows: dict[str, list[tuple[datetime, Any]]] = defaultdict(list)
    for r in tables.get("oracle", []):
        oracle_rows[r["lst"]].append((r["ts"], r["rate"]))
    for lst in needs.oracles:
        values = _aligned(oracle_rows.get(lst, []), grid, f"oracle/{lst}", missing)
        if values is not None:
            data.oracle[lst] = [_dec(v, f"oracle/{lst}") for v in values]
    if needs.gas:
        values = _aligned(
            ((r["ts"], r["gas_price_gwei"]) for r in tables.get("gas", [])), grid, "gas", missing
        )
        if values is not None:
            data.gas_price_gwei = [_dec(v, "gas") for v in values]
    price_rows: dict[str, list[tuple[datetime, Any]]] = defaultdict(list)
    for r in tables.get("token_price", []):
        price_rows[r["token"]].append((r["ts"], r["price"]))
    for token in needs.reward_tokens:
        values = _aligned(price_rows.get(token, []), grid, f"token_price/{token}", missing)
        if values is not None:
            data.token_price[token] = [_dec(v, f"token_price/{token}") for v in values]
        schedule = [r for r in tables.get("distributions", []) if r["token"] == token]
        first = min((r["period_start"] for r in schedule), default=None)
        covered = max((r["period_end"] for r in schedule), default=None)
        if first is None or covered is None or first > start or covered < end:
            span = f"{first.isoformat()} .. {covered.isoformat()}" if first and covered else "none"
            missing.append(
                f"distributions/{token} (earning periods must cover {start.isoformat()} .. "
                f"{end.isoformat()}; the schedule covers {span})"
            )
            continue
        for r in schedule:
            data.distributions.append(
                RewardDistribution(
                    token=RewardToken(token),
                    payout_ns=to_ns(r["payout_ts"]),
                    period_start_ns=to_ns(r["period_start"]),
                    period_end_ns=to_ns(r["period_end"]),
                    rate_per_lst=_dec(r["rate_per_lst"], f"distributions/{token}"),
                )
            )
    if missing:
        raise InvalidConfig("missing market data: " + "; ".join(missing))
    return data


__all__ = [
    "HOUR",
    "TABLE_SCHEMAS",
    "MarketData",
    "Requirements",
    "Rows",
    "build_market_data",
    "hour_grid",
    "parse_day",
    "read_tables",
    "to_ns",
    "write_tables",
]
