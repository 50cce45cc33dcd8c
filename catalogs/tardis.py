"""
Tardis CSV (plain or gzipped) -> Nautilus catalog tables.

Supported files: ``trades``, ``incremental_book_L2``, ``book_snapshot_25``/``book_snapshot_5``
(stored as ``OrderBookDepth10``, the top 10 levels), ``quotes`` and ``derivative_ticker``
(stored as :class:`nautilus_ext.catalogs.custom.TardisDerivativeTicker` custom data).

Order book, snapshot and quote files go through NautilusTrader's ``TardisCSVDataLoader``;
trades use a vectorised path (pyarrow CSV + numpy) whose output equals the loader's row for
row (tested), and is what makes the build several times faster. Every file is first scanned
with pyarrow: the kind is detected from the header, values are validated (a bad value raises
:class:`~nautilus_ext.errors.InvalidConfig` naming the file and line), and the price/size
precisions are inferred from the decimal text. Timestamps are Tardis microseconds; a file
written in nanoseconds (seen in hand-edited samples) is detected and converted.
"""

from __future__ import annotations

import gzip
import os
import re
import tempfile
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from nautilus_ext.catalogs.fixed import decimals_from_floats
from nautilus_ext.catalogs.fixed import decimals_of
from nautilus_ext.catalogs.fixed import to_fixed_binary
from nautilus_ext.catalogs.tardis_symbols import TardisSymbol
from nautilus_ext.catalogs.tardis_symbols import resolve_tardis_symbol
from nautilus_ext.errors import InvalidConfig

TRADES: Final = "trades"
INCREMENTAL_BOOK_L2: Final = "incremental_book_L2"
BOOK_SNAPSHOT_25: Final = "book_snapshot_25"
BOOK_SNAPSHOT_5: Final = "book_snapshot_5"
QUOTES: Final = "quotes"
DERIVATIVE_TICKER: Final = "derivative_ticker"
KINDS: Final = (
    TRADES,
    INCREMENTAL_BOOK_L2,
    BOOK_SNAPSHOT_25,
    BOOK_SNAPSHOT_5,
    QUOTES,
    DERIVATIVE_TICKER,
)

_BASE_COLS: Final = ("exchange", "symbol", "timestamp", "local_timestamp")
_REQUIRED: Final = {
    TRADES: ("id", "side", "price", "amount"),
    INCREMENTAL_BOOK_L2: ("is_snapshot", "side", "price", "amount"),
    QUOTES: ("ask_amount", "ask_price", "bid_price", "bid_amount"),
    DERIVATIVE_TICKER: ("funding_rate",),
    BOOK_SNAPSHOT_5: ("asks[4].price", "bids[4].amount"),
    BOOK_SNAPSHOT_25: ("asks[24].price", "bids[24].amount"),
}
_NUMBER_RE: Final = r"^-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$"
_NS_THRESHOLD: Final = 10**17  # µs timestamps stay below this until year 5138
_TICKER_FIELDS: Final = (
    "funding_rate",
    "predicted_funding_rate",
    "open_interest",
    "last_price",
    "index_price",
    "mark_price",
)
_MAX_TRADE_ID: Final = 36  # Nautilus TradeId limit (longer or non-ASCII ids panic its Rust core)
# plausible timestamps: 2000-01-01 .. 2100-01-01, in the file's unit (Tardis µs, or ns)
_TS_MIN_US: Final = 946_684_800_000_000
_TS_MAX_US: Final = 4_102_444_800_000_000
# NautilusTrader 1.231 PRICE_MAX / QUANTITY_MAX (128-bit fixed point)
_PRICE_MAX: Final = 17_014_118_346_046.0
_QUANTITY_MAX: Final = 34_028_236_692_093.0
_SIDES: Final = {
    TRADES: ("buy", "sell", "unknown"),
    INCREMENTAL_BOOK_L2: ("bid", "ask"),
}
_BOOLEANS: Final = ("true", "false")


