"""
Bad input through the real CLI: a typed error, a nonzero exit, nothing half-written.

Every case builds a bad input in ``tmp_path`` (corrupt variants of the real samples in
``../shared/data``, never copied into the repository), runs ``nautilus-ext`` through typer's
``CliRunner`` and asserts:

- a nonzero exit (never a silent exit 0 on bad data);
- a taxonomy code (``[INVALID_CONFIG]``...) in the output and no escaped exception (a raw
  ``RecursionError``, ``ArrowInvalid``, ``EOFError``... would surface as a traceback);
- no half-written output: a catalog target that did not exist before still does not;
- previously stored results (a catalog, a results root) byte-for-byte unchanged.

The cases whose input once aborted the process (a Rust panic, rc 134) also run as a real
subprocess, where an abort cannot hide.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nautilus_ext.cli import app
from nautilus_ext.errors import ErrorCode

REPO = Path(__file__).resolve().parents[3]
TARDIS = Path("nautilus_trader/tests/test_data/tardis")
TARDIS_TRADES = TARDIS / "bitmex_trades_XBTUSD.csv"
TARDIS_BOOK = TARDIS / "deribit_incremental_book_L2_BTC-PERPETUAL.csv"
TARDIS_QUOTES = TARDIS / "huobi-dm-swap_quotes_BTC-USD.csv"
TARDIS_TICKER = Path("nautilus_trader/crates/adapters/tardis/test_data/csv/derivative_ticker_1.csv")
DBN_MBO = Path("nautilus_trader/tests/test_data/databento/esh4-glbx-mdp3-20231224.mbo.dbn.zst")
BETFAIR = Path("nautilus_trader/tests/test_data/betfair/1-166564490.bz2")
BETFAIR_BAD = Path("nautilus_trader/tests/test_data/betfair/badly_formatted.txt")

BIN = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
CODES = tuple(f"[{code}]" for code in ErrorCode)


@dataclass
class BadInput:
    """One bad CLI invocation and what must hold after it."""

    args: list[str]
    absent: list[Path] = field(default_factory=list)  # must not exist afterwards
    unchanged: list[Path] = field(default_factory=list)  # trees that must not change
    stdin: str | None = None


Builder = Callable[[Path, Path], BadInput]
CASES: dict[str, Builder] = {}


def case(fn: Builder) -> Builder:
    """Register a corpus case under its function name."""
    CASES[fn.__name__.removeprefix("_")] = fn
    return fn


def tree_digest(root: Path) -> dict[str, str]:
    """Return relative path -> sha256 of every file below ``root`` (empty if absent)."""
    if not root.exists():
        return {}
    if root.is_file():
        return {".": hashlib.sha256(root.read_bytes()).hexdigest()}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# -- helpers building corrupt variants of the real samples -------------------------------------


def _lines(data: Path, rel: Path) -> list[str]:
    return (data / rel).read_text(encoding="utf-8").splitlines()


def _tardis_variant(tmp: Path, data: Path, rel: Path, row: int, column: str, value: str) -> Path:
    lines = _lines(data, rel)
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = value
    lines[row] = ",".join(cells)
    out = tmp / f"bad_{column.replace('[', '_').replace(']', '_')}_{rel.name}"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def _build(tmp: Path, source: str, *inputs: Path) -> BadInput:
    target = tmp / "catalog"
    return BadInput(
        ["catalog", "build", source, *map(str, inputs), "--target", str(target), "--no-progress"],
        absent=[target],
    )


def _tardis_cell(rel: Path, row: int, column: str, value: str) -> Builder:
    def build(tmp: Path, data: Path) -> BadInput:
        return _build(tmp, "tardis", _tardis_variant(tmp, data, rel, row, column, value))

    return build


# -- Tardis: bad values must fail the build, naming file, line and field -------------------------

CASES["tardis_negative_amount"] = _tardis_cell(TARDIS_TRADES, 3, "amount", "-5")
CASES["tardis_zero_amount_trade"] = _tardis_cell(TARDIS_TRADES, 3, "amount", "0")
CASES["tardis_negative_price"] = _tardis_cell(TARDIS_TRADES, 2, "price", "-8531.5")
CASES["tardis_zero_price"] = _tardis_cell(TARDIS_TRADES, 2, "price", "0")
CASES["tardis_timestamp_9_2e18"] = _tardis_cell(TARDIS_TRADES, 4, "timestamp", "9200000000000000000")
CASES["tardis_local_timestamp_9_2e18"] = _tardis_cell(
    TARDIS_TRADES, 4, "local_timestamp", "9200000000000000000"
)
CASES["tardis_negative_timestamp"] = _tardis_cell(TARDIS_TRADES, 2, "timestamp", "-1583020803145000")
CASES["tardis_timestamp_text"] = _tardis_cell(TARDIS_TRADES, 2, "timestamp", "yesterday")
CASES["tardis_timestamp_int64_overflow"] = _tardis_cell(
    TARDIS_TRADES, 2, "timestamp", "99999999999999999999999"
)
CASES["tardis_side_sideways"] = _tardis_cell(TARDIS_TRADES, 2, "side", "sideways")
CASES["tardis_trade_id_200_chars"] = _tardis_cell(TARDIS_TRADES, 2, "id", "x" * 200)
CASES["tardis_price_nan"] = _tardis_cell(TARDIS_TRADES, 2, "price", "NaN")
CASES["tardis_price_inf"] = _tardis_cell(TARDIS_TRADES, 2, "price", "inf")
CASES["tardis_price_1e400"] = _tardis_cell(TARDIS_TRADES, 2, "price", "1e400")
CASES["tardis_price_5000_digits"] = _tardis_cell(TARDIS_TRADES, 2, "price", "9" * 5000)
CASES["tardis_price_text"] = _tardis_cell(TARDIS_TRADES, 2, "price", "cheap")
CASES["tardis_book_side_middle"] = _tardis_cell(TARDIS_BOOK, 3, "side", "middle")
CASES["tardis_book_negative_amount"] = _tardis_cell(TARDIS_BOOK, 3, "amount", "-1")
CASES["tardis_book_negative_price"] = _tardis_cell(TARDIS_BOOK, 3, "price", "-6422")
CASES["tardis_book_is_snapshot_maybe"] = _tardis_cell(TARDIS_BOOK, 3, "is_snapshot", "maybe")
CASES["tardis_book_timestamp_9_2e18"] = _tardis_cell(TARDIS_BOOK, 3, "timestamp", "9200000000000000000")
CASES["tardis_quotes_negative_bid"] = _tardis_cell(TARDIS_QUOTES, 2, "bid_price", "-1")
CASES["tardis_quotes_bid_amount_inf"] = _tardis_cell(TARDIS_QUOTES, 2, "bid_amount", "inf")
CASES["tardis_ticker_funding_text"] = _tardis_cell(TARDIS_TICKER, 1, "funding_rate", "high")
CASES["tardis_ticker_mark_inf"] = _tardis_cell(TARDIS_TICKER, 1, "mark_price", "inf")


@case
def _tardis_empty_file(tmp: Path, data: Path) -> BadInput:
    f = tmp / "empty.csv"
    f.write_bytes(b"")
    return _build(tmp, "tardis", f)


@case
def _tardis_header_only(tmp: Path, data: Path) -> BadInput:
    f = tmp / "header.csv"
    f.write_text(_lines(data, TARDIS_TRADES)[0] + "\n", encoding="utf-8")
    return _build(tmp, "tardis", f)


@case
def _tardis_binary_file(tmp: Path, data: Path) -> BadInput:
    f = tmp / "binary.csv"
    f.write_bytes(bytes(range(256)) * 8)
    return _build(tmp, "tardis", f)


@case
def _tardis_truncated_gzip(tmp: Path, data: Path) -> BadInput:
    f = tmp / "trades.csv.gz"
    blob = gzip.compress((data / TARDIS_TRADES).read_bytes())
    f.write_bytes(blob[: len(blob) // 2])
    return _build(tmp, "tardis", f)


@case
def _tardis_short_row(tmp: Path, data: Path) -> BadInput:
    f = tmp / "short.csv"
    lines = _lines(data, TARDIS_TRADES)
    lines[3] = ",".join(lines[3].split(",")[:5])
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return _build(tmp, "tardis", f)


@case
def _tardis_good_and_bad_files(tmp: Path, data: Path) -> BadInput:
    # the good file must not be written alone: the whole build fails
    bad = _tardis_variant(tmp, data, TARDIS_BOOK, 3, "side", "middle")
    return _build(tmp, "tardis", data / TARDIS_TRADES, bad)


@case
def _tardis_bad_file_into_existing_catalog(tmp: Path, data: Path) -> BadInput:
    from nautilus_ext.catalogs.build import build_catalog

    target = tmp / "catalog"
    build_catalog("tardis", [data / TARDIS_TRADES], target, progress=False)
    bad = _tardis_variant(tmp, data, TARDIS_TRADES, 3, "amount", "-5")
    spec = _build(tmp, "tardis", bad)
    return BadInput(spec.args, unchanged=[target])


@case
def _target_is_a_file(tmp: Path, data: Path) -> BadInput:
    target = tmp / "occupied"
    target.write_text("not a catalog", encoding="utf-8")
    return BadInput(
        ["catalog", "build", "tardis", str(data / TARDIS_TRADES), "--target", str(target), "--no-progress"],
        unchanged=[target],
    )


@case
def _target_data_folder_is_a_file(tmp: Path, data: Path) -> BadInput:
    target = tmp / "catalog"
    target.mkdir()
    (target / "data").write_text("in the way", encoding="utf-8")
    return BadInput(
        ["catalog", "build", "tardis", str(data / TARDIS_TRADES), "--target", str(target), "--no-progress"],
        unchanged=[target],
    )


@case
def _target_type_folder_is_a_file(tmp: Path, data: Path) -> BadInput:
    # the trades can be written, the instrument folder cannot: nothing may be written
    target = tmp / "catalog"
    (target / "data").mkdir(parents=True)
    (target / "data" / "crypto_perpetual").write_text("in the way", encoding="utf-8")
    return BadInput(
        ["catalog", "build", "tardis", str(data / TARDIS_TRADES), "--target", str(target), "--no-progress"],
        unchanged=[target],
    )


@case
def _target_under_a_file(tmp: Path, data: Path) -> BadInput:
    parent = tmp / "plain_file"
    parent.write_text("x", encoding="utf-8")
    return BadInput(
        [
            "catalog",
            "build",
            "tardis",
            str(data / TARDIS_TRADES),
            "--target",
            str(parent / "catalog"),
            "--no-progress",
        ],
        unchanged=[parent],
    )


@case
def _unknown_source(tmp: Path, data: Path) -> BadInput:
    return _build(tmp, "kraken", data / TARDIS_TRADES)


@case
def _missing_input(tmp: Path, data: Path) -> BadInput:
    return _build(tmp, "tardis", tmp / "nope.csv")


@case
def _input_is_a_directory(tmp: Path, data: Path) -> BadInput:
    d = tmp / "somedir"
    d.mkdir()
    return _build(tmp, "tardis", d)


CASES["tardis_unknown_exchange"] = _tardis_cell(TARDIS_TRADES, 1, "exchange", "nosuch-exchange")


@case
def _tardis_two_symbols(tmp: Path, data: Path) -> BadInput:
    return _build(tmp, "tardis", _tardis_variant(tmp, data, TARDIS_TRADES, 3, "symbol", "ETHUSD"))


@case
def _tardis_plain_text_named_gz(tmp: Path, data: Path) -> BadInput:
    f = tmp / "trades.csv.gz"
    f.write_bytes((data / TARDIS_TRADES).read_bytes())
    return _build(tmp, "tardis", f)


@case
def _tardis_pattern_matches_nothing(tmp: Path, data: Path) -> BadInput:
    return _build(tmp, "tardis", tmp / "nothing-*.csv")


@case
def _target_unsupported_scheme(tmp: Path, data: Path) -> BadInput:
    return BadInput(
        [
            "catalog",
            "build",
            "tardis",
            str(data / TARDIS_TRADES),
            "--target",
            "ftp://host/cat",
            "--no-progress",
        ]
    )


@case
def _precision_out_of_range(tmp: Path, data: Path) -> BadInput:
    spec = _build(tmp, "tardis", data / TARDIS_TRADES)
    return BadInput([*spec.args, "--price-precision", "99"], absent=spec.absent)


# -- Databento -----------------------------------------------------------------------------------


@case
def _dbn_zst_cut_in_half(tmp: Path, data: Path) -> BadInput:
    blob = (data / DBN_MBO).read_bytes()
    f = tmp / "half.mbo.dbn.zst"
    f.write_bytes(blob[: len(blob) // 2])
    return _build(tmp, "databento", f)


@case
def _dbn_raw_cut_in_half(tmp: Path, data: Path) -> BadInput:
    import zstandard

    raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO((data / DBN_MBO).read_bytes())).read()
    f = tmp / "half.mbo.dbn"
    f.write_bytes(raw[: len(raw) // 2 + 7])  # mid-record
    return _build(tmp, "databento", f)


@case
def _dbn_raw_cut_at_record_boundary(tmp: Path, data: Path) -> BadInput:
    # cut on a record boundary: the decoder sees no partial record, only missing ones; the
    # zstd frame of a .zst copy keeps its checksum, so only the compressed variant can tell
    import zstandard

    blob = (data / DBN_MBO).read_bytes()
    f = tmp / "cut.mbo.dbn.zst"
    raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(blob)).read()
    f.write_bytes(zstandard.ZstdCompressor().compress(raw)[:-50])
    return _build(tmp, "databento", f)


@case
def _dbn_empty(tmp: Path, data: Path) -> BadInput:
    f = tmp / "empty.dbn.zst"
    f.write_bytes(b"")
    return _build(tmp, "databento", f)


@case
def _dbn_garbage(tmp: Path, data: Path) -> BadInput:
    f = tmp / "garbage.dbn"
    f.write_bytes(b"DBN\x02" + bytes(range(256)) * 4)
    return _build(tmp, "databento", f)


# -- Betfair -------------------------------------------------------------------------------------


@case
def _betfair_empty_bz2(tmp: Path, data: Path) -> BadInput:
    f = tmp / "empty.bz2"
    f.write_bytes(b"")
    return _build(tmp, "betfair", f)


@case
def _betfair_truncated_bz2(tmp: Path, data: Path) -> BadInput:
    blob = (data / BETFAIR).read_bytes()
    f = tmp / "truncated.bz2"
    f.write_bytes(blob[: len(blob) // 2])
    return _build(tmp, "betfair", f)


@case
def _betfair_bz2_of_nothing(tmp: Path, data: Path) -> BadInput:
    f = tmp / "nothing.bz2"
    f.write_bytes(bz2.compress(b""))
    return _build(tmp, "betfair", f)


@case
def _betfair_badly_formatted(tmp: Path, data: Path) -> BadInput:
    return _build(tmp, "betfair", data / BETFAIR_BAD)


@case
def _betfair_json_garbage(tmp: Path, data: Path) -> BadInput:
    f = tmp / "garbage.bz2"
    f.write_bytes(bz2.compress(b'{"op": "mcm", "pt": "soon", "mc": [{"id": 5}]}\nnot json\n'))
    return _build(tmp, "betfair", f)


# -- catalog info ----------------------------------------------------------------------------------


@case
def _info_missing(tmp: Path, data: Path) -> BadInput:
    return BadInput(["catalog", "info", str(tmp / "nope")])


@case
def _info_on_a_file(tmp: Path, data: Path) -> BadInput:
    f = tmp / "file"
    f.write_text("x", encoding="utf-8")
    return BadInput(["catalog", "info", str(f)], unchanged=[f])


def _corrupt_catalog(tmp: Path, data: Path) -> Path:
    from nautilus_ext.catalogs.build import build_catalog

    target = tmp / "corrupt"
    build_catalog("tardis", [data / TARDIS_TRADES], target, progress=False)
    victim = next((target / "data" / "trade_tick").rglob("*.parquet"))
    blob = victim.read_bytes()
    victim.write_bytes(blob[: len(blob) // 2])
    return target


@case
def _info_corrupt_parquet(tmp: Path, data: Path) -> BadInput:
    target = _corrupt_catalog(tmp, data)
    return BadInput(["catalog", "info", str(target)], unchanged=[target])


@case
def _info_corrupt_keys_sidecar(tmp: Path, data: Path) -> BadInput:
    from nautilus_ext.catalogs.build import build_catalog

    target = tmp / "cat"
    build_catalog("tardis", [data / TARDIS_TRADES], target, progress=False)
    (target / "nautilus_ext" / "instrument_keys.parquet").write_bytes(b"PAR1garbage")
    return BadInput(["catalog", "info", str(target)], unchanged=[target])


@case
def _info_data_is_a_file(tmp: Path, data: Path) -> BadInput:
    target = tmp / "cat"
    target.mkdir()
    (target / "data").write_text("x", encoding="utf-8")
    return BadInput(["catalog", "info", str(target)], unchanged=[target])


# -- route -----------------------------------------------------------------------------------------


def _order(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "operation_id": "op-1",
        "operation": "trade",
        "instrument_key": BIN,
        "venue": "BINANCE-FUTURES",
        "side": "BUY",
        "amount": "0.1",
    }
    base.update(over)
    return base


def _route_text(text: str) -> Builder:
    def build(tmp: Path, data: Path) -> BadInput:
        f = tmp / "order.json"
        f.write_text(text, encoding="utf-8")
        return BadInput(["route", f"@{f}"])

    return build


CASES["route_nested_5000_deep"] = _route_text("[" * 5000 + "]" * 5000)
CASES["route_nested_object_5000_deep"] = _route_text(
    json.dumps(_order())[:-1] + ', "metadata": ' + '{"a":' * 5000 + "1" + "}" * 5000 + "}"
)
CASES["route_5000_digit_integer"] = _route_text(
    json.dumps(_order())[:-1] + ', "priority": ' + "9" * 5000 + "}"
)
CASES["route_5000_digit_amount"] = _route_text(json.dumps(_order()).replace('"0.1"', "9" * 5000 + ".5"))
CASES["route_5000_digit_metadata_number"] = _route_text(
    json.dumps(_order())[:-1] + ', "metadata": {"n": ' + "7" * 5000 + "}}"
)
CASES["route_nan_price"] = _route_text(json.dumps(_order())[:-1] + ', "price": NaN}')
CASES["route_infinity_amount"] = _route_text(json.dumps(_order()).replace('"0.1"', "Infinity"))
CASES["route_nan_string_price"] = _route_text(json.dumps(_order(price="NaN")))
CASES["route_huge_exponent_amount"] = _route_text(json.dumps(_order(amount="1e999999999")))
CASES["route_tiny_exponent_amount"] = _route_text(json.dumps(_order(amount="1e-999999999")))
CASES["route_exponent_overflow"] = _route_text(json.dumps(_order(amount="1e99999999999999999999")))
CASES["route_json_array"] = _route_text("[]")
CASES["route_empty_text"] = _route_text("")
CASES["route_bad_key"] = _route_text(json.dumps(_order(instrument_key="NOT A KEY")))
CASES["route_created_at_year_99999"] = _route_text(json.dumps(_order(created_at="99999-01-01T00:00:00Z")))


CASES["route_utf8_bom"] = _route_text("\ufeff" + json.dumps(_order()))
CASES["route_duplicate_key"] = _route_text(json.dumps(_order())[:-1] + ', "amount": "5"}')


@case
def _route_missing_file(tmp: Path, data: Path) -> BadInput:
    return BadInput(["route", f"@{tmp / 'nope.json'}"])


@case
def _route_binary_file(tmp: Path, data: Path) -> BadInput:
    f = tmp / "order.bin"
    f.write_bytes(bytes(range(256)) * 4)
    return BadInput(["route", f"@{f}"])


@case
def _route_directory(tmp: Path, data: Path) -> BadInput:
    return BadInput(["route", f"@{tmp}"])


@case
def _route_inline_garbage(tmp: Path, data: Path) -> BadInput:
    return BadInput(["route", "{not json"])


# -- backtest: a failed run never replaces stored results ----------------------------------------


def _backtest(tmp: Path, catalog: str, **over: object) -> BadInput:
    import yaml

    from nautilus_ext.orders import Order

    results = tmp / "results"
    sentinel = results / "execution_results" / "date=2024-03-01" / "bt.parquet"
    sentinel.parent.mkdir(parents=True)
    sentinel.write_bytes(b"previously stored results of run bt")
    orders = tmp / "orders.jsonl"
    order = Order.model_validate({**_order(), "created_at": "2024-03-01T00:00:05Z"})
    orders.write_text(order.to_json() + "\n", encoding="utf-8")
    spec: dict[str, object] = {
        "run_id": "bt",
        "kind": "orders",
        "catalog": catalog,
        "start": "2024-03-01T00:00:00Z",
        "end": "2024-03-01T00:10:00Z",
        "instruments": [BIN],
        "venues": [{"venue": "BINANCE-FUTURES", "starting_balances": ["1000000 USDT"]}],
        "orders": str(orders),
        "results_root": str(results),
        "output_dir": str(tmp / "out"),
    }
    spec.update(over)
    config = tmp / "bt.yaml"
    config.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return BadInput(["backtest", str(config)], unchanged=[results], absent=[tmp / "out" / "bt.html"])


@case
def _backtest_catalog_missing(tmp: Path, data: Path) -> BadInput:
    return _backtest(tmp, str(tmp / "no_catalog"))


@case
def _backtest_catalog_is_a_file(tmp: Path, data: Path) -> BadInput:
    f = tmp / "catalog.parquet"
    f.write_bytes(b"PAR1")
    return _backtest(tmp, str(f))


@case
def _backtest_catalog_corrupt_parquet(tmp: Path, data: Path) -> BadInput:
    return _backtest(tmp, str(_corrupt_catalog(tmp, data)))


@case
def _backtest_catalog_empty_dir(tmp: Path, data: Path) -> BadInput:
    d = tmp / "empty_catalog"
    d.mkdir()
    return _backtest(tmp, str(d))


@case
def _backtest_orders_store_bad_date_folder(tmp: Path, data: Path) -> BadInput:
    store = tmp / "store"
    (store / "orders" / "date=2024-13-45").mkdir(parents=True)
    return _backtest(tmp, str(tmp / "no_catalog"), orders=str(store))


@case
def _backtest_orders_file_garbage(tmp: Path, data: Path) -> BadInput:
    spec = _backtest(tmp, str(tmp / "no_catalog"))
    (tmp / "orders.jsonl").write_text('{"operation_id": 5}\n[[[\n', encoding="utf-8")
    return spec


@case
def _backtest_end_before_start(tmp: Path, data: Path) -> BadInput:
    return _backtest(tmp, str(tmp / "no_catalog"), end="2024-02-01T00:00:00Z")


@case
def _backtest_catalog_only_instruments(tmp: Path, data: Path) -> BadInput:
    # instruments but no market data: a run would report "0 events" and store empty results
    from nautilus_ext.catalogs.build import build_catalog

    target = tmp / "instruments_only"
    build_catalog("tardis", [data / TARDIS_TRADES], target, progress=False)
    import shutil

    shutil.rmtree(target / "data" / "trade_tick")
    return _backtest(tmp, str(target))


@case
def _backtest_catalog_without_the_instruments(tmp: Path, data: Path) -> BadInput:
    # a real catalog (BitMEX trades) that holds nothing of the backtest's instrument
    from nautilus_ext.catalogs.build import build_catalog

    target = tmp / "other_catalog"
    build_catalog("tardis", [data / TARDIS_TRADES], target, progress=False)
    return _backtest(tmp, str(target))


@case
def _backtest_config_missing(tmp: Path, data: Path) -> BadInput:
    return BadInput(["backtest", str(tmp / "nope.yaml")])


@case
def _backtest_config_binary(tmp: Path, data: Path) -> BadInput:
    f = tmp / "bt.yaml"
    f.write_bytes(bytes(range(256)) * 4)
    return BadInput(["backtest", str(f)])


@case
def _backtest_config_nested_5000_deep(tmp: Path, data: Path) -> BadInput:
    f = tmp / "bt.yaml"
    f.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    return BadInput(["backtest", str(f)])


@case
def _backtest_config_is_a_directory(tmp: Path, data: Path) -> BadInput:
    return BadInput(["backtest", str(tmp)])


# -- the corpus run --------------------------------------------------------------------------------

runner = CliRunner()


def run_case(name: str, tmp: Path, data: Path) -> tuple[BadInput, int, str, BaseException | None]:
    """Build case ``name`` in ``tmp`` and run it in-process; return its exit code and output."""
    bad = CASES[name](tmp, data)
    result = runner.invoke(app, bad.args, input=bad.stdin)
    exc = result.exception if not isinstance(result.exception, SystemExit) else None
    return bad, result.exit_code, result.output, exc


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_gets_a_typed_error_and_writes_nothing(
    name: str, tmp_path: Path, shared_data: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    bad = CASES[name](work, shared_data)
    before = {p: tree_digest(p) for p in bad.unchanged}
    result = runner.invoke(app, bad.args, input=bad.stdin)
    exc = result.exception if not isinstance(result.exception, SystemExit) else None
    assert exc is None, f"{name}: escaped {type(exc).__name__}: {exc}"
    assert result.exit_code != 0, f"{name}: exit 0 on bad input:\n{result.output}"
    assert any(code in result.output for code in CODES), f"{name}: no taxonomy code in:\n{result.output}"
    assert "Traceback" not in result.output
    for path in bad.absent:
        assert not path.exists(), f"{name}: {path} was (half-)written"
    for path, digest in before.items():
        assert tree_digest(path) == digest, f"{name}: {path} changed"
    # no temporary build folder left next to the target
    assert not [p for p in work.iterdir() if p.name.startswith(".") and "build" in p.name]


ABORTED_BEFORE = ("tardis_trade_id_200_chars", "betfair_truncated_bz2", "betfair_empty_bz2")


@pytest.mark.slow
@pytest.mark.parametrize("name", ABORTED_BEFORE)
def test_no_process_abort_in_a_real_subprocess(name: str, tmp_path: Path, shared_data: Path) -> None:
    bad = CASES[name](tmp_path, shared_data)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "testkit")])}
    proc = subprocess.run(
        [sys.executable, "-m", "nautilus_ext.cli", *bad.args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    assert any(code in proc.stderr for code in CODES), proc.stderr[-2000:]
