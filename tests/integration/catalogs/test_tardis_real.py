"""Every real Tardis CSV sample builds into the Python catalog with the source's row counts."""

from __future__ import annotations

import csv
import gzip
import shutil
from collections import Counter
from pathlib import Path

import pytest

from nautilus_ext.catalogs.build import build_catalog
from nautilus_ext.catalogs.info import catalog_info
from nautilus_ext.catalogs.tardis import deltas_table
from nautilus_ext.catalogs.tardis import nautilus_objects
from nautilus_ext.catalogs.tardis import scan_tardis_csv
from nautilus_ext.catalogs.tardis import trades_table
from nautilus_ext.errors import InvalidConfig

_FOLDERS = {
    "trades": "trade_tick",
    "incremental_book_L2": "order_book_deltas",
    "quotes": "quote_tick",
    "book_snapshot_5": "order_book_depths",
    "book_snapshot_25": "order_book_depths",
    "derivative_ticker": "custom_tardis_derivative_ticker",
}


def _expected_rows(path: Path) -> tuple[str, int]:
    """Count a file's catalog rows from its raw CSV text (independently of the builder)."""
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    header = rows[0].keys()
    if "is_snapshot" in header:
        # one delta per line, plus one CLEAR opening each run of snapshot lines
        runs = sum(
            1
            for i, r in enumerate(rows)
            if r["is_snapshot"] == "true" and (i == 0 or rows[i - 1]["is_snapshot"] != "true")
        )
        return "incremental_book_L2", len(rows) + runs
    if "asks[0].price" in header:
        return ("book_snapshot_25" if "asks[24].price" in header else "book_snapshot_5"), len(rows)
    if "funding_rate" in header:
        return "derivative_ticker", len(rows)
    if "ask_price" in header:
        return "quotes", len(rows)
    return "trades", len(rows)


def test_every_sample_loads_with_source_row_counts(tmp_path: Path, tardis_files: list[Path]) -> None:
    summary = build_catalog("tardis", tardis_files, tmp_path / "cat", progress=False)
    expected: Counter[str] = Counter()
    lines = 0
    for f in tardis_files:
        kind, n = _expected_rows(f)
        expected[_FOLDERS[kind]] += n
        lines += len(f.read_text().splitlines()) - 1
    assert summary.source_records == lines
    assert summary.rows == dict(expected)
    info = catalog_info(tmp_path / "cat")
    assert {k: v for k, v in info.rows.items() if k != "crypto_perpetual"} == dict(expected)
    assert info.rows["crypto_perpetual"] == 4
    assert info.keys == {
        "BTC-PERPETUAL.DERIBIT": "DERIBIT:PERPETUAL:BTC-USD@INV",
        "BTC-USD.HUOBI": "HUOBI-DM-SWAP:PERPETUAL:BTC-USD@INV",
        "BTCUSDT-PERP.BINANCE": "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN",
        "XBTUSD.BITMEX": "BITMEX:PERPETUAL:BTC-USD@INV",
    }


def test_catalog_reads_back_every_type(tmp_path: Path, tardis_files: list[Path]) -> None:
    from nautilus_trader.model.data import OrderBookDelta
    from nautilus_trader.model.data import OrderBookDepth10
    from nautilus_trader.model.data import QuoteTick
    from nautilus_trader.model.data import TradeTick

    from nautilus_ext.catalogs.custom import TardisDerivativeTicker
    from nautilus_ext.catalogs.target import parse_target

    build_catalog("tardis", tardis_files, tmp_path / "cat", progress=False)
    catalog = parse_target(tmp_path / "cat").catalog()
    trades = catalog.query(TradeTick, identifiers=["XBTUSD.BITMEX"])
    assert len(trades) == 12
    assert [t.ts_init for t in trades] == sorted(t.ts_init for t in trades)
    assert len(catalog.query(OrderBookDelta)) == 30
    assert len(catalog.query(OrderBookDepth10)) == 20
    assert len(catalog.query(QuoteTick)) == 10
    tickers = catalog.query(TardisDerivativeTicker)
    assert [t.data.mark_price for t in tickers] == ["9500.25", "9500.75"]
    assert tickers[0].data.funding_timestamp == 1_583_020_800_000_000_000
    instruments = {i.id.value: i for i in catalog.instruments()}
    assert instruments["XBTUSD.BITMEX"].is_inverse
    assert instruments["XBTUSD.BITMEX"].price_precision == 1
    # the canonical key also travels inside the instrument (NautilusTrader keeps ``info``)
    assert instruments["BTCUSDT-PERP.BINANCE"].info["canonical_key"] == (
        "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
    )
    assert trades[0].price.precision == 1


