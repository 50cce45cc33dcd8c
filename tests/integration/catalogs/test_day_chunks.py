"""Day-chunked layout: one file per instrument/type/UTC day; rebuilds replace, never append."""

from __future__ import annotations

import hashlib
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from nautilus_ext.catalogs.build import build_catalog
from nautilus_ext.catalogs.info import catalog_info
from nautilus_ext.catalogs.synthetic import SyntheticVenue
from nautilus_ext.catalogs.synthetic import write_csv
from nautilus_ext.catalogs.synthetic import write_synthetic_tardis
from nautilus_ext.errors import InvalidConfig

VENUE = SyntheticVenue("binance-futures", "BTCUSDT")


def _files(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def two_day_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Synthetic book and trades spanning midnight UTC (23:50 -> 00:10)."""
    out = tmp_path_factory.mktemp("syn")
    files = write_synthetic_tardis(
        out,
        venues=(VENUE,),
        start=datetime(2024, 3, 1, 23, 50, tzinfo=UTC),
        hours=1 / 3,
        levels=5,
        book_updates_per_sec=1.0,
        trades_per_sec=1.0,
        gzip=True,
    )
    return files["binance-futures_BTCUSDT"]


def test_one_file_per_instrument_type_and_day(tmp_path: Path, two_day_inputs: dict[str, Path]) -> None:
    summary = build_catalog("tardis", list(two_day_inputs.values()), tmp_path / "cat", progress=False)
    assert summary.days == ["2024-03-01", "2024-03-02"]
    trade_files = sorted(p.name for p in (tmp_path / "cat/data/trade_tick").rglob("*.parquet"))
    assert trade_files == [
        "2024-03-01T00-00-00-000000000Z_2024-03-01T23-59-59-999999999Z.parquet",
        "2024-03-02T00-00-00-000000000Z_2024-03-02T23-59-59-999999999Z.parquet",
    ]
    book = pacsv.read_csv(two_day_inputs["incremental_book_L2"])
    trades = pacsv.read_csv(two_day_inputs["trades"])
    assert summary.rows == {"order_book_deltas": book.num_rows + 1, "trade_tick": trades.num_rows}


def test_rebuild_same_inputs_is_byte_identical(tmp_path: Path, two_day_inputs: dict[str, Path]) -> None:
    inputs = list(two_day_inputs.values())
    build_catalog("tardis", inputs, tmp_path / "cat", progress=False)
    first = _files(tmp_path / "cat")
    build_catalog("tardis", inputs, tmp_path / "cat", progress=False)
    assert _files(tmp_path / "cat") == first
    assert not [f for f in first if f.endswith(".tmp")]


def test_rebuilding_a_day_replaces_it(tmp_path: Path, two_day_inputs: dict[str, Path]) -> None:
    build_catalog("tardis", [two_day_inputs["trades"]], tmp_path / "cat", progress=False)
    full = pacsv.read_csv(two_day_inputs["trades"])
    day2 = datetime(2024, 3, 2, tzinfo=UTC).timestamp() * 1e6
    keep = full.filter([ts >= day2 for ts in full.column("local_timestamp").to_pylist()]).slice(0, 7)
    partial = write_csv(keep, tmp_path / "partial.csv")
    summary = build_catalog("tardis", [partial], tmp_path / "cat", progress=False)
    assert summary.days == ["2024-03-02"]
    info = catalog_info(tmp_path / "cat")
    day1_rows = sum(1 for ts in full.column("local_timestamp").to_pylist() if ts < day2)
    assert info.rows["trade_tick"] == day1_rows + 7  # day 1 untouched, day 2 replaced
    assert info.days["trade_tick"] == ["2024-03-01", "2024-03-02"]


def test_failed_rebuild_leaves_previous_version(tmp_path: Path, two_day_inputs: dict[str, Path]) -> None:
    build_catalog("tardis", [two_day_inputs["trades"]], tmp_path / "cat", progress=False)
    before = _files(tmp_path / "cat")
    table = pacsv.read_csv(two_day_inputs["trades"])
    bad = tmp_path / "bad.csv"
    write_csv(table, bad)
    lines = bad.read_text().splitlines()
    lines[5] = lines[5].rsplit(",", 1)[0] + ",oops"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(InvalidConfig, match=r"bad\.csv:6: amount 'oops' is not a number"):
        build_catalog("tardis", [bad], tmp_path / "cat", progress=False)
    assert _files(tmp_path / "cat") == before


def test_foreign_multi_day_file_is_refused(tmp_path: Path, two_day_inputs: dict[str, Path]) -> None:
    from nautilus_trader.model.data import TradeTick

    from nautilus_ext.catalogs.tardis import nautilus_objects
    from nautilus_ext.catalogs.tardis import scan_tardis_csv
    from nautilus_ext.catalogs.target import parse_target

    scan = scan_tardis_csv(two_day_inputs["trades"])
    trades = nautilus_objects(scan, scan.price_decimals, scan.size_decimals)
    parse_target(tmp_path / "cat").catalog().write_data(trades)  # Nautilus's own multi-day file
    assert isinstance(trades[0], TradeTick)
    with pytest.raises(InvalidConfig, match="was not written day-chunked"):
        build_catalog("tardis", [two_day_inputs["trades"]], tmp_path / "cat", progress=False)


def test_precision_increase_against_existing_instrument_is_refused(
    tmp_path: Path, two_day_inputs: dict[str, Path]
) -> None:
    build_catalog("tardis", [two_day_inputs["trades"]], tmp_path / "cat", progress=False)
    with pytest.raises(InvalidConfig, match="rebuild every day of it"):
        build_catalog(
            "tardis",
            [two_day_inputs["trades"]],
            tmp_path / "cat",
            price_precision=4,
            progress=False,
        )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"source": "kaiko"}, "unknown source"),
        ({"price_precision": 17}, "within 0..16"),
        ({"inputs": ["/nonexistent/*.csv"]}, "matches no file"),
        ({"inputs": ["/nonexistent.csv"]}, "does not exist"),
    ],
)
def test_bad_arguments(tmp_path: Path, two_day_inputs: dict[str, Path], kwargs: dict, match: str) -> None:
    args = {"source": "tardis", "inputs": [two_day_inputs["trades"]], "target": tmp_path / "c"}
    args.update(kwargs)
    with pytest.raises(InvalidConfig, match=match):
        build_catalog(progress=False, **args)
