"""runtime_matches: only bytes the artifact leaves zero (immutables) may differ."""

from __future__ import annotations

from nautilus_ext_testkit.chain.protocols import Artifact
from nautilus_ext_testkit.chain.protocols import runtime_matches


def _artifact(runtime: bytes) -> Artifact:
    return Artifact("X", [], "0x", "0x" + runtime.hex(), "test")


def test_identical_code_matches_with_no_immutables() -> None:
    code = bytes(range(1, 200))
    result = runtime_matches(code, _artifact(code))
    assert result.matches
    assert result.immutable_words == 0
    assert result.chain_masked_sha256 == result.artifact_sha256


def test_filled_immutables_match_and_are_counted() -> None:
    published = b"\x60\x80" + b"\x7f" + bytes(32) + b"\x56" * 40 + b"\x7f" + bytes(32) + b"\x00"
    filled = bytearray(published)
    filled[3:35] = b"\x11" * 32
    filled[76:108] = b"\x22" * 32
    result = runtime_matches(bytes(filled), _artifact(published))
    assert result.matches
    assert result.immutable_words == 2


def test_a_changed_opcode_or_length_does_not_match() -> None:
    published = bytes(range(1, 100))
    changed = bytearray(published)
    changed[10] ^= 0xFF
    assert not runtime_matches(bytes(changed), _artifact(published)).matches
    assert not runtime_matches(published + b"\x00", _artifact(published)).matches
    assert not runtime_matches(published[:-1], _artifact(published)).matches