@dataclass
class TardisScan:
    """
    What a first pass over one Tardis file found.

    Attributes
    ----------
    path : Path
        The file.
    kind : str
        One of :data:`KINDS`.
    rows : int
        Data rows (lines after the header).
    symbol : TardisSymbol
        The instrument mapping (one symbol per file).
    price_decimals, size_decimals : int
        Decimals needed to write every price/size exactly.
    nanosecond_timestamps : bool
        Whether the file's timestamps were nanoseconds instead of Tardis microseconds.
    table : pyarrow.Table
        The parsed file (numbers as text, timestamps as int64 in the file's unit).
    """

    path: Path
    kind: str
    rows: int
    symbol: TardisSymbol
    price_decimals: int
    size_decimals: int
    nanosecond_timestamps: bool
    table: pa.Table = field(repr=False)
    numbers: dict[str, np.ndarray] = field(default_factory=dict, repr=False)


def _fail(path: Path, why: str, line: int | None = None, field_name: str | None = None) -> InvalidConfig:
    where = f"{path}:{line}" if line is not None else str(path)
    return InvalidConfig(
        f"bad Tardis file {where}: {why}",
        details={"file": str(path), "line": line, "field": field_name},
    )


def _read_header(path: Path) -> list[str]:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            header = str(f.readline()).strip()
    except (OSError, UnicodeDecodeError, EOFError) as e:
        raise _fail(path, f"cannot read header ({e})", 1) from e
    if not header:
        raise _fail(path, "empty file (no header)", 1)
    return header.split(",")


def detect_kind(columns: list[str], path: Path) -> str:
    """Return the Tardis data type of a file from its header columns."""
    cols = set(columns)
    missing_base = [c for c in _BASE_COLS if c not in cols]
    if missing_base:
        raise _fail(path, f"not a Tardis CSV: header lacks {missing_base}", 1)
    if "asks[0].price" in cols:
        return BOOK_SNAPSHOT_25 if "asks[24].price" in cols else BOOK_SNAPSHOT_5
    if "is_snapshot" in cols:
        return INCREMENTAL_BOOK_L2
    if "funding_rate" in cols:
        return DERIVATIVE_TICKER
    if "ask_price" in cols:
        return QUOTES
    if "id" in cols and "side" in cols:
        return TRADES
    raise _fail(path, f"unknown Tardis data type for header {columns[:8]}", 1)


def _price_cols(kind: str, columns: list[str]) -> tuple[list[str], list[str]]:
    if kind in (TRADES, INCREMENTAL_BOOK_L2):
        return ["price"], ["amount"]
    if kind == QUOTES:
        return ["ask_price", "bid_price"], ["ask_amount", "bid_amount"]
    if kind == DERIVATIVE_TICKER:
        return [], []
    prices = [c for c in columns if c.endswith(".price")]
    sizes = [c for c in columns if c.endswith(".amount")]
    return prices, sizes


