"""Tamper evidence: each kind of damage is found and located at the first broken link."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.audit import AuditIntegrityError
from nautilus_ext.audit import BreakKind
from nautilus_ext.audit import verify_log
from nautilus_ext.audit.canonical import canonical_json
from nautilus_ext.audit.canonical import sha256_hex

DAY_NS = 86_400 * 1_000_000_000


@pytest.fixture
def log(open_store: Callable[..., Any], events: Any, root: str, clock: Any) -> list[Path]:
    """Write 6 records over three days (3 segments) and return the segment files."""
    store = open_store()
    day0 = clock.now_ns
    for i in range(3):
        store.append(events.intent(id=f"I-{i}", ts_event=day0 + i))
    for i in range(3, 5):
        store.append(events.intent(id=f"I-{i}", ts_event=day0 + DAY_NS + i))
    store.append(events.intent(id="I-5", ts_event=day0 + 2 * DAY_NS + 5))
    store.close()
    files = sorted(Path(root, "audit").glob("date=*/*.jsonl"), key=lambda p: p.name)
    assert len(files) == 3
    return files


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_intact_log_verifies(log: list[Path], root: str) -> None:
    report = verify_log(root)
    assert report.ok
    assert (report.records, report.segments, report.last_seq) == (6, 3, 5)
    assert report.broken is None


def test_altered_field_is_located(log: list[Path], root: str) -> None:
    lines = _lines(log[0])
    lines[1] = lines[1].replace(b'"qty":"1.5"', b'"qty":"15"')
    log[0].write_bytes(b"".join(lines))
    report = verify_log(root)
    assert not report.ok
    assert report.broken.kind is BreakKind.HASH_MISMATCH
    assert (report.broken.path, report.broken.line) == (str(log[0]), 2)
    assert report.records == 1
    assert report.broken.found != report.broken.expected


def test_rehashed_forgery_breaks_the_next_link(log: list[Path], root: str) -> None:
    # An attacker edits a record and recomputes its own hash: the next prev_hash exposes it.
    lines = _lines(log[0])
    record = json.loads(lines[0])
    record["event"]["qty"] = "15"
    body = {k: record[k] for k in ("seq", "prev_hash", "event")}
    record["hash"] = sha256_hex(canonical_json(body))
    lines[0] = canonical_json(record) + b"\n"
    log[0].write_bytes(b"".join(lines))
    report = verify_log(root)
    assert report.broken.kind is BreakKind.PREV_HASH_MISMATCH
    assert report.broken.line == 2
    assert report.broken.found == json.loads(_lines(log[0])[1])["prev_hash"]
    assert report.broken.expected == record["hash"]


def test_deleted_record_is_found(log: list[Path], root: str) -> None:
    lines = _lines(log[0])
    del lines[1]
    log[0].write_bytes(b"".join(lines))
    report = verify_log(root)
    assert report.broken.kind is BreakKind.SEQ_MISMATCH
    assert (report.broken.expected, report.broken.found) == ("1", "2")


def test_deleted_segment_is_found(log: list[Path], root: str) -> None:
    log[1].unlink()  # the day-2 segment, records 3 and 4
    report = verify_log(root)
    assert report.broken.kind is BreakKind.SEQ_MISMATCH
    assert report.broken.path == str(log[2])


def test_swapped_records_are_found(log: list[Path], root: str) -> None:
    lines = _lines(log[0])
    lines[0], lines[1] = lines[1], lines[0]
    log[0].write_bytes(b"".join(lines))
    assert verify_log(root).broken.kind is BreakKind.SEQ_MISMATCH


def test_garbage_line_is_malformed(log: list[Path], root: str) -> None:
    lines = _lines(log[1])
    lines.insert(1, b"hello\n")
    log[1].write_bytes(b"".join(lines))
    report = verify_log(root)
    assert report.broken.kind is BreakKind.MALFORMED
    assert (report.broken.path, report.broken.line) == (str(log[1]), 2)


def test_unterminated_line_in_a_middle_segment_is_malformed(log: list[Path], root: str) -> None:
    log[0].write_bytes(log[0].read_bytes()[:-1])
    assert verify_log(root).broken.kind is BreakKind.MALFORMED


def test_renamed_segment_is_found(log: list[Path], root: str) -> None:
    log[2].rename(log[2].with_name("00000000000000000004.jsonl"))
    # Now two segments claim to start at 3/4: ordering by name puts the wrong one first.
    assert verify_log(root).broken.kind in (BreakKind.SEGMENT_MISMATCH, BreakKind.SEQ_MISMATCH)


@pytest.mark.parametrize("folder", ["date=2024-01-05", "date=2024-01-03"])
def test_segment_moved_to_another_day_is_found(log: list[Path], root: str, folder: str) -> None:
    # Later folder: its latest event is not on the folder's day; earlier: events after it.
    moved = log[2].parent.parent / folder / log[2].name
    moved.parent.mkdir(exist_ok=True)
    log[2].rename(moved)
    report = verify_log(root)
    assert report.broken.kind is BreakKind.SEGMENT_MISMATCH
    assert "wrong date" in report.broken.message


def test_back_dated_record_in_a_later_folder_verifies(
    open_store: Callable[..., Any], events: Any, root: str, clock: Any
) -> None:
    store = open_store()
    store.append(events.intent(id="I-1", ts_event=clock.now_ns + DAY_NS))
    store.append(events.intent(id="I-0", ts_event=clock.now_ns))  # a late event of the day before
    store.close()
    assert [p.parent.name for p in Path(root, "audit").glob("date=*/*.jsonl")] == ["date=2024-01-03"]
    assert verify_log(root).ok


def test_bad_date_folder_is_a_typed_error(log: list[Path], root: str) -> None:
    log[2].parent.rename(log[2].parent.with_name("date=2024-13-45"))
    with pytest.raises(AuditIntegrityError, match="not a real date"):
        verify_log(root)


def test_schema_violation_with_valid_hash_is_found(log: list[Path], root: str) -> None:
    # A writer bug (not an attacker): the record is self-consistent but not a valid event.
    lines = _lines(log[2])
    record = json.loads(lines[0])
    record["event"]["qty"] = "-1"
    body = {k: record[k] for k in ("seq", "prev_hash", "event")}
    record["hash"] = sha256_hex(canonical_json(body))
    log[2].write_bytes(canonical_json(record) + b"\n")
    report = verify_log(root)
    assert report.broken.kind is BreakKind.SCHEMA
    assert "qty" in report.broken.found
    assert verify_log(root, check_schema=False).ok


def test_empty_root_verifies_as_empty(root: str) -> None:
    report = verify_log(root)
    assert report.ok
    assert report.records == 0
    assert report.last_seq is None
