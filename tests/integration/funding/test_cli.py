"""``nautilus-ext funding collect|backfill|gaps`` against the fake venues and a SQLite store."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from nautilus_ext.cli import app
from nautilus_ext.funding.store import FundingRepository
from nautilus_ext.persistence import Database
from nautilus_ext_testkit.fake_exchange import FakeExchange

from .conftest import VENUES

runner = CliRunner()
TARDIS = "/work/shared/data/nautilus_trader/crates/adapters/tardis/test_data/csv/derivative_ticker_1.csv"


def _config(ex: FakeExchange, tmp_path: Path, name: str = "collector", **extra: object) -> Path:
    venues = [
        {
            "exchange_id": exchange_id,
            "symbols": ["BTC", "ETH"],
            "rest_url_override": ex.base_url,
            "ws_url_override": ex.ws_url,
            "enable_rate_limit": False,
        }
        for exchange_id in VENUES.values()
    ]
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"venues": venues, "poll_interval_secs": 3600, **extra}))
    return path


def _count(url: str) -> int:
    database = Database.open(url)
    try:
        return FundingRepository(database).count()
    finally:
        database.close()


def test_collect_once_fills_the_store_twice_without_duplicates(fake: FakeExchange, tmp_path: Path) -> None:
    config, url = _config(fake, tmp_path), f"sqlite:///{tmp_path / 'cli.db'}"
    result = runner.invoke(app, ["funding", "collect", str(config), "--once", "--db", url])
    assert result.exit_code == 0, result.output
    for venue in ("BYBIT", "BINANCE", "OKX", "HYPERLIQUID"):
        assert f"{venue:<12}     2 rates  ok" in result.output
    assert _count(url) == 8
    again = runner.invoke(app, ["funding", "collect", str(config), "--once", "--db", url])
    assert again.exit_code == 0, again.output
    assert _count(url) == 8  # same poll bucket (1 h): updated in place


def test_backfill_then_gaps_report_the_missing_settlement(fake: FakeExchange, tmp_path: Path) -> None:
    config, url = _config(fake, tmp_path), f"sqlite:///{tmp_path / 'cli.db'}"
    result = runner.invoke(
        app,
        ["funding", "backfill", str(config), "--since", "3d", "--until", "now", "--db", url, "--no-progress"],
    )
    assert result.exit_code == 0, result.output
    assert "wrote 32 settled rates" in result.output  # 8 series x 4 settled (one left out)
    assert "8 gap(s)" in result.output
    gaps = runner.invoke(app, ["funding", "gaps", "--db", url, "--venue", "hyperliquid"])
    assert gaps.exit_code == 1, gaps.output  # gaps found: nonzero for monitoring
    assert "2 series checked" in gaps.output
    assert gaps.output.count("1 missing every 1h") == 2


def test_backfill_from_tardis(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = runner.invoke(app, ["funding", "backfill", "--tardis", TARDIS, "--db", url, "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "wrote 2 settled rates from 1 file(s)" in result.output
    assert _count(url) == 2
    clean = runner.invoke(app, ["funding", "gaps", "--db", url])
    assert (clean.exit_code, "no gaps" in clean.output) == (0, True)


def test_bad_input_exits_2_with_a_typed_error_and_no_traceback(fake: FakeExchange, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    bad = _config(fake, tmp_path, "bad", surprise=True)
    cases = [
        ["funding", "collect", str(bad), "--once", "--db", url],
        ["funding", "collect", str(tmp_path / "missing.yaml"), "--once"],
        ["funding", "collect", str(_config(fake, tmp_path)), "--once", "--db", "mysql://x/y"],
        ["funding", "backfill", "--db", url],
        ["funding", "backfill", str(_config(fake, tmp_path)), "--since", "last tuesday", "--db", url],
        ["funding", "backfill", "--tardis", str(tmp_path / "none.csv"), "--db", url],
        ["funding", "gaps", "--db", f"sqlite:///{tmp_path / 'no' / 'dir.db'}"],
    ]
    for args in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "error: [INVALID_CONFIG]" in result.output, result.output
        assert "Traceback" not in result.output


def test_an_unknown_symbol_fails_the_poll_with_exit_1(fake: FakeExchange, tmp_path: Path) -> None:
    config = tmp_path / "one.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "venues": [
                    {
                        "exchange_id": "bybit",
                        "symbols": ["DOGE"],
                        "rest_url_override": fake.base_url,
                        "ws_url_override": fake.ws_url,
                    }
                ]
            }
        )
    )
    result = runner.invoke(
        app, ["funding", "collect", str(config), "--once", "--db", f"sqlite:///{tmp_path / 'x.db'}"]
    )
    assert result.exit_code == 1
    assert "FAILED [INVALID_CONFIG]" in result.output
    assert "DOGE" in result.output
