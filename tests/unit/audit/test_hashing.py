"""Run-level hashes: code version and canonical config hashes."""

from __future__ import annotations

import dataclasses
import enum
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from pydantic import BaseModel

from nautilus_ext.audit import hashing
from nautilus_ext.audit.hashing import canonical_config_json
from nautilus_ext.audit.hashing import code_version_hash
from nautilus_ext.audit.hashing import config_hash
from nautilus_ext.errors import InvalidConfig


class Side(enum.Enum):
    BUY = "BUY"


class PydanticConfig(BaseModel):
    b: int = 2
    a: Decimal = Decimal("0.1")


class StructConfig(msgspec.Struct):
    b: int = 2
    a: str = "0.1"


@dataclasses.dataclass
class DataConfig:
    b: int = 2
    a: float = 0.1


def test_config_hash_ignores_key_order() -> None:
    assert config_hash({"a": 1, "b": {"y": 2, "x": 1}}) == config_hash({"b": {"x": 1, "y": 2}, "a": 1})


def test_config_hash_changes_with_any_value() -> None:
    assert config_hash({"threshold": "0.10"}) != config_hash({"threshold": "0.1"})
    assert config_hash({"n": 1}) != config_hash({"n": True})


def test_canonical_forms() -> None:
    assert canonical_config_json(PydanticConfig()) == b'{"a":"0.1","b":2}'
    assert canonical_config_json(StructConfig()) == b'{"a":"0.1","b":2}'
    assert canonical_config_json(DataConfig()) == b'{"a":0.1,"b":2}'
    assert (
        canonical_config_json({"s": {3, 1}, "e": Side.BUY, "p": Path("/x")})
        == b'{"e":"BUY","p":"/x","s":[1,3]}'
    )


@pytest.mark.parametrize("bad", [{"x": float("nan")}, {"x": object()}, 42])
def test_unhashable_configs_are_invalid(bad: object) -> None:
    with pytest.raises(InvalidConfig):
        config_hash(bad)


def test_code_hash_follows_the_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    module = tmp_path / "strat_under_test.py"
    module.write_text(
        textwrap.dedent("""
        class Strat:
            threshold = 1
    """)
    )
    import importlib

    mod = importlib.import_module("strat_under_test")
    first = code_version_hash(mod.Strat)
    assert first == code_version_hash(mod)
    assert len(first) == 64
    module.write_text(module.read_text().replace("threshold = 1", "threshold = 2"))
    importlib.invalidate_caches()
    mod = importlib.reload(mod)
    import linecache

    linecache.checkcache(str(module))
    assert code_version_hash(mod.Strat) != first
    sys.modules.pop("strat_under_test", None)


def test_code_hash_covers_extra_modules() -> None:
    alone = code_version_hash(PydanticConfig)
    assert code_version_hash(PydanticConfig, extra_modules=[hashing]) != alone


def test_code_hash_of_builtin_is_invalid() -> None:
    with pytest.raises(InvalidConfig, match="cannot read the source"):
        code_version_hash(sys)
