"""
Every real Betfair stream file in the shared sample data loads, or is refused with a typed error.

Loaded files are checked row for row against NautilusTrader's own ``BetfairParser``; refused
files (order streams, score streams, levelled ladders, control-only captures, a log file) must
raise :class:`InvalidData` naming the file and, for a message, its line.
"""

from __future__ import annotations

import bz2
import json
from collections import Counter
from pathlib import Path

import pytest

from nautilus_ext.catalogs.build import build_catalog
from nautilus_ext.catalogs.info import catalog_info
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidData

# the data types NautilusTrader's parser emits, by the catalog folder they are stored in
_FOLDERS = {
    "TradeTick": "trade_tick",
    "InstrumentStatus": "instrument_status",
    "InstrumentClose": "instrument_close",
    "BetfairTicker": "custom_betfair_ticker",
    "BetfairStartingPrice": "custom_betfair_starting_price",
    "BSPOrderBookDelta": "bsp_order_book_delta",
}

# refused files: name -> what the message must say (every other file must load)
REFUSED = {
    "ccm_single.json": "cricket score stream",
    "rcm_multi_runner.json": "race score stream",
    "rcm_single.json": "race score stream",
    "streaming_rcm.json": "race score stream",
    "streaming_rcm_multi_runner.json": "race score stream",
    "streaming_rcm_race_start.json": "race score stream",
    "streaming_rcm_sequence.jsonl": "race score stream",
    "streaming_rcm_tpd_live.jsonl": "race score stream",
    **{f"ccm{i}.json": "cricket score stream" for i in range(7)},
    "connection.json": "no market data",
    "status.json": "no market data",
    "mcm_HEARTBEAT.json": "no market data",
    "mcm_latency.json": "no market data",
    "streaming_connection.json": "no market data",
    "streaming_status.json": "no market data",
    "streaming_mcm_HEARTBEAT.json": "no market data",
    "streaming_mcm_latency.json": "no market data",
    "market_definition.json": "bare market definition",
    "streaming_market_definition.json": "bare market definition",
    "mcm_RESUB_DELTA.json": "levelled",
    "mcm_SUB_IMAGE_no_market_def.json": "levelled",
    "streaming_mcm_RESUB_DELTA.json": "levelled",
    "streaming_mcm_SUB_IMAGE_no_market_def.json": "levelled",
    "streaming_mcm_SUB_IMAGE.json@bflw": "levelled",
    "streaming_mcm_update.json": "levelled",
    "streaming_mcm_UPDATE_tv.json@bflw": "no market data rows",
    "streaming_503.json": "not a valid market change",
    "badly_formatted.txt": "must be a JSON object",
}


def _key(path: Path) -> str:
    return f"{path.name}@bflw" if "betfairlightweight" in path.parts else path.name


def _expected_reason(path: Path) -> str | None:
    if path.name.startswith(("ocm_", "streaming_ocm_")):
        return "order stream (ocm"
    return REFUSED.get(_key(path), REFUSED.get(path.name))


@pytest.fixture(scope="module")
def stream_files(shared_data: Path) -> list[Path]:
    """Every Betfair stream capture in the shared data (NautilusTrader's and betfairlightweight's)."""
    nt = shared_data / "nautilus_trader"
    bflw = shared_data / "betfairlightweight" / "tests" / "resources"
    files = sorted((nt / "crates/adapters/betfair/test_data/stream").iterdir())
    files += sorted((nt / "tests/integration_tests/adapters/betfair/resources/streaming").iterdir())
    files += sorted((nt / "tests/test_data/betfair").glob("*.*"))
    files += sorted(bflw.glob("streaming_*.json")) + sorted((bflw / "ccms").glob("*.json"))
    assert len(files) == 108, len(files)
    return files


def _nautilus_messages(path: Path) -> list[bytes]:
    """The stream messages of a file as NautilusTrader's file reader would see them."""
    raw = bz2.decompress(path.read_bytes()) if path.suffix == ".bz2" else path.read_bytes()
    text = raw.decode().strip()
    if text.startswith("["):  # a recorded session: an array of messages
        return [json.dumps(m).encode() for m in json.loads(text)]
    if "\n" in text and not text.startswith("{\n"):
        return [line.encode() for line in text.splitlines() if line.strip()]
    return [json.dumps(json.loads(text)).encode()]


def _expected_rows(path: Path) -> tuple[Counter[str], set[str]]:
    from betfair_parser.spec.streaming import stream_decode
    from nautilus_trader.adapters.betfair.parsing.core import BetfairParser
    from nautilus_trader.adapters.betfair.parsing.core import parse_betfair_file
    from nautilus_trader.model.data import CustomData
    from nautilus_trader.model.data import OrderBookDeltas
    from nautilus_trader.model.instruments import BettingInstrument

    if path.suffix == ".bz2":  # NautilusTrader reads these itself
        objs = list(parse_betfair_file(str(path), currency="GBP"))
    else:
        parser = BetfairParser(currency="GBP")
        objs = [o for m in _nautilus_messages(path) for o in parser.parse(stream_decode(m))]
    expected: Counter[str] = Counter()
    instruments: set[str] = set()
    for obj in objs:
        inner = obj.data if isinstance(obj, CustomData) else obj
        name = type(inner).__name__
        if isinstance(inner, BettingInstrument):
            instruments.add(inner.id.value)
        elif isinstance(inner, OrderBookDeltas):
            expected["order_book_deltas"] += len(inner.deltas)
        elif name != "BetfairSequenceCompleted":
            expected[_FOLDERS[name]] += 1
    return expected, instruments