def scan_tardis_csv(path: str | Path) -> TardisScan:
    """
    Parse and validate one Tardis CSV file.

    Raises
    ------
    InvalidConfig
        If the file is not a supported Tardis CSV, holds more than one symbol, or a value is
        malformed (the message names the file and line).
    """
    p = Path(path)
    if not p.is_file():
        raise InvalidConfig(f"Tardis input {p} does not exist", details={"file": str(p)})
    columns = _read_header(p)
    kind = detect_kind(columns, p)
    missing = [c for c in _REQUIRED[kind] if c not in columns]
    if missing:
        raise _fail(p, f"{kind} file lacks columns {missing}", 1)
    prices, sizes = _price_cols(kind, columns)
    # numbers are parsed as float64 straight from the CSV (the exact text is only needed
    # again if the float check cannot decide the precision, or to locate a bad value)
    float_cols = [] if kind == DERIVATIVE_TICKER else [*prices, *sizes]
    try:
        try:
            table = _read_csv(p, columns, float_cols)
        except pa.ArrowInvalid as e:
            if not float_cols or "conversion error" not in str(e):
                raise
            table = _read_csv(p, columns, [])  # a bad number: located below with its line
    except pa.ArrowInvalid as e:
        raise _fail(p, f"cannot parse ({_short(str(e))})", _row_from_arrow_error(str(e))) from e
    n = table.num_rows
    if n == 0:
        raise _fail(p, "no data rows", 2)
    for name in ("timestamp", "local_timestamp"):
        nulls = table.column(name).is_null()
        if pc.any(nulls).as_py():
            raise _fail(p, f"empty {name}", _first_true(nulls) + 2)
    numbers: dict[str, np.ndarray] = {}
    for name in (*prices, *sizes):
        numbers[name] = _numbers(p, table.column(name), name, kind)
    # the unit is the one most rows use: a single wrong-unit row is reported, not followed
    ns = int(np.median(table.column("timestamp").to_numpy())) >= _NS_THRESHOLD
    _check_values(p, kind, table, numbers, prices, sizes, ns)
    exchanges = pc.unique(table.column("exchange")).to_pylist()
    symbols = pc.unique(table.column("symbol")).to_pylist()
    if len(exchanges) != 1 or len(symbols) != 1 or None in exchanges + symbols:
        raise _fail(p, f"expected one exchange/symbol per file, found {exchanges} / {symbols}")
    exchange, symbol = str(exchanges[0]), str(symbols[0])
    resolved = resolve_tardis_symbol(exchange, symbol)
    return TardisScan(
        path=p,
        kind=kind,
        rows=n,
        symbol=resolved,
        price_decimals=_decimals(p, columns, table, numbers, prices),
        size_decimals=_decimals(p, columns, table, numbers, sizes),
        nanosecond_timestamps=ns,
        table=table,
        numbers=numbers,
    )


def _check_values(
    path: Path,
    kind: str,
    table: pa.Table,
    numbers: dict[str, np.ndarray],
    prices: list[str],
    sizes: list[str],
    ns: bool,
) -> None:
    """Refuse values NautilusTrader would store as nonsense or panic on (file, line, field)."""
    factor = 1000 if ns else 1
    lo, hi = _TS_MIN_US * factor, _TS_MAX_US * factor
    unit = "ns" if ns else "µs"
    for name in ("timestamp", "local_timestamp"):
        ts = np.asarray(table.column(name).to_numpy(), dtype=np.int64)
        _refuse(path, name, (ts < lo) | (ts > hi), table, f"is outside 2000..2100 (file unit {unit})")
    for name in prices:
        _refuse_numbers(path, name, numbers[name] <= 0, numbers[name], "must be positive")
        _refuse_numbers(
            path, name, numbers[name] > _PRICE_MAX, numbers[name], "is above Nautilus' price limit"
        )
    for name in sizes:
        too_big = numbers[name] > _QUANTITY_MAX
        _refuse_numbers(path, name, too_big, numbers[name], "is above Nautilus' quantity limit")
    for name in sizes:
        # a trade has a positive size; book levels and quotes use 0 for an emptied level
        bad = numbers[name] <= 0 if kind == TRADES else numbers[name] < 0
        _refuse_numbers(
            path, name, bad, numbers[name], "must be positive" if kind == TRADES else "is negative"
        )
    if kind in _SIDES:
        _refuse_text(path, table, "side", _SIDES[kind])
    if kind == INCREMENTAL_BOOK_L2:
        _refuse_text(path, table, "is_snapshot", _BOOLEANS)
    if kind == TRADES:
        ids = table.column("id")
        too_long = pc.fill_null(pc.greater(pc.binary_length(ids), _MAX_TRADE_ID), False)
        _refuse(path, "id", np.asarray(too_long), table, f"is longer than {_MAX_TRADE_ID} bytes")
        ascii_ok = pc.fill_null(pc.string_is_ascii(ids), True)
        _refuse(path, "id", ~np.asarray(ascii_ok), table, "is not ASCII")
    if kind == DERIVATIVE_TICKER:
        for name in _TICKER_FIELDS:
            if name in table.column_names:
                _check_optional_number(path, table, name)
        if "funding_timestamp" in table.column_names:
            col = table.column("funding_timestamp")
            ok = pc.fill_null(pc.match_substring_regex(col, r"^[0-9]{1,19}$"), True)
            _refuse(path, "funding_timestamp", ~np.asarray(ok), table, "is not an integer timestamp")
            values = pc.cast(pc.fill_null(col, "0"), pa.int64()).to_numpy()
            present = np.asarray(col.is_valid())
            _refuse(
                path,
                "funding_timestamp",
                present & ((values < lo) | (values > hi)),
                table,
                f"is outside 2000..2100 (file unit {unit})",
            )


