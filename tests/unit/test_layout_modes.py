"""One ``Mode`` enum for the whole project, at the bottom layer; each configuration takes its modes."""

from __future__ import annotations

import ast
import enum
import importlib
import pkgutil
from pathlib import Path

import pytest

import nautilus_ext
from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.mode import Mode

_MODE_NAMES = {m.value for m in Mode}
# Alembic's migration environment is a script Alembic runs inside its own context
_SCRIPTS = {"nautilus_ext.persistence.migrations.env"}
_ROOTS = [Path(p) for p in nautilus_ext.__path__]


def _sources() -> list[Path]:
    files = []
    for root in _ROOTS:
        files += [p for p in root.rglob("*.py") if "__pycache__" not in p.parts]
    return files


def test_no_other_enum_names_the_run_modes() -> None:
    others = []
    for info in pkgutil.walk_packages(nautilus_ext.__path__, "nautilus_ext."):
        if info.name in _SCRIPTS:
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, enum.Enum)
                and value is not Mode
                and value.__module__ == module.__name__
                and len({m.name for m in value} & _MODE_NAMES) >= 2
            ):
                others.append(f"{module.__name__}.{value.__name__}")
    assert others == []


def test_no_literal_spells_the_modes_out() -> None:
    # Literal["BACKTEST", "REPLAY"] and friends: the modes are typed as Mode
    offenders = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Subscript) and getattr(node.value, "id", None) == "Literal":
                consts = {c.value for c in ast.walk(node.slice) if isinstance(c, ast.Constant)}
                if consts & _MODE_NAMES:
                    offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_audit_events_and_configs_share_the_one_enum() -> None:
    from nautilus_ext.audit import Mode as AuditMode
    from nautilus_ext.execution.strategy import UnifiedExecutionConfig

    assert AuditMode is Mode
    assert UnifiedExecutionConfig().mode is Mode.BACKTEST


def _spec(mode: str) -> dict[str, object]:
    return {
        "kind": "orders",
        "orders": "orders.jsonl",
        "catalog": "catalog",
        "start": "2024-01-01T00:00:00Z",
        "end": "2024-01-02T00:00:00Z",
        "instruments": ["BINANCE:SPOT:BTC-USDT"],
        "venues": [{"venue": "BINANCE", "starting_balances": ["1 BTC"]}],
        "mode": mode,
    }


def test_a_backtest_takes_backtest_and_replay_only(tmp_path: Path) -> None:
    assert BacktestSpec.model_validate(_spec("REPLAY")).mode is Mode.REPLAY
    file = tmp_path / "bt.yaml"
    import yaml

    file.write_text(yaml.safe_dump(_spec("LIVE")), encoding="utf-8")
    with pytest.raises(InvalidConfig, match="BACKTEST or REPLAY, not LIVE"):
        BacktestSpec.from_yaml(file)


def test_a_live_node_takes_live_and_dry_run_only(tmp_path: Path) -> None:
    import yaml

    from nautilus_ext.live.config import load_live_config

    data = {
        "mode": "REPLAY",
        "venues": [{"venue": "BYBIT", "adapter": "ccxt", "exchange_id": "bybit"}],
        "dry_run": {"starting_balances": ["1000 USDT"]},
    }
    file = tmp_path / "node.yaml"
    file.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InvalidConfig, match="LIVE or DRY_RUN, not REPLAY"):
        load_live_config(file)
    file.write_text(yaml.safe_dump({**data, "mode": "DRY_RUN"}), encoding="utf-8")
    assert load_live_config(file).mode is Mode.DRY_RUN
