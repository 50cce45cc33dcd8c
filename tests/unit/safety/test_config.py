"""SafetyConfig validation: every rule can fail, floats are refused, the limits hash moves."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.safety import SafetyConfig

from .conftest import config_dict


def test_valid_config_parses_with_exact_decimals() -> None:
    config = SafetyConfig.parse(config_dict())
    assert config.risk.max_slippage == Decimal("0.01")
    assert config.risk.position_limit("ANY") == Decimal(5)
    assert config.arming.auto_confirm[0].max_amount == Decimal("0.5")


def test_json_round_trip_keeps_config_and_hash() -> None:
    config = SafetyConfig.parse(config_dict())
    again = SafetyConfig.model_validate_json(config.model_dump_json())
    assert again == config
    assert again.limits_hash() == config.limits_hash()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"risk": {"max_trade_size": 1.5}}, "risk.max_trade_size"),
        ({"risk": {"max_position": "0"}}, "risk.max_position"),
        ({"risk": {"max_slippage": "1"}}, "risk.max_slippage"),
        ({"risk": {"drawdown_size_factor": "1.5"}}, "risk.drawdown_size_factor"),
        ({"risk": {"surprise": "1"}}, "risk.surprise"),
        ({"oms": {"order_rate_limit": 0}}, "oms.order_rate_limit"),
        ({"oms": {"mismatch_rel_threshold": "-0.1"}}, "oms.mismatch_rel_threshold"),
        ({"arming": {"max_ttl_secs": 0}}, "arming.max_ttl_secs"),
        ({"mode": "PAPER"}, "mode"),
        (
            {"arming": {"auto_confirm": [{"name": "a", "strategies": [], "max_amount": "1"}]}},
            "arming.auto_confirm.0.strategies",
        ),
    ],
)
def test_each_bad_field_is_named(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidConfig) as info:
        SafetyConfig.parse(config_dict(**overrides))
    assert info.value.code is ErrorCode.INVALID_CONFIG
    assert any(e.startswith(field) for e in info.value.details["errors"]), info.value.details


def test_missing_threshold_is_refused() -> None:
    data = config_dict()
    del data["risk"]["max_daily_loss"]
    with pytest.raises(InvalidConfig, match=r"risk\.max_daily_loss"):
        SafetyConfig.parse(data)


def test_repeated_policy_names_are_refused() -> None:
    policy = {"name": "p", "strategies": ["S"], "max_amount": "1"}
    with pytest.raises(InvalidConfig, match="repeat"):
        SafetyConfig.parse(config_dict(arming={"auto_confirm": [policy, policy]}))


def test_limits_hash_changes_with_any_threshold() -> None:
    base = SafetyConfig.parse(config_dict()).limits_hash()
    other = SafetyConfig.parse(config_dict(risk={"max_trade_size": "3"})).limits_hash()
    assert base != other
    assert len(base) == 64


def test_per_key_overrides() -> None:
    config = SafetyConfig.parse(
        config_dict(
            risk={
                "max_position_by_asset": {"X": "9"},
                "max_trade_size_by_asset": {"X": "4"},
                "max_latency_ms_by_venue": {"V": 50},
            }
        )
    )
    assert config.risk.position_limit("X") == Decimal(9)
    assert config.risk.trade_size_limit("X") == Decimal(4)
    assert config.risk.latency_limit_ms("V") == 50
    assert config.risk.latency_limit_ms("W") == 500
