"""No single bad event or failed write poisons the store (issue 13, item 7)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import ClassVar

import fsspec
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from nautilus_ext.audit import AlertKind
from nautilus_ext.audit import AuditAlert
from nautilus_ext.audit import AuditContext
from nautilus_ext.audit import AuditStorageError
from nautilus_ext.audit import DecisionEvent
from nautilus_ext.audit import InvalidAuditRecord
from nautilus_ext.audit import Mode
from nautilus_ext.audit import iter_records
from nautilus_ext.audit import parse_event
from nautilus_ext.audit import verify_log
from nautilus_ext.audit.redaction import Redactor
from nautilus_ext.audit.schemas import MAX_TS_NS
from nautilus_ext.audit.schemas import MIN_TS_NS

from .conftest import DAY0_NS
from .conftest import FixedClock

DAY_NS = 86_400 * 1_000_000_000
PICOSECONDS = DAY0_NS * 1000  # ts_event in ps instead of ns: the year 58904 of the issue


def _ids(root: str) -> list[str]:
    return [r.event["id"] for r in iter_records(root)]


@pytest.mark.parametrize(
    "ts",
    [PICOSECONDS, DAY0_NS // 1000, MIN_TS_NS - 1, MAX_TS_NS, -1, 0],
    ids=["ps", "us", "before-2000", "2200", "negative", "zero"],
)
def test_schema_refuses_implausible_timestamps(events: Any, ts: int) -> None:
    data = events.decision().model_dump(mode="json")
    for field in ("ts_event", "ts_wall"):
        with pytest.raises(InvalidAuditRecord) as info:
            parse_event({**data, field: ts})
        assert f"{field}:" in info.value.details["errors"][0]


def test_schema_refuses_a_bool_timestamp(events: Any) -> None:
    with pytest.raises(InvalidAuditRecord, match="ts_event"):
        parse_event({**events.decision().model_dump(mode="json"), "ts_event": True})


def test_context_refuses_a_wrong_unit_clock_with_a_typed_error() -> None:
    ctx = AuditContext(
        Mode.LIVE, "S-1", "ab" * 32, "cd" * 32, clock=FixedClock(PICOSECONDS), wall_clock=FixedClock()
    )
    with pytest.raises(InvalidAuditRecord, match="ts_event"):
        ctx.event(DecisionEvent, id="D-1")


def test_wrong_unit_event_is_refused_and_the_store_keeps_writing(
    open_store: Any, events: Any, root: str
) -> None:
    # A model built without validation (the way a bad value could still reach append) carries
    # the picosecond timestamp of the issue; it used to fail the writer and every later append.
    store = open_store()
    store.append_and_wait(events.decision(id="D-0"))
    bad = DecisionEvent.model_construct(**{**events.decision(id="D-bad").__dict__, "ts_event": PICOSECONDS})
    with pytest.raises(InvalidAuditRecord, match="ts_event"):
        store.append(bad)
    assert store.append_and_wait(events.decision(id="D-1")) == 1
    assert _ids(root) == ["D-0", "D-1"]
    assert verify_log(root).ok
    assert not store.stats().failed


def test_unserializable_event_is_refused_at_append(open_store: Any, events: Any, root: str) -> None:
    store = open_store()
    bad_event = DecisionEvent.model_construct(
        **{**events.decision(id="D-bad").__dict__, "details": {"price": 1.5}}  # a float
    )
    with pytest.raises(InvalidAuditRecord, match="D-bad"):
        store.append(bad_event)
    assert store.append_and_wait(events.decision(id="D-0")) == 0
    assert _ids(root) == ["D-0"]


class RefusingRedactor(Redactor):
    """A real redactor that fails on one event id (a pluggable component's bug)."""

    def sanitize(self, value: Any) -> Any:
        if isinstance(value, dict) and value.get("id") == "D-bad":
            raise TypeError("redactor bug")
        return super().sanitize(value)


def test_event_the_writer_cannot_encode_fails_only_its_own_record(
    open_store: Any, events: Any, root: str
) -> None:
    store = open_store(redactor=RefusingRedactor(env={}))
    good = store.append(events.decision(id="D-0"))
    bad = store.append(events.decision(id="D-bad"))
    after = store.append(events.decision(id="D-1"))
    with pytest.raises(InvalidAuditRecord, match="D-bad"):
        bad.result(5)
    assert (good.result(5), after.result(5)) == (0, 1)  # no sequence number was used
    assert store.flush() == 1
    assert store.stats().rejected == 1
    assert not store.stats().failed
    assert _ids(root) == ["D-0", "D-1"]
    assert verify_log(root).ok


def test_failed_commit_is_rolled_back_and_the_store_goes_on(
    open_store: Any, events: Any, root: str, clock: Any
) -> None:
    alerts: list[AuditAlert] = []
    store = open_store(on_alert=alerts.append)
    store.append_and_wait(events.intent(id="I-0"))
    blocker = Path(root, "audit", "date=2024-01-03")
    blocker.write_text("not a folder")  # the next day's folder cannot be created
    doomed = store.append(events.intent(id="I-1", ts_event=clock.now_ns + DAY_NS))
    with pytest.raises(AuditStorageError, match="audit commit failed") as info:
        doomed.result(5)
    assert info.value.retryable
    assert alerts[-1].kind is AlertKind.COMMIT_FAILED
    assert store.append_and_wait(events.intent(id="I-2")) == 1  # same day: the chain goes on
    blocker.unlink()
    assert store.append_and_wait(events.intent(id="I-3", ts_event=clock.now_ns + DAY_NS)) == 2
    assert not store.stats().failed
    assert _ids(root) == ["I-0", "I-2", "I-3"]
    assert verify_log(root).ok


def test_partly_written_commit_is_truncated_and_the_store_goes_on(tmp_path: Path) -> None:
    # A file-size limit makes the big record's write fail half-way (EFBIG), as a full disk
    # would; the partial line must go and the next small record must chain on.
    root = tmp_path / "store"
    script = textwrap.dedent(
        f"""
        import resource
        from nautilus_ext.audit import AuditStore, AuditStoreConfig, DecisionEvent, Mode
        from nautilus_ext.audit import AuditStorageError
        from nautilus_ext.audit.redaction import Redactor

        def event(i, rationale=""):
            return DecisionEvent(id=f"D-{{i}}", mode=Mode.LIVE, ts_event={DAY0_NS} + i,
                                 ts_wall={DAY0_NS} + i, strategy_id="S", version_hash="ab" * 32,
                                 config_hash="cd" * 32, rationale=rationale)

        store = AuditStore(AuditStoreConfig(root={str(root)!r}), redactor=Redactor(env={{}}))
        store.append_and_wait(event(0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
        try:
            store.append_and_wait(event(1, "x" * 20_000))
        except AuditStorageError as e:
            assert e.retryable and "File too large" in e.message, e.message
        else:
            raise SystemExit("the oversized record was acknowledged")
        assert store.append_and_wait(event(2)) == 1
        store.close()
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    report = verify_log(str(root))
    assert report.ok
    assert _ids(str(root)) == ["D-0", "D-2"]


class FaultyBucket(MemoryFileSystem):
    """An in-memory bucket whose uploads and deletes fail on demand (a misbehaving store)."""

    protocol = "faultybucket"
    store: ClassVar[dict[str, Any]] = {}
    pseudo_dirs: ClassVar[list[str]] = [""]
    fail_uploads_under: ClassVar[str | None] = None
    fail_deletes: ClassVar[bool] = False

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        super().pipe_file(path, value, mode=mode, **kwargs)
        if self.fail_uploads_under is not None and self.fail_uploads_under in path:
            raise OSError("connection reset after upload")  # the object may be there

    def rm_file(self, path: str) -> None:
        if self.fail_deletes:
            raise OSError("delete refused")
        super().rm_file(path)


@pytest.fixture
def bucket() -> Any:
    fsspec.register_implementation("faultybucket", FaultyBucket, clobber=True)
    FaultyBucket.store.clear()
    FaultyBucket.fail_uploads_under, FaultyBucket.fail_deletes = None, False
    yield FaultyBucket
    FaultyBucket.store.clear()


def test_failed_upload_is_removed_and_the_store_goes_on(
    bucket: Any, open_store: Any, events: Any, clock: Any
) -> None:
    store = open_store(root="faultybucket://b/run", upload_retries=0)
    store.append_and_wait(events.intent(id="I-0"))
    bucket.fail_uploads_under = "date=2024-01-03"
    # One commit over two days: the first object uploads, the second fails; both must go.
    store.append(events.intent(id="I-1"))
    doomed = store.append(events.intent(id="I-2", ts_event=clock.now_ns + DAY_NS))
    with pytest.raises(AuditStorageError, match="connection reset"):
        doomed.result(5)
    bucket.fail_uploads_under = None
    assert store.append_and_wait(events.intent(id="I-3")) >= 1
    assert not store.stats().failed
    ids = _ids("faultybucket://b/run")
    assert ids in (["I-0", "I-1", "I-3"], ["I-0", "I-3"])  # I-1 shared the failed commit or not
    assert verify_log("faultybucket://b/run").ok


def test_unknown_storage_state_stops_the_store_and_says_how_to_recover(
    bucket: Any, open_store: Any, events: Any
) -> None:
    alerts: list[AuditAlert] = []
    store = open_store(root="faultybucket://b/run", upload_retries=0, on_alert=alerts.append)
    store.append_and_wait(events.intent(id="I-0"))
    bucket.fail_uploads_under, bucket.fail_deletes = "date=", True
    with pytest.raises(AuditStorageError, match="could not be rolled back") as info:
        store.append_and_wait(events.intent(id="I-1"))
    assert "open the store again" in info.value.message
    assert "audit verify" in info.value.message
    assert alerts[-1].kind is AlertKind.WRITER_FAILED
    with pytest.raises(AuditStorageError, match="failed earlier"):
        store.append(events.intent(id="I-2"))
    assert store.stats().failed


def test_decimal_details_still_encode(open_store: Any, events: Any, root: str) -> None:
    store = open_store()
    store.append_and_wait(events.decision(details={"edge": Decimal("0.25")}))
    assert next(iter_records(root)).event["details"] == {"edge": "0.25"}