def _check_optional_number(path: Path, table: pa.Table, name: str) -> None:
    col = table.column(name)
    ok = pc.fill_null(pc.match_substring_regex(col, _NUMBER_RE), True)
    _refuse(path, name, ~np.asarray(ok), table, "is not a number")
    values = pc.cast(pc.fill_null(col, "0"), pa.float64()).to_numpy(zero_copy_only=False)
    _refuse(path, name, ~np.isfinite(values), table, "is not a finite number")


def _refuse(path: Path, name: str, bad: np.ndarray, table: pa.Table, why: str) -> None:
    if np.any(bad):
        idx = int(np.flatnonzero(bad)[0])
        value = table.column(name)[idx].as_py()
        shown = value if not isinstance(value, str) or len(value) <= 40 else value[:40] + "..."
        raise _fail(path, f"{name} {shown!r} {why}", idx + 2, field_name=name)


def _refuse_numbers(path: Path, name: str, bad: np.ndarray, values: np.ndarray, why: str) -> None:
    if np.any(bad):
        idx = int(np.flatnonzero(bad)[0])
        raise _fail(path, f"{name} {values[idx]!r} {why}", idx + 2, field_name=name)


def _refuse_text(path: Path, table: pa.Table, name: str, allowed: tuple[str, ...]) -> None:
    ok = pc.fill_null(pc.is_in(table.column(name), value_set=pa.array(allowed)), False)
    _refuse(path, name, ~np.asarray(ok), table, f"is not one of {', '.join(allowed)}")


def _read_csv(path: Path, columns: list[str], float_cols: list[str]) -> pa.Table:
    types: dict[str, pa.DataType] = {c: pa.string() for c in columns}
    types.update({c: pa.float64() for c in float_cols})
    types["timestamp"] = pa.int64()
    types["local_timestamp"] = pa.int64()
    bad_rows: list[tuple[int | None, str]] = []

    def on_invalid(row: Any) -> str:
        why = f"expected {row.expected_columns} columns, got {row.actual_columns}"
        bad_rows.append((row.number, why))
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
        )
    except (OSError, EOFError) as e:
        raise _fail(path, f"cannot read ({e})") from e
    if bad_rows:
        number, why = bad_rows[0]
        raise _fail(path, why, None if number is None else number + 1)
    return table


def _decimals(
    path: Path,
    columns: list[str],
    table: pa.Table,
    numbers: dict[str, np.ndarray],
    names: list[str],
) -> int:
    best = 0
    text_table: pa.Table | None = None
    for name in names:
        found = decimals_from_floats(numbers[name])
        if found is None:
            if pa.types.is_string(table.schema.field(name).type):
                text = table.column(name)
            else:
                text_table = text_table or _read_csv(path, columns, [])
                text = text_table.column(name)
            found = decimals_of(text)
        best = max(best, found)
    return best


def _numbers(path: Path, col: pa.ChunkedArray, name: str, kind: str) -> np.ndarray:
    # float columns come parsed; text columns get one vectorised cast; on failure, the
    # first bad line is located (a value that is no number, is empty, or is not finite)
    values: pa.ChunkedArray | None
    try:
        values = pc.cast(col, pa.float64())
    except pa.ArrowInvalid:
        values = None
    if values is not None:
        arr = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)  # null -> NaN
        ok = np.isfinite(arr)
        if np.all(ok):
            return arr
    else:
        ok = np.asarray(pc.fill_null(pc.match_substring_regex(col, _NUMBER_RE), False))
    if np.all(ok):
        raise _fail(path, f"{name} holds a value that is not a number", field_name=name)
    idx = int(np.flatnonzero(~ok)[0])
    value = col[idx].as_py()
    if value is None:
        raise _fail(path, f"{name} is empty", idx + 2, field_name=name)
    shown = value if not isinstance(value, str) or len(value) <= 40 else value[:40] + "..."
    why = "is not a number" if values is None else "is not a finite number"
    raise _fail(path, f"{name} {shown!r} {why}", idx + 2, field_name=name)


