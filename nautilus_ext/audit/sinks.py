"""
Where group commits go: an append-only local file with fsync, or one object per commit.

Durability semantics (what "acknowledged" means):

- **Local path** (:class:`LocalSegmentSink`): a commit appends its lines to the day's open
  segment with one ``write`` and then ``fsync`` (the segment's folder is fsynced too when a
  segment is created). Once the commit returns, the records survive a process kill and, with
  ``fsync=True``, a power loss. With ``fsync=False`` they survive a process kill only.
- **Object store** (:class:`ObjectStoreSink`, ``gs://``...): object stores cannot append, so each
  commit uploads one new object (one more per day boundary it crosses), named after its first
  record. An upload is
  atomic: once it returns the object is durable in the bucket; a crash mid-upload leaves no
  object. Transient upload failures are retried with exponential backoff.

A commit that fails is rolled back before the error is raised: the local sink truncates every
segment the commit touched to its size before the commit (removing one it created) and fsyncs,
the object store sink deletes the commit's objects (including one whose upload reported failure
but may have landed). ``AuditStorageError.details['rolled_back']`` says whether that worked; only
when it did not is the storage state unknown (see :mod:`nautilus_ext.audit.store`).

Both sinks recover on open: they find the last record (truncating a torn final line on a local
file, the only damage a crash can do) and return where the chain continues. One writer per
root: the local sink takes an exclusive lock; for buckets, run one writer per prefix.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO
from typing import Final
from typing import Protocol

from fsspec import AbstractFileSystem

from nautilus_ext.audit.canonical import GENESIS_HASH
from nautilus_ext.audit.errors import AuditIntegrityError
from nautilus_ext.audit.errors import AuditStorageError
from nautilus_ext.audit.errors import InvalidAuditRecord
from nautilus_ext.audit.layout import Segment
from nautilus_ext.audit.layout import date_dir
from nautilus_ext.audit.layout import list_segments
from nautilus_ext.audit.layout import segment_name
from nautilus_ext.audit.records import decode_record

logger = logging.getLogger(__name__)

LOCK_FILE: Final = ".writer.lock"
_TAIL_CHUNK: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class DayBatch:
    """
    Consecutive records of a commit that go to one segment.

    ``day`` is the segment's date folder (the writer's high-water day, see
    :mod:`nautilus_ext.audit.layout`), ``latest_day`` the latest event date among these records
    (at most ``day``), ``first_seq`` the first record's sequence number, ``data`` the lines.
    """

    day: date
    first_seq: int
    data: bytes
    latest_day: date


@dataclass(frozen=True, slots=True)
class ChainHead:
    """
    Where the chain continues: the next sequence number, the last record's hash, and the date
    folder of the last segment (None for an empty log), which later commits never go below.
    """

    next_seq: int
    prev_hash: str
    truncated_bytes: int
    last_day: date | None = None


class SegmentSink(Protocol):
    """The storage side of the writer."""

    def recover(self) -> ChainHead:
        """Repair a torn tail if needed and return where the chain continues."""
        ...

    def commit(self, batches: Sequence[DayBatch]) -> None:
        """
        Make ``batches`` durable or raise :class:`AuditStorageError`.

        On failure the sink removes what the commit wrote; ``details['rolled_back']`` is True
        when storage is back to its state before the commit, False when that is unknown.
        """
        ...

    def close(self) -> None:
        """Release files and locks."""
        ...


def _head_from_last_line(last_line: bytes | None, path: str, line: int) -> tuple[int, str]:
    if last_line is None:
        return 0, GENESIS_HASH
    try:
        record = decode_record(last_line, path, line)
    except InvalidAuditRecord as e:
        raise AuditIntegrityError(
            f"cannot continue the audit chain: last record of {path} is corrupt ({e.message})",
            details=dict(e.details),
        ) from e
    return record.seq + 1, record.hash


def _end_of_last_line(f: BinaryIO, end: int) -> int:
    # Position just after the last newline before ``end`` (0 if there is none).
    position = end
    while position > 0:
        start = max(0, position - _TAIL_CHUNK)
        f.seek(start)
        newline_at = f.read(position - start).rfind(b"\n")
        if newline_at >= 0:
            return start + newline_at + 1
        position = start
    return 0


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalSegmentSink:
    """
    Append-only segments on a local filesystem, with group-commit ``fsync``.

    Parameters
    ----------
    audit_path : str
        The local ``<root>/audit`` folder.
    fs : AbstractFileSystem
        The local fsspec filesystem (used for listing, like every reader).
    fsync : bool
        Whether each commit ends with ``fsync`` (durability against power loss).
    """

    def __init__(self, audit_path: str, fs: AbstractFileSystem, *, fsync: bool) -> None:
        self._audit_path = audit_path
        self._fs = fs
        self._fsync = fsync
        self._lock_fd: int | None = None
        self._fd: int | None = None
        self._open_day: date | None = None
        self._last_segment: Segment | None = None

    def recover(self) -> ChainHead:
        """Lock the root, truncate a torn final line and find the chain head."""
        try:
            os.makedirs(self._audit_path, exist_ok=True)
            self._lock_fd = os.open(os.path.join(self._audit_path, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise AuditStorageError(f"cannot open audit folder {self._audit_path}: {e}") from e
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(self._lock_fd)
            self._lock_fd = None
            raise AuditStorageError(
                f"another writer holds the audit log at {self._audit_path}", retryable=False
            ) from e
        try:
            return self._recover_locked()
        except BaseException:
            self.close()  # do not keep the lock of a log we refuse to write
            raise

    def _recover_locked(self) -> ChainHead:
        segments = list_segments(self._fs, self._audit_path)
        truncated = 0
        while segments:
            last = segments[-1]
            cut, last_line = self._repair_tail(last.path)
            truncated += cut
            if last_line is not None:
                self._last_segment = last
                next_seq, prev_hash = _head_from_last_line(last_line, last.path, -1)
                return ChainHead(next_seq, prev_hash, truncated, last.day)
            # Nothing acknowledged ever reached this segment: drop the empty file.
            os.remove(last.path)
            _fsync_dir(os.path.dirname(last.path))
            segments.pop()
        return ChainHead(0, GENESIS_HASH, truncated)

    def _repair_tail(self, path: str) -> tuple[int, bytes | None]:
        # Truncate bytes after the last newline; return (bytes cut, last complete line).
        with open(path, "r+b") as f:
            size = f.seek(0, os.SEEK_END)
            good_size = _end_of_last_line(f, size)
            cut = size - good_size
            if cut:
                logger.warning("Truncating %d bytes of a torn final audit line in %s", cut, path)
                f.truncate(good_size)
                f.flush()
                os.fsync(f.fileno())
            if good_size == 0:
                return cut, None
            line_start = _end_of_last_line(f, good_size - 1)
            f.seek(line_start)
            return cut, f.read(good_size - 1 - line_start)

    def commit(self, batches: Sequence[DayBatch]) -> None:
        """
        Append each batch's lines to its segment, then fsync.

        A failure (disk full, file too large, folder not creatable...) is rolled back: every
        segment the commit touched is truncated to its size before the commit (or removed if the
        commit created it) and fsynced, so the log holds no part of the failed commit.
        """
        saved_segment = self._last_segment
        touched: list[tuple[str, int, bool]] = []  # (path, size before the commit, created)
        try:
            for batch in batches:
                fd, path, created = self._fd_for(batch)
                touched.append((path, os.fstat(fd).st_size, created))
                if created and self._fsync:
                    _fsync_dir(os.path.dirname(path))
                    _fsync_dir(self._audit_path)
                view = memoryview(batch.data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                if self._fsync:
                    os.fsync(fd)
        except OSError as e:
            rolled_back = self._roll_back(touched, saved_segment)
            raise AuditStorageError(
                f"audit commit failed in {self._audit_path}: {e}"
                + ("" if rolled_back else " (and rolling it back failed)"),
                retryable=rolled_back,
                details={"rolled_back": rolled_back},
            ) from e

    def _roll_back(self, touched: list[tuple[str, int, bool]], saved_segment: Segment | None) -> bool:
        # Return True only if every touched segment is back to its size before the commit.
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
            self._open_day = None
        try:
            for path, size, created in reversed(touched):
                if created:
                    if os.path.exists(path):
                        os.remove(path)
                    if self._fsync:
                        _fsync_dir(os.path.dirname(path))
                else:
                    fd = os.open(path, os.O_WRONLY)
                    try:
                        os.ftruncate(fd, size)
                        if self._fsync:
                            os.fsync(fd)
                    finally:
                        os.close(fd)
        except OSError as e:
            logger.error("Rolling back a failed audit commit failed: %s", e)
            return False
        self._last_segment = saved_segment
        return True

    def _fd_for(self, batch: DayBatch) -> tuple[int, str, bool]:
        last = self._last_segment
        if self._fd is not None and self._open_day == batch.day and last is not None:
            return self._fd, last.path, False
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self._open_day = None
        if last is not None and last.day == batch.day:
            path = last.path  # continue the segment left by the previous run or commit
            first_seq = last.first_seq
        else:
            folder = date_dir(self._audit_path, batch.day)
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, segment_name(batch.first_seq))
            first_seq = batch.first_seq
        created = not os.path.exists(path)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._open_day = batch.day
        self._last_segment = Segment(path, batch.day, first_seq)
        return self._fd, path, created

    def close(self) -> None:
        """Close the open segment and release the writer lock."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None


