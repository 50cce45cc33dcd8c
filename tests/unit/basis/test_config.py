"""Mode and share-class configuration: every rule can fail, corrections are logged and kept."""

from __future__ import annotations

import logging
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.basis.config import MODE_NAMES
from nautilus_ext.basis.config import LoopExecution
from nautilus_ext.basis.config import RunRequest
from nautilus_ext.basis.config import resolve
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.instruments.registry import default_config_dir


def _req(mode: str, share: str = "usdt_stable") -> RunRequest:
    return RunRequest(mode, share, Decimal(100000), "2024-01-01", "2024-02-01")


def test_six_modes_and_two_share_classes_ship() -> None:
    root = default_config_dir()
    assert sorted(p.stem for p in (root / "modes").glob("*.yaml")) == sorted(MODE_NAMES)
    assert sorted(p.stem for p in (root / "share_classes").glob("*.yaml")) == [
        "eth_directional",
        "usdt_stable",
    ]


@pytest.mark.parametrize(
    ("mode", "share"),
    [
        ("pure_lending", "usdt_stable"),
        ("btc_basis", "usdt_stable"),
        ("eth_staking_only", "eth_directional"),
        ("eth_leveraged", "eth_directional"),
        ("usdt_market_neutral_no_leverage", "usdt_stable"),
        ("usdt_market_neutral", "usdt_stable"),
    ],
)
def test_each_mode_resolves_with_its_share_class(mode: str, share: str) -> None:
    cfg = resolve(_req(mode, share))
    assert cfg.mode.mode == mode
    assert cfg.corrections == []
    assert all(code in cfg.venues for code in [cfg.mode.aave.venue])


def test_usdt_staking_without_hedge_fails_naming_both_settings() -> None:
    with pytest.raises(InvalidConfig) as e:
        resolve(_req("usdt_market_neutral"), {"basis_trade.enabled": "false"})
    assert "share_class usdt_stable" in str(e.value)
    assert "basis_trade.enabled: false" in str(e.value)
    assert "staking.enabled: true" in str(e.value)


def test_eth_class_with_basis_trade_is_corrected_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="nautilus_ext.basis.config"):
        cfg = resolve(_req("usdt_market_neutral", "eth_directional"))
    assert cfg.mode.basis_trade.enabled is False
    assert len(cfg.corrections) == 1
    assert "basis_trade.enabled true -> false" in cfg.corrections[0]
    assert any("basis_trade.enabled" in r.getMessage() for r in caplog.records)
    assert cfg.to_json()["corrections"] == cfg.corrections


def test_cli_overrides_win_and_are_recorded() -> None:
    cfg = resolve(
        _req("usdt_market_neutral"), {"leverage.target_ltv": "0.7", "leverage.execution": "sequential"}
    )
    assert cfg.mode.leverage.target_ltv == Decimal("0.7")
    assert cfg.mode.leverage.execution is LoopExecution.SEQUENTIAL
    assert cfg.overrides == {"leverage.target_ltv": "0.7", "leverage.execution": "sequential"}


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"leverage.target_ltv": "0.95"}, "aave.ltv_bps"),
        ({"leverage.target_ltv": "0.87"}, "rebalancing.health_factor_threshold"),
        ({"rebalancing.margin_urgent_threshold": "0.25"}, "rebalancing.margin_warning_threshold"),
        (
            {"rebalancing.margin_urgent_threshold": "0.05", "rebalancing.margin_warning_threshold": "0.08"},
            "maintenance_margin",
        ),
        ({"basis_trade.spot_venue": "NOWHERE"}, "basis_trade.spot_venue"),
        ({"staking.rewards_mode": "bogus"}, "rewards_mode"),
        ({"staking.lst": "WSTETH"}, "staking.rewards_mode"),
        ({"leverage.flash_venue": "NOPE"}, "leverage.flash_venue"),
        ({"leverage.nonsense": "1"}, "nonsense"),
        ({"basis_trade.target_margin_ratio": "0.1"}, "basis_trade.target_margin_ratio"),
    ],
)
def test_contradictions_fail_fast(overrides: dict[str, str], needle: str) -> None:
    with pytest.raises(InvalidConfig, match=needle.replace(".", r"\.")):
        resolve(_req("usdt_market_neutral"), overrides)


@pytest.mark.parametrize(
    ("mode", "share", "needle"),
    [
        ("pure_lending", "eth_directional", "lending.asset"),
        ("btc_basis", "eth_directional", "asset: BTC"),
        ("eth_leveraged", "usdt_stable", "USDT staking requires hedging"),
    ],
)
def test_mode_and_share_class_contradictions(mode: str, share: str, needle: str) -> None:
    with pytest.raises(InvalidConfig, match=needle):
        resolve(_req(mode, share))


def test_unknown_and_missing_keys_fail(tmp_path: Path) -> None:
    root = tmp_path / "configs"
    shutil.copytree(default_config_dir(), root)
    path = root / "modes" / "pure_lending.yaml"
    text = path.read_text()
    path.write_text(text + "typo_setting: 1\n")
    with pytest.raises(InvalidConfig, match="typo_setting"):
        resolve(_req("pure_lending"), config_dir=root)
    path.write_text(text.replace('swap_fee: "0.0005"', ""))
    with pytest.raises(InvalidConfig, match="swap_fee"):
        resolve(_req("pure_lending"), config_dir=root)


def test_unknown_mode_share_class_and_bad_capital() -> None:
    with pytest.raises(InvalidConfig, match="not one of"):
        resolve(_req("no_such_mode"))
    with pytest.raises(InvalidConfig, match="known: eth_directional, usdt_stable"):
        resolve(RunRequest("pure_lending", "gold", Decimal(1), "2024-01-01", "2024-01-02"))
    with pytest.raises(InvalidConfig, match="capital"):
        resolve(RunRequest("pure_lending", "usdt_stable", Decimal(0), "2024-01-01", "2024-01-02"))
