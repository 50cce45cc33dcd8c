"""
Catalog build throughput: this project's builder vs NautilusTrader's own paths, same files.

Inputs (generated, seeded): a 1M-row Tardis trades CSV (``nautilus_ext.catalogs.synthetic``) and a
1M-record DBN trades file (GLBX.MDP3, ``nautilus_ext.catalogs.synthetic.write_synthetic_dbn_trades``:
records laid out in DBN's binary format, checked against ``databento_dbn.TradeMsg`` bytes,
metadata encoded by ``databento_dbn.Metadata``, zstd-compressed).

Paths timed side by side in one process (median of ``--repeat`` runs):

- ``nautilus-python``: NautilusTrader's loader to legacy Cython objects, then the Python
  ``ParquetDataCatalog.write_data`` (the catalog ``BacktestNode`` reads);
- ``nautilus-rust``: the loader to Rust objects, then the Rust ``ParquetDataCatalog`` (its
  folders are not readable by the Python catalog / ``BacktestNode``);
- ``nautilus-ext``: ``nautilus_ext.catalogs.build.build_catalog`` (Python-catalog output, day-chunked,
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
from pathlib import Path
from typing import Any

TARGET_RATIO = 4.0
DBN_PRICE_PRECISION = 2  # ES ticks are 0.25


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

    from nautilus_ext.catalogs.build import build_catalog

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

    from nautilus_ext.catalogs.build import build_catalog

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
    parser.add_argument("--smoke", action="store_true", help="a small size that runs in seconds")
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.repeat = 5_000, 1

    from nautilus_ext.catalogs.synthetic import write_synthetic_dbn_trades
    from nautilus_ext.catalogs.synthetic import write_synthetic_trades

    scratch = Path(tempfile.mkdtemp(prefix="bench-catalog-"))
    try:
        t0 = time.perf_counter()
        csv_path = write_synthetic_trades(scratch / "binance-futures_trades.csv", args.rows)
        dbn_path = write_synthetic_dbn_trades(scratch / "glbx-mdp3-esm4.trades.dbn.zst", args.rows)
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