def backoff_delay_secs(attempt: int, base_secs: float = 0.05, cap_secs: float = 2.0) -> float:
    """Return the wait before retry ``attempt`` (1-based): exponential, capped."""
    return float(min(cap_secs, base_secs * (2 ** (attempt - 1))))


class ObjectStoreSink:
    """
    One uploaded object per day per commit (object stores cannot append).

    Parameters
    ----------
    audit_path : str
        The ``bucket/prefix/audit`` path in the filesystem's form.
    fs : AbstractFileSystem
        The fsspec filesystem (gcsfs for ``gs://``).
    retries : int
        How many times a failed upload is retried.
    sleep : Callable[[float], None]
        How to wait between retries (injected for tests).
    """

    def __init__(
        self,
        audit_path: str,
        fs: AbstractFileSystem,
        *,
        retries: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._audit_path = audit_path
        self._fs = fs
        self._retries = retries
        self._sleep = sleep

    def recover(self) -> ChainHead:
        """Read the last object's last line (uploads are atomic: nothing to repair)."""
        try:
            segments = list_segments(self._fs, self._audit_path)
            if not segments:
                return ChainHead(0, GENESIS_HASH, 0)
            last = segments[-1]
            data = self._fs.cat_file(last.path)
        except Exception as e:  # gcsfs/aiohttp errors are not all OSError: translate them here
            raise AuditStorageError(f"cannot read audit log at {self._audit_path}: {e}") from e
        if not data.endswith(b"\n"):
            raise AuditIntegrityError(
                f"audit object {last.path} does not end with a complete record",
                details={"path": last.path, "kind": "MALFORMED"},
            )
        lines = data[:-1].split(b"\n")
        next_seq, prev_hash = _head_from_last_line(lines[-1], last.path, len(lines))
        return ChainHead(next_seq, prev_hash, 0, last.day)

    def commit(self, batches: Sequence[DayBatch]) -> None:
        """
        Upload one object per batch, retrying transient failures.

        If an upload still fails, the objects this commit uploaded (and the failed one, in case
        the upload reached the bucket after all) are deleted, so the commit leaves nothing.
        """
        attempted: list[str] = []
        for batch in batches:
            # Each object is its own segment: file it under its latest event's day (layout rule).
            path = f"{date_dir(self._audit_path, batch.latest_day)}/{segment_name(batch.first_seq)}"
            attempted.append(path)
            try:
                self._upload(path, batch.data)
            except AuditStorageError as e:
                rolled_back = self._remove(attempted)
                raise AuditStorageError(
                    e.message + ("" if rolled_back else " (and removing the commit's objects failed)"),
                    retryable=rolled_back,
                    details={"rolled_back": rolled_back},
                ) from e

    def _upload(self, path: str, data: bytes) -> None:
        attempt = 0
        while True:
            try:
                self._fs.pipe_file(path, data)
                return
            except Exception as e:  # gcsfs/aiohttp errors are not all OSError
                attempt += 1
                if attempt > self._retries:
                    message = f"audit upload of {path} failed after {attempt} attempts: {e}"
                    raise AuditStorageError(message) from e
                delay = backoff_delay_secs(attempt)
                logger.warning(
                    "Audit upload of %s failed (attempt %d), retrying in %.2fs: %s",
                    path,
                    attempt,
                    delay,
                    e,
                )
                self._sleep(delay)

    def _remove(self, paths: list[str]) -> bool:
        # Return True only if none of ``paths`` is left in the bucket.
        try:
            for path in paths:
                self._fs.invalidate_cache(path)
                if self._fs.exists(path):
                    self._fs.rm_file(path)
        except Exception as e:  # gcsfs/aiohttp errors are not all OSError
            logger.error("Removing the objects of a failed audit commit failed: %s", e)
            return False
        return True

    def close(self) -> None:
        """Nothing to release: every commit is a finished upload."""
        self._fs.invalidate_cache(self._audit_path)


__all__ = [
    "ChainHead",
    "DayBatch",
    "LocalSegmentSink",
    "ObjectStoreSink",
    "SegmentSink",
    "backoff_delay_secs",
]
