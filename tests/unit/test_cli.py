"""The nautilus-ext command line: help, instrument parsing, routing, typed errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from nautilus_ext.cli import app

runner = CliRunner()


def test_help_lists_every_command_group() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in (
        "demo",
        "backtest",
        "route",
        "instrument",
        "catalog",
        "audit",
        "replay",
        "live",
        "onchain",
        "arm",
    ):
        assert name in result.output


def test_instrument_parse_prints_typed_views() -> None:
    key = (
        "FOOTBALL:BETFAIR:TOTAL_GOALS_OU_2_5:GER-BUNDESLIGA:20250316T1430:BAYERN-MUNICH-BORUSSIA-DORTMUND@2.5"
    )
    result = runner.invoke(app, ["instrument", "parse", key])
    assert result.exit_code == 0, result.output
    views = json.loads(result.output)
    assert views["canonical"] == key
    assert views["fixture"] == "BAYERN-MUNICH-BORUSSIA-DORTMUND"
    assert views["kickoff"] == "2025-03-16T14:30:00+00:00"
    assert views["goal_line"] == "2.5"
    assert views["is_position"] is True


def test_instrument_errors_exit_2_with_the_code() -> None:
    result = runner.invoke(app, ["instrument", "parse", "binance:SPOT_PAIR:BTC-USDT"])
    assert result.exit_code == 2
    assert "INVALID_INSTRUMENT" in result.output
    assert "upper-case" in result.output


def test_nautilus_id() -> None:
    result = runner.invoke(app, ["instrument", "nautilus-id", "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"])
    assert result.output.strip() == "BTCUSDT-PERP.BINANCE"


def test_route_prints_the_route_and_rejects_bad_orders() -> None:
    order = {
        "operation_id": "x",
        "operation": "trade",
        "instrument_key": "BYBIT:PERPETUAL:BTC-USDT@LIN",
        "venue": "BYBIT",
        "side": "SELL",
        "amount": "0.5",
        "smart_execution_enabled": True,
        "urgency": "high",
    }
    result = runner.invoke(app, ["route", json.dumps(order)])
    assert result.exit_code == 0, result.output
    route = json.loads(result.output)
    assert route["family"] == "CEX"
    assert route["venue"] == "BYBIT"
    assert route["algorithm"]["name"] == "LIMIT_THEN_MARKET"
    bad = {**order, "venue": "OKX"}
    result = runner.invoke(app, ["route", json.dumps(bad)])
    assert result.exit_code == 2
    assert "INVALID_ORDER" in result.output
    assert "disagrees" in result.output