def _first_true(mask: pa.ChunkedArray | pa.Array) -> int:
    return int(np.flatnonzero(np.asarray(pc.fill_null(mask, False)))[0])


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _row_from_arrow_error(message: str) -> int | None:
    m = re.search(r"Row #(\d+)", message)
    return int(m.group(1)) if m else None


def _ts_ns(scan: TardisScan, name: str) -> np.ndarray:
    ts: np.ndarray = np.asarray(scan.table.column(name).to_numpy(), dtype=np.int64)
    return ts if scan.nanosecond_timestamps else ts * 1000


# -- table builders ----------------------------------------------------------------------------


def trades_table(scan: TardisScan, price_precision: int, size_precision: int) -> pa.Table | None:
    """
    Build the ``TradeTick`` catalog table of a trades file without Python objects.

    Returns ``None`` when the file needs the NautilusTrader loader (empty or over-long trade
    ids), so the caller falls back to it.
    """
    t = scan.table
    ids = t.column("id")
    if pc.any(ids.is_null()).as_py() or pc.max(pc.utf8_length(ids)).as_py() > _MAX_TRADE_ID:
        return None
    side = t.column("side")
    aggressor = np.zeros(t.num_rows, dtype=np.uint8)
    aggressor[np.asarray(pc.fill_null(pc.equal(side, "buy"), False))] = 1
    aggressor[np.asarray(pc.fill_null(pc.equal(side, "sell"), False))] = 2
    price, size = scan.numbers["price"], scan.numbers["amount"]
    schema = pa.schema(
        [
            pa.field("price", pa.binary(16), nullable=False),
            pa.field("size", pa.binary(16), nullable=False),
            pa.field("aggressor_side", pa.uint8(), nullable=False),
            pa.field("trade_id", pa.string(), nullable=False),
            pa.field("ts_event", pa.uint64(), nullable=False),
            pa.field("ts_init", pa.uint64(), nullable=False),
        ],
        metadata={
            "instrument_id": scan.symbol.instrument_id,
            "price_precision": str(price_precision),
            "size_precision": str(size_precision),
        },
    )
    return pa.Table.from_arrays(
        [
            _fixed(scan, price, price_precision, "price"),
            _fixed(scan, size, size_precision, "amount"),
            pa.array(aggressor, type=pa.uint8()),
            ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids,
            pa.array(_ts_ns(scan, "timestamp").astype(np.uint64)),
            pa.array(_ts_ns(scan, "local_timestamp").astype(np.uint64)),
        ],
        schema=schema,
    )