@pytest.mark.parametrize("kind", ["trades", "incremental_book_L2"])
def test_vectorised_paths_equal_nautilus_loader(tardis_files: list[Path], kind: str) -> None:
    from nautilus_trader.model.data import OrderBookDelta
    from nautilus_trader.model.data import TradeTick
    from nautilus_trader.serialization.arrow.serializer import ArrowSerializer

    cls, build = (TradeTick, trades_table) if kind == "trades" else (OrderBookDelta, deltas_table)
    checked = 0
    for f in tardis_files:
        scan = scan_tardis_csv(f)
        if scan.kind != kind:
            continue
        ours = build(scan, scan.price_decimals, scan.size_decimals)
        objs = nautilus_objects(scan, scan.price_decimals, scan.size_decimals)
        theirs = ArrowSerializer.serialize_batch(objs, data_cls=cls)
        assert ours.equals(theirs), f
        assert ours.schema.equals(theirs.schema, check_metadata=True)
        checked += 1
    assert checked >= 2


def test_gzipped_input_gives_the_same_rows(tmp_path: Path, tardis_files: list[Path]) -> None:
    plain = next(f for f in tardis_files if f.name == "bitmex_trades_XBTUSD.csv")
    gz = tmp_path / "bitmex_trades_XBTUSD.csv.gz"
    with plain.open("rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    a = build_catalog("tardis", [plain], tmp_path / "a", progress=False)
    b = build_catalog("tardis", [gz], tmp_path / "b", progress=False)
    assert a.rows == b.rows == {"trade_tick": 10}
    da = next((tmp_path / "a").rglob("2020-03-01T*.parquet")).read_bytes()
    db = next((tmp_path / "b").rglob("2020-03-01T*.parquet")).read_bytes()
    assert da == db


def test_bad_value_names_file_and_line(tmp_path: Path, tardis_files: list[Path]) -> None:
    src = next(f for f in tardis_files if f.name == "bitmex_trades_XBTUSD.csv")
    lines = src.read_text().splitlines()
    lines[3] = lines[3].replace("8531.5", "85x1.5")
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(InvalidConfig) as err:
        build_catalog("tardis", [bad], tmp_path / "cat", progress=False)
    assert f"{bad}:4" in str(err.value)
    assert "'85x1.5' is not a number" in str(err.value)
    assert not (tmp_path / "cat" / "data").exists()


def test_missing_columns_and_mixed_symbols(tmp_path: Path, tardis_files: list[Path]) -> None:
    src = next(f for f in tardis_files if f.name == "bitmex_trades_XBTUSD.csv")
    lines = src.read_text().splitlines()
    short = tmp_path / "short.csv"
    short.write_text("\n".join([lines[0], lines[1], ",".join(lines[2].split(",")[:5])]) + "\n")
    with pytest.raises(InvalidConfig, match="expected 8 columns, got 5"):
        scan_tardis_csv(short)
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("\n".join([lines[0], lines[1], lines[2].replace("XBTUSD", "ETHUSD")]) + "\n")
    with pytest.raises(InvalidConfig, match="one exchange/symbol per file"):
        scan_tardis_csv(mixed)
    not_tardis = tmp_path / "x.csv"
    not_tardis.write_text("a,b\n1,2\n")
    with pytest.raises(InvalidConfig, match="not a Tardis CSV"):
        scan_tardis_csv(not_tardis)
