"""
Where audit files live: ``<root>/audit/date=YYYY-MM-DD/<segment>.jsonl``.

``<root>`` is a local path or an fsspec URL (``gs://bucket/prefix``). A segment is named after
the sequence number of its first record, zero-padded to 20 digits, so sorting segment names
across all date folders by that number gives the order of the hash chain.

Segments follow write order. The date folder of a segment is the UTC date of the ``ts_event``
that opened it, and a new segment starts only when an event of a *later* day than the open
segment's arrives. A back-dated event (a late fill, an event of a replayed day) is appended to
the open segment, so it can sit under a later date folder than its own: every record's date is
at most its folder's date, never after it. The number of segments therefore stays near the
number of days (plus one per writer restart on a new day, and one per commit on object stores,
which cannot append), however the events' dates are ordered. Logs written before this rule
(one segment per run of same-day events) follow it too, with equal dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any
from typing import Final

import fsspec
from fsspec import AbstractFileSystem

from nautilus_ext.audit.errors import AuditIntegrityError
from nautilus_ext.audit.errors import AuditStorageError
from nautilus_ext.audit.errors import InvalidAuditRecord
from nautilus_ext.errors import InvalidConfig

AUDIT_DIR: Final = "audit"
"""The cluster folder under the root."""

SEGMENT_SUFFIX: Final = ".jsonl"
_SEGMENT_NAME: Final = re.compile(r"^(\d{20})\.jsonl$")
_DATE_DIR: Final = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
_NS_PER_SECOND: Final = 1_000_000_000


def utc_date_of(ts_ns: int) -> date:
    """
    Return the UTC calendar date of a UNIX-nanosecond timestamp.

    Raises
    ------
    InvalidAuditRecord
        If ``ts_ns`` is not an int or has no calendar date (beyond the year 9999).
    """
    try:
        if type(ts_ns) is not int:
            raise TypeError(f"{type(ts_ns).__name__} is not an int")
        return datetime.fromtimestamp(ts_ns // _NS_PER_SECOND, tz=UTC).date()
    except (TypeError, ValueError, OverflowError, OSError) as e:
        problem = f"ts_event: {ts_ns!r} ns has no calendar date ({e})"
        raise InvalidAuditRecord(problem, details={"errors": [problem]}) from e


def segment_name(first_seq: int) -> str:
    """Return the file name of a segment whose first record has sequence ``first_seq``."""
    return f"{first_seq:020d}{SEGMENT_SUFFIX}"


@dataclass(frozen=True, slots=True)
class Segment:
    """One audit file: its path (in the filesystem's own form), date and first sequence."""

    path: str
    day: date
    first_seq: int


def open_root(root: str, storage_options: dict[str, Any] | None = None) -> tuple[AbstractFileSystem, str]:
    """
    Resolve ``root`` to an fsspec filesystem and the path of its ``audit`` folder.

    Parameters
    ----------
    root : str
        A local path or fsspec URL (``gs://bucket/prefix``) of the storage root.
    storage_options : dict, optional
        Options for the filesystem (for gcsfs: ``project``, ``token``...).

    Returns
    -------
    tuple[AbstractFileSystem, str]
        The filesystem and the audit folder path in that filesystem's form.

    Raises
    ------
    InvalidConfig
        If ``root`` is empty or its protocol is not available.
    """
    if not root or not root.strip():
        raise InvalidConfig("audit root must be a non-empty path or URL")
    try:
        fs, path = fsspec.core.url_to_fs(root, **(storage_options or {}))
    except (ValueError, ImportError) as e:
        raise InvalidConfig(f"audit root {root!r} cannot be opened: {e}") from e
    return fs, f"{path.rstrip('/')}/{AUDIT_DIR}"


def list_segments(fs: AbstractFileSystem, audit_path: str) -> list[Segment]:
    """
    List every segment under ``audit_path`` in chain order (by first sequence number).

    Files that do not follow the layout are ignored (they are not part of the log).

    Raises
    ------
    AuditIntegrityError
        If a folder is named like a date folder but is not a real date (``date=2024-13-45``):
        its segments would otherwise silently drop out of the log.
    AuditStorageError
        If the storage cannot be listed.
    """
    try:
        if not fs.exists(audit_path):
            return []
        fs.invalidate_cache(audit_path)
        entries = fs.ls(audit_path, detail=True)
    except OSError as e:
        raise AuditStorageError(f"cannot list audit folder {audit_path}: {e}") from e
    segments = []
    for entry in entries:
        entry_path = str(entry["name"]).rstrip("/")
        day_match = _DATE_DIR.match(entry_path.rsplit("/", 1)[-1])
        if day_match is None or entry.get("type") != "directory":
            continue
        try:
            day = date.fromisoformat(day_match.group(1))
        except ValueError as e:
            raise AuditIntegrityError(
                f"audit folder {entry_path} is not a real date: {e}",
                details={"path": entry_path, "kind": "SEGMENT_MISMATCH"},
            ) from e
        try:
            files = fs.ls(entry_path, detail=True)
        except OSError as e:
            raise AuditStorageError(f"cannot list audit folder {entry_path}: {e}") from e
        for item in files:
            file_path = str(item["name"])
            name_match = _SEGMENT_NAME.match(file_path.rsplit("/", 1)[-1])
            if name_match is not None and item.get("type") == "file":
                segments.append(Segment(file_path, day, int(name_match.group(1))))
    segments.sort(key=lambda s: s.first_seq)
    return segments


def date_dir(audit_path: str, day: date) -> str:
    """Return the folder of one day."""
    return f"{audit_path}/date={day.isoformat()}"


__all__ = [
    "AUDIT_DIR",
    "SEGMENT_SUFFIX",
    "Segment",
    "date_dir",
    "list_segments",
    "open_root",
    "segment_name",
    "utc_date_of",
]