def deltas_table(scan: TardisScan, price_precision: int, size_precision: int) -> pa.Table:
    """
    Build the ``OrderBookDelta`` catalog table of an incremental_book_L2 file vectorised.

    Mirrors NautilusTrader's Tardis loader (tested row for row against it): a CLEAR delta
    (flags ``F_SNAPSHOT``) opens every run of snapshot rows; snapshot rows are ADDs, other
    rows UPDATE (amount > 0) or DELETE (amount 0); ``F_LAST`` marks the last row of each
    exchange timestamp; ``ts_init`` is the local (receive) timestamp.
    """
    t = scan.table
    n = t.num_rows
    snap = np.asarray(pc.fill_null(pc.equal(t.column("is_snapshot"), "true"), False))
    is_bid = np.asarray(pc.fill_null(pc.equal(t.column("side"), "bid"), False))
    price, size = scan.numbers["price"], scan.numbers["amount"]
    ts_event = _ts_ns(scan, "timestamp")
    ts_init = _ts_ns(scan, "local_timestamp")
    action = np.where(snap, 1, np.where(size > 0, 2, 3)).astype(np.uint8)
    flags = np.zeros(n, dtype=np.uint8)
    last = np.ones(n, dtype=bool)
    last[:-1] = ts_event[1:] != ts_event[:-1]
    flags[last] = 128
    clear_before = snap.copy()
    clear_before[1:] &= ~snap[:-1]
    k = int(clear_before.sum())
    total = n + k
    pos = np.arange(n) + np.cumsum(clear_before)  # row i moves after the clears before it
    clear_pos = pos[clear_before] - 1

    def place(values: np.ndarray, clear_value: Any, dtype: Any) -> np.ndarray:
        out = np.empty(total, dtype=dtype)
        out[pos] = values
        out[clear_pos] = clear_value
        return out

    out_action = place(action, 4, np.uint8)
    out_side = place(np.where(is_bid, 1, 2).astype(np.uint8), 0, np.uint8)
    out_price = place(price, 0.0, np.float64)
    out_size = place(size, 0.0, np.float64)
    out_flags = place(flags, 32, np.uint8)
    out_ts_event = place(ts_event, ts_event[clear_before], np.int64)
    out_ts_init = place(ts_init, ts_init[clear_before], np.int64)
    schema = pa.schema(
        [
            pa.field("action", pa.uint8(), nullable=False),
            pa.field("side", pa.uint8(), nullable=False),
            pa.field("price", pa.binary(16), nullable=False),
            pa.field("size", pa.binary(16), nullable=False),
            pa.field("order_id", pa.uint64(), nullable=False),
            pa.field("flags", pa.uint8(), nullable=False),
            pa.field("sequence", pa.uint64(), nullable=False),
            pa.field("ts_event", pa.uint64(), nullable=False),
            pa.field("ts_init", pa.uint64(), nullable=False),
        ],
        metadata=_metadata(scan, price_precision, size_precision),
    )
    zeros = pa.array(np.zeros(total, dtype=np.uint64))
    return pa.Table.from_arrays(
        [
            pa.array(out_action),
            pa.array(out_side),
            _fixed(scan, out_price, price_precision, "price"),
            _fixed(scan, out_size, size_precision, "amount"),
            zeros,
            pa.array(out_flags),
            zeros,
            pa.array(out_ts_event.astype(np.uint64)),
            pa.array(out_ts_init.astype(np.uint64)),
        ],
        schema=schema,
    )


def _fixed(scan: TardisScan, values: np.ndarray, precision: int, name: str) -> pa.FixedSizeBinaryArray:
    try:
        return to_fixed_binary(values, precision)
    except ValueError as e:
        raise _fail(scan.path, f"{name}: {e} (a value is too large)", field_name=name) from e


def _metadata(scan: TardisScan, price_precision: int, size_precision: int) -> dict[str, str]:
    return {
        "instrument_id": scan.symbol.instrument_id,
        "price_precision": str(price_precision),
        "size_precision": str(size_precision),
    }


def derivative_ticker_table(scan: TardisScan) -> pa.Table:
    """Build the ``TardisDerivativeTicker`` custom-data table of a derivative_ticker file."""
    from nautilus_ext.catalogs.custom import TardisDerivativeTicker

    t = scan.table
    n = t.num_rows
    arrays: dict[str, Any] = {"instrument_id": pa.array([scan.symbol.instrument_id] * n)}
    for name in _TICKER_FIELDS:
        arrays[name] = t.column(name) if name in t.column_names else pa.nulls(n, pa.string())
    if "funding_timestamp" in t.column_names:
        raw = pc.cast(t.column("funding_timestamp"), pa.int64())
        factor = 1 if scan.nanosecond_timestamps else 1000
        arrays["funding_timestamp"] = pc.multiply(raw, factor)
    else:
        arrays["funding_timestamp"] = pa.nulls(n, pa.int64())
    arrays["type"] = pa.array(["TardisDerivativeTicker"] * n)
    arrays["ts_event"] = pa.array(_ts_ns(scan, "timestamp"))
    arrays["ts_init"] = pa.array(_ts_ns(scan, "local_timestamp"))
    schema: pa.Schema = TardisDerivativeTicker._schema
    return pa.Table.from_pydict(arrays, schema=schema)


