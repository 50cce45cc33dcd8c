"""
No config loader echoes an input value (issue 13, item 13).

A secret typed into a YAML file (an unknown key, the wrong field, a line that does not parse)
must not reappear in the error message, its details, its traceback or a command's output: every
loader (live, safety, backtest, on-chain) reports field paths and problems through
:func:`nautilus_ext.errors.field_problems` and YAML positions through
:func:`nautilus_ext.errors.describe_yaml_error`.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.cli import app
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.live.config import load_live_config
from nautilus_ext.live.config import load_safety_config
from nautilus_ext.onchain.config import OnchainConfig
from nautilus_ext.safety.config import SafetyConfig

REPO = Path(__file__).resolve().parents[2]
SECRET = "AKIAIOSFODNN7EXAMPLESECRET"
PRIVATE_KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe512961708279f3e0d4c6f5b1a8b2c3"
SAFETY = yaml.safe_load((REPO / "configs" / "safety" / "default.yaml").read_text())


def _live(**extra: Any) -> dict[str, Any]:
    venue: dict[str, Any] = {"venue": "BYBIT", "adapter": "ccxt", "exchange_id": "bybit"}
    venue.update(extra)
    return {"mode": "DRY_RUN", "venues": [venue], "dry_run": {"starting_balances": ["1 USDT"]}}


def _text(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)) + repr(getattr(error, "details", None))


def _write(tmp: Path, name: str, data: Any) -> Path:
    path = tmp / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def _live_extra_key(tmp: Path) -> None:
    load_live_config(_write(tmp, "live.yaml", _live(api_key=SECRET)))


def _live_secret_in_env_name(tmp: Path) -> None:
    data = _live()
    data["venues"] = [
        {
            "venue": "BETFAIR",
            "adapter": "native",
            "betfair": {"account_currency": "GBP", "market_ids": ["1.1"], "password_env": SECRET.lower()},
        }
    ]
    load_live_config(_write(tmp, "live.yaml", data))


def _live_secret_in_bad_type(tmp: Path) -> None:
    load_live_config(_write(tmp, "live.yaml", _live(timeout_ms=SECRET)))


def _live_yaml_syntax(tmp: Path) -> None:
    load_live_config(_write(tmp, "live.yaml", f"mode: DRY_RUN\nvenues:\n  - api_key: {SECRET}: [\n"))


def _safety_extra_key(tmp: Path) -> None:
    SafetyConfig.parse({**SAFETY, "mode": "LIVE", "api_secret": SECRET})


def _safety_secret_in_decimal(tmp: Path) -> None:
    SafetyConfig.parse({**SAFETY, "mode": "LIVE", "risk": {**SAFETY["risk"], "max_position": SECRET}})


def _safety_yaml_file(tmp: Path) -> None:
    path = _write(tmp, "safety.yaml", f"risk:\n  api_secret: {SECRET}: [\n")
    config = load_live_config(_write(tmp, "live.yaml", {**_live(), "safety": {"config_path": str(path)}}))
    load_safety_config(config)


def _backtest_extra_key(tmp: Path) -> None:
    BacktestSpec.from_yaml(_write(tmp, "bt.yaml", {"kind": "strategy", "api_key": SECRET}))


def _backtest_yaml_syntax(tmp: Path) -> None:
    BacktestSpec.from_yaml(_write(tmp, "bt.yaml", f"kind: strategy\npassword: {SECRET}: [\n"))


def _onchain_private_key_as_address(tmp: Path) -> None:
    OnchainConfig.parse({"chain": "ETHEREUM", "dsa": PRIVATE_KEY, "private_key": SECRET})


LOADERS: dict[str, Callable[[Path], None]] = {
    "live extra key": _live_extra_key,
    "live secret in an env-name field": _live_secret_in_env_name,
    "live secret in a typed field": _live_secret_in_bad_type,
    "live YAML syntax": _live_yaml_syntax,
    "safety extra key": _safety_extra_key,
    "safety secret in a decimal": _safety_secret_in_decimal,
    "safety YAML file": _safety_yaml_file,
    "backtest extra key": _backtest_extra_key,
    "backtest YAML syntax": _backtest_yaml_syntax,
    "onchain private key as an address": _onchain_private_key_as_address,
}


@pytest.mark.parametrize("load", LOADERS.values(), ids=list(LOADERS))
def test_loader_error_never_echoes_the_input(tmp_path: Path, load: Callable[[Path], None]) -> None:
    with pytest.raises(InvalidConfig) as err:
        load(tmp_path)
    text = _text(err.value)
    assert SECRET not in text
    assert SECRET.lower() not in text
    assert PRIVATE_KEY[2:] not in text
    assert "input_value" not in text


@pytest.mark.parametrize("command", ["live-validate", "live"])
def test_live_commands_never_echo_a_secret_typed_into_the_yaml(tmp_path: Path, command: str) -> None:
    path = _write(tmp_path, "live.yaml", _live(api_key=SECRET))
    result = CliRunner().invoke(app, [command, str(path)])
    assert result.exit_code == 2
    assert "[INVALID_CONFIG]" in result.output
    assert "venues.0.api_key" in result.output  # the field is named
    assert SECRET not in result.output
