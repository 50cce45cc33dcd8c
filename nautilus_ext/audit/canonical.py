"""
Canonical JSON bytes and SHA-256 hashing for audit records.

The hash chain and run-level hashes are computed over *canonical* JSON: keys sorted,
no whitespace, ASCII only, and only the JSON types ``dict``/``list``/``str``/``int``/``bool``/
``None``. Floats are refused: quantities and prices travel as decimal strings so that a value
hashes the same on every machine and in every run.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from typing import Final

GENESIS_HASH: Final = "0" * 64
"""The ``prev_hash`` of the very first record of a log."""


def check_canonical_types(value: Any, path: str = "$") -> None:
    """
    Raise ``TypeError`` if ``value`` holds anything but canonical JSON types.

    Parameters
    ----------
    value : Any
        The decoded JSON value to check.
    path : str
        The location of ``value`` (used in the error message).

    Raises
    ------
    TypeError
        If a float, a non-string key or any other type is found.
    """
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"non-string key {key!r} at {path}")
            check_canonical_types(item, f"{path}.{key}")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            check_canonical_types(item, f"{path}[{index}]")
        return
    raise TypeError(f"{type(value).__name__} at {path} is not allowed in canonical JSON")


def canonical_json(value: Any) -> bytes:
    """
    Return the canonical JSON encoding of ``value``.

    Parameters
    ----------
    value : Any
        A tree of ``dict``/``list``/``str``/``int``/``bool``/``None``.

    Returns
    -------
    bytes
        Sorted keys, compact separators, ASCII-only UTF-8 bytes without a trailing newline.

    Raises
    ------
    TypeError
        If ``value`` holds a float or any non-JSON type.
    """
    check_canonical_types(value)
    return dumps_checked(value)


def dumps_checked(value: Any) -> bytes:
    """Return canonical JSON bytes of a tree already known to hold only canonical types."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def sha256_hex(data: bytes) -> str:
    """Return the lower-case hexadecimal SHA-256 digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


__all__ = [
    "GENESIS_HASH",
    "canonical_json",
    "check_canonical_types",
    "dumps_checked",
    "sha256_hex",
]