@pytest.mark.slow
def test_every_stream_file_loads_or_is_refused(tmp_path: Path, stream_files: list[Path]) -> None:
    loaded = refused = 0
    for i, f in enumerate(stream_files):
        reason = _expected_reason(f)
        if reason is not None:
            with pytest.raises(InvalidData) as info:
                build_catalog("betfair", [f], tmp_path / f"c{i}", progress=False)
            assert info.value.code is ErrorCode.INVALID_DATA
            assert str(f) in info.value.message, info.value.message
            assert reason in info.value.message, (f, info.value.message)
            if info.value.details.get("line") is not None:
                assert f"line {info.value.details['line']}:" in info.value.message
            assert not (tmp_path / f"c{i}").exists()  # nothing left behind
            refused += 1
            continue
        summary = build_catalog("betfair", [f], tmp_path / f"c{i}", progress=False)
        expected, instruments = _expected_rows(f)
        assert summary.rows == dict(expected), f
        info_ = catalog_info(tmp_path / f"c{i}")
        if instruments:
            assert info_.rows["betting_instrument"] == len(instruments), f
        loaded += 1
    assert (loaded, refused) == (26, 82)


def test_score_streams_are_a_data_error_not_a_config_error(tmp_path: Path, shared_data: Path) -> None:
    rcm = shared_data / "betfairlightweight/tests/resources/streaming_rcm.json"
    with pytest.raises(InvalidData, match=r"streaming_rcm\.json, line 1: is a race score stream") as info:
        build_catalog("betfair", [rcm], tmp_path / "cat", progress=False)
    assert info.value.code == "INVALID_DATA"
    # a score message in the middle of a market-data file is refused at its line
    mixed = tmp_path / "mixed.bz2"
    lines = bz2.decompress(
        (shared_data / "nautilus_trader/tests/test_data/betfair/1-166564490.bz2").read_bytes()
    ).splitlines()
    ccm = (
        shared_data / "nautilus_trader/crates/adapters/betfair/test_data/stream/ccm_single.json"
    ).read_bytes()
    mixed.write_bytes(bz2.compress(b"\n".join([*lines[:5], ccm.strip(), *lines[5:]])))
    with pytest.raises(InvalidData, match=r"mixed\.bz2, line 6: is a cricket score stream"):
        build_catalog("betfair", [mixed], tmp_path / "cat2", progress=False)


def test_bsp_ladders_are_stored_and_read_back_exactly(tmp_path: Path, shared_data: Path) -> None:
    from betfair_parser.spec.streaming import stream_decode
    from nautilus_trader.adapters.betfair.data_types import BSPOrderBookDelta
    from nautilus_trader.adapters.betfair.parsing.core import BetfairParser

    from nautilus_ext.catalogs.betfair import register_bsp_arrow
    from nautilus_ext.catalogs.target import parse_target

    streaming = shared_data / "nautilus_trader/tests/integration_tests/adapters/betfair/resources/streaming"
    f = streaming / "streaming_mcm_BSP.json"
    summary = build_catalog("betfair", [f], tmp_path / "cat", progress=False)
    parser = BetfairParser(currency="GBP")
    objs = [o for m in _nautilus_messages(f) for o in parser.parse(stream_decode(m))]
    want = [getattr(o, "data", o) for o in objs if isinstance(getattr(o, "data", o), BSPOrderBookDelta)]
    assert summary.rows["bsp_order_book_delta"] == len(want) == 30
    register_bsp_arrow()
    got = parse_target(tmp_path / "cat").catalog().query(BSPOrderBookDelta)
    assert len(got) == len(want)

    def as_tuple(d: BSPOrderBookDelta) -> tuple[object, ...]:
        return (
            d.instrument_id.value,
            d.action,
            d.order.side,
            str(d.order.price),
            str(d.order.size),
            d.ts_event,
            d.ts_init,
        )

    assert sorted(map(as_tuple, got)) == sorted(map(as_tuple, want))
    assert all(type(d) is BSPOrderBookDelta for d in got)


def test_stream_reads_back_as_book_deltas(tmp_path: Path, betfair_files: list[Path]) -> None:
    from nautilus_trader.model.data import OrderBookDelta

    from nautilus_ext.catalogs.target import parse_target

    small = [f for f in betfair_files if f.name == "1-166564490.bz2"]
    summary = build_catalog("betfair", small, tmp_path / "cat", progress=False)
    assert summary.source_records == 1608
    catalog = parse_target(tmp_path / "cat").catalog()
    deltas = catalog.query(OrderBookDelta)
    assert len(deltas) == summary.rows["order_book_deltas"]
    assert len(catalog.instruments()) == 2


def test_bad_stream_is_a_typed_error(tmp_path: Path) -> None:
    bad = tmp_path / "1-1.bz2"
    bad.write_bytes(bz2.compress(b'{"op": "mcm", "pt": 1, "mc": []}\n{"op": "mcm", "pt": "x", "mc": [{]}\n'))
    with pytest.raises(InvalidData, match=r"bad Betfair stream file .*1-1\.bz2, line 2: not valid JSON"):
        build_catalog("betfair", [bad], tmp_path / "cat", progress=False)
