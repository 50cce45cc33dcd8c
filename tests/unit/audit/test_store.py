"""AuditStore: durable acknowledgement, chain continuation, day chunks, back-pressure, failure."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.audit import AlertKind
from nautilus_ext.audit import AuditAlert
from nautilus_ext.audit import AuditBackpressure
from nautilus_ext.audit import AuditIntegrityError
from nautilus_ext.audit import AuditStorageError
from nautilus_ext.audit import AuditStoreConfig
from nautilus_ext.audit import BackpressurePolicy
from nautilus_ext.audit import InvalidAuditRecord
from nautilus_ext.audit import iter_records
from nautilus_ext.audit import verify_log
from nautilus_ext.audit.redaction import Redactor
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig

DAY_NS = 86_400 * 1_000_000_000


class GatedRedactor(Redactor):
    """A real redactor that holds the writer thread until ``gate`` is set (to fill the queue)."""

    def __init__(self) -> None:
        super().__init__(env={})
        self.gate = threading.Event()
        self.entered = threading.Event()

    def sanitize(self, value: Any) -> Any:
        if isinstance(value, dict) and "event_type" in value:  # whole events only
            self.entered.set()
            self.gate.wait(5)
        return super().sanitize(value)


def _segment_files(root: str) -> list[Path]:
    return sorted(Path(root, "audit").glob("date=*/*.jsonl"))


def test_acknowledged_records_are_on_disk_and_chain_verifies(open_store: Any, events: Any, root: str) -> None:
    store = open_store()
    futures = [store.append(events.intent(id=f"I-{i}")) for i in range(50)]
    assert [f.result(5) for f in futures] == list(range(50))
    on_disk = [r.event["id"] for r in iter_records(root)]
    assert on_disk == [f"I-{i}" for i in range(50)]
    report = verify_log(root)
    assert report.ok
    assert report.records == 50
    assert report.last_seq == 49
    assert store.stats().committed == 50


def test_reopen_continues_the_chain_in_the_same_segment(open_store: Any, events: Any, root: str) -> None:
    first = open_store()
    first.append(events.intent(id="I-a"))
    first.close()
    second = open_store()
    assert second.durable_seq == 0
    assert second.append_and_wait(events.intent(id="I-b")) == 1
    second.close()
    assert len(_segment_files(root)) == 1
    report = verify_log(root)
    assert report.ok
    assert report.records == 2


def test_segments_follow_write_order_even_out_of_day_order(
    open_store: Any, events: Any, root: str, clock: Any
) -> None:
    # A back-dated event goes into the open segment (a later date folder than its own); a new
    # segment starts only when time moves past the open segment's day.
    store = open_store()
    day0 = clock.now_ns
    for ts in (day0, day0 + DAY_NS, day0 + 5, day0 + 2 * DAY_NS):
        store.append(events.intent(id=f"I-{ts}", ts_event=ts))
    store.flush()
    names = [f"{p.parent.name}/{p.name}" for p in _segment_files(root)]
    assert names == [
        "date=2024-01-02/00000000000000000000.jsonl",
        "date=2024-01-03/00000000000000000001.jsonl",
        "date=2024-01-04/00000000000000000003.jsonl",
    ]
    assert verify_log(root).ok
    assert [r.seq for r in iter_records(root)] == [0, 1, 2, 3]


def test_torn_final_line_is_truncated_on_reopen(open_store: Any, events: Any, root: str) -> None:
    store = open_store()
    store.append_and_wait(events.intent(id="I-1"))
    store.close()
    segment = _segment_files(root)[-1]
    good = segment.read_bytes()
    with segment.open("ab") as f:
        f.write(b'{"event":{"id":"I-2"')  # a write cut short by a crash
    assert verify_log(root).broken.kind == "TORN_TAIL"
    alerts: list[AuditAlert] = []
    reopened = open_store(on_alert=alerts.append)
    assert segment.read_bytes() == good
    assert [a.kind for a in alerts] == [AlertKind.TORN_TAIL_TRUNCATED]
    assert reopened.stats().truncated_bytes == 20
    assert reopened.append_and_wait(events.intent(id="I-2")) == 1
    assert verify_log(root).ok


def test_segment_holding_only_a_torn_line_is_removed(
    open_store: Any, events: Any, root: str, clock: Any
) -> None:
    store = open_store()
    store.append_and_wait(events.intent(id="I-1"))
    store.close()
    torn = Path(root, "audit", "date=2024-01-03", "00000000000000000001.jsonl")
    torn.parent.mkdir()
    torn.write_bytes(b'{"ev')
    reopened = open_store()
    assert not torn.exists()
    assert reopened.append_and_wait(events.intent(id="I-2")) == 1
    assert verify_log(root).ok


def test_corrupt_last_record_refuses_to_open(open_store: Any, events: Any, root: str) -> None:
    store = open_store()
    store.append_and_wait(events.intent(id="I-1"))
    store.close()
    segment = _segment_files(root)[-1]
    segment.write_bytes(segment.read_bytes().replace(b"I-1", b"I-X"))
    with pytest.raises(AuditIntegrityError, match="corrupt"):
        open_store()


def test_verify_on_open_refuses_a_tampered_log(open_store: Any, events: Any, root: str) -> None:
    store = open_store()
    for i in range(3):
        store.append(events.intent(id=f"I-{i}"))
    store.close()
    segment = _segment_files(root)[-1]
    segment.write_bytes(segment.read_bytes().replace(b"I-0", b"I-9"))
    with pytest.raises(AuditIntegrityError, match="HASH_MISMATCH"):
        open_store(verify_on_open=True)


def test_second_writer_on_the_same_root_is_refused(open_store: Any) -> None:
    open_store()
    with pytest.raises(AuditStorageError, match="another writer"):
        open_store()


def test_append_never_waits_for_storage(open_store: Any, events: Any, eventually: Any) -> None:
    redactor = GatedRedactor()
    store = open_store(redactor=redactor)
    first = store.append(events.intent(id="I-0"))
    eventually(redactor.entered.is_set)
    pending = [store.append(events.intent(id=f"I-{i}")) for i in range(1, 100)]
    assert not first.done()
    assert not any(f.done() for f in pending)
    redactor.gate.set()
    assert pending[-1].result(5) == 99


def test_full_queue_raises_alerts_and_counts(
    open_store: Any, events: Any, eventually: Any, root: str
) -> None:
    redactor = GatedRedactor()
    alerts: list[AuditAlert] = []
    store = open_store(redactor=redactor, on_alert=alerts.append, queue_capacity=2)
    store.append(events.intent(id="I-0"))
    eventually(redactor.entered.is_set)
    store.append(events.intent(id="I-1"))
    store.append(events.intent(id="I-2"))
    for _ in range(3):
        with pytest.raises(AuditBackpressure) as info:
            store.append(events.intent(id="I-refused"))
    assert info.value.code is ErrorCode.RISK_BLOCKED
    assert info.value.details["rule"] == "AUDIT_BACKPRESSURE"
    assert [a.kind for a in alerts] == [AlertKind.QUEUE_FULL]  # one alert per episode
    stats = store.stats()
    assert (stats.queue_full_events, stats.refused, stats.queue_depth) == (3, 3, 2)
    redactor.gate.set()
    assert store.flush() == 2
    assert [r.event["id"] for r in iter_records(root)] == ["I-0", "I-1", "I-2"]


def test_block_policy_waits_for_room_then_refuses(open_store: Any, events: Any, eventually: Any) -> None:
    redactor = GatedRedactor()
    store = open_store(
        redactor=redactor,
        queue_capacity=1,
        backpressure=BackpressurePolicy.BLOCK,
        block_timeout_ms=1000,
    )
    store.append(events.intent(id="I-0"))
    eventually(redactor.entered.is_set)
    store.append(events.intent(id="I-1"))
    with pytest.raises(AuditBackpressure):
        store.append(events.intent(id="I-2"))
    threading.Timer(0.1, redactor.gate.set).start()
    store_blocking = store.append(events.intent(id="I-3"))  # waits for the writer to make room
    assert store_blocking.result(5) == 2


def test_alert_callback_errors_do_not_break_the_store(open_store: Any, events: Any, eventually: Any) -> None:
    redactor = GatedRedactor()

    def broken_callback(alert: AuditAlert) -> None:
        raise RuntimeError("pager down")

    store = open_store(redactor=redactor, on_alert=broken_callback, queue_capacity=1)
    store.append(events.intent(id="I-0"))
    eventually(redactor.entered.is_set)
    store.append(events.intent(id="I-1"))
    with pytest.raises(AuditBackpressure):
        store.append(events.intent(id="I-2"))
    redactor.gate.set()
    assert store.flush() == 1


def test_non_events_are_refused(open_store: Any) -> None:
    store = open_store()
    with pytest.raises(InvalidAuditRecord, match="expected an audit event"):
        store.append({"event_type": "INTENT"})  # type: ignore[arg-type]


def test_closed_store_refuses_appends(open_store: Any, events: Any) -> None:
    store = open_store()
    store.close()
    with pytest.raises(AuditStorageError, match="closed"):
        store.append(events.intent())


def test_fsync_off_still_writes_everything(open_store: Any, events: Any, root: str) -> None:
    store = open_store(fsync=False, batch_max_records=7, commit_interval_ms=1)
    for i in range(40):
        store.append(events.fill(id=f"F-{i}"))
    assert store.flush() == 39
    assert store.stats().largest_batch <= 7
    assert verify_log(root).records == 40


def test_events_are_snapshotted_at_append(open_store: Any, events: Any, root: str) -> None:
    store = open_store()
    decision = events.decision(tags=["a"])
    store.append(decision)
    decision.tags.append("changed-later")
    store.flush()
    assert next(iter_records(root)).event["tags"] == ["a"]


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"queue_capacity": 0}, "queue_capacity"),
        ({"batch_max_records": -1}, "batch_max_records"),
        ({"backpressure": "DROP"}, "backpressure"),
        ({"fsnyc": True}, "fsnyc"),
        ({"root": ""}, "root"),
    ],
)
def test_config_errors_name_the_field(overrides: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidConfig) as info:
        AuditStoreConfig.parse({"root": "/tmp/x", **overrides})
    assert named in info.value.message
    assert info.value.code is ErrorCode.INVALID_CONFIG


def test_unopenable_root_is_invalid_config(events: Any) -> None:
    from nautilus_ext.audit import AuditStore

    with pytest.raises(InvalidConfig, match="cannot be opened"):
        AuditStore(AuditStoreConfig(root="nosuchproto://bucket/x"))


def test_directory_entries_are_fsynced_before_ack(open_store: Any, events: Any, root: str) -> None:
    # The segment and its folder exist as soon as the first record is acknowledged.
    store = open_store()
    store.append_and_wait(events.intent())
    files = _segment_files(root)
    assert len(files) == 1
    assert os.path.getsize(files[0]) > 0


def test_refused_open_releases_the_writer_lock(open_store: Any, events: Any, root: str) -> None:
    store = open_store()
    store.append_and_wait(events.intent(id="I-1"))
    store.close()
    segment = _segment_files(root)[-1]
    segment.write_bytes(segment.read_bytes().replace(b"I-1", b"I-X"))
    for _ in range(2):  # the second attempt sees the same corruption, not "another writer"
        with pytest.raises(AuditIntegrityError):
            open_store()


def test_normal_exit_writes_what_is_queued(tmp_path: Path) -> None:
    # A process that never calls close() still gets its queued records written at exit.
    import subprocess
    import sys
    import textwrap

    root = tmp_path / "store"
    script = textwrap.dedent(
        f"""
        from decimal import Decimal
        from nautilus_ext.audit import (AuditStore, AuditStoreConfig, DecisionEvent, Mode)
        from nautilus_ext.audit.redaction import Redactor
        store = AuditStore(AuditStoreConfig(root={str(root)!r}), redactor=Redactor(env={{}}))
        T0 = 1_704_153_600_000_000_000
        for i in range(500):
            store.append(DecisionEvent(id=f"D-{{i}}", mode=Mode.BACKTEST, ts_event=T0 + i, ts_wall=T0 + i,
                         strategy_id="S", version_hash="ab" * 32, config_hash="cd" * 32))
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    report = verify_log(str(root))
    assert report.ok
    assert report.records == 500


def test_backoff_is_exponential_and_capped() -> None:
    from nautilus_ext.audit.sinks import backoff_delay_secs

    assert [backoff_delay_secs(a) for a in (1, 2, 3)] == [0.05, 0.1, 0.2]
    assert backoff_delay_secs(30) == 2.0


def test_close_never_releases_the_storage_under_a_running_writer(
    open_store: Any, events: Any, root: str, eventually: Any
) -> None:
    # close() used to close the segment and drop the lock after its timeout while the writer
    # was still draining the queue: the rest was written unlocked, or lost.
    redactor = GatedRedactor()
    store = open_store(redactor=redactor)
    futures = [store.append(events.intent(id=f"I-{i}")) for i in range(20)]
    assert redactor.entered.wait(5)
    store.close(timeout_secs=0.05)
    with pytest.raises(AuditStorageError, match="another writer"):
        open_store()  # the running writer still holds the root
    redactor.gate.set()
    assert [f.result(5) for f in futures] == list(range(20))
    eventually(lambda: not any(t.name == "audit-writer" and t.is_alive() for t in threading.enumerate()))
    report = verify_log(root)
    assert (report.ok, report.records) == (True, 20)
