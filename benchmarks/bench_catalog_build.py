"""
Catalog build throughput: this project's builder vs NautilusTrader's own paths, same files.

Inputs (generated, seeded): a 1M-row Tardis trades CSV (``catalogs.synthetic``) and a
1M-record DBN trades file (GLBX.MDP3, written record by record in DBN's binary layout and
checked against ``databento_dbn.TradeMsg`` bytes, then zstd-compressed).

Paths timed side by side in one process (median of ``--repeat`` runs):

- ``nautilus-python``: NautilusTrader's loader to legacy Cython objects, then the Python
  ``ParquetDataCatalog.write_data`` (the catalog ``BacktestNode`` reads);
- ``nautilus-rust``: the loader to Rust objects, then the Rust ``ParquetDataCatalog`` (its
  folders are not readable by the Python catalog / ``BacktestNode``);
- ``nautilus-ext``: ``catalogs.build.build_catalog`` (Python-catalog output, day-chunked,
  plus the instrument and its canonical key).

After timing, the output of ``nautilus-ext`` is read back with the Python catalog and its
row count checked. Run: ``.venv/bin/python benchmarks/bench_catalog_build.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

TARGET_RATIO = 4.0
DBN_PRICE_PRECISION = 2  # ES ticks are 0.25
_TRADE_DTYPE = np.dtype(
    [
        ("length", "u1"),
        ("rtype", "u1"),
        ("publisher_id", "<u2"),
        ("instrument_id", "<u4"),
        ("ts_event", "<u8"),
        ("price", "<i8"),
        ("size", "<u4"),
        ("action", "u1"),
        ("side", "u1"),
        ("flags", "u1"),
        ("depth", "u1"),
        ("ts_recv", "<u8"),
        ("ts_in_delta", "<i4"),
        ("sequence", "<u4"),
    ]
)


@dataclass(frozen=True)
class _Interval:
    # databento_dbn.MappingInterval is a Protocol: any object with these attributes
    start_date: date
    end_date: date
    symbol: str


@dataclass(frozen=True)
class _SymbolMapping:
    raw_symbol: str
    intervals: list[_Interval]


def write_dbn_trades(path: Path, rows: int, seed: int = 5) -> Path:
    """Write a zstd DBN trades file of ``rows`` ESM4 records with symbology in its metadata."""
    import databento_dbn as dbn
    import zstandard

    rng = np.random.default_rng(seed)
    start_ns = 1_715_212_800_000_000_000  # 2024-05-09T00:00:00Z
    ts_event = start_ns + np.cumsum(rng.integers(1_000, 100_000_000, size=rows))
    ticks = 20_000 + np.cumsum(rng.choice([-1, 0, 0, 0, 1], size=rows))
    rec = np.zeros(rows, dtype=_TRADE_DTYPE)
    rec["length"] = _TRADE_DTYPE.itemsize // 4
    rec["rtype"] = 0  # MBP-0 (trades)
    rec["publisher_id"] = 1
    rec["instrument_id"] = 5482
    rec["ts_event"] = ts_event
    rec["price"] = ticks.astype(np.int64) * 250_000_000  # 0.25 in 1e-9 units
    rec["size"] = rng.integers(1, 50, size=rows)
    rec["action"] = ord("T")
    rec["side"] = np.where(rng.random(rows) < 0.5, ord("A"), ord("B"))
    rec["ts_recv"] = np.maximum.accumulate(ts_event + rng.integers(1_000, 50_000, size=rows))
    rec["sequence"] = np.arange(rows)
    sample = dbn.TradeMsg(
        publisher_id=1,
        instrument_id=5482,
        ts_event=int(rec["ts_event"][0]),
        price=int(rec["price"][0]),
        size=int(rec["size"][0]),
        action=dbn.Action.TRADE,
        side=dbn.Side.ASK if rec["side"][0] == ord("A") else dbn.Side.BID,
        flags=0,
        depth=0,
        ts_recv=int(rec["ts_recv"][0]),
        ts_in_delta=0,
        sequence=0,
    )
    if bytes(sample) != rec[:1].tobytes():
        raise RuntimeError("DBN TradeMsg layout mismatch: the generated file would be invalid")
    metadata = dbn.Metadata(
        dataset="GLBX.MDP3",
        schema=dbn.Schema.TRADES,
        start=start_ns,
        stype_in=dbn.SType.RAW_SYMBOL,
        stype_out=dbn.SType.INSTRUMENT_ID,
        end=int(ts_event[-1]) + 1,
        symbols=["ESM4"],
        partial=[],
        not_found=[],
        mappings=[_SymbolMapping("ESM4", [_Interval(date(2024, 5, 1), date(2024, 6, 1), "5482")])],
    )
    raw = metadata.encode() + rec.tobytes()
    path.write_bytes(zstandard.ZstdCompressor(level=3).compress(raw))
    return path


def _median_time(fn: Callable[[Path], Any], repeat: int, scratch: Path) -> float:
    times = []
    for i in range(repeat):
        out = scratch / f"run-{time.monotonic_ns()}-{i}"
        t0 = time.perf_counter()
        fn(out)
        times.append(time.perf_counter() - t0)
        shutil.rmtree(out, ignore_errors=True)
    return statistics.median(times)


def tardis_paths(csv_path: Path) -> dict[str, Callable[[Path], Any]]:
    """Return the three build paths for a Tardis trades CSV."""
    from nautilus_trader.adapters.tardis.loaders import TardisCSVDataLoader
    from nautilus_trader.core import nautilus_pyo3
    from nautilus_trader.persistence.catalog.parquet import ParquetDataCatalog

    from catalogs.build import build_catalog

    def python(out: Path) -> None:
        trades = TardisCSVDataLoader().load_trades(csv_path)
        ParquetDataCatalog(out).write_data(trades)

    def rust(out: Path) -> None:
        trades = TardisCSVDataLoader().load_trades(csv_path, as_legacy_cython=False)
        out.mkdir(parents=True)
        nautilus_pyo3.ParquetDataCatalog(str(out)).write_trade_ticks(trades)

    def ours(out: Path) -> None:
        build_catalog("tardis", [csv_path], out, progress=False)

    return {"nautilus-python": python, "nautilus-rust": rust, "nautilus-ext": ours}


def dbn_paths(dbn_path: Path) -> dict[str, Callable[[Path], Any]]:
    """Return the three build paths for a DBN trades file."""
    from nautilus_trader.adapters.databento import DatabentoDataLoader
    from nautilus_trader.core import nautilus_pyo3
    from nautilus_trader.persistence.catalog.parquet import ParquetDataCatalog

    from catalogs.build import build_catalog

    def python(out: Path) -> None:
        data = DatabentoDataLoader().from_dbn_file(dbn_path, price_precision=DBN_PRICE_PRECISION)
        ParquetDataCatalog(out).write_data(data)

    def rust(out: Path) -> None:
        data = DatabentoDataLoader().from_dbn_file(
            dbn_path, price_precision=DBN_PRICE_PRECISION, as_legacy_cython=False
        )
        out.mkdir(parents=True)
        nautilus_pyo3.ParquetDataCatalog(str(out)).write_trade_ticks(data)

    def ours(out: Path) -> None:
        build_catalog("databento", [dbn_path], out, price_precision=DBN_PRICE_PRECISION, progress=False)

    return {"nautilus-python": python, "nautilus-rust": rust, "nautilus-ext": ours}


def _check_readable(build: Callable[[Path], Any], out: Path, rows: int) -> int:
    from nautilus_trader.model.data import TradeTick
    from nautilus_trader.persistence.catalog.parquet import ParquetDataCatalog

    build(out)
    n = len(ParquetDataCatalog(out).query(TradeTick))
    if n != rows:
        raise RuntimeError(f"nautilus-ext output read back {n} rows, expected {rows}")
    return n


def main() -> None:
    """Generate the inputs, time every path and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from catalogs.synthetic import write_synthetic_trades

    scratch = Path(tempfile.mkdtemp(prefix="bench-catalog-"))
    try:
        t0 = time.perf_counter()
        csv_path = write_synthetic_trades(scratch / "binance-futures_trades.csv", args.rows)
        dbn_path = write_dbn_trades(scratch / "glbx-mdp3-esm4.trades.dbn.zst", args.rows)
        print(f"inputs: {args.rows:,} rows each, generated in {time.perf_counter() - t0:.1f} s")
        rows: list[tuple[str, str, float]] = []
        for label, paths in (
            ("tardis trades csv", tardis_paths(csv_path)),
            ("dbn trades", dbn_paths(dbn_path)),
        ):
            for name, fn in paths.items():
                rows.append((label, name, _median_time(fn, args.repeat, scratch)))
            _check_readable(paths["nautilus-ext"], scratch / f"check-{label[:3]}", args.rows)
        print(f"\n{'input':<18} {'path':<16} {'seconds':>8} {'rows/s':>12} {'vs python':>10} {'vs rust':>8}")
        for label in dict.fromkeys(r[0] for r in rows):
            by = {name: secs for lab, name, secs in rows if lab == label}
            for name, secs in by.items():
                print(
                    f"{label:<18} {name:<16} {secs:>8.2f} {args.rows / secs:>12,.0f} "
                    f"{by['nautilus-python'] / secs:>9.2f}x {by['nautilus-rust'] / secs:>7.2f}x"
                )
        print(f"\ntarget: nautilus-ext >= {TARGET_RATIO:.0f}x nautilus-python (median of {args.repeat})")
        for label in dict.fromkeys(r[0] for r in rows):
            by = {name: secs for lab, name, secs in rows if lab == label}
            ratio = by["nautilus-python"] / by["nautilus-ext"]
            verdict = "met" if ratio >= TARGET_RATIO else f"MISSED by {TARGET_RATIO / ratio:.2f}x"
            print(f"  {label}: {ratio:.2f}x -> {verdict}")
        print("nautilus-ext output read back by the Python ParquetDataCatalog: row counts OK")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
