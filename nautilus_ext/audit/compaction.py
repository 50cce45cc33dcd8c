"""
Compaction of a closed day's JSON-lines segments into one Parquet file.

The JSON-lines segments stay the tamper-evident source of truth; the Parquet file is a derived,
columnar copy for fast queries, written next to them as ``audit/date=YYYY-MM-DD/compacted.parquet``
(readers of the log ignore it). Each row keeps ``seq``, ``prev_hash``, ``hash`` and the canonical
``event_json``, so :func:`verify_compacted` can re-check every hash and link from the Parquet file
alone. Compacting again overwrites the file (for example after late events for that day arrived).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from nautilus_ext.audit.canonical import canonical_json
from nautilus_ext.audit.errors import AuditIntegrityError
from nautilus_ext.audit.layout import date_dir
from nautilus_ext.audit.layout import list_segments
from nautilus_ext.audit.layout import open_root
from nautilus_ext.audit.records import decode_record
from nautilus_ext.audit.records import encode_checked_record
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
    Write the records of ``day`` to ``audit/date=DAY/compacted.parquet``.

    Every record's own hash is checked while reading; run
    :func:`~nautilus_ext.audit.records.verify_log` first to check the whole chain.

    Raises
    ------
    InvalidConfig
        If the day has no segments.
    InvalidAuditRecord
        If a complete line is malformed or altered.
    """
    fs, audit_path = open_root(root, storage_options)
    segments = [s for s in list_segments(fs, audit_path) if s.day == day]
    if not segments:
        raise InvalidConfig(f"no audit segments for {day.isoformat()} under {root}")
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    for segment in segments:
        with fs.open(segment.path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                if not raw.endswith(b"\n"):
                    continue  # a torn tail was never acknowledged
                record = decode_record(raw[:-1], segment.path, number)
                event = record.event
                columns["seq"].append(record.seq)
                columns["prev_hash"].append(record.prev_hash)
                columns["hash"].append(record.hash)
                columns["event_json"].append(canonical_json(event).decode("ascii"))
                for name in _DENORMALIZED:
                    columns[name].append(event[name])
    table = pa.table(columns, schema=SCHEMA)
    path = f"{date_dir(audit_path, day)}/{COMPACTED_NAME}"
    with fs.open(path, "wb") as f:
        pq.write_table(table, f, compression="zstd")
    seqs = columns["seq"]
    local = "file" in fs.protocol or "local" in fs.protocol
    url = path if local else fs.unstrip_protocol(path)
    return CompactionResult(path, url, len(seqs), seqs[0] if seqs else None, seqs[-1] if seqs else None)


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
    with fs.open(file_path, "rb") as f:
        table = pq.read_table(f)
    previous: tuple[int, str] | None = None
    for row in table.to_pylist():
        _, expected = encode_checked_record(row["seq"], row["prev_hash"], row["event_json"].encode("ascii"))
        if expected != row["hash"]:
            raise AuditIntegrityError(
                f"compacted row seq {row['seq']} does not match its hash",
                details={"seq": row["seq"], "expected": expected, "found": row["hash"]},
            )
        event = json.loads(row["event_json"])
        for name in _DENORMALIZED:
            if event[name] != row[name]:
                raise AuditIntegrityError(
                    f"compacted row seq {row['seq']}: column {name} disagrees with event_json",
                    details={"seq": row["seq"], "expected": event[name], "found": row[name]},
                )
        if previous is not None and row["seq"] == previous[0] + 1 and row["prev_hash"] != previous[1]:
            raise AuditIntegrityError(
                f"compacted row seq {row['seq']} does not link to seq {previous[0]}",
                details={"seq": row["seq"], "expected": previous[1], "found": row["prev_hash"]},
            )
        previous = (row["seq"], row["hash"])
    return int(table.num_rows)


def _open_file(path: str, storage_options: dict[str, Any] | None) -> tuple[Any, str]:
    import fsspec

    try:
        fs, file_path = fsspec.core.url_to_fs(path, **(storage_options or {}))
    except (ValueError, ImportError) as e:
        raise InvalidConfig(f"path {path!r} cannot be opened: {e}") from e
    return fs, file_path


__all__ = ["COMPACTED_NAME", "SCHEMA", "CompactionResult", "compact_day", "verify_compacted"]
