"""Redaction rules: secret-looking keys and values of secret-looking environment variables."""

from __future__ import annotations

import pytest

from nautilus_ext.audit.redaction import REDACTED
from nautilus_ext.audit.redaction import Redactor
from nautilus_ext.audit.redaction import is_secret_key
from nautilus_ext.audit.redaction import secret_env_values


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "apiKey",
        "API-KEY",
        "secret",
        "client_secret",
        "secret_key",
        "password",
        "db_passwd",
        "passphrase",
        "private_key",
        "mnemonic",
        "access_token",
        "token",
        "auth",
        "Authorization",
        "credentials",
    ],
)
def test_secret_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["asset", "token_address", "instrument_key", "qty", "author"])
def test_ordinary_keys(key: str) -> None:
    assert not is_secret_key(key)


def test_env_values_by_name_and_length() -> None:
    env = {
        "BINANCE_API_KEY": "abcdefgh12345",
        "MY_SECRET": "s3cr3t-value",
        "SHORT_TOKEN": "1234567",  # below the minimum length
        "HOME": "/home/trader-with-long-path",
        "PYTHONHASHSEED": "0",
    }
    assert sorted(secret_env_values(env)) == ["abcdefgh12345", "s3cr3t-value"]


def test_redact_walks_the_tree() -> None:
    redactor = Redactor(env={"VENUE_SECRET": "topsecret-999"}, extra_secrets=["vault-value-1"])
    tree = {
        "rationale": "used topsecret-999 and vault-value-1 twice: topsecret-999",
        "details": {"api_key": "anything", "note": ["x", "topsecret-999"], "n": 3},
    }
    assert redactor.redact(tree) == {
        "rationale": f"used {REDACTED} and {REDACTED} twice: {REDACTED}",
        "details": {"api_key": REDACTED, "note": ["x", REDACTED], "n": 3},
    }
    assert redactor.secret_count == 2


def test_longest_secret_wins() -> None:
    redactor = Redactor(env={"A_KEY": "abcdefgh", "B_KEY": "abcdefgh-ijkl"})
    assert redactor.redact_text("x abcdefgh-ijkl y") == f"x {REDACTED} y"


def test_no_secrets_leaves_text_alone() -> None:
    assert Redactor(env={}).redact({"a": "b"}) == {"a": "b"}


def test_sanitize_redacts_and_checks_types_in_one_walk() -> None:
    redactor = Redactor(env={"X_TOKEN": "token-value-123"})
    assert redactor.sanitize({"a": ["token-value-123", 1, True, None], "auth": "x"}) == {
        "a": [REDACTED, 1, True, None],
        "auth": REDACTED,
    }


@pytest.mark.parametrize("bad", [{"x": 1.5}, {1: "a"}, [object()]])
def test_sanitize_refuses_non_json_types(bad: object) -> None:
    with pytest.raises(TypeError):
        Redactor(env={}).sanitize(bad)
