"""The same store, verification and lineage code on ``gs://`` (GCS emulator)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import gcsfs
import pytest
from typer.testing import CliRunner

from nautilus_ext.audit import AuditStorageError
from nautilus_ext.audit import AuditStore
from nautilus_ext.audit import AuditStoreConfig
from nautilus_ext.audit import BreakKind
from nautilus_ext.audit import FillEvent
from nautilus_ext.audit import IntentEvent
from nautilus_ext.audit import Mode
from nautilus_ext.audit import OrderEvent
from nautilus_ext.audit import OrderStatus
from nautilus_ext.audit import OrderType
from nautilus_ext.audit import Side
from nautilus_ext.audit import TimeInForce
from nautilus_ext.audit import show
from nautilus_ext.audit import verify_log
from nautilus_ext.audit.cli import app
from nautilus_ext.audit.redaction import Redactor
from nautilus_ext.replay import compare_logs

GCS_OPTIONS = {"token": "anon", "project": "audit-tests"}  # as the emulator fixture uses
DAY0 = 1_704_153_600_000_000_000
HOUR = 3_600_000_000_000
HEADER: dict[str, Any] = {
    "mode": Mode.DRY_RUN,
    "strategy_id": "S-1",
    "version_hash": "ab" * 32,
    "config_hash": "cd" * 32,
}


def _events(n: int) -> list[Any]:
    out: list[Any] = []
    for i in range(n):
        ts = DAY0 + i * HOUR  # crosses into the next day after 24 intents
        common = {**HEADER, "ts_event": ts, "ts_wall": ts}
        order = {
            "asset": "ETH-USDT",
            "side": Side.SELL,
            "qty": Decimal("2"),
            "tif": TimeInForce.IOC,
        }
        out.append(IntentEvent(id=f"I-{i}", order_type=OrderType.MARKET, **order, **common))
        out.append(
            OrderEvent(
                id=f"O-{i}",
                venue="OKX",
                status=OrderStatus.FILLED,
                intent_id=f"I-{i}",
                order_type=OrderType.MARKET,
                **order,
                **common,
            )
        )
        out.append(
            FillEvent(
                id=f"F-{i}",
                venue="OKX",
                asset="ETH-USDT",
                side=Side.SELL,
                qty=Decimal("2"),
                price=Decimal("2200.5"),
                order_id=f"O-{i}",
                intent_id=f"I-{i}",
                **common,
            )
        )
    return out


def _open(root: str, **overrides: Any) -> AuditStore:
    config = AuditStoreConfig(root=root, storage_options=GCS_OPTIONS, **overrides)
    return AuditStore(config, redactor=Redactor(env={}))


def test_gcs_round_trip_reopen_and_lineage(gcs_bucket: str, tmp_path: Path) -> None:
    root = f"gs://{gcs_bucket}/runs/r1"
    events = _events(30)
    with _open(root, batch_max_records=16) as store:
        futures = [store.append(e) for e in events[:60]]
        assert futures[-1].result(30) == 59
        commits = store.stats().commits
    fs = gcsfs.GCSFileSystem(**GCS_OPTIONS)
    objects = fs.glob(f"{gcs_bucket}/runs/r1/audit/date=*/*.jsonl")
    assert len(objects) >= commits  # one object per day per group commit
    assert {o.split("/")[-2] for o in objects} == {"date=2024-01-02"}
    with _open(root) as store:  # reopen: the chain continues from the last object
        for e in events[60:]:
            store.append(e)
        assert store.flush(30) == len(events) - 1
    report = verify_log(root, GCS_OPTIONS)
    assert report.ok, report.broken
    assert report.records == 90
    days = {o.split("/")[-2] for o in fs.glob(f"{gcs_bucket}/runs/r1/audit/date=*/*.jsonl")}
    assert days == {"date=2024-01-02", "date=2024-01-03"}
    lineage = show("O-25", root, GCS_OPTIONS)
    assert (lineage.intent.id, [f.id for f in lineage.fills]) == ("I-25", ["F-25"])
    # A closed day compacts to Parquet in the bucket, and the copy re-verifies from there.
    compacted = CliRunner().invoke(
        app, ["compact", "2024-01-02", "--root", root, "-o", "token=anon", "-o", "project=audit-tests"]
    )
    assert compacted.exit_code == 0, compacted.output
    assert "compacted 72 records (seq 0..71)" in compacted.output
    assert fs.exists(f"{gcs_bucket}/runs/r1/audit/date=2024-01-02/compacted.parquet")
    # The same events written locally give an identical log.
    local = str(tmp_path / "local")
    with AuditStore(AuditStoreConfig(root=local), redactor=Redactor(env={})) as store:
        for e in events:
            store.append(e)
    assert compare_logs(local, root, right_storage_options=GCS_OPTIONS).identical


def test_gcs_tampering_is_found(gcs_bucket: str) -> None:
    root = f"gs://{gcs_bucket}/p"
    with _open(root, batch_max_records=4) as store:
        for e in _events(4):
            store.append(e)
    fs = gcsfs.GCSFileSystem(**GCS_OPTIONS)
    target = sorted(fs.glob(f"{gcs_bucket}/p/audit/date=*/*.jsonl"))[1]
    fs.pipe_file(target, fs.cat_file(target).replace(b'"2200.5"', b'"2100.5"'))
    report = verify_log(root, GCS_OPTIONS)
    assert report.broken.kind is BreakKind.HASH_MISMATCH
    assert report.broken.path == target
    result = CliRunner().invoke(app, ["verify", root, "-o", "token=anon", "-o", "project=audit-tests"])
    assert result.exit_code == 1
    assert "HASH_MISMATCH" in result.output


def test_gcs_upload_failure_is_reported(gcs_emulator: str) -> None:
    store = _open("gs://no-such-bucket-for-audit/x", upload_retries=1)
    try:
        future = store.append(_events(1)[0])
        with pytest.raises(AuditStorageError, match="failed after 2 attempts") as info:
            future.result(30)
        # Nothing reached the bucket: the record fails, retryably, and the store goes on.
        assert info.value.retryable
        assert store.stats().rejected == 1
        assert not store.stats().failed
    finally:
        store.close()
