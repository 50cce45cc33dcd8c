"""Every real DBN sample builds into the Python catalog; rows match the DBN record counts."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import Any

import databento_dbn as dbn
import pytest
import zstandard

from nautilus_ext.catalogs.build import build_catalog
from nautilus_ext.catalogs.info import catalog_info
from nautilus_ext.errors import InvalidConfig

_SKIP = (dbn.Metadata, dbn.SymbolMappingMsg, dbn.SystemMsg, dbn.ErrorMsg)
_FOLDER_BY_RECORD = {
    "TradeMsg": "trade_tick",
    "MBP1Msg": "quote_tick",
    "BBOMsg": "quote_tick",
    "CBBOMsg": "quote_tick",
    "CMBP1Msg": "quote_tick",
    "MBP10Msg": "order_book_depths",
    "OHLCVMsg": "bar",
    "ImbalanceMsg": "custom_databento_imbalance",
    "StatMsg": "custom_databento_statistics",
    "StatusMsg": "instrument_status",
}


def _records(path: Path) -> list[Any]:
    raw = path.read_bytes()
    if path.name.endswith(".zst"):
        raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read()
    decoder = dbn.DBNDecoder()
    decoder.write(raw)
    return [r for r in decoder.decode() if not isinstance(r, _SKIP)]


def _expected(files: list[Path]) -> tuple[Counter[str], set[str]]:
    rows: Counter[str] = Counter()
    definitions: set[str] = set()
    for f in files:
        for r in _records(f):
            name = type(r).__name__
            if name == "InstrumentDefMsg":
                definitions.add(r.raw_symbol)
            elif name == "MBOMsg":
                # trades and fills are not book deltas (NautilusTrader skips them)
                if str(r.action) not in ("T", "F"):
                    rows["order_book_deltas"] += 1
            else:
                rows[_FOLDER_BY_RECORD[name]] += 1
    return rows, definitions


@pytest.mark.slow
def test_every_dbn_sample_loads_with_record_counts(tmp_path: Path, dbn_files: list[Path]) -> None:
    expected_rows, definitions = _expected(dbn_files)
    summary = build_catalog("databento", dbn_files, tmp_path / "cat", progress=False)
    assert summary.rows == dict(expected_rows)
    info = catalog_info(tmp_path / "cat")
    data_rows = {k: v for k, v in info.rows.items() if k in expected_rows}
    assert data_rows == dict(expected_rows)
    instrument_rows = sum(v for k, v in info.rows.items() if k not in expected_rows)
    assert instrument_rows == len(definitions)
    # every instrument has a sidecar row; futures and options get canonical keys
    assert info.keys["ESM4.GLBX"] == "CME:FUTURE:SP500-USD-240621@LIN"
    assert info.keys["ESM4-ESU4.GLBX"] is None  # a calendar spread has no canonical type
    assert len(info.keys) == len(definitions)
    assert any("ESH1.GLBX: data written without an instrument definition" in n for n in summary.notes)


def test_required_schemas_read_back(tmp_path: Path, nautilus_data: Path) -> None:
    from nautilus_trader.model.data import Bar
    from nautilus_trader.model.data import OrderBookDepth10
    from nautilus_trader.model.data import QuoteTick
    from nautilus_trader.model.data import TradeTick

    from nautilus_ext.catalogs.target import parse_target

    base = nautilus_data / "tests/test_data/databento/historical_bars_catalog/databento"
    crates = nautilus_data / "crates/adapters/databento/test_data"
    files = [*sorted(base.glob("*.dbn.zst")), crates / "test_data.mbp-10.dbn.zst"]
    build_catalog("databento", files, tmp_path / "cat", progress=False)
    catalog = parse_target(tmp_path / "cat").catalog()
    assert len(catalog.query(QuoteTick)) == len(_records(base.parent / "databento" / files[1].name))
    assert len(catalog.query(TradeTick)) == 120
    assert len(catalog.query(Bar)) == 60
    assert len(catalog.query(OrderBookDepth10)) == 2
    ids = sorted(i.id.value for i in catalog.instruments())
    assert ids == ["ESU4.GLBX", "NQU4.GLBX"]


def test_rebuild_is_idempotent(tmp_path: Path, nautilus_data: Path) -> None:
    f = nautilus_data / "tests/test_data/databento/historical_bars_catalog/databento"
    files = sorted(f.glob("*.dbn.zst"))
    first = build_catalog("databento", files, tmp_path / "cat", progress=False)
    listing = sorted(p.relative_to(tmp_path) for p in (tmp_path / "cat").rglob("*.parquet"))
    second = build_catalog("databento", files, tmp_path / "cat", progress=False)
    assert first.rows == second.rows
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "cat").rglob("*.parquet")) == listing
    assert catalog_info(tmp_path / "cat").rows["quote_tick"] == first.rows["quote_tick"]


def test_corrupt_dbn_is_a_typed_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.trades.dbn.zst"
    bad.write_bytes(zstandard.ZstdCompressor().compress(b"DBN\x02garbage" * 10))
    with pytest.raises(InvalidConfig, match=r"bad DBN file .*broken\.trades\.dbn\.zst"):
        build_catalog("databento", [bad], tmp_path / "cat", progress=False)


def test_vectorised_trades_equal_nautilus_loader(tmp_path: Path, nautilus_data: Path) -> None:
    from nautilus_trader.adapters.databento import DatabentoDataLoader
    from nautilus_trader.model.data import TradeTick
    from nautilus_trader.serialization.arrow.serializer import ArrowSerializer

    from nautilus_ext.catalogs.databento import dbn_trades_table
    from nautilus_ext.catalogs.synthetic import write_synthetic_dbn_trades

    real = (
        nautilus_data
        / "tests/test_data/databento/historical_bars_catalog/databento"
        / "futures_trades_2024-07-01T23-58_2024-07-02T00-02.dbn.zst"
    )
    generated = write_synthetic_dbn_trades(tmp_path / "esm4.trades.dbn.zst", 5_000)
    for path in (real, generated):
        result = dbn_trades_table(path, None, {"ESU4.GLBX": 2, "ESM4.GLBX": 2})
        assert result is not None
        _, ours = result
        objs = DatabentoDataLoader().from_dbn_file(path, price_precision=2)
        theirs = ArrowSerializer.serialize_batch(objs, data_cls=TradeTick)
        assert ours.equals(theirs)
        assert ours.schema.equals(theirs.schema, check_metadata=True)
    # precision unknown, or a price off the tick grid: leave it to the loader
    assert dbn_trades_table(real, None, {}) is None
    assert dbn_trades_table(real, 0, {}) is None
