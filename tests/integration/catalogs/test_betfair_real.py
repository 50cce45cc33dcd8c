"""Every real Betfair stream sample builds into the Python catalog without loss."""

from __future__ import annotations

import bz2
import json
from collections import Counter
from pathlib import Path

import pytest

from nautilus_ext.catalogs.build import build_catalog
from nautilus_ext.catalogs.info import catalog_info
from nautilus_ext.errors import InvalidConfig


def _mcm_lines(path: Path) -> int:
    with bz2.open(path, "rt") as f:
        return sum(1 for line in f if line.strip() and json.loads(line).get("op") == "mcm")


@pytest.mark.slow
def test_every_stream_file_loads(tmp_path: Path, betfair_files: list[Path]) -> None:
    from nautilus_trader.adapters.betfair.parsing.core import parse_betfair_file
    from nautilus_trader.model.data import CustomData
    from nautilus_trader.model.data import OrderBookDeltas
    from nautilus_trader.model.instruments import BettingInstrument

    summary = build_catalog("betfair", betfair_files, tmp_path / "cat", progress=False)
    assert summary.source_records == sum(_mcm_lines(f) for f in betfair_files)
    # what NautilusTrader's parser emits, counted per catalog folder
    expected: Counter[str] = Counter()
    instruments: set[str] = set()
    for f in betfair_files:
        for obj in parse_betfair_file(str(f), currency="GBP"):
            inner = obj.data if isinstance(obj, CustomData) else obj
            name = type(inner).__name__
            if isinstance(inner, BettingInstrument):
                instruments.add(inner.id.value)
            elif isinstance(inner, OrderBookDeltas):
                expected["order_book_deltas"] += len(inner.deltas)
            elif name == "BetfairTicker":
                expected["custom_betfair_ticker"] += 1
            elif name == "TradeTick":
                expected["trade_tick"] += 1
            elif name == "InstrumentStatus":
                expected["instrument_status"] += 1
            elif name == "InstrumentClose":
                expected["instrument_close"] += 1
    assert summary.rows == dict(expected)
    info = catalog_info(tmp_path / "cat")
    assert info.rows["betting_instrument"] == len(instruments)
    assert set(info.keys) == instruments


def test_stream_reads_back_as_book_deltas(tmp_path: Path, betfair_files: list[Path]) -> None:
    from nautilus_trader.model.data import OrderBookDelta

    from nautilus_ext.catalogs.target import parse_target

    small = [f for f in betfair_files if f.name == "1-166564490.bz2"]
    summary = build_catalog("betfair", small, tmp_path / "cat", progress=False)
    assert summary.source_records == _mcm_lines(small[0]) == 1608
    catalog = parse_target(tmp_path / "cat").catalog()
    deltas = catalog.query(OrderBookDelta)
    assert len(deltas) == summary.rows["order_book_deltas"]
    assert len(catalog.instruments()) == 2


def test_bad_stream_is_a_typed_error(tmp_path: Path) -> None:
    bad = tmp_path / "1-1.bz2"
    bad.write_bytes(bz2.compress(b'{"op": "mcm", "pt": "not-a-time", "mc": [{]}\n'))
    with pytest.raises(InvalidConfig, match=r"bad Betfair stream file .*1-1\.bz2"):
        build_catalog("betfair", [bad], tmp_path / "cat", progress=False)
