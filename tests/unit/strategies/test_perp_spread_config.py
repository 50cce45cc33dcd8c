"""The perp/perp spread configuration: shipped YAMLs load, bad values are refused with InvalidConfig."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.live.config import load_live_config
from nautilus_ext.safety.config import SafetyConfig
from nautilus_ext.strategies.perp_spread import PerpSpreadConfig
from nautilus_ext.strategies.perp_spread import PerpSpreadStrategy

REPO = Path(__file__).resolve().parents[3]
SHIPPED = REPO / "configs" / "strategies" / "perp_spread.yaml"


def _config(**overrides: Any) -> PerpSpreadConfig:
    raw = yaml.safe_load(SHIPPED.read_text())["config"]
    return PerpSpreadConfig(**{**raw, **overrides})


def test_the_shipped_strategy_config_builds_the_strategy() -> None:
    strategy = PerpSpreadStrategy(_config())
    assert (strategy.a_id, strategy.b_id) == ("BTC-USD-PERP.HYPERLIQUID", "BTCUSDT-LINEAR.BYBIT")
    assert strategy.max_slippage == Decimal("0.001")
    assert strategy.min_edge == Decimal("0.0002")
    assert strategy.allowance == Decimal("0.0001")
    assert strategy.quote_prices == {"USDT": 1, "USDC": 1}
    assert str(strategy.id) == "PerpSpreadStrategy-001"


def test_the_config_round_trips_through_json() -> None:
    config = _config(execution="MAKER")
    text = msgspec.json.encode(config)
    again = msgspec.json.decode(text, type=PerpSpreadConfig)
    assert msgspec.json.encode(again) == text
    assert again.execution == "MAKER"


@pytest.mark.parametrize("name", ["perp_spread_dry_run.yaml", "perp_spread_live.yaml"])
def test_the_shipped_node_configs_load_with_the_shipped_strategy(name: str) -> None:
    config = load_live_config(REPO / "configs" / "live" / name)
    (entry,) = config.strategies
    assert entry.model_dump() == yaml.safe_load(SHIPPED.read_text())


def test_the_shipped_safety_file_covers_the_strategy_with_room_for_its_reprices() -> None:
    raw = yaml.safe_load((REPO / "configs" / "safety" / "perp_spread.yaml").read_text())
    safety = SafetyConfig.parse({**raw, "mode": "LIVE"})
    (policy,) = safety.arming.auto_confirm
    assert policy.name == "spread"
    assert policy.strategies == ("PerpSpreadStrategy-001",)
    assert _config().max_reprices < safety.oms.flipflop_max_cycles


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"instrument_ids": ("BTCUSDT-LINEAR.BYBIT",)}, "instrument_ids"),
        ({"execution": "BOTH"}, "execution"),
        ({"interval_ms": 0}, "interval_ms"),
        ({"stale_after_secs": -1}, "stale_after_secs"),
        ({"quote_usd_prices": None}, "quote_usd_prices"),
        ({"quote_usd_prices": {"USDT": "0"}}, "quote_usd_prices"),
        ({"min_edge_bps": "x"}, "min_edge_bps"),
        ({"min_edge_bps": "-1"}, "min_edge_bps"),
        ({"taker_fee_b": "-0.001"}, "taker_fee_b"),
        ({"maker_fee_a": "2"}, "maker_fee_a"),
        ({"max_positions": 0}, "max_positions"),
        ({"max_total_usd": "0"}, "max_total_usd"),
        ({"max_position_usd": "0"}, "max_position_usd"),
        ({"max_inventory": "0"}, "max_inventory"),
        ({"max_reprices": 1}, "max_reprices"),
        ({"max_hold_secs": 0}, "max_hold_secs"),
        ({"latency_ms": -1}, "latency_ms"),
    ],
)
def test_bad_values_are_refused_naming_the_field(overrides: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidConfig, match=needle):
        PerpSpreadStrategy(_config(**overrides))
