"""``catalog build`` and ``catalog info`` through typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from nautilus_ext.catalogs.cli import app
from nautilus_ext.catalogs.synthetic import write_synthetic_trades

runner = CliRunner()


def test_build_then_info(tmp_path: Path) -> None:
    trades = write_synthetic_trades(tmp_path / "binance-futures_trades.csv", 2_000, seed=5)
    target = tmp_path / "cat"
    result = runner.invoke(app, ["build", "tardis", str(trades), "--target", str(target), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "2,000 source records -> 2,000 rows" in result.output
    assert "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN" in result.output
    info = runner.invoke(app, ["info", str(target)])
    assert info.exit_code == 0, info.output
    assert "trade_tick" in info.output
    assert "2,000" in info.output
    assert "BTCUSDT-PERP.BINANCE" in info.output


def test_errors_exit_2_with_the_code(tmp_path: Path) -> None:
    result = runner.invoke(app, ["build", "kaiko", str(tmp_path / "x.csv"), "--target", str(tmp_path / "c")])
    assert result.exit_code == 2
    assert "INVALID_CONFIG" in result.output
    missing = runner.invoke(app, ["info", str(tmp_path / "nothing")])
    assert missing.exit_code == 2
    assert "no catalog" in missing.output
