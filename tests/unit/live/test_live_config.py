"""The live YAML schema: shipped files validate, each rule can fail, unknown keys refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.live.cli import app
from nautilus_ext.live.config import load_live_config
from nautilus_ext.live.node import build_trading_node_config
from nautilus_ext.mode import Mode
from tests.support.unguarded import SAFETY_SECTION

CONFIG_DIR = Path(__file__).resolve().parents[3] / "configs" / "live"
BASE: dict[str, Any] = {
    "mode": "DRY_RUN",
    "venues": [{"venue": "BYBIT", "adapter": "ccxt", "exchange_id": "bybit"}],
    "dry_run": {"starting_balances": ["1000 USDT"]},
}


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "node.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_validate(path: Path) -> None:
    config = load_live_config(path)
    node_config, factories = build_trading_node_config(config)
    assert set(factories) == {v.venue for v in config.venues}
    if config.mode is Mode.DRY_RUN:
        assert all(type(c).__name__ == "DryRunExecClientConfig" for c in node_config.exec_clients.values())


@pytest.mark.parametrize(
    "change",
    [
        {"extra_key": 1},
        {"mode": "LIVE", "dry_run": None},
        {"mode": "LIVE", "allow_live_orders": True},
        {"allow_live_orders": True},
        {"dry_run": None},
        {"venues": []},
        {"venues": [BASE["venues"][0], BASE["venues"][0]]},
        {"venues": [{"venue": "BYBIT", "adapter": "ccxt"}]},
        {"venues": [{"venue": "ASTER", "adapter": "native"}]},
        {
            "venues": [
                {
                    "venue": "BYBIT",
                    "adapter": "native",
                    "rest_url_override": "http://x",
                    "ws_url_override": "ws://x",
                }
            ]
        },
        {
            "venues": [
                {"venue": "BYBIT", "adapter": "ccxt", "exchange_id": "bybit", "rest_url_override": "http://x"}
            ]
        },
        {"venues": [{"venue": "BYBIT", "adapter": "ccxt", "exchange_id": "bybit", "bogus": 1}]},
        {"dry_run": {"starting_balances": []}},
        {"dry_run": {"starting_balances": ["1 USDT"], "fill_model": {"prob_slippage": 2}}},
    ],
)
def test_each_rule_can_fail(tmp_path: Path, change: dict[str, Any]) -> None:
    data = {k: v for k, v in (BASE | change).items() if v is not None}
    with pytest.raises(InvalidConfig):
        load_live_config(_write(tmp_path, data))


REPO = Path(__file__).resolve().parents[3]
SAFETY = {"config_path": str(REPO / "configs" / "safety" / "default.yaml"), "control_port": 0}


def test_live_needs_explicit_confirmation(tmp_path: Path) -> None:
    data = {"mode": "LIVE", "allow_live_orders": True, "venues": BASE["venues"], "safety": SAFETY}
    assert load_live_config(_write(tmp_path, data)).mode is Mode.LIVE


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"safety": None}, "needs a safety section"),
        ({"safety": {**SAFETY, "control_port": None}}, "needs safety.control_port"),
        ({"safety": {"control_port": 0}}, "exactly one of config_path and config"),
        ({"exec_algorithms": {"overrides": {"NOPE": {}}}}, "unknown algorithm"),
    ],
)
def test_live_safety_section_is_required_and_checked(
    tmp_path: Path, change: dict[str, Any], needle: str
) -> None:
    data = {"mode": "LIVE", "allow_live_orders": True, "venues": BASE["venues"], "safety": SAFETY, **change}
    with pytest.raises(InvalidConfig, match=needle):
        load_live_config(_write(tmp_path, data))


def test_safety_config_mode_must_match_the_node(tmp_path: Path) -> None:
    from nautilus_ext.live.config import load_safety_config

    safety = yaml.safe_load((REPO / "configs" / "safety" / "default.yaml").read_text())
    data = {
        "mode": "LIVE",
        "allow_live_orders": True,
        "venues": BASE["venues"],
        "safety": {"config": {**safety, "mode": "DRY_RUN"}, "control_port": 0},
    }
    with pytest.raises(InvalidConfig, match="does not match the node mode LIVE"):
        load_safety_config(load_live_config(_write(tmp_path, data)))
    data["safety"] = {"config": safety, "control_port": 0}
    assert str(load_safety_config(load_live_config(_write(tmp_path, data))).mode) == "LIVE"


def test_native_switch_builds_native_configs(tmp_path: Path) -> None:
    data = BASE | {
        "venues": [{"venue": "BYBIT", "adapter": "native"}, {"venue": "HYPERLIQUID", "adapter": "native"}]
    }
    _, factories = build_trading_node_config(load_live_config(_write(tmp_path, data)))
    assert factories["BYBIT"][0].__name__ == "BybitLiveDataClientFactory"
    assert factories["HYPERLIQUID"][0].__name__ == "HyperliquidLiveDataClientFactory"


def test_native_binance_takes_url_overrides(tmp_path: Path) -> None:
    venue = {
        "venue": "BINANCE",
        "adapter": "native",
        "rest_url_override": "http://127.0.0.1:9",
        "ws_url_override": "ws://127.0.0.1:9/",
    }
    node_config, factories = build_trading_node_config(
        load_live_config(_write(tmp_path, BASE | {"venues": [venue]}))
    )
    assert factories["BINANCE"][0].__name__ == "BinanceLiveDataClientFactory"
    data = node_config.data_clients["BINANCE"]
    assert (data.base_url_http, data.base_url_ws) == ("http://127.0.0.1:9", "ws://127.0.0.1:9/public")
    assert data.account_type.name == "USDT_FUTURES"
    # DRY_RUN (BASE) replaces the exec client; in LIVE the native one gets the stream URLs
    live = {
        "mode": "LIVE",
        "allow_live_orders": True,
        "venues": [venue],
        "safety": SAFETY_SECTION,
    }
    node_config, _ = build_trading_node_config(load_live_config(_write(tmp_path, live)))
    exec_config = node_config.exec_clients["BINANCE"]
    assert exec_config.base_url_ws_stream == "ws://127.0.0.1:9/private"
    assert exec_config.base_url_ws == "ws://127.0.0.1:9/ws-fapi/v1"


def test_cli_reports_invalid_config(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["live", str(_write(tmp_path, BASE | {"x": 1}))])
    assert result.exit_code == 2
    assert "INVALID_CONFIG" in result.output


def test_cli_validate_and_mounting_without_warnings(tmp_path: Path) -> None:
    import typer

    ok = CliRunner().invoke(app, ["live-validate", str(_write(tmp_path, BASE))])
    assert ok.exit_code == 0
    assert "OK mode=DRY_RUN" in ok.output
    bad = CliRunner().invoke(app, ["live-validate", str(_write(tmp_path, BASE | {"x": 1}))])
    assert bad.exit_code == 2
    root = typer.Typer()
    root.add_typer(app)  # how the project CLI mounts it (warnings are errors here)
    mounted = CliRunner().invoke(root, ["live-validate", str(_write(tmp_path, BASE))])
    assert mounted.exit_code == 0


def test_native_okx_takes_url_overrides_per_socket(tmp_path: Path) -> None:
    venue = {
        "venue": "OKX",
        "adapter": "native",
        "market_types": ["swap"],
        "rest_url_override": "http://127.0.0.1:9",
        "ws_url_override": "ws://127.0.0.1:9",
    }
    node_config, factories = build_trading_node_config(
        load_live_config(
            _write(
                tmp_path,
                {
                    "mode": "LIVE",
                    "allow_live_orders": True,
                    "venues": [venue],
                    "safety": SAFETY_SECTION,
                },
            )
        )
    )
    assert factories["OKX"][1].__name__ == "OKXLiveExecClientFactory"
    data, exec_ = node_config.data_clients["OKX"], node_config.exec_clients["OKX"]
    assert data.base_url_http == exec_.base_url_http == "http://127.0.0.1:9"
    # the data client's socket is the public one, the execution client's the private one
    assert data.base_url_ws == "ws://127.0.0.1:9/ws/v5/public"
    assert exec_.base_url_ws == "ws://127.0.0.1:9/ws/v5/private"
    assert [str(t) for t in data.instrument_types] == [str(t) for t in exec_.instrument_types]
    bad = BASE | {"venues": [venue | {"market_types": ["linear"]}]}
    with pytest.raises(InvalidConfig, match="linear"):
        build_trading_node_config(load_live_config(_write(tmp_path, bad)))
