"""The funding carry configuration: shipped YAMLs load, bad values are refused with InvalidConfig."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.live.config import load_live_config
from nautilus_ext.strategies.funding_carry import FundingCarryConfig
from nautilus_ext.strategies.funding_carry import FundingCarryStrategy

REPO = Path(__file__).resolve().parents[3]
SHIPPED = REPO / "configs" / "strategies" / "funding_carry.yaml"


def _config(**overrides: Any) -> FundingCarryConfig:
    raw = yaml.safe_load(SHIPPED.read_text())["config"]
    return FundingCarryConfig(**{**raw, **overrides})


def test_the_shipped_strategy_config_builds_the_strategy() -> None:
    strategy = FundingCarryStrategy(_config())
    assert strategy.max_slippage == msgspec.convert("0.001", type=type(strategy.max_slippage))
    assert strategy.limits.max_positions == 3
    assert strategy.quote_prices == {"USDT": 1}
    assert str(strategy.id) == "FundingCarryStrategy-001"


def test_the_config_round_trips_through_json() -> None:
    config = _config()
    text = msgspec.json.encode(config)
    again = msgspec.json.decode(text, type=FundingCarryConfig)
    assert msgspec.json.encode(again) == text
    assert again.quote_usd_prices == {"USDT": "1"}


@pytest.mark.parametrize("name", ["funding_carry_dry_run.yaml", "funding_carry_live.yaml"])
def test_the_shipped_node_configs_load_with_the_shipped_strategy(name: str) -> None:
    config = load_live_config(REPO / "configs" / "live" / name)
    (entry,) = config.strategies
    assert entry.model_dump() == yaml.safe_load(SHIPPED.read_text())


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"instrument_ids": ()}, "instrument_ids"),
        ({"interval_secs": 0}, "interval_secs"),
        ({"stale_after_secs": -1}, "stale_after_secs"),
        ({"quote_usd_prices": None}, "quote_usd_prices"),
        ({"quote_usd_prices": {"USDT": "0"}}, "quote_usd_prices"),
        ({"max_slippage_bps": "-1"}, "max_slippage_bps"),
        ({"max_positions": 0}, "max_positions"),
        ({"max_total_usd": "0"}, "max_total_usd"),
        ({"stop_loss": "0"}, "stop_loss"),
        ({"min_net_apr": "lots"}, "malformed"),
        ({"max_hold_hours": "0"}, "max_hold_hours"),
        ({"exit_min_divergence_apr": "-0.1"}, "exit_min_divergence_apr"),
        ({"on_forced_reduction": "PANIC"}, "on_forced_reduction"),
        ({"unwind_max_slippage_bps": "0"}, "unwind_max_slippage_bps"),
        ({"unwind_max_slippage_bps": "wide"}, "unwind_max_slippage_bps"),
        ({"guard_confirm_ms": -1}, "guard_confirm_ms"),
        ({"margin_urgent_ratio": "0.3"}, "margin_urgent_ratio"),
        ({"margin_warning_ratio": "x"}, "margin_warning_ratio"),
        ({"max_symbol_qty": {"BTC": "0"}}, "max_symbol_qty"),
        ({"max_symbol_qty": {"BTC": "many"}}, "malformed"),
        ({"max_oi_share": "0"}, "max_oi_share"),
        ({"max_oi_share": "1.5"}, "max_oi_share"),
        ({"max_oi_share": "some"}, "malformed"),
    ],
)
def test_bad_values_are_refused(overrides: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidConfig, match=needle):
        FundingCarryStrategy(_config(**overrides))


def test_open_interest_comes_from_the_sample_or_else_from_the_collectors_store(tmp_path: Path) -> None:
    from decimal import Decimal

    from nautilus_ext.funding.model import FundingRateSample
    from nautilus_ext.funding.store import FundingRepository

    url = f"sqlite:///{tmp_path / 'carry.db'}"
    strategy = FundingCarryStrategy(_config(db_url=url, max_oi_share="0.01"))
    hour = 3600 * 10**9
    t0 = 1_735_689_600 * 10**9  # 2025-01-01

    def sample(ts_ns: int, oi: str | None) -> FundingRateSample:
        return FundingRateSample(
            venue="BYBIT",
            instrument_key="BYBIT:PERPETUAL:BTC-USDT@LIN",
            base="BTC",
            quote="USDT",
            rate=Decimal("0.0001"),
            interval_hours=Decimal(8),
            ts_ns=ts_ns,
            open_interest=None if oi is None else Decimal(oi),
        )

    live = sample(t0 + 10 * hour, None)  # what the node's funding-rate updates carry: no open interest
    assert strategy.open_interest(live) is None
    FundingRepository(strategy.repository.database).upsert_rates(
        [sample(t0 + 8 * hour, "900"), sample(t0 + 9 * hour, "1200")]
    )
    assert strategy.open_interest(live) == Decimal(1200)  # the collector's newest
    assert strategy.open_interest(sample(t0 + 10 * hour, "50")) == Decimal(50)  # the sample's own wins


def test_a_guard_halt_survives_a_restart_until_an_operator_clears_it(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from nautilus_ext.cli import app

    url = f"sqlite:///{tmp_path / 'carry.db'}"
    first = FundingCarryStrategy(_config(db_url=url))
    first.refuse("ADL on BYBIT BTCUSDT: the short leg was closed by the venue", safe=False)
    again = FundingCarryStrategy(_config(db_url=url))
    again._restore()
    assert again.refusing is not None
    assert "ADL on BYBIT" in again.refusing
    name = again.config.strategy_name
    runner = CliRunner()
    result = runner.invoke(app, ["carry", "clear-halt", "--strategy", name, "--db", url])
    assert result.exit_code == 0, result.output
    assert "halt cleared (ADL on BYBIT" in result.output
    cleared = FundingCarryStrategy(_config(db_url=url))
    cleared._restore()
    assert cleared.refusing is None
    result = runner.invoke(app, ["carry", "clear-halt", "--strategy", name, "--db", url])
    assert "not halted" in result.output
