"""
Build a NautilusTrader Python ``ParquetDataCatalog`` from Tardis, Databento or Betfair files.

Entry point: :func:`build_catalog`. Inputs of one run are loaded, grouped per data type and
instrument, sorted by ``ts_init`` and written one file per UTC day (see
:mod:`nautilus_ext.catalogs.writer`): rebuilding a day replaces it, so re-runs never duplicate rows. A day
is rebuilt from the inputs of the run that writes it, so give all files of a day in one run.
A run holds its inputs in memory (about 100 bytes per row): build large histories a few days
per run.

A build fails as a whole: every input is read and validated (a bad value, a cut DBN or stream
file, a folder name taken by a file raise :class:`~nautilus_ext.errors.InvalidConfig` naming
the file) before anything is written; a new local catalog is built in a hidden sibling folder
and renamed into place, so a failed build leaves no catalog behind.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

import pyarrow as pa

from nautilus_ext.catalogs.keys import KEYS_FILE
from nautilus_ext.catalogs.keys import derive_key
from nautilus_ext.catalogs.keys import read_keys
from nautilus_ext.catalogs.keys import upsert_keys
from nautilus_ext.catalogs.target import CatalogTarget
from nautilus_ext.catalogs.target import parse_target
from nautilus_ext.catalogs.writer import DayChunkWriter
from nautilus_ext.catalogs.writer import day_of
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import VenueUnavailable

SOURCES: Final = ("tardis", "databento", "betfair")
KEYS_DIR: Final = KEYS_FILE.rsplit("/", 1)[0]


@dataclass
class BuildSummary:
    """
    The outcome of a build.

    Attributes
    ----------
    source : str
        ``tardis``, ``databento`` or ``betfair``.
    target : str
        The catalog location.
    files : list[str]
        Input files, in load order.
    source_records : int
        Records read from the inputs (CSV data lines, DBN records, Betfair stream lines).
    rows : dict[str, int]
        Rows written per catalog data type folder.
    days : list[str]
        UTC days written.
    instruments : dict[str, str | None]
        Instrument ids written (as instruments or as data) -> canonical key (``None`` if
        the grammar has no type for it).
    ts_min, ts_max : int, optional
        Time span of the written data (``ts_init``, UNIX ns).
    notes : list[str]
        Things the user should know (no definition for an instrument, converted units...).
    """

    source: str
    target: str
    files: list[str] = field(default_factory=list)
    source_records: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    days: list[str] = field(default_factory=list)
    instruments: dict[str, str | None] = field(default_factory=dict)
    ts_min: int | None = None
    ts_max: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        """Return all data rows written."""
        return sum(self.rows.values())

    def format(self) -> str:
        """Return a human-readable multi-line summary."""
        lines = [
            f"catalog {self.target} ({self.source}): {len(self.files)} files, "
            f"{self.source_records:,} source records -> {self.total_rows:,} rows",
        ]
        for name in sorted(self.rows):
            lines.append(f"  {name:<40} {self.rows[name]:>12,}")
        if self.ts_min is not None and self.ts_max is not None:
            lines.append(f"  span {_iso(self.ts_min)} .. {_iso(self.ts_max)}")
        lines.append(f"  days ({len(self.days)}): {', '.join(self.days)}")
        lines.append(f"  instruments ({len(self.instruments)}):")
        for iid in sorted(self.instruments):
            lines.append(f"    {iid:<40} {self.instruments[iid] or '(no canonical key)'}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


def _iso(ts: int) -> str:
    from datetime import UTC
    from datetime import datetime

    return datetime.fromtimestamp(ts / 1e9, tz=UTC).isoformat()


def expand_inputs(inputs: Iterable[str | Path]) -> list[Path]:
    """
    Expand files and glob patterns into a sorted, de-duplicated list of files.

    Raises
    ------
    InvalidConfig
        If nothing matches or a named file does not exist.
    """
    found: list[Path] = []
    for item in inputs:
        text = str(item)
        if any(ch in text for ch in "*?["):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise InvalidConfig(f"input pattern {text!r} matches no file")
            found.extend(Path(m) for m in matches if Path(m).is_file())
        else:
            p = Path(text)
            if not p.is_file():
                raise InvalidConfig(f"input file {text} does not exist", details={"file": text})
            found.append(p)
    unique = list(dict.fromkeys(p.resolve() for p in found))
    if not unique:
        raise InvalidConfig("no input files given")
    return unique


class _Sink:
    """Collect tables per (type folder, identifier) and instruments, then write them."""

    def __init__(self, writer: DayChunkWriter) -> None:
        self.writer = writer
        self.tables: dict[tuple[str, str | None], list[pa.Table]] = defaultdict(list)
        self.instruments: dict[str, Any] = {}
        self.data_ids: set[str] = set()
        self.betfair_markets: dict[str, dict[str, Any]] = {}  # market id -> latest definition

    def add_table(self, folder: str, identifier: str | None, table: pa.Table) -> None:
        if table.num_rows:
            self.tables[(folder, identifier)].append(table)
            if identifier is not None and folder not in ("bar",):
                self.data_ids.add(identifier)

    def add_objects(self, objects: Iterable[Any]) -> None:
        from nautilus_trader.model.data import CustomData
        from nautilus_trader.model.data import OrderBookDeltas
        from nautilus_trader.model.instruments import Instrument

        groups: dict[tuple[type, str | None], list[Any]] = defaultdict(list)
        for obj in objects:
            if isinstance(obj, CustomData):
                obj = obj.data
            if isinstance(obj, Instrument):
                self.instruments[obj.id.value] = obj
                continue
            if isinstance(obj, OrderBookDeltas):
                for d in obj.deltas:
                    groups[(type(d), d.instrument_id.value)].append(d)
                continue
            if hasattr(obj, "bar_type"):
                ident: str | None = str(obj.bar_type)
                self.data_ids.add(obj.bar_type.instrument_id.value)
            elif hasattr(obj, "instrument_id"):
                ident = obj.instrument_id.value
            else:
                ident = None
            groups[(type(obj), ident)].append(obj)
        for (cls, ident), objs in groups.items():
            self.add_table(_folder(cls), ident, _serialize(objs, cls))

    def add_pyo3(self, objects: list[Any]) -> None:
        """
        Add a homogeneous list of Rust (pyo3) market data objects, encoded by NautilusTrader's
        own Rust Arrow encoders (the tables equal the Cython path's, without converting every
        object to Cython first).
        """
        if not objects:
            return
        cls = type(objects[0])
        encoder = _pyo3_encoder(cls)
        if encoder is None or any(type(o) is not cls for o in objects):
            self.add_objects(objects)
            return
        try:
            tables = [_ipc_table(encoder(objects))]
        except ValueError as e:
            if "Mixed metadata" not in str(e):
                raise
            by_id: dict[str, list[Any]] = defaultdict(list)
            key = "bar_type" if hasattr(objects[0], "bar_type") else "instrument_id"
            for o in objects:
                by_id[str(getattr(o, key))].append(o)
            tables = [_ipc_table(encoder(g)) for g in by_id.values()]
        folder = _folder(cls)
        for table in tables:
            meta = table.schema.metadata or {}
            ident = (meta.get(b"bar_type") or meta[b"instrument_id"]).decode()
            if b"bar_type" in meta:
                # BarType text is <instrument id>-<step>-<aggregation>-<price type>-<source>
                self.data_ids.add(ident.rsplit("-", 4)[0])
                self.tables[(folder, ident)].append(table)
            else:
                self.add_table(folder, ident, table)

    def folders(self) -> list[str]:
        """Return every catalog folder :meth:`flush` will write into."""
        found = [self.writer.directory(folder, ident) for folder, ident in self.tables]
        found += [self.writer.directory(_folder(type(inst)), iid) for iid, inst in self.instruments.items()]
        return found

    def flush(self) -> None:
        self.writer.check_folders([*self.folders(), self.writer.target.join(KEYS_DIR)])
        for (folder, ident), tables in self.tables.items():
            table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
            self.writer.write_table(table, folder, ident)
        for iid, instrument in self.instruments.items():
            table = _serialize([instrument], type(instrument))
            self.writer.write_instrument(table, _folder(type(instrument)), iid)


def _folder(cls: type) -> str:
    from nautilus_trader.persistence.funcs import class_to_filename

    return str(class_to_filename(cls))


_PYO3_ENCODERS: Final = {
    "TradeTick": "trades_to_arrow_record_batch_bytes",
    "QuoteTick": "quotes_to_arrow_record_batch_bytes",
    "OrderBookDelta": "book_deltas_to_arrow_record_batch_bytes",
    "OrderBookDepth10": "book_depth10_to_arrow_record_batch_bytes",
    "Bar": "bars_to_arrow_record_batch_bytes",
}


def _pyo3_encoder(cls: type) -> Any:
    if not cls.__module__.startswith("nautilus_trader.core.nautilus_pyo3"):
        return None
    name = _PYO3_ENCODERS.get(cls.__name__)
    if name is None:
        return None
    from nautilus_trader.core import nautilus_pyo3

    return getattr(nautilus_pyo3, name)


def _ipc_table(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(data).read_all()


def _serialize(objs: list[Any], cls: type) -> pa.Table:
    from nautilus_trader.serialization.arrow.serializer import ArrowSerializer

    objs = sorted(objs, key=lambda o: o.ts_init)
    result = ArrowSerializer.serialize_batch(objs, data_cls=cls)
    if isinstance(result, pa.RecordBatch):
        return pa.Table.from_batches([result])
    return result


def _progress(items: Sequence[Any], enabled: bool, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="file", disable=not enabled)


# -- Tardis ------------------------------------------------------------------------------------


def _venue_fees(venue_code: str) -> tuple[Decimal, Decimal] | None:
    from nautilus_ext.catalogs.keys import registry

    reg = registry()
    spec = None if reg is None else reg.venues.get(venue_code)
    if spec is None:
        return None
    return Decimal(spec.maker_fee), Decimal(spec.taker_fee)


def tardis_instrument(symbol: Any, price_precision: int, size_precision: int, ts: int) -> Any:
    """Create the Nautilus instrument of a Tardis symbol at the given precisions."""
    from nautilus_trader.model.enums import CurrencyType
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.identifiers import Symbol
    from nautilus_trader.model.instruments import CryptoFuture
    from nautilus_trader.model.instruments import CryptoPerpetual
    from nautilus_trader.model.instruments import CurrencyPair
    from nautilus_trader.model.objects import Currency
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity

    def currency(code: str) -> Currency:
        try:
            return Currency.from_str(code)
        except ValueError:
            return Currency(code, 8, 0, code, CurrencyType.CRYPTO)

    fees = _venue_fees(symbol.key.venue) or (Decimal(0), Decimal(0))
    common: dict[str, Any] = {
        "instrument_id": InstrumentId.from_str(symbol.instrument_id),
        "raw_symbol": Symbol(symbol.symbol),
        "quote_currency": currency(symbol.quote),
        "price_precision": price_precision,
        "size_precision": size_precision,
        "price_increment": Price(10.0**-price_precision, price_precision),
        "size_increment": Quantity(10.0**-size_precision, size_precision),
        "ts_event": ts,
        "ts_init": ts,
        "maker_fee": fees[0],
        "taker_fee": fees[1],
        "margin_init": Decimal(0),
        "margin_maint": Decimal(0),
        "info": {"canonical_key": str(symbol.key), "tardis_exchange": symbol.exchange},
    }
    kind = symbol.key.instrument_type.value
    if kind == "SPOT_PAIR":
        return CurrencyPair(base_currency=currency(symbol.base), **common)
    if kind == "PERPETUAL":
        return CryptoPerpetual(
            base_currency=currency(symbol.base),
            settlement_currency=currency(symbol.settle),
            is_inverse=symbol.inverse,
            **common,
        )
    from datetime import UTC
    from datetime import datetime

    expiry = datetime(symbol.expiry.year, symbol.expiry.month, symbol.expiry.day, 8, tzinfo=UTC)
    return CryptoFuture(
        underlying=currency(symbol.base),
        settlement_currency=currency(symbol.settle),
        is_inverse=symbol.inverse,
        activation_ns=ts,
        expiration_ns=int(expiry.timestamp()) * 1_000_000_000,
        **common,
    )


def _build_tardis(
    files: list[Path],
    sink: _Sink,
    summary: BuildSummary,
    target: CatalogTarget,
    price_precision: int | None,
    size_precision: int | None,
    progress: bool,
) -> None:
    from nautilus_ext.catalogs import tardis

    scans = [tardis.scan_tardis_csv(f) for f in _progress(files, progress, "scan")]
    precisions: dict[str, tuple[int, int]] = {}
    first_ts: dict[str, int] = {}
    symbols: dict[str, Any] = {}
    for s in scans:
        iid = s.symbol.instrument_id
        pp, sp = precisions.get(iid, (0, 0))
        if s.kind != tardis.DERIVATIVE_TICKER:
            precisions[iid] = (max(pp, s.price_decimals), max(sp, s.size_decimals))
        else:
            precisions.setdefault(iid, (pp, sp))
        ts0 = int(tardis._ts_ns(s, "local_timestamp").min())
        first_ts[iid] = min(first_ts.get(iid, ts0), ts0)
        symbols[iid] = s.symbol
        summary.source_records += s.rows
        if s.nanosecond_timestamps:
            summary.notes.append(f"{s.path.name}: timestamps were nanoseconds (Tardis uses µs)")
    existing_instruments = _existing_instruments(target, list(precisions))
    existing = {
        iid: (inst.price_precision, inst.size_precision) for iid, inst in existing_instruments.items()
    }
    for iid, inst in existing_instruments.items():
        # keep the instrument available from the earliest day ever built
        first_ts[iid] = min(first_ts[iid], int(inst.ts_init))
    for iid, (pp, sp) in list(precisions.items()):
        pp = price_precision if price_precision is not None else pp
        sp = size_precision if size_precision is not None else sp
        if iid in existing:
            epp, esp = existing[iid]
            if pp > epp or sp > esp:
                raise InvalidConfig(
                    f"{iid}: inputs need precision price={pp}/size={sp} but the catalog's "
                    f"instrument has {epp}/{esp}; rebuild every day of it or pass "
                    "--price-precision/--size-precision",
                    details={"instrument_id": iid},
                )
            pp, sp = epp, esp
        precisions[iid] = (pp, sp)
    for s in _progress(scans, progress, "load"):
        iid = s.symbol.instrument_id
        pp, sp = precisions[iid]
        if s.kind == tardis.DERIVATIVE_TICKER:
            sink.add_table(_custom_folder(), iid, tardis.derivative_ticker_table(s))
            continue
        table = None
        if s.kind == tardis.TRADES:
            table, folder = tardis.trades_table(s, pp, sp), "trade_tick"
        elif s.kind == tardis.INCREMENTAL_BOOK_L2:
            table, folder = tardis.deltas_table(s, pp, sp), "order_book_deltas"
        if table is not None:
            sink.add_table(folder, iid, table)
        else:
            sink.add_objects(tardis.nautilus_objects(s, pp, sp))
    for iid, symbol in symbols.items():
        pp, sp = precisions[iid]
        sink.add_objects([tardis_instrument(symbol, pp, sp, first_ts[iid])])
    if any(_venue_fees(s.key.venue) is None for s in symbols.values()):
        summary.notes.append("venue fees unknown for some instruments: maker/taker fees set to 0")


def _custom_folder() -> str:
    from nautilus_ext.catalogs.custom import TardisDerivativeTicker

    return _folder(TardisDerivativeTicker)


def _existing_instruments(target: CatalogTarget, ids: list[str]) -> dict[str, Any]:
    fs = target.filesystem()
    if not fs.exists(target.join("data")):
        return {}
    return {inst.id.value: inst for inst in target.catalog().instruments(instrument_ids=ids)}


# -- Databento ---------------------------------------------------------------------------------

_UNDEF_PRICE: Final = 2**63 - 1
_PRICE_FIELDS: Final = ("price", "open", "high", "low", "close")


def infer_dbn_price_precision(path: Path) -> int:
    """Return the decimals needed to write every price of a DBN file exactly (fixed 1e-9)."""
    import databento as db
    import numpy as np

    arr = db.DBNStore.from_bytes(path.read_bytes()).to_ndarray()
    names = arr.dtype.names or ()
    cols = [n for n in names if n in _PRICE_FIELDS or (n.endswith("_px_00") or "_px_" in n)]
    best = 0
    for name in cols:
        v = np.asarray(arr[name], dtype=np.int64)
        v = v[(v != _UNDEF_PRICE) & (v != -_UNDEF_PRICE - 1)]
        for decimals in range(best, 10):
            if np.all(v % (10 ** (9 - decimals)) == 0):
                best = decimals
                break
    return best


def _zst_copy(path: Path) -> str:
    import zstandard

    fd, tmp = tempfile.mkstemp(suffix=".dbn.zst", prefix="dbn-")
    with os.fdopen(fd, "wb") as out, path.open("rb") as src:
        zstandard.ZstdCompressor().copy_stream(src, out)
    return tmp


def _build_databento(
    files: list[Path],
    sink: _Sink,
    summary: BuildSummary,
    price_precision: int | None,
    progress: bool,
) -> None:
    from nautilus_trader.adapters.databento import DatabentoDataLoader  # registers arrow types

    from nautilus_ext.catalogs.databento import check_dbn_complete

    loader = DatabentoDataLoader()
    ordered = sorted(files, key=lambda f: ".definition" not in f.name and "definition" not in f.name)
    for f in ordered:
        check_dbn_complete(f)  # every file whole before any is loaded (a cut file loads short)
    for f in _progress(ordered, progress, "load"):
        tmp = None if f.name.endswith(".zst") else _zst_copy(f)
        path = tmp or str(f)
        try:
            fast = _fast_dbn_trades(loader, Path(path), price_precision, sink)
            if fast is not None:
                iid, table = fast
                summary.source_records += table.num_rows
                sink.add_table("trade_tick", iid, table)
                continue
            data = _load_dbn(loader, path, f, price_precision, summary)
        finally:
            if tmp is not None:
                os.unlink(tmp)
        summary.source_records += len(data)
        sink.add_pyo3(data)


def _fast_dbn_trades(
    loader: Any, path: Path, price_precision: int | None, sink: _Sink
) -> tuple[str, pa.Table] | None:
    from nautilus_ext.catalogs.databento import dbn_trades_table

    try:
        if loader._pyo3_loader.schema_for_file(str(path)) != "trades":
            return None
    except (ValueError, RuntimeError):
        return None  # the loader path reports the error with the file name
    known = {iid: inst.price_precision for iid, inst in sink.instruments.items()}
    return dbn_trades_table(path, price_precision, known)


def _load_dbn(
    loader: Any, path: str, original: Path, price_precision: int | None, summary: BuildSummary
) -> list[Any]:
    kwargs: dict[str, Any] = {"price_precision": price_precision}
    # instruments must be Cython objects (the catalog's instrument encoders); market data
    # stays in Rust objects, encoded by NautilusTrader's Rust Arrow encoders
    try:
        legacy = loader._pyo3_loader.schema_for_file(path) == "definition"
    except (ValueError, RuntimeError) as e:
        raise InvalidConfig(f"bad DBN file {original}: {e}", details={"file": str(original)}) from e
    for attempt in range(3):
        try:
            return list(loader.from_dbn_file(path, as_legacy_cython=legacy, **kwargs))
        except (ValueError, RuntimeError) as e:
            text = str(e)
            if attempt < 2 and "price_precision" in text and kwargs["price_precision"] is None:
                kwargs["price_precision"] = infer_dbn_price_precision(Path(path))
                summary.notes.append(
                    f"{original.name}: no instrument definition loaded; price precision "
                    f"{kwargs['price_precision']} inferred from its prices",
                )
                continue
            if attempt < 2 and "No raw symbol found" in text and "instrument_id" not in kwargs:
                kwargs["instrument_id"] = _single_symbol_id(Path(path), original)
                summary.notes.append(
                    f"{original.name}: no symbology for its records; used "
                    f"{kwargs['instrument_id']} from the file's metadata",
                )
                continue
            raise InvalidConfig(f"bad DBN file {original}: {text}", details={"file": str(original)}) from e
    raise InvalidConfig(f"bad DBN file {original}", details={"file": str(original)})


def _single_symbol_id(path: Path, original: Path) -> Any:
    import databento as db
    from nautilus_trader.model.identifiers import InstrumentId

    meta = db.DBNStore.from_bytes(path.read_bytes()).metadata
    symbols = list(meta.symbols or [])
    if len(symbols) > 1:
        raise InvalidConfig(
            f"bad DBN file {original}: records lack symbology and the metadata lists {len(symbols)} symbols",
            details={"file": str(original)},
        )
    venue = str(meta.dataset).split(".")[0]
    if symbols:
        return InstrumentId.from_str(f"{symbols[0]}.{venue}")
    ids = {int(i) for i in db.DBNStore.from_bytes(path.read_bytes()).to_ndarray()["instrument_id"]}
    if len(ids) != 1:
        raise InvalidConfig(
            f"bad DBN file {original}: records lack symbology and hold {len(ids)} instruments",
            details={"file": str(original)},
        )
    # no symbol anywhere in the file: the DBN numeric instrument id is the only identity
    return InstrumentId.from_str(f"{ids.pop()}.{venue}")


# -- Betfair -----------------------------------------------------------------------------------


def _build_betfair(
    files: list[Path], sink: _Sink, summary: BuildSummary, currency: str, progress: bool
) -> None:
    from nautilus_ext.catalogs.betfair import load_stream_file
    from nautilus_ext.catalogs.betfair import merge_market_entry
    from nautilus_ext.catalogs.betfair import register_bsp_arrow

    register_bsp_arrow()
    control = 0
    for f in _progress(files, progress, "load"):
        load = load_stream_file(f, currency)
        summary.source_records += load.messages
        control += load.control
        sink.add_objects(load.objects)
        for market_id, entry in load.market_definitions.items():
            sink.betfair_markets[market_id] = merge_market_entry(sink.betfair_markets.get(market_id), entry)
    if control:
        summary.notes.append(
            f"{control:,} stream control messages (connection, status, heartbeat) not stored"
        )


# -- entry point -------------------------------------------------------------------------------


def build_catalog(
    source: str,
    inputs: Sequence[str | Path],
    target: str | Path | CatalogTarget,
    *,
    price_precision: int | None = None,
    size_precision: int | None = None,
    betfair_currency: str = "GBP",
    progress: bool = True,
    storage_options: dict[str, Any] | None = None,
) -> BuildSummary:
    """
    Build (or rebuild days of) a Python ``ParquetDataCatalog`` from vendor files.

    Parameters
    ----------
    source : {"tardis", "databento", "betfair"}
        The input format.
    inputs : sequence of str or Path
        Files or glob patterns (``**`` allowed).
    target : str, Path or CatalogTarget
        A local directory or ``gs://bucket/prefix``.
    price_precision, size_precision : int, optional
        Override the precisions (Tardis: inferred from the data; Databento: from the
        definitions, else inferred from the prices).
    betfair_currency : str, default "GBP"
        Account currency of Betfair instruments.
    progress : bool, default True
        Show a tqdm progress bar.
    storage_options : dict, optional
        fsspec options for the target.

    Returns
    -------
    BuildSummary

    Raises
    ------
    InvalidConfig
        On a bad argument or a bad input file (naming the file and line or record).
    VenueUnavailable
        If GCS fails.
    """
    if source not in SOURCES:
        raise InvalidConfig(f"unknown source {source!r} (expected one of {', '.join(SOURCES)})")
    for name, value in (("price_precision", price_precision), ("size_precision", size_precision)):
        if value is not None and not 0 <= value <= 16:
            raise InvalidConfig(f"{name} must be within 0..16, got {value}")
    tgt = target if isinstance(target, CatalogTarget) else parse_target(target, storage_options)
    files = expand_inputs(inputs)
    summary = BuildSummary(source=source, target=tgt.uri, files=[str(f) for f in files])
    if tgt.is_remote:
        try:
            return _build(
                source, files, tgt, summary, price_precision, size_precision, betfair_currency, progress
            )
        except OSError as e:
            raise VenueUnavailable(f"catalog target {tgt.uri} failed: {e}", venue="GCS") from e
    final = Path(tgt.path)
    _check_local_path(final, tgt.uri)
    # a new local catalog is built in a hidden sibling folder and renamed into place, so a
    # failed build leaves nothing behind; an existing one is updated file by file (each
    # written atomically, after every input was read and every folder checked)
    staging = None if final.exists() else _staging_dir(final, tgt.uri)
    work = tgt if staging is None else CatalogTarget(uri=tgt.uri, protocol="file", path=staging.as_posix())
    try:
        built = _build(
            source, files, work, summary, price_precision, size_precision, betfair_currency, progress
        )
        if staging is not None:
            os.rename(staging, final)
            staging = None
        return built
    except OSError as e:
        raise InvalidConfig(f"cannot write catalog target {tgt.uri}: {e}", details={"target": tgt.uri}) from e
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _check_local_path(path: Path, uri: str) -> None:
    """Refuse a local target that is, or lies below, something other than a folder."""
    for p in (path, *path.parents):
        if p.exists() and not p.is_dir():
            what = "is" if p == path else f"lies below {p}, which is"
            raise InvalidConfig(
                f"catalog target {uri} {what} a file, not a folder", details={"target": uri, "file": str(p)}
            )


def _staging_dir(final: Path, uri: str) -> Path:
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = final.parent / f".{final.name}.build-{uuid.uuid4().hex}"
        staging.mkdir()  # default permissions, like a folder the writer would create
        return staging
    except OSError as e:
        raise InvalidConfig(f"cannot create catalog target {uri}: {e}", details={"target": uri}) from e


def _build(
    source: str,
    files: list[Path],
    tgt: CatalogTarget,
    summary: BuildSummary,
    price_precision: int | None,
    size_precision: int | None,
    betfair_currency: str,
    progress: bool,
) -> BuildSummary:
    writer = DayChunkWriter(tgt)
    sink = _Sink(writer)
    if source == "tardis":
        _build_tardis(files, sink, summary, tgt, price_precision, size_precision, progress)
    elif source == "databento":
        _build_databento(files, sink, summary, price_precision, progress)
    else:
        _build_betfair(files, sink, summary, betfair_currency, progress)
    read_keys(tgt)  # a corrupt sidecar fails the build before any data is written
    sink.flush()
    key_rows = []
    for iid, inst in sink.instruments.items():
        key, note = derive_key(inst)
        summary.instruments[iid] = None if key is None else str(key)
        key_rows.append(
            {
                "instrument_id": iid,
                "instrument_key": None if key is None else str(key),
                "instrument_class": type(inst).__name__,
                "source": source,
                "note": note,
            }
        )
    for iid in sorted(sink.data_ids - set(sink.instruments)):
        summary.instruments.setdefault(iid, None)
        summary.notes.append(f"{iid}: data written without an instrument definition")
    if key_rows:
        upsert_keys(tgt, key_rows)
    if sink.betfair_markets:
        from nautilus_ext.catalogs.betfair import upsert_market_entries

        upsert_market_entries(tgt, sink.betfair_markets)
    stats = writer.stats
    summary.rows = dict(stats.rows)
    summary.days = sorted(stats.days)
    summary.ts_min, summary.ts_max = stats.ts_min, stats.ts_max
    return summary


__all__ = ["SOURCES", "BuildSummary", "build_catalog", "day_of", "expand_inputs"]
