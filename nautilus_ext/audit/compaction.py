"""
Compaction of a closed day's records into one Parquet file.

The JSON-lines segments stay the tamper-evident source of truth; the Parquet file is a derived,
columnar copy for fast queries, written next to them as ``audit/date=YYYY-MM-DD/compacted.parquet``
(readers of the log ignore it). Each row keeps ``seq``, ``prev_hash``, ``hash`` and the canonical
``event_json``, so :func:`verify_compacted` can re-check every hash and link from the Parquet file
alone. Compacting again replaces the file (for example after late events for that day arrived).

Compaction verifies the whole chain first and refuses a broken one
(:class:`~nautilus_ext.audit.errors.AuditIntegrityError`, nothing written): a copy of a log with
a deleted, altered or reordered record would hide the damage. Only a torn final line (a crash
mid-write, never acknowledged) is tolerated. The file is written to a temporary name and renamed
(an object store upload is atomic), so a failed compaction never leaves a half-written file or
replaces a good one.

A day's records are the records whose ``ts_event`` falls on that day, wherever they were filed:
back-dated records sit in later date folders (see :mod:`nautilus_ext.audit.layout`).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from typing import Any
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from nautilus_ext.audit.canonical import canonical_json
from nautilus_ext.audit.errors import AuditIntegrityError
from nautilus_ext.audit.errors import AuditStorageError
from nautilus_ext.audit.layout import date_dir
from nautilus_ext.audit.layout import open_root
from nautilus_ext.audit.layout import utc_date_of
from nautilus_ext.audit.records import BreakKind
from nautilus_ext.audit.records import encode_checked_record
from nautilus_ext.audit.records import iter_records
from nautilus_ext.audit.records import verify_log
from nautilus_ext.errors import InvalidConfig

COMPACTED_NAME: Final = "compacted.parquet"
_DENORMALIZED: Final = ("event_type", "id", "mode", "strategy_id", "ts_event", "ts_wall")

SCHEMA: Final = pa.schema(
    [
        pa.field("seq", pa.uint64(), nullable=False),
        pa.field("prev_hash", pa.string(), nullable=False),
        pa.field("hash", pa.string(), nullable=False),
        pa.field("event_type", pa.string(), nullable=False),
        pa.field("id", pa.string(), nullable=False),
        pa.field("mode", pa.string(), nullable=False),
        pa.field("strategy_id", pa.string(), nullable=False),
        pa.field("ts_event", pa.int64(), nullable=False),
        pa.field("ts_wall", pa.int64(), nullable=False),
        pa.field("event_json", pa.string(), nullable=False),
    ]
)
"""Columns of a compacted day (``event_json`` is the canonical JSON of the event)."""


@dataclass(frozen=True, slots=True)
class CompactionResult:
    """Where a day was compacted to (``url`` is what :func:`verify_compacted` takes)."""

    path: str
    url: str
    rows: int
    first_seq: int | None
    last_seq: int | None


def compact_day(root: str, day: date, storage_options: dict[str, Any] | None = None) -> CompactionResult:
    """
    Verify the chain, then write the records of ``day`` to ``audit/date=DAY/compacted.parquet``.

    Raises
    ------
    AuditIntegrityError
        If the chain does not verify (``details`` names the kind and place of the first broken
        link); nothing is written.
    InvalidConfig
        If the log holds no record of ``day``.
    AuditStorageError
        If the storage cannot be read or the file cannot be written.
    """
    fs, audit_path = open_root(root, storage_options)
    report = verify_log(root, storage_options)
    if report.broken is not None and report.broken.kind is not BreakKind.TORN_TAIL:
        raise AuditIntegrityError(
            f"refusing to compact {day.isoformat()}: the audit chain under {root} does not verify: "
            f"{report.broken.describe()}",
            details={
                "kind": str(report.broken.kind),
                "path": report.broken.path,
                "line": report.broken.line,
                "seq": report.broken.seq,
            },
        )
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    # Records of ``day`` are filed under ``day`` or, when back-dated, a later folder; the chain
    # verified, so every event matches its schema.
    for record in iter_records(root, storage_options):
        event = record.event
        if utc_date_of(event["ts_event"]) != day:
            continue
        columns["seq"].append(record.seq)
        columns["prev_hash"].append(record.prev_hash)
        columns["hash"].append(record.hash)
        columns["event_json"].append(canonical_json(event).decode("ascii"))
        for name in _DENORMALIZED:
            columns[name].append(event[name])
    if not columns["seq"]:
        raise InvalidConfig(f"no audit records for {day.isoformat()} under {root}")
    table = pa.table(columns, schema=SCHEMA)
    path = f"{date_dir(audit_path, day)}/{COMPACTED_NAME}"
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    _write_atomically(fs, path, sink.getvalue().to_pybytes())
    seqs = columns["seq"]
    url = path if _is_local(fs) else fs.unstrip_protocol(path)
    return CompactionResult(path, url, len(seqs), seqs[0], seqs[-1])


def _is_local(fs: Any) -> bool:
    return "file" in fs.protocol or "local" in fs.protocol


def _write_atomically(fs: Any, path: str, data: bytes) -> None:
    try:
        if not _is_local(fs):
            fs.pipe_file(path, data)  # an object upload is atomic
            return
        folder = os.path.dirname(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{COMPACTED_NAME}.", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as e:
        raise AuditStorageError(f"cannot write {path}: {e}") from e


def verify_compacted(path: str, storage_options: dict[str, Any] | None = None) -> int:
    """
    Re-check every hash, and every link between consecutive rows, of a compacted day.

    Links across gaps in ``seq`` (other days' records) are not checkable from one file.

    Returns
    -------
    int
        The number of rows checked.

    Raises
    ------
    AuditIntegrityError
        At the first row whose hash or link does not match, naming its ``seq``.
    """
    fs, file_path = _open_file(path, storage_options)
    try:
        table = _read_table(fs, file_path)
    except FileNotFoundError as e:
        raise InvalidConfig(f"no compacted file at {path}") from e
    except (OSError, pa.ArrowException, ValueError) as e:
        raise AuditIntegrityError(
            f"{path} is not a readable compacted audit file: {e}", details={"path": path}
        ) from e
    previous: tuple[int, str] | None = None
    for row in table.to_pylist():
        try:
            event_json = row["event_json"].encode("ascii")
            _, expected = encode_checked_record(row["seq"], row["prev_hash"], event_json)
            event = json.loads(row["event_json"])
        except (ValueError, RecursionError, TypeError, AttributeError, KeyError) as e:
            # ValueError includes UnicodeError and JSONDecodeError; TypeError/AttributeError: a
            # null or mistyped column in a damaged file
            raise AuditIntegrityError(
                f"compacted row seq {row['seq']} is malformed: {type(e).__name__}",
                details={"seq": row["seq"], "path": path},
            ) from e
        if expected != row["hash"]:
            raise AuditIntegrityError(
                f"compacted row seq {row['seq']} does not match its hash",
                details={"seq": row["seq"], "expected": expected, "found": row["hash"]},
            )
        for name in _DENORMALIZED:
            if not isinstance(event, dict) or event.get(name) != row[name]:
                raise AuditIntegrityError(
                    f"compacted row seq {row['seq']}: column {name} disagrees with event_json",
                    details={
                        "seq": row["seq"],
                        "expected": event.get(name) if isinstance(event, dict) else None,
                        "found": row[name],
                    },
                )
        if previous is not None and row["seq"] == previous[0] + 1 and row["prev_hash"] != previous[1]:
            raise AuditIntegrityError(
                f"compacted row seq {row['seq']} does not link to seq {previous[0]}",
                details={"seq": row["seq"], "expected": previous[1], "found": row["prev_hash"]},
            )
        previous = (row["seq"], row["hash"])
    return int(table.num_rows)


def _read_table(fs: Any, file_path: str) -> pa.Table:
    # Never hand Arrow a Python file object, and never let it pre-buffer on its IO threads:
    # pre-buffered reads keep Python-owned buffers in a cache that an Arrow IO thread may free
    # while the interpreter shuts down; taking the GIL there ends that thread with a forced
    # unwind through a noexcept destructor, i.e. "terminate called without an active
    # exception" and exit code 134 after the command had already printed its success.
    if _is_local(fs):
        return pq.read_table(file_path, schema=SCHEMA, pre_buffer=False)
    data = fs.cat_file(file_path)
    return pq.read_table(pa.BufferReader(pa.py_buffer(data)), schema=SCHEMA, pre_buffer=False)


def _open_file(path: str, storage_options: dict[str, Any] | None) -> tuple[Any, str]:
    import fsspec

    try:
        fs, file_path = fsspec.core.url_to_fs(path, **(storage_options or {}))
    except (ValueError, ImportError) as e:
        raise InvalidConfig(f"path {path!r} cannot be opened: {e}") from e
    return fs, file_path


__all__ = ["COMPACTED_NAME", "SCHEMA", "CompactionResult", "compact_day", "verify_compacted"]
