"""
Redaction: secrets never reach the audit log (seed 001, sections 4.7.6 and 15).

Two rules, applied to every record before it is hashed and written:

1. **Secret-looking keys.** A mapping key whose normalized name (lower case, ``-`` as ``_``)
   contains ``api_key``, ``apikey``, ``secret``, ``password``, ``passwd``, ``passphrase``,
   ``private_key``, ``privkey``, ``mnemonic`` or ``credential``, or ends in ``token`` or
   ``auth``/``authorization``, has its value replaced by :data:`REDACTED`.
2. **Secret values.** Any string that contains the value of an environment variable whose
   *name* looks like a secret (contains ``KEY``, ``SECRET``, ``PASSWORD``, ``PASSWD``,
   ``PASSPHRASE``, ``TOKEN``, ``PRIVATE``, ``MNEMONIC``, ``CREDENTIAL`` or ``AUTH``) has each
   occurrence replaced by :data:`REDACTED`. Values shorter than :data:`MIN_SECRET_LENGTH`
   characters are ignored (``1``, ``true``: redacting them would mangle the log, and they are
   not credentials).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any
from typing import Final

REDACTED: Final = "***REDACTED***"
"""What a redacted value is replaced with."""

MIN_SECRET_LENGTH: Final = 8
"""Environment values shorter than this are not treated as secrets."""

_SECRET_KEY_PARTS: Final = (
    "api_key",
    "apikey",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "private_key",
    "privkey",
    "mnemonic",
    "credential",
)
_SECRET_KEY_SUFFIXES: Final = ("token", "auth", "authorization")
_SECRET_ENV_NAME: Final = re.compile(
    r"KEY|SECRET|PASSWORD|PASSWD|PASSPHRASE|TOKEN|PRIVATE|MNEMONIC|CREDENTIAL|AUTH"
)


def is_secret_key(key: str) -> bool:
    """Return whether a mapping key names a secret (rule 1 of the module docstring)."""
    name = key.lower().replace("-", "_")
    return any(part in name for part in _SECRET_KEY_PARTS) or name.endswith(_SECRET_KEY_SUFFIXES)


def secret_env_values(env: Mapping[str, str]) -> list[str]:
    """Return the values of environment variables whose names look like secrets (rule 2)."""
    return [
        value
        for name, value in env.items()
        if _SECRET_ENV_NAME.search(name.upper()) and len(value) >= MIN_SECRET_LENGTH
    ]


class Redactor:
    """
    Replace secrets in a decoded JSON tree.

    Parameters
    ----------
    env : Mapping[str, str], optional
        The environment to take secret values from (default: ``os.environ`` at construction).
    extra_secrets : Iterable[str]
        More literal secret values to redact (for example from a vault).
    """

    def __init__(self, env: Mapping[str, str] | None = None, extra_secrets: Iterable[str] = ()) -> None:
        source = os.environ if env is None else env
        values = set(secret_env_values(source))
        values.update(v for v in extra_secrets if len(v) >= MIN_SECRET_LENGTH)
        # Longest first so a secret containing another is replaced whole.
        ordered = sorted(values, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None
        self.secret_count = len(ordered)
        self._key_cache: dict[str, bool] = {}

    def _is_secret_key(self, key: str) -> bool:
        # Event keys repeat endlessly: decide each distinct key once.
        known = self._key_cache.get(key)
        if known is None:
            known = is_secret_key(key)
            if len(self._key_cache) < 10_000:
                self._key_cache[key] = known
        return known

    def redact_text(self, text: str) -> str:
        """Return ``text`` with every known secret value replaced."""
        if self._pattern is None:
            return text
        return self._pattern.sub(REDACTED, text)

    def sanitize(self, value: Any) -> Any:
        """
        Redact a JSON tree and check it holds only canonical JSON types, in one walk.

        This is the writer's hot path (see :func:`~nautilus_ext.audit.canonical.canonical_json`
        for the allowed types).

        Raises
        ------
        TypeError
            If the tree holds a float, a non-string key or any non-JSON type.
        """
        kind = type(value)
        if kind is str:
            return value if self._pattern is None else self._pattern.sub(REDACTED, value)
        if kind is int or kind is bool or value is None:
            return value
        if kind is dict:
            out = {}
            for key, item in value.items():
                if type(key) is not str:
                    raise TypeError(f"non-string key {key!r} is not allowed in canonical JSON")
                out[key] = REDACTED if self._is_secret_key(key) else self.sanitize(item)
            return out
        if kind is list:
            return [self.sanitize(item) for item in value]
        if isinstance(value, str):  # str subclasses (enum values): store the plain string
            return self.sanitize(str(value))
        if isinstance(value, int) and not isinstance(value, float):
            return int(value)
        raise TypeError(f"{kind.__name__} is not allowed in canonical JSON")

    def redact(self, value: Any) -> Any:
        """Return a copy of a JSON tree with secret keys and secret values redacted."""
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, dict):
            return {
                key: (REDACTED if self._is_secret_key(key) else self.redact(item))
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.redact(item) for item in value]
        return value


__all__ = ["MIN_SECRET_LENGTH", "REDACTED", "Redactor", "is_secret_key", "secret_env_values"]
