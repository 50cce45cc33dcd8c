"""Canonical JSON and record encoding: the hand-assembled line equals the generic encoding."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nautilus_ext.audit import GENESIS_HASH
from nautilus_ext.audit import InvalidAuditRecord
from nautilus_ext.audit import canonical_json
from nautilus_ext.audit.canonical import sha256_hex
from nautilus_ext.audit.records import decode_record
from nautilus_ext.audit.records import encode_record

json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
json_trees = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def test_canonical_json_is_sorted_compact_ascii() -> None:
    assert canonical_json({"b": 1, "a": ["é", None, True]}) == b'{"a":["\\u00e9",null,true],"b":1}'


@pytest.mark.parametrize("bad", [1.5, {"x": 0.1}, [Decimal("1")], {1: "a"}])
def test_canonical_json_refuses_non_json_types(bad: object) -> None:
    with pytest.raises(TypeError):
        canonical_json(bad)


@given(event=st.dictionaries(st.text(max_size=8), json_trees, max_size=6), seq=st.integers(0, 2**62))
def test_encoded_line_is_the_canonical_json_of_the_record(event: dict, seq: int) -> None:
    prev = sha256_hex(str(seq).encode())
    line, record_hash = encode_record(seq, prev, event)
    decoded = json.loads(line)
    assert line == canonical_json(decoded) + b"\n"
    assert record_hash == sha256_hex(canonical_json({"seq": seq, "prev_hash": prev, "event": event}))
    assert decode_record(line[:-1], "mem", 1).hash == record_hash


def test_encode_refuses_a_bad_chain_position() -> None:
    with pytest.raises(ValueError, match="invalid chain position"):
        encode_record(0, "xyz", {})
    with pytest.raises(ValueError, match="invalid chain position"):
        encode_record(-1, GENESIS_HASH, {})


def test_decode_detects_an_altered_record() -> None:
    line, _ = encode_record(0, GENESIS_HASH, {"qty": "1"})
    with pytest.raises(InvalidAuditRecord) as info:
        decode_record(line.replace(b'"1"', b'"2"')[:-1], "f.jsonl", 3)
    assert info.value.details["kind"] == "HASH_MISMATCH"
    assert info.value.details["line"] == 3


@pytest.mark.parametrize(
    "raw", [b"{not json", b"[]", b'{"seq":0}', b'{"seq":"0","prev_hash":"","event":{},"hash":""}']
)
def test_decode_reports_malformed_lines(raw: bytes) -> None:
    with pytest.raises(InvalidAuditRecord) as info:
        decode_record(raw, "f.jsonl", 1)
    assert info.value.details["kind"] == "MALFORMED"
