"""
The audit store: a non-blocking, durable, hash-chained, append-only event log.

The trading path calls :meth:`AuditStore.append`, which snapshots the event and puts it on a
bounded queue; it never waits for disk or network. A writer thread drains the queue in group
commits: it redacts each event, assigns its sequence number, chains its hash, writes the batch
and makes it durable (see :mod:`nautilus_ext.audit.sinks` for what durable means on a local path
and on an object store), then resolves each record's acknowledgement future with its sequence
number. A record is *acknowledged* only once it is durable.

When the queue is full the configured :class:`BackpressurePolicy` applies, an alert fires
(callback, logged error, counter) and, if the record cannot be queued, the caller gets
:class:`~nautilus_ext.audit.errors.AuditBackpressure`: the action it wanted to record must not
happen.

No single bad event or failed write poisons the store:

- An event with a timestamp outside 2000-01-01..2200-01-01 UTC (wrong unit) is refused at
  :meth:`AuditStore.append` with :class:`~nautilus_ext.audit.errors.InvalidAuditRecord`; one the
  writer cannot encode (a model built without validation) fails its own future with that error.
  Neither uses a sequence number, and the store goes on writing.
- A commit that fails (disk full, unwritable folder, failed upload) is rolled back by the sink:
  the commit's records fail with a retryable
  :class:`~nautilus_ext.audit.errors.AuditStorageError`, alert ``COMMIT_FAILED`` fires, and the
  next commit continues the chain where the last durable record left it.
- Only if the rollback itself fails is the state of the storage unknown; then the store stops:
  every pending and later record fails with ``AuditStorageError`` (alert ``WRITER_FAILED``),
  whose message says how to recover (reopen the store, which keeps complete records and
  truncates a torn final line, then ``nautilus-ext audit verify``). Nothing is silently dropped.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from collections.abc import Callable
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from enum import unique
from typing import Any
from typing import Final

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from nautilus_ext.audit.canonical import dumps_checked
from nautilus_ext.audit.errors import AuditBackpressure
from nautilus_ext.audit.errors import AuditIntegrityError
from nautilus_ext.audit.errors import AuditStorageError
from nautilus_ext.audit.errors import InvalidAuditRecord
from nautilus_ext.audit.layout import open_root
from nautilus_ext.audit.layout import utc_date_of
from nautilus_ext.audit.records import BreakKind
from nautilus_ext.audit.records import encode_checked_record
from nautilus_ext.audit.records import verify_log
from nautilus_ext.audit.redaction import Redactor
from nautilus_ext.audit.schemas import EVENT_CLASSES
from nautilus_ext.audit.schemas import MAX_TS_NS
from nautilus_ext.audit.schemas import MIN_TS_NS
from nautilus_ext.audit.schemas import AuditEvent
from nautilus_ext.audit.schemas import describe_validation_error
from nautilus_ext.audit.sinks import DayBatch
from nautilus_ext.audit.sinks import LocalSegmentSink
from nautilus_ext.audit.sinks import ObjectStoreSink
from nautilus_ext.audit.sinks import SegmentSink
from nautilus_ext.errors import InvalidConfig

logger = logging.getLogger(__name__)

_EVENT_TYPES: Final = tuple(EVENT_CLASSES.values())
_STOP: Final = object()
_NS_PER_DAY: Final = 86_400 * 1_000_000_000


@unique
class BackpressurePolicy(StrEnum):
    """What :meth:`AuditStore.append` does when the queue is full."""

    RAISE = "RAISE"  # refuse at once with AuditBackpressure (LIVE: the action must not happen)
    BLOCK = "BLOCK"  # wait up to block_timeout_ms for room, then refuse (BACKTEST/REPLAY)


@unique
class AlertKind(StrEnum):
    """Operational alerts raised by the store."""

    QUEUE_FULL = "QUEUE_FULL"  # the bounded queue filled up: the writer is not keeping up
    WRITER_FAILED = "WRITER_FAILED"  # storage state unknown: no further record will be written
    COMMIT_FAILED = "COMMIT_FAILED"  # one commit failed and was rolled back: the store goes on
    TORN_TAIL_TRUNCATED = "TORN_TAIL_TRUNCATED"  # an unacknowledged torn line was cut on open


@dataclass(frozen=True, slots=True)
class AuditAlert:
    """An alert passed to the ``on_alert`` callback."""

    kind: AlertKind
    message: str
    queue_depth: int
    queue_capacity: int


@dataclass(frozen=True, slots=True)
class AuditStats:
    """
    Counters of a store (a snapshot).

    ``committed`` counts durable records; ``refused`` appends refused by back-pressure;
    ``rejected`` records the writer answered with an error while it kept writing (an event it
    could not encode, or a commit that failed and was rolled back).
    """

    enqueued: int
    committed: int
    commits: int
    largest_batch: int
    durable_seq: int | None
    queue_depth: int
    queue_full_events: int
    refused: int
    rejected: int
    truncated_bytes: int
    failed: bool


class AuditStoreConfig(BaseModel):
    """
    Configuration of an :class:`AuditStore`.

    Parameters
    ----------
    root : str
        Storage root: a local path or ``gs://bucket/prefix``; files go to ``<root>/audit/``.
    storage_options : dict
        fsspec options for remote roots (default empty). Never logged unredacted.
    queue_capacity : int
        Records the queue holds before back-pressure applies (default 100_000).
    batch_max_records : int
        Most records per group commit (default 4096).
    commit_interval_ms : int
        How long the writer waits to gather a batch after its first record, in ms
        (default 0: commit whatever is queued at once; batches grow under load by themselves).
    fsync : bool
        Local roots: ``fsync`` every commit (default True). False survives a process kill but
        not a power loss. Object stores upload every commit either way.
    backpressure : BackpressurePolicy
        Full-queue policy (default RAISE).
    block_timeout_ms : int
        Longest wait for room under the BLOCK policy, in ms (default 1000).
    verify_on_open : bool
        Verify the whole chain before writing (default False: only the last record is checked).
    upload_retries : int
        Object stores: retries of a failed upload (default 3).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    root: str = Field(min_length=1)
    storage_options: dict[str, Any] = Field(default_factory=dict)
    queue_capacity: int = Field(default=100_000, gt=0)
    batch_max_records: int = Field(default=4096, gt=0)
    commit_interval_ms: int = Field(default=0, ge=0)
    fsync: bool = True
    backpressure: BackpressurePolicy = BackpressurePolicy.RAISE
    block_timeout_ms: int = Field(default=1000, gt=0)
    verify_on_open: bool = False
    upload_retries: int = Field(default=3, ge=0)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> AuditStoreConfig:
        """
        Validate a mapping (for example from YAML) into a config.

        Raises
        ------
        InvalidConfig
            Naming every invalid or unknown field; ``details['errors']`` lists them.
        """
        try:
            return cls.model_validate(dict(data))
        except ValidationError as e:
            problems = describe_validation_error(e)
            raise InvalidConfig(
                f"invalid audit store config: {'; '.join(problems)}",
                details={"errors": problems},
            ) from e


