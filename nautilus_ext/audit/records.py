"""
Hash-chained audit records: encoding, reading and verification.

A record is one line of canonical JSON::

    {"event": {...}, "hash": H, "prev_hash": P, "seq": N}

where ``H = sha256(canonical_json({"event": ..., "prev_hash": P, "seq": N}))`` and ``P`` is the
``hash`` of record ``N - 1`` (:data:`~nautilus_ext.audit.canonical.GENESIS_HASH` for the first).
Altering a record breaks its own hash; removing, inserting or reordering records breaks the next
record's ``prev_hash`` or the sequence. The last record can only be protected by keeping its
hash elsewhere (``VerifyReport.head_hash`` is what to keep).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from enum import unique
from typing import Any
from typing import Final

from fsspec import AbstractFileSystem

from nautilus_ext.audit.canonical import GENESIS_HASH
from nautilus_ext.audit.canonical import canonical_json
from nautilus_ext.audit.canonical import sha256_hex
from nautilus_ext.audit.errors import AuditStorageError
from nautilus_ext.audit.errors import InvalidAuditRecord
from nautilus_ext.audit.layout import list_segments
from nautilus_ext.audit.layout import open_root
from nautilus_ext.audit.layout import utc_date_of
from nautilus_ext.audit.schemas import MAX_TS_NS
from nautilus_ext.audit.schemas import MIN_TS_NS
from nautilus_ext.audit.schemas import parse_event

_RECORD_KEYS: Final = frozenset({"seq", "prev_hash", "event", "hash"})
_HEX64: Final = re.compile(r"[0-9a-f]{64}")


def encode_record(seq: int, prev_hash: str, event: dict[str, Any]) -> tuple[bytes, str]:
    """
    Encode one record.

    Parameters
    ----------
    seq : int
        The record's sequence number (0 for the first record of a log).
    prev_hash : str
        The hash of the previous record (64 lower-case hex digits).
    event : dict
        The event's JSON form (already redacted).

    Returns
    -------
    tuple[bytes, str]
        The line (with its trailing newline) and the record's hash.

    Raises
    ------
    TypeError
        If ``event`` holds non-canonical types (a float, for example).
    ValueError
        If ``seq`` is negative or ``prev_hash`` is not a SHA-256 hex digest.
    """
    return encode_checked_record(seq, prev_hash, canonical_json(event))


def encode_checked_record(seq: int, prev_hash: str, event_json: bytes) -> tuple[bytes, str]:
    """
    Encode one record from the canonical JSON bytes of its event (the writer's fast path).

    ``event_json`` must be exactly ``canonical_json(event)``; see :func:`encode_record`.
    """
    if seq < 0 or not _HEX64.fullmatch(prev_hash):
        raise ValueError(f"invalid chain position: seq={seq}, prev_hash={prev_hash!r}")
    # Assembled by hand for speed: keys in sorted order (event, hash, prev_hash, seq) and
    # hex/int values that need no escaping give exactly canonical_json(...) of the record.
    tail = b',"prev_hash":"' + prev_hash.encode("ascii") + b'","seq":' + str(seq).encode() + b"}"
    record_hash = sha256_hex(b'{"event":' + event_json + tail)
    line = b'{"event":' + event_json + b',"hash":"' + record_hash.encode("ascii") + b'"' + tail
    return line + b"\n", record_hash


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One decoded record and where it was read from (``line`` counts from 1)."""

    seq: int
    prev_hash: str
    hash: str
    event: dict[str, Any]
    path: str
    line: int


def decode_record(raw: bytes, path: str, line: int) -> AuditRecord:
    """
    Decode one line and check its own hash.

    Raises
    ------
    InvalidAuditRecord
        If the line is not a well-formed record or its content does not match its hash;
        ``details['kind']`` is ``MALFORMED`` or ``HASH_MISMATCH``.
    """
    where = {"path": path, "line": line}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as e:
        # ValueError covers bad UTF-8, bad JSON and integers past Python's digit limit;
        # RecursionError a line nested thousands deep.
        reason = e.msg if isinstance(e, json.JSONDecodeError) else f"{type(e).__name__}: {str(e)[:200]}"
        raise InvalidAuditRecord(
            f"{path}:{line}: not JSON ({reason})",
            details={**where, "kind": "MALFORMED"},
        ) from e
    if not isinstance(data, dict) or set(data) != _RECORD_KEYS:
        raise InvalidAuditRecord(
            f"{path}:{line}: a record must have exactly the keys {sorted(_RECORD_KEYS)}",
            details={**where, "kind": "MALFORMED"},
        )
    seq, prev_hash, stored_hash, event = (
        data["seq"],
        data["prev_hash"],
        data["hash"],
        data["event"],
    )
    if not (type(seq) is int and seq >= 0 and isinstance(prev_hash, str) and isinstance(event, dict)):
        raise InvalidAuditRecord(
            f"{path}:{line}: seq (a non-negative int), prev_hash or event has the wrong type",
            details={**where, "kind": "MALFORMED"},
        )
    try:
        expected = sha256_hex(canonical_json({"seq": seq, "prev_hash": prev_hash, "event": event}))
    except (TypeError, ValueError, RecursionError) as e:
        raise InvalidAuditRecord(
            f"{path}:{line}: not canonical JSON ({e})", details={**where, "kind": "MALFORMED"}
        ) from e
    if stored_hash != expected:
        raise InvalidAuditRecord(
            f"{path}:{line}: record content does not match its hash",
            details={**where, "kind": "HASH_MISMATCH", "expected": expected, "found": stored_hash},
        )
    return AuditRecord(seq, prev_hash, stored_hash, event, path, line)


@unique
class BreakKind(StrEnum):
    """Why a chain is broken."""

    MALFORMED = "MALFORMED"  # a line is not a well-formed record
    TORN_TAIL = "TORN_TAIL"  # the last line of the log is incomplete (crash while writing)
    HASH_MISMATCH = "HASH_MISMATCH"  # a record's content was altered
    PREV_HASH_MISMATCH = "PREV_HASH_MISMATCH"  # a record was removed, inserted or reordered
    SEQ_MISMATCH = "SEQ_MISMATCH"  # sequence numbers skip or repeat
    SEGMENT_MISMATCH = "SEGMENT_MISMATCH"  # a segment's name or folder disagrees with content
    SCHEMA = "SCHEMA"  # an event does not match its schema


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """The first problem found: where, what kind, and the expected and found values."""

    kind: BreakKind
    path: str
    line: int
    seq: int | None
    expected: str
    found: str
    message: str

    def describe(self) -> str:
        """Return a one-paragraph human description."""
        return (
            f"{self.kind} at {self.path}:{self.line} (seq {self.seq}): {self.message}\n"
            f"  expected: {self.expected}\n  found:    {self.found}"
        )


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """Outcome of :func:`verify_log`; ``head_hash`` is the hash of the last good record."""

    ok: bool
    records: int
    segments: int
    last_seq: int | None
    head_hash: str
    broken: BrokenLink | None


def _lines(fs: AbstractFileSystem, path: str) -> Iterator[tuple[int, bytes, bool]]:
    # Yield (line number, bytes without newline, whether the newline was present).
    try:
        with fs.open(path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                if raw.endswith(b"\n"):
                    yield number, raw[:-1], True
                else:
                    yield number, raw, False
    except OSError as e:
        raise AuditStorageError(f"cannot read audit segment {path}: {e}") from e


def _check(
    kind: BreakKind, path: str, line: int, seq: int | None, exp: Any, found: Any, message: str
) -> BrokenLink:
    return BrokenLink(kind, path, line, seq, str(exp), str(found), message)


def verify_log(
    root: str, storage_options: dict[str, Any] | None = None, *, check_schema: bool = True
) -> VerifyReport:
    """
    Verify the whole hash chain under ``root`` and report the first broken link.

    Parameters
    ----------
    root : str
        The storage root (local path or ``gs://bucket/prefix``) holding ``audit/``.
    storage_options : dict, optional
        fsspec options for remote roots.
    check_schema : bool
        Also validate every event against its schema.

    Returns
    -------
    VerifyReport
        ``ok`` is True only when every record checks out.
    """
    fs, audit_path = open_root(root, storage_options)
    segments = list_segments(fs, audit_path)
    prev_hash, expected_seq, count = GENESIS_HASH, 0, 0
    broken: BrokenLink | None = None
    for index, segment in enumerate(segments):
        is_last_segment = index == len(segments) - 1
        first_in_segment = True
        latest_day = date.min
        for number, raw, terminated in _lines(fs, segment.path):
            if not terminated:
                kind = BreakKind.TORN_TAIL if is_last_segment else BreakKind.MALFORMED
                broken = _check(
                    kind,
                    segment.path,
                    number,
                    None,
                    "a line ending in a newline",
                    f"{len(raw)} unterminated bytes",
                    "incomplete final line",
                )
                return VerifyReport(
                    False,
                    count,
                    len(segments),
                    expected_seq - 1 if count else None,
                    prev_hash,
                    broken,
                )
            broken = None
            try:
                record = decode_record(raw, segment.path, number)
            except InvalidAuditRecord as e:
                broken = _check(
                    BreakKind(e.details["kind"]),
                    segment.path,
                    number,
                    None,
                    e.details.get("expected", "a well-formed record"),
                    e.details.get("found", "see message"),
                    e.message,
                )
            else:
                if record.seq != expected_seq:
                    broken = _check(
                        BreakKind.SEQ_MISMATCH,
                        segment.path,
                        number,
                        record.seq,
                        expected_seq,
                        record.seq,
                        "sequence numbers are not contiguous",
                    )
                elif record.prev_hash != prev_hash:
                    broken = _check(
                        BreakKind.PREV_HASH_MISMATCH,
                        segment.path,
                        number,
                        record.seq,
                        prev_hash,
                        record.prev_hash,
                        "prev_hash does not match the previous record's hash",
                    )
                elif first_in_segment and record.seq != segment.first_seq:
                    broken = _check(
                        BreakKind.SEGMENT_MISMATCH,
                        segment.path,
                        number,
                        record.seq,
                        segment.first_seq,
                        record.seq,
                        "segment name does not match its first record",
                    )
                else:
                    broken = _check_event(record, segment.day, check_schema)
            if broken is not None:
                last = expected_seq - 1 if count else None
                return VerifyReport(False, count, len(segments), last, prev_hash, broken)
            prev_hash, expected_seq, count = record.hash, record.seq + 1, count + 1
            first_in_segment = False
            latest_day = max(latest_day, _event_day(record.event) or date.min)
        if latest_day not in (date.min, segment.day):
            # The folder is the day of the segment's latest event (see layout): a segment moved
            # to a later folder is found here, one moved to an earlier folder by _check_event.
            broken = _check(
                BreakKind.SEGMENT_MISMATCH,
                segment.path,
                1,
                segment.first_seq,
                segment.day.isoformat(),
                latest_day.isoformat(),
                "segment is filed under the wrong date: its latest event is on another day",
            )
            return VerifyReport(False, count, len(segments), expected_seq - 1, prev_hash, broken)
    return VerifyReport(True, count, len(segments), expected_seq - 1 if count else None, prev_hash, None)


def _event_day(event: dict[str, Any]) -> date | None:
    # The UTC day of a well-formed ``ts_event``; None for anything the schema check refuses.
    ts_event = event.get("ts_event")
    if type(ts_event) is int and MIN_TS_NS <= ts_event < MAX_TS_NS:
        return utc_date_of(ts_event)
    return None


def _check_event(record: AuditRecord, day: date, check_schema: bool) -> BrokenLink | None:
    event_day = _event_day(record.event)
    if event_day is not None and event_day > day:
        # A segment may hold back-dated events (write order), never later ones.
        return _check(
            BreakKind.SEGMENT_MISMATCH,
            record.path,
            record.line,
            record.seq,
            f"a date on or before {day.isoformat()}",
            event_day.isoformat(),
            "event is filed under the wrong date: a folder before its own day",
        )
    if check_schema:
        try:
            parse_event(record.event)
        except InvalidAuditRecord as e:
            return _check(
                BreakKind.SCHEMA,
                record.path,
                record.line,
                record.seq,
                "a valid event",
                "; ".join(e.details["errors"]),
                e.message,
            )
    return None


def iter_records(
    root: str,
    storage_options: dict[str, Any] | None = None,
    *,
    until_day: date | None = None,
) -> Iterator[AuditRecord]:
    """
    Yield every record under ``root`` in chain order, checking each record's own hash.

    With ``until_day``, records whose ``ts_event`` falls on a later day are skipped (for reports
    on a past day). Every segment is still read: a back-dated record of that day may sit in a
    later date folder (see :mod:`nautilus_ext.audit.layout`).

    An unterminated final line (a crash mid-write, not yet repaired by a writer) is skipped:
    it was never acknowledged.

    Raises
    ------
    InvalidAuditRecord
        If a complete line is malformed or altered.
    """
    fs, audit_path = open_root(root, storage_options)
    for segment in list_segments(fs, audit_path):
        for number, raw, terminated in _lines(fs, segment.path):
            if not terminated:
                continue
            record = decode_record(raw, segment.path, number)
            if until_day is not None and _is_after(record.event, until_day):
                continue
            yield record


def _is_after(event: dict[str, Any], day: date) -> bool:
    # Only a well-formed timestamp can be placed after a day; leave the rest to the schema.
    event_day = _event_day(event)
    return event_day is not None and event_day > day


__all__ = [
    "AuditRecord",
    "BreakKind",
    "BrokenLink",
    "VerifyReport",
    "decode_record",
    "encode_checked_record",
    "encode_record",
    "iter_records",
    "verify_log",
]
