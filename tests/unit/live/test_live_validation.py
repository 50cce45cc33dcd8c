"""
``live --check`` and ``live-validate`` over bad configs (issue 13, item 11).

Both commands run the same checks (:func:`nautilus_ext.live.validation.check_live_config`)
before anything is built: every bad config gives a typed error code naming the file or field,
a nonzero exit and no traceback, from either command.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from nautilus_ext.cli import app

REPO = Path(__file__).resolve().parents[3]
SAFETY = REPO / "configs" / "safety" / "default.yaml"
TOKEN_ENV = "NAUTILUS_EXT_CONTROL_TOKEN"
GOOD_ENV = {
    TOKEN_ENV: "t" * 40,
    "NAUTILUS_EXT_BYBIT_API_KEY": "fake-key",
    "NAUTILUS_EXT_BYBIT_API_SECRET": "fake-secret",
}
READ_ENV = {
    "NAUTILUS_EXT_BYBIT_READ_API_KEY": "read-key",
    "NAUTILUS_EXT_BYBIT_READ_API_SECRET": "read-secret",
}
STRATEGY = {
    "strategy_path": "nautilus_ext.execution.strategy:UnifiedExecutionStrategy",
    "config_path": "nautilus_ext.execution.strategy:UnifiedExecutionConfig",
    "config": {"instrument_ids": ["BTCUSDT-LINEAR.BYBIT"]},
}


def _dry_run(tmp: Path) -> dict[str, Any]:
    return {
        "mode": "DRY_RUN",
        "trader_id": "CHECK-001",
        "log_level": "ERROR",
        "venues": [
            {
                "venue": "BYBIT",
                "adapter": "ccxt",
                "exchange_id": "bybit",
                "market_types": ["linear"],
                "instrument_ids": ["BTCUSDT-LINEAR.BYBIT"],
            }
        ],
        "dry_run": {"starting_balances": ["100000 USDT"]},
        "strategies": [dict(STRATEGY)],
        "safety": {"config_path": str(SAFETY), "control_port": None},
        "audit": {"root": str(tmp / "audit")},
    }


def _live(tmp: Path) -> dict[str, Any]:
    data = _dry_run(tmp)
    del data["dry_run"]
    data.update(mode="LIVE", allow_live_orders=True)
    data["safety"] = {"config_path": str(SAFETY), "control_port": 0}
    return data


Mutator = Callable[[dict[str, Any], Path, dict[str, str]], None]


def _safety_missing(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    d["safety"]["config_path"] = str(tmp / "no_such_safety.yaml")


def _safety_garbage(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    (tmp / "garbage.yaml").write_bytes(b"\x00\xff: [unclosed\n  - {")
    d["safety"]["config_path"] = str(tmp / "garbage.yaml")


def _safety_list(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    (tmp / "list.yaml").write_text("- 1\n- 2\n")
    d["safety"]["config_path"] = str(tmp / "list.yaml")


def _safety_bad_field(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    data = yaml.safe_load(SAFETY.read_text())
    data["risk"]["max_position"] = "-1"
    (tmp / "bad_field.yaml").write_text(yaml.safe_dump(data))
    d["safety"]["config_path"] = str(tmp / "bad_field.yaml")


def _safety_is_a_directory(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    d["safety"]["config_path"] = str(tmp)


def _safety_other_mode(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    data = yaml.safe_load(SAFETY.read_text())
    data["mode"] = "LIVE"
    (tmp / "live_safety.yaml").write_text(yaml.safe_dump(data))
    d["safety"]["config_path"] = str(tmp / "live_safety.yaml")


def _balance_garbage(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    d["dry_run"]["starting_balances"] = ["lots of money"]


def _balance_unknown_currency(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    d["dry_run"]["starting_balances"] = ["100 us-d"]


def _balance_negative(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    d["dry_run"]["starting_balances"] = ["-100 USDT"]


def _unknown_exchange(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    d["venues"][0]["exchange_id"] = "nosuchexchange"


def _missing_strategy_module(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    d["strategies"][0]["strategy_path"] = "no_such_package.strategies:Nope"


def _missing_strategy_class(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    d["strategies"][0]["strategy_path"] = "nautilus_ext.execution.strategy:NoSuchStrategy"


def _missing_config_module(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    d["strategies"][0]["config_path"] = "no_such_package.strategies:NopeConfig"


def _bad_strategy_config(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    d["strategies"][0]["config"] = {"instrument_ids": 42, "no_such_field": True}


def _audit_root_is_a_file(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    (tmp / "audit_file").write_text("not a directory")
    d["audit"]["root"] = str(tmp / "audit_file")


def _audit_root_under_a_file(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    (tmp / "plain").write_text("x")
    d["audit"]["root"] = str(tmp / "plain" / "audit")


def _bad_algorithm_override(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    from nautilus_ext.execution_algos import ALGORITHM_PATHS

    d["exec_algorithms"] = {"overrides": {sorted(ALGORITHM_PATHS)[0]: {"no_such_setting": 1}}}


def _record_root_is_a_file(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    (tmp / "record_file").write_text("x")
    d["record"] = {"root": str(tmp / "record_file")}
    del d["safety"]
    d["dry_run"]["latency_ms"] = 0


def _missing_control_token(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    del env[TOKEN_ENV]


def _short_control_token(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    env[TOKEN_ENV] = "short"


def _missing_credentials(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    del env["NAUTILUS_EXT_BYBIT_API_KEY"]
    del env["NAUTILUS_EXT_BYBIT_API_SECRET"]


def _missing_betfair_credentials(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    d["venues"] = [
        {
            "venue": "BETFAIR",
            "adapter": "native",
            "betfair": {"account_currency": "GBP", "market_ids": ["1.1"]},
        }
    ]
    d["strategies"] = []


def _missing_native_credentials(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    d["venues"] = [{"venue": "BYBIT", "adapter": "native", "instrument_ids": ["BTCUSDT-LINEAR.BYBIT"]}]


def _okx_unknown_market_type(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    d["venues"] = [{"venue": "OKX", "adapter": "native", "market_types": ["spaceship"]}]
    d["strategies"] = []


def _secret_typed_into_yaml(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    d["venues"][0]["api_key"] = "AKIAIOSFODNN7EXAMPLE"


def _read_scope_with_the_trade_key(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    d["venues"][0]["key_scope"] = "read"
    env["NAUTILUS_EXT_BYBIT_READ_API_KEY"] = env["NAUTILUS_EXT_BYBIT_API_KEY"]
    env["NAUTILUS_EXT_BYBIT_READ_API_SECRET"] = env["NAUTILUS_EXT_BYBIT_API_SECRET"]


def _read_scope_without_read_keys(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    d["venues"][0]["key_scope"] = "read"  # only the trade variables are set: never used instead


def _control_port_in_use(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    import socket

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    _HELD.append(holder)
    d["safety"]["control_port"] = holder.getsockname()[1]


def _metrics_port_in_use(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    import socket

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    _HELD.append(holder)
    d["metrics"] = {"port": holder.getsockname()[1]}


def _metrics_on_a_public_address(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
    d["metrics"] = {"host": "0.0.0.0", "port": 0}


_HELD: list[Any] = []

# (name, base config, mutation, expected code)
BAD: list[tuple[str, Callable[[Path], dict[str, Any]], Mutator, str]] = [
    ("safety file missing", _dry_run, _safety_missing, "INVALID_CONFIG"),
    ("safety file garbage", _dry_run, _safety_garbage, "INVALID_CONFIG"),
    ("safety file a list", _dry_run, _safety_list, "INVALID_CONFIG"),
    ("safety field out of range", _dry_run, _safety_bad_field, "INVALID_CONFIG"),
    ("safety path a directory", _dry_run, _safety_is_a_directory, "INVALID_CONFIG"),
    ("safety mode mismatch", _dry_run, _safety_other_mode, "INVALID_CONFIG"),
    ("balance garbage", _dry_run, _balance_garbage, "INVALID_CONFIG"),
    ("balance bad currency code", _dry_run, _balance_unknown_currency, "INVALID_CONFIG"),
    ("balance negative", _dry_run, _balance_negative, "INVALID_CONFIG"),
    ("unknown exchange id", _dry_run, _unknown_exchange, "INVALID_CONFIG"),
    ("strategy module missing", _dry_run, _missing_strategy_module, "INVALID_CONFIG"),
    ("strategy class missing", _dry_run, _missing_strategy_class, "INVALID_CONFIG"),
    ("strategy config module missing", _dry_run, _missing_config_module, "INVALID_CONFIG"),
    ("strategy config bad field", _dry_run, _bad_strategy_config, "INVALID_CONFIG"),
    ("audit root a file", _dry_run, _audit_root_is_a_file, "INVALID_CONFIG"),
    ("audit root under a file", _dry_run, _audit_root_under_a_file, "INVALID_CONFIG"),
    ("exec algorithm override bad", _dry_run, _bad_algorithm_override, "INVALID_CONFIG"),
    ("record root a file", _dry_run, _record_root_is_a_file, "INVALID_CONFIG"),
    ("secret typed into YAML", _dry_run, _secret_typed_into_yaml, "INVALID_CONFIG"),
    ("control token missing", _live, _missing_control_token, "INVALID_CONFIG"),
    ("control token too short", _live, _short_control_token, "INVALID_CONFIG"),
    ("control port in use", _live, _control_port_in_use, "INVALID_CONFIG"),
    ("metrics port in use", _dry_run, _metrics_port_in_use, "INVALID_CONFIG"),
    ("metrics on a public address", _dry_run, _metrics_on_a_public_address, "INVALID_CONFIG"),
    ("ccxt credentials missing", _live, _missing_credentials, "INVALID_CONFIG"),
    ("read key is the trade key", _live, _read_scope_with_the_trade_key, "INVALID_CONFIG"),
    ("read scope without read keys", _live, _read_scope_without_read_keys, "INVALID_CONFIG"),
    ("betfair credentials missing", _live, _missing_betfair_credentials, "INVALID_CONFIG"),
    ("native credentials missing", _live, _missing_native_credentials, "INVALID_CONFIG"),
    ("okx unknown market type", _live, _okx_unknown_market_type, "INVALID_CONFIG"),
]


def _write(tmp: Path, base: Callable[[Path], dict[str, Any]], mutate: Mutator) -> tuple[Path, dict[str, str]]:
    data = base(tmp)
    env = dict(GOOD_ENV)
    mutate(data, tmp, env)
    path = tmp / "live.yaml"
    path.write_text(yaml.safe_dump(data))
    return path, env


def _invoke(args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    for name in (
        *GOOD_ENV,
        *READ_ENV,
        "BYBIT_API_KEY",
        "BYBIT_API_SECRET",
        "BETFAIR_USERNAME",
        "BETFAIR_PASSWORD",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, args, catch_exceptions=True)
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += f"\nTraceback (uncaught): {result.exception!r}"
    return result.exit_code, output


@pytest.mark.parametrize("command", ["live-validate", "live --check"])
@pytest.mark.parametrize(("name", "base", "mutate", "code"), BAD, ids=[b[0] for b in BAD])
def test_bad_config_is_a_typed_error_from_both_commands(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    name: str,
    base: Callable[[Path], dict[str, Any]],
    mutate: Mutator,
    code: str,
) -> None:
    path, env = _write(tmp_path, base, mutate)
    try:
        exit_code, output = _invoke(
            [*command.split(" ")[:1], str(path), *command.split(" ")[1:]], env, monkeypatch
        )
    finally:
        for sock in _HELD:
            sock.close()
        _HELD.clear()
    assert exit_code != 0, output
    assert f"[{code}]" in output, output
    assert "Traceback" not in output, output
    assert "AKIAIOSFODNN7EXAMPLE" not in output


@pytest.mark.parametrize("command", ["live-validate", "live --check"])
@pytest.mark.parametrize("base", [_dry_run, _live])
def test_good_config_passes_both_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, base: Callable[[Path], dict[str, Any]]
) -> None:
    path, env = _write(tmp_path, base, lambda d, t, e: None)
    exit_code, output = _invoke(
        [*command.split(" ")[:1], str(path), *command.split(" ")[1:]], env, monkeypatch
    )
    assert exit_code == 0, output
    assert "Traceback" not in output


@pytest.mark.parametrize("command", ["live-validate", "live --check"])
def test_read_only_venue_validates_with_read_keys_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    def read_only(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
        d["venues"][0]["key_scope"] = "read"
        for name in ("NAUTILUS_EXT_BYBIT_API_KEY", "NAUTILUS_EXT_BYBIT_API_SECRET"):
            del env[name]
        env.update(READ_ENV)

    path, env = _write(tmp_path, _live, read_only)
    exit_code, output = _invoke(
        [*command.split(" ")[:1], str(path), *command.split(" ")[1:]], env, monkeypatch
    )
    assert exit_code == 0, output
    assert "read key" in output or command == "live-validate"


def test_live_check_builds_and_disposes_the_metrics_exporter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    def with_metrics(d: dict[str, Any], tmp: Path, env: dict[str, str]) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            d["metrics"] = {"port": probe.getsockname()[1]}

    path, env = _write(tmp_path, _dry_run, with_metrics)
    exit_code, output = _invoke(["live", str(path), "--check"], env, monkeypatch)
    assert exit_code == 0, output
    port = yaml.safe_load(path.read_text())["metrics"]["port"]
    from nautilus_ext.live.config import load_live_config
    from nautilus_ext.live.node import METRICS_ACTOR_PATH
    from nautilus_ext.live.node import build_trading_node_config

    (actor,) = build_trading_node_config(load_live_config(path))[0].actors
    assert actor.actor_path == METRICS_ACTOR_PATH
    assert actor.config["port"] == port
    assert actor.config["host"] == "127.0.0.1"
    with socket.socket() as again:  # the exporter bound the port at build and released it at dispose
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
        again.listen()
