"""
Run-level hashes (seed 001, sections 8.2 and 8.5): the strategy code hash and the config hash.

- :func:`code_version_hash` hashes the source of the modules that define a strategy (the
  module of the given class or function plus any ``extra_modules``), so any code change gives a
  new ``version_hash``.
- :func:`config_hash` hashes the canonical JSON of a configuration: keys sorted, compact, ASCII;
  decimals and enums as strings, sets sorted. Floats are kept as Python's shortest repr, which
  is the same on every platform; NaN and infinities are refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
from collections.abc import Iterable
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from types import ModuleType
from typing import Any

import msgspec
from pydantic import BaseModel

from nautilus_ext.errors import InvalidConfig


def _module_of(obj: object) -> ModuleType:
    module = obj if isinstance(obj, ModuleType) else inspect.getmodule(obj)
    if module is None:
        raise InvalidConfig(f"cannot find the module that defines {obj!r}")
    return module


def code_version_hash(obj: object, *, extra_modules: Iterable[object] = ()) -> str:
    """
    Return the SHA-256 of the source of the module defining ``obj`` (and ``extra_modules``).

    Parameters
    ----------
    obj : object
        A strategy class, function or module.
    extra_modules : Iterable[object]
        More modules (or objects whose modules) the strategy's behaviour depends on.

    Returns
    -------
    str
        64 lower-case hex digits; line endings are normalized to ``\\n`` first.

    Raises
    ------
    InvalidConfig
        If the source of a module cannot be read (built-in or compiled modules).
    """
    modules = {m.__name__: m for m in (_module_of(o) for o in (obj, *extra_modules))}
    digest = hashlib.sha256()
    for name in sorted(modules):
        try:
            source = inspect.getsource(modules[name])
        except (OSError, TypeError) as e:
            raise InvalidConfig(f"cannot read the source of module {name}: {e}") from e
        normalized = source.replace("\r\n", "\n").replace("\r", "\n")
        digest.update(name.encode() + b"\0" + normalized.encode("utf-8") + b"\0")
    return digest.hexdigest()


def _to_builtins(config: object) -> Any:
    if isinstance(config, BaseModel):
        return config.model_dump(mode="json")
    if isinstance(config, msgspec.Struct):
        return msgspec.to_builtins(config, enc_hook=_default)
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return dataclasses.asdict(config)
    if isinstance(config, Mapping):
        return dict(config)
    raise InvalidConfig(
        f"cannot hash a config of type {type(config).__name__}: "
        "pass a mapping, a pydantic model, a msgspec/Nautilus config or a dataclass"
    )


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, BaseModel | msgspec.Struct) or dataclasses.is_dataclass(value):
        return _to_builtins(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def canonical_config_json(config: object) -> bytes:
    """
    Return the canonical JSON bytes of a configuration.

    Raises
    ------
    InvalidConfig
        If the config holds values that have no canonical form (NaN, arbitrary objects).
    """
    try:
        return json.dumps(
            _to_builtins(config),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=True,
            allow_nan=False,
            default=_default,
        ).encode("ascii")
    except (TypeError, ValueError) as e:
        raise InvalidConfig(f"config cannot be hashed canonically: {e}") from e


def config_hash(config: object) -> str:
    """Return the SHA-256 hex digest of :func:`canonical_config_json`."""
    return hashlib.sha256(canonical_config_json(config)).hexdigest()


__all__ = ["canonical_config_json", "code_version_hash", "config_hash"]