def nautilus_objects(scan: TardisScan, price_precision: int, size_precision: int) -> list[Any]:
    """
    Load a file through NautilusTrader's ``TardisCSVDataLoader`` (legacy Cython objects).

    A nanosecond-timestamp file is first rewritten to microseconds in a temporary file (the
    Rust loader would overflow its timestamps).

    Raises
    ------
    InvalidConfig
        If the NautilusTrader loader rejects the file.
    """
    from nautilus_trader.adapters.tardis.loaders import TardisCSVDataLoader
    from nautilus_trader.model.identifiers import InstrumentId

    loader = TardisCSVDataLoader(
        price_precision=price_precision,
        size_precision=size_precision,
        instrument_id=InstrumentId.from_str(scan.symbol.instrument_id),
    )
    tmp: str | None = None
    path = str(scan.path)
    try:
        if scan.nanosecond_timestamps:
            fd, tmp = tempfile.mkstemp(suffix=".csv", prefix="tardis-us-")
            os.close(fd)
            table = scan.table
            for name in ("timestamp", "local_timestamp"):
                idx = table.column_names.index(name)
                table = table.set_column(idx, name, pc.divide(table.column(name), 1000))
            pacsv.write_csv(table, tmp, pacsv.WriteOptions(quoting_style="none"))
            path = tmp
        if scan.kind == TRADES:
            return list(loader.load_trades(path))
        if scan.kind == INCREMENTAL_BOOK_L2:
            return list(loader.load_deltas(path))
        if scan.kind == QUOTES:
            return list(loader.load_quotes(path))
        levels = 25 if scan.kind == BOOK_SNAPSHOT_25 else 5
        depths = list(loader.load_depth10(path, levels=levels))
        return depths if levels == 25 else _repad_depths(depths, price_precision, size_precision)
    except (ValueError, RuntimeError) as e:
        raise _fail(scan.path, f"NautilusTrader loader failed: {e}") from e
    except BaseException as e:
        # a Rust panic reaches Python as pyo3's PanicException, a BaseException
        if type(e).__name__ != "PanicException":
            raise
        raise _fail(scan.path, f"NautilusTrader loader panicked: {e}") from e
    finally:
        if tmp is not None:
            os.unlink(tmp)


def _repad_depths(depths: list[Any], price_precision: int, size_precision: int) -> list[Any]:
    # NautilusTrader 1.231 pads levels 6-10 of a book_snapshot_5 with precision-0 zeros, which
    # its own Arrow encoder then rejects ("Mixed metadata"): re-pad at the instrument's precision.
    from nautilus_trader.model.data import BookOrder
    from nautilus_trader.model.data import OrderBookDepth10
    from nautilus_trader.model.enums import OrderSide
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity

    pad = BookOrder(OrderSide.NO_ORDER_SIDE, Price(0, price_precision), Quantity(0, size_precision), 0)

    def fix(levels: list[Any]) -> list[Any]:
        return [pad if lv.side == OrderSide.NO_ORDER_SIDE else lv for lv in levels]

    return [
        OrderBookDepth10(
            instrument_id=d.instrument_id,
            bids=fix(d.bids),
            asks=fix(d.asks),
            bid_counts=d.bid_counts,
            ask_counts=d.ask_counts,
            flags=d.flags,
            sequence=d.sequence,
            ts_event=d.ts_event,
            ts_init=d.ts_init,
        )
        for d in depths
    ]


__all__ = [
    "BOOK_SNAPSHOT_5",
    "BOOK_SNAPSHOT_25",
    "DERIVATIVE_TICKER",
    "INCREMENTAL_BOOK_L2",
    "KINDS",
    "QUOTES",
    "TRADES",
    "TardisScan",
    "deltas_table",
    "derivative_ticker_table",
    "detect_kind",
    "nautilus_objects",
    "scan_tardis_csv",
    "trades_table",
]
