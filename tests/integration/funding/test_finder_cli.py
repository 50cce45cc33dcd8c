"""``funding opportunities`` and ``funding serve`` over a SQLite store (serve: a real uvicorn process)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import typer
from typer.testing import CliRunner

from nautilus_ext.funding import FundingRateSample
from nautilus_ext.funding.finder_cli import register
from nautilus_ext.funding.store import FundingRepository
from nautilus_ext.persistence import Database

T0 = 1_735_689_600 * 1_000_000_000
ROOT = Path(__file__).resolve().parents[3]
# the funding sub-app as the lead wires it: a typer app with register() applied
_LAUNCH = (
    "import typer; from nautilus_ext.funding.finder_cli import register; a = typer.Typer(); register(a); a()"
)


def _sample(venue: str, base: str, rate: str, interval: int) -> FundingRateSample:
    return FundingRateSample(
        venue=venue,
        instrument_key=f"{venue}:PERPETUAL:{base}-USDT@LIN",
        base=base,
        quote="USDT",
        rate=Decimal(rate),
        interval_hours=Decimal(interval),
        ts_ns=T0,
        mark_price=Decimal(50_000),
        open_interest=Decimal(100),
        volume_24h=Decimal(10**9),
    )


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    database = Database.open(url)
    repo = FundingRepository(database)
    repo.upsert_venue("BINANCE", maker_fee_rate=Decimal("0.0002"), taker_fee_rate=Decimal("0.0005"))
    repo.upsert_venue("BYBIT", maker_fee_rate=Decimal("0.0002"), taker_fee_rate=Decimal("0.00055"))
    repo.upsert_rates(
        [
            _sample("BINANCE", "BTC", "0.0008", 8),
            _sample("BYBIT", "BTC", "-0.00008", 8),
            _sample("BINANCE", "ETH", "0.0001", 8),
            _sample("BYBIT", "ETH", "0.00005", 8),
        ]
    )
    database.close()
    return url


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_opportunities_table_ranked(store: str) -> None:
    result = CliRunner().invoke(_app(), ["opportunities", "--db", store])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "#",
        "pair",
        "(long",
        "/",
        "short)",
        "div",
        "APR",
        "costs",
        "break-even",
        "h",
        "net",
        "APR",
    ]
    # BTC: long Bybit (-0.00008/8h) short Binance (0.0008/8h): 0.00011/h = 96.36% APR gross;
    # fees 2 x (0.00055 + 0.0005) = 21 bp, break-even 0.0021 / 0.00011 = 19.1 h
    assert "BTC: BYBIT / BINANCE" in lines[1]
    for figure in ("96.36%", "21.00 bp", "19.1"):
        assert figure in lines[1]
    assert "ETH: BYBIT / BINANCE" in lines[2]


def test_opportunities_json_and_filters(store: str) -> None:
    result = CliRunner().invoke(
        _app(), ["opportunities", "--db", store, "--json", "--min-net-apr", "0.5", "--holding-hours", "168"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    rows = payload["opportunities"]
    assert [r["base"] for r in rows] == ["BTC"]
    btc = rows[0]
    assert Decimal(btc["divergence_apr"]) == Decimal("0.00011") * 8760
    assert Decimal(btc["total_cost"]) == Decimal("0.0021")
    assert Decimal(btc["net_apr"]) == (Decimal("0.00011") * 168 - Decimal("0.0021")) / 168 * 8760
    maker = json.loads(
        CliRunner().invoke(_app(), ["opportunities", "--db", store, "--json", "--maker"]).output
    )
    assert Decimal(maker["opportunities"][0]["fee_cost"]) == Decimal("0.0008")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size-usd", "abc"], "--size-usd: 'abc' is not a number"),
        (["--size-usd", "-5"], "size_usd must be > 0"),
        (["--holding-hours", "NaN"], "not a finite number"),
        (["--quote-price", "USDC"], "is not CODE=PRICE"),
        (["--quote-price", "USDC=0"], "must be > 0"),
        (["--venues", " , "], "--venues: give at least one"),
        (["--db", "mysql://x/y"], "is not one of"),
        (["--db", "sqlite:////no/such/dir/x.db"], "does not exist"),
        (["--db", "sqlite:////tmp/nautilus-ext-no-such-store.db"], "fill it first"),
        (["--db", "postgresql://u:secret@127.0.0.1:1/x"], "cannot connect"),
    ],
)
def test_opportunities_bad_input(store: str, args: list[str], message: str) -> None:
    argv = ["opportunities", *(["--db", store] if "--db" not in args else []), *args]
    result = CliRunner().invoke(_app(), argv)
    assert result.exit_code == (3 if message == "cannot connect" else 2)
    assert message in result.output
    assert "secret" not in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # a typed exit


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'testkit'}"}


def test_serve_answers_health(store: str) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", _LAUNCH, "serve", "--db", store, "--port", str(port)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                reply = requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"serve did not come up: {proc.communicate()}") from None
                time.sleep(0.2)
        assert reply.status_code == 200
        assert reply.json() == {"status": "ok", "venues": 2}
        opps = requests.get(f"http://127.0.0.1:{port}/api/v1/opportunities", timeout=5).json()
        assert opps[0]["base"] == "BTC"
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "loopback address only"),
        (["--port", "70000"], "65535"),
        (["--quote-price", "X=y"], "is not a number"),
        (["--db", "sqlite:////tmp/nautilus-ext-no-such-store.db"], "fill it first"),
    ],
)
def test_serve_bad_input(store: str, args: list[str], message: str) -> None:
    argv = ["serve", *(["--db", store] if "--db" not in args else []), *args]
    result = CliRunner().invoke(_app(), argv)
    assert result.exit_code == 2
    assert message in result.output


def test_serve_port_taken(store: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-c", _LAUNCH, "serve", "--db", store, "--port", str(port)],
            env=_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2
    assert f"--port {port}: cannot bind" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_backfilled_demo_tickers_rank_through_the_funding_cli(tmp_path: Path) -> None:
    """The demo generator's tickers -> ``funding backfill --tardis`` -> ``funding opportunities``."""
    from nautilus_ext.catalogs.synthetic import DEMO_VENUES
    from nautilus_ext.catalogs.synthetic import write_synthetic_tardis
    from nautilus_ext.funding.cli import app

    files = write_synthetic_tardis(tmp_path / "raw", venues=DEMO_VENUES, hours=17, book_updates_per_sec=0.01)
    tickers = [str(kinds["derivative_ticker"]) for kinds in files.values()]
    db = f"sqlite:///{tmp_path / 'store.db'}"
    runner = CliRunner()
    filled = runner.invoke(app, ["backfill", "--db", db, *[a for t in tickers for a in ("--tardis", t)]])
    assert filled.exit_code == 0, filled.output
    assert "wrote 4 settled rates" in filled.output  # 08:00 and 16:00 on both venues
    fees = ["--fee", "BINANCE=0.0002:0.0005", "--fee", "BYBIT=0.0002:0.00055"]
    table = runner.invoke(app, ["opportunities", "--db", db, *fees])
    assert table.exit_code == 0, table.output
    # Bybit's synthetic funding runs 1.5 bp per 8 h above Binance's: long Binance, short Bybit
    assert "BTC: BINANCE / BYBIT" in table.output.splitlines()[1]
    unpriced = runner.invoke(app, ["opportunities", "--db", db, "--json"])
    assert json.loads(unpriced.output)["skipped"][0]["why"] == "no fees for BINANCE, BYBIT"


@pytest.mark.parametrize(
    ("fee", "message"),
    [
        ("BYBIT", "is not VENUE=MAKER:TAKER"),
        ("BYBIT=0.0002", "is not VENUE=MAKER:TAKER"),
        ("BYBIT=0.02:0.1", "not a fraction"),
    ],
)
def test_bad_fee_options(store: str, fee: str, message: str) -> None:
    result = CliRunner().invoke(_app(), ["opportunities", "--db", store, "--fee", fee])
    assert result.exit_code == 2
    assert message in result.output
