"""The ``onchain`` typer app (mounted by the main CLI)."""

from __future__ import annotations

from typer.testing import CliRunner

from nautilus_ext.onchain.cli import app

runner = CliRunner()


def test_leverage_prints_seed_example() -> None:
    result = runner.invoke(app, ["leverage", "--equity", "10", "--ltv", "0.9"])
    assert result.exit_code == 0, result.output
    assert "flash F   90 ETH" in result.output
    assert "supply S  100 ETH" in result.output
    assert "borrow B  90 ETH" in result.output
    assert "leverage  10.0000x" in result.output


def test_leverage_rejects_bad_input() -> None:
    result = runner.invoke(app, ["leverage", "--equity", "10", "--ltv", "1.2"])
    assert result.exit_code != 0
    assert "strictly between 0 and 1" in result.output
    result = runner.invoke(app, ["leverage", "--equity", "ten", "--ltv", "0.5"])
    assert result.exit_code != 0


def test_health_factor() -> None:
    result = runner.invoke(
        app, ["health-factor", "--collateral", "100", "--debt", "90", "--threshold-bps", "9500"]
    )
    assert result.exit_code == 0, result.output
    assert "health factor 1.055555555555555556" in result.output