_Item = tuple[dict[str, Any], Future[int]]


def _check_timestamps(event: AuditEvent) -> None:
    # The schema checks the range; this also catches models built without validation
    # (``model_construct``), whose timestamps would otherwise reach the writer.
    for name in ("ts_event", "ts_wall"):
        value = getattr(event, name, None)
        if type(value) is not int or not MIN_TS_NS <= value < MAX_TS_NS:
            problem = f"{name}: must be UNIX ns from 2000-01-01 to 2200-01-01 UTC (wrong unit?)"
            raise InvalidAuditRecord(
                f"audit event {getattr(event, 'id', None)!r} refused: {problem}",
                details={"errors": [problem]},
            )


class AuditStore:
    """
    Append-only audit log with a non-blocking writer (see the module docstring).

    Parameters
    ----------
    config : AuditStoreConfig
        Where and how to write.
    on_alert : Callable[[AuditAlert], None], optional
        Called on alerts, from the thread that noticed (keep it fast; errors are logged).
    redactor : Redactor, optional
        Secret redaction (default: secrets of the current environment).

    Raises
    ------
    AuditStorageError
        If the storage cannot be opened or another writer holds it.
    AuditIntegrityError
        If the existing log is corrupt (beyond a torn final line, which is truncated).
    """

    def __init__(
        self,
        config: AuditStoreConfig,
        *,
        on_alert: Callable[[AuditAlert], None] | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self._config = config
        self._on_alert = on_alert
        self._redactor = redactor if redactor is not None else Redactor()
        logger.info(
            "Opening audit store: %s",
            self._redactor.redact(config.model_dump(mode="json")),
        )
        fs, audit_path = open_root(config.root, config.storage_options)
        if config.verify_on_open:
            self._verify_existing()
        self._sink: SegmentSink
        if "file" in fs.protocol or "local" in fs.protocol:
            self._sink = LocalSegmentSink(audit_path, fs, fsync=config.fsync)
        else:
            self._sink = ObjectStoreSink(audit_path, fs, retries=config.upload_retries)
        head = self._sink.recover()
        self._next_seq = head.next_seq
        self._prev_hash = head.prev_hash
        self._truncated = head.truncated_bytes
        self._queue: queue.Queue[_Item | object] = queue.Queue(maxsize=config.queue_capacity)
        self._state = threading.Condition()
        self._enqueued = 0
        self._committed = 0
        self._commits = 0
        self._largest_batch = 0
        self._durable_seq: int | None = head.next_seq - 1 if head.next_seq else None
        self._queue_full_events = 0
        self._refused = 0
        self._full_alert_active = False
        self._failure: AuditStorageError | None = None
        self._closed = False
        self._day_cache: tuple[int, int, date] = (0, 0, date.min)
        self._segment_day: date | None = head.last_day
        self._rejected = 0
        self._answered = 0
        self._writer = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._writer.start()
        # On a normal interpreter exit, write what is queued (the writer is a daemon thread).
        atexit.register(self.close)
        if head.truncated_bytes:
            self._alert(
                AlertKind.TORN_TAIL_TRUNCATED,
                f"truncated {head.truncated_bytes} bytes of an unacknowledged torn line",
            )

    def _verify_existing(self) -> None:
        report = verify_log(self._config.root, self._config.storage_options)
        if report.broken is not None and report.broken.kind is not BreakKind.TORN_TAIL:
            raise AuditIntegrityError(
                f"audit log at {self._config.root} is broken: {report.broken.describe()}",
                details={"kind": str(report.broken.kind), "path": report.broken.path},
            )

    # -- trading path -----------------------------------------------------------------------

    def append(self, event: AuditEvent) -> Future[int]:
        """
        Queue ``event`` for writing without waiting for storage.

        Parameters
        ----------
        event : AuditEvent
            A typed event (it is snapshotted now; later changes to it are not recorded).

        Returns
        -------
        Future[int]
            Resolves to the record's sequence number once it is durable, or fails with
            :class:`AuditStorageError`.

        Raises
        ------
        InvalidAuditRecord
            If ``event`` is not an audit event model, its timestamps are outside
            2000-01-01..2200-01-01 UTC in ns, or it cannot be serialized (a model built with
            ``model_construct`` around its validation).
        AuditBackpressure
            If the queue is full (after waiting, under the BLOCK policy).
        AuditStorageError
            If the store failed earlier or is closed.
        """
        if not isinstance(event, _EVENT_TYPES):
            raise InvalidAuditRecord(
                f"expected an audit event model, got {type(event).__name__}",
                details={"errors": ["event: not an audit event"]},
            )
        _check_timestamps(event)
        if self._failure is not None:
            raise self._failed_error()
        if self._closed:
            raise AuditStorageError("audit store is closed", retryable=False)
        try:
            snapshot = event.model_dump(mode="json", warnings="error")
        except PydanticSerializationError as e:  # a model built without validation
            problem = f"event: cannot be serialized ({str(e)[:200]})"
            message = f"audit event {getattr(event, 'id', None)!r} refused: {problem}"
            raise InvalidAuditRecord(message, details={"errors": [problem]}) from e
        future: Future[int] = Future()
        item = (snapshot, future)
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._on_full()
            if self._config.backpressure is BackpressurePolicy.RAISE:
                return self._refuse()
            try:
                self._queue.put(item, timeout=self._config.block_timeout_ms / 1000)
            except queue.Full:
                return self._refuse()
        with self._state:
            self._enqueued += 1
        return future

    def append_and_wait(self, event: AuditEvent, timeout_secs: float = 5.0) -> int:
        """
        Append ``event`` and wait until it is durable (for records that must precede an action).

        Returns
        -------
        int
            The record's sequence number.

        Raises
        ------
        AuditStorageError
            If the record is not durable within ``timeout_secs`` (it stays queued and may still
            be written: treat the outcome as unknown) or storage failed.
        """
        future = self.append(event)
        try:
            return future.result(timeout=timeout_secs)
        except TimeoutError as e:
            raise AuditStorageError(f"audit record not durable within {timeout_secs}s", retryable=True) from e

    def _on_full(self) -> None:
        with self._state:
            self._queue_full_events += 1
            first = not self._full_alert_active
            self._full_alert_active = True
        if first:
            self._alert(AlertKind.QUEUE_FULL, "audit queue is full: the writer is not keeping up")

    def _refuse(self) -> Future[int]:
        with self._state:
            self._refused += 1
        raise AuditBackpressure(
            f"audit queue full ({self._config.queue_capacity} records): action refused",
            retryable=True,
        )

    def _alert(self, kind: AlertKind, message: str) -> None:
        depth = self._queue.qsize()
        logger.error("Audit alert %s: %s (queue %d/%d)", kind, message, depth, self._config.queue_capacity)
        if self._on_alert is None:
            return
        try:
            self._on_alert(AuditAlert(kind, message, depth, self._config.queue_capacity))
        except Exception:
            logger.exception("Audit alert callback failed for %s", kind)

    # -- writer thread ----------------------------------------------------------------------

    def _run(self) -> None:
        # The writer owns the sink: it releases the storage only once it has stopped writing.
        try:
            self._write_until_stopped()
        finally:
            try:
                self._sink.close()
            except Exception:
                logger.exception("Closing the audit storage failed")

    def _write_until_stopped(self) -> None:
        interval = self._config.commit_interval_ms / 1000
        limit = self._config.batch_max_records
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch: list[_Item] = [first]  # type: ignore[list-item]
            deadline = time.monotonic() + interval
            while len(batch) < limit:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        nxt = self._queue.get(timeout=remaining)
                    except queue.Empty:
                        break
                if nxt is _STOP:
                    stopping = True
                    break
                batch.append(nxt)  # type: ignore[arg-type]
            if not self._commit(batch):
                self._fail_remaining()
                return
            if self._full_alert_active and self._queue.qsize() <= self._config.queue_capacity // 2:
                with self._state:
                    self._full_alert_active = False

    def _commit(self, batch: list[_Item]) -> bool:
        # Returns False only when the store must stop (the disk state is unknown).
        seq, prev_hash, segment_day = self._next_seq, self._prev_hash, self._segment_day
        written: list[Future[int]] = []
        day_batches: list[DayBatch] = []
        day_lines: list[bytes] = []
        latest = date.min
        try:
            for event, future in batch:
                try:
                    event_json = dumps_checked(self._redactor.sanitize(event))
                    day = self._day_of(event["ts_event"])
                except Exception as e:  # one bad event must not poison the store
                    future.set_exception(self._refused_event(event, e))
                    continue
                if segment_day is None or day > segment_day:
                    # Segments follow write order: a new one starts only when time moves past the
                    # open segment's day, so back-dated events never scatter new files.
                    if day_lines and segment_day is not None:
                        first = seq - len(day_lines)
                        day_batches.append(DayBatch(segment_day, first, b"".join(day_lines), latest))
                        day_lines = []
                    segment_day = latest = day
                line, prev_hash = encode_checked_record(seq, prev_hash, event_json)
                day_lines.append(line)
                latest = max(latest, day)
                written.append(future)
                seq += 1
            if not written or segment_day is None:
                return True
            day_batches.append(DayBatch(segment_day, seq - len(day_lines), b"".join(day_lines), latest))
            self._sink.commit(day_batches)
        except AuditStorageError as e:
            if e.details.get("rolled_back") is True:
                # Nothing of this commit is on storage: fail its records, keep the store writing.
                self._reject_commit(e, written)
                return True
            self._fail(self._unknown_state(e), written)
            return False
        except Exception as e:  # the writer thread must never die silently
            self._fail(self._unknown_state(AuditStorageError(f"audit commit failed: {e}")), written)
            return False
        self._next_seq, self._prev_hash, self._segment_day = seq, prev_hash, segment_day
        with self._state:
            self._committed += len(written)
            self._answered += len(written)
            self._commits += 1
            self._largest_batch = max(self._largest_batch, len(written))
            self._durable_seq = seq - 1
            self._state.notify_all()
        first_seq = seq - len(written)
        for offset, future in enumerate(written):
            future.set_result(first_seq + offset)
        return True

    def _refused_event(self, event: dict[str, Any], error: Exception) -> InvalidAuditRecord:
        # Nothing was written and no sequence number was used: only this record is refused.
        with self._state:
            self._answered += 1  # flush waits for answers, not only for successes
            self._rejected += 1
            self._state.notify_all()
        event_id = event.get("id") if isinstance(event.get("id"), str) else None
        logger.error("Audit event %s refused by the writer: %s", event_id, type(error).__name__)
        return InvalidAuditRecord(
            f"audit event {event_id!r} cannot be encoded: {error}",
            details={"errors": [f"event: {type(error).__name__}: {error}"], "id": event_id},
        )

    def _reject_commit(self, error: AuditStorageError, futures: list[Future[int]]) -> None:
        with self._state:
            self._answered += len(futures)
            self._rejected += len(futures)
            self._state.notify_all()
        self._alert(
            AlertKind.COMMIT_FAILED,
            f"audit commit of {len(futures)} records failed and was rolled back: {error.message}",
        )
        for future in futures:
            future.set_exception(error)

    @staticmethod
    def _unknown_state(error: AuditStorageError) -> AuditStorageError:
        message = (
            f"{error.message}; the commit could not be rolled back, so what reached storage is "
            "unknown and the store stopped writing. To recover: close the store (or stop the "
            "process), fix the storage, and open the store again; opening keeps every complete "
            "record, truncates a torn final line and continues the chain after the last complete "
            "record. Then run `nautilus-ext audit verify ROOT`. Records refused with this error "
            "may or may not be in the log."
        )
        stopped = AuditStorageError(message, retryable=False, details=dict(error.details))
        stopped.__cause__ = error
        return stopped

    def _day_of(self, ts_ns: int) -> date:
        # Consecutive events share a day: reuse the last day's bounds instead of a datetime.
        start, end, day = self._day_cache
        if start <= ts_ns < end:
            return day
        day = utc_date_of(ts_ns)
        start = (ts_ns // _NS_PER_DAY) * _NS_PER_DAY
        self._day_cache = (start, start + _NS_PER_DAY, day)
        return day

    def _failed_error(self) -> AuditStorageError:
        # A fresh error per call: re-raising one instance would grow its traceback forever.
        assert self._failure is not None
        error = AuditStorageError(f"audit store failed earlier: {self._failure.message}", retryable=False)
        error.__cause__ = self._failure
        return error

    def _fail(self, failure: AuditStorageError, futures: list[Future[int]]) -> None:
        with self._state:
            self._failure = failure
            self._state.notify_all()
        self._alert(AlertKind.WRITER_FAILED, f"audit writer stopped: {failure.message}")
        for future in futures:
            future.set_exception(failure)

    def _fail_remaining(self) -> None:
        # After a failure keep consuming, so a record queued in a race still gets an answer.
        assert self._failure is not None
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            item[1].set_exception(self._failure)  # type: ignore[index]

    # -- control ----------------------------------------------------------------------------

    def flush(self, timeout_secs: float = 10.0) -> int | None:
        """
        Wait until every record appended before this call is answered.

        A record is answered when it is durable or when its own future failed (an event the
        writer could not encode, a commit that was rolled back); check the futures, or
        ``stats().rejected``, to tell them apart.

        Returns
        -------
        int or None
            The highest durable sequence number (None if the log is empty).

        Raises
        ------
        AuditStorageError
            If the store stopped (storage state unknown) or the wait timed out.
        """
        with self._state:
            target = self._enqueued
            done = self._state.wait_for(
                lambda: self._answered >= target or self._failure is not None, timeout_secs
            )
            if self._failure is not None:
                raise self._failed_error()
            if not done:
                raise AuditStorageError(f"audit flush timed out after {timeout_secs}s", retryable=True)
            return self._durable_seq

    def close(self, timeout_secs: float = 10.0) -> None:
        """
        Write everything queued, stop the writer and release the storage.

        Waits up to ``timeout_secs`` for the writer. If it is still writing then, it goes on
        (and releases the storage when done): the storage is never closed under a running
        writer, which would lose or tear records it was about to write.
        """
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        self._queue.put(_STOP)
        self._writer.join(timeout_secs)
        if self._writer.is_alive():
            logger.error(
                "Audit writer still writing %d queued records after %.1fs; it releases the storage when done",
                self._queue.qsize(),
                timeout_secs,
            )

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def durable_seq(self) -> int | None:
        """The highest acknowledged (durable) sequence number, None if the log is empty."""
        with self._state:
            return self._durable_seq

    def stats(self) -> AuditStats:
        """Return a snapshot of the counters."""
        with self._state:
            return AuditStats(
                enqueued=self._enqueued,
                committed=self._committed,
                commits=self._commits,
                largest_batch=self._largest_batch,
                durable_seq=self._durable_seq,
                queue_depth=self._queue.qsize(),
                queue_full_events=self._queue_full_events,
                refused=self._refused,
                rejected=self._rejected,
                truncated_bytes=self._truncated,
                failed=self._failure is not None,
            )


__all__ = [
    "AlertKind",
    "AuditAlert",
    "AuditStats",
    "AuditStore",
    "AuditStoreConfig",
    "BackpressurePolicy",
]
