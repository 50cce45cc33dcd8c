"""A writer killed with SIGKILL during heavy writes loses nothing acknowledged."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nautilus_ext.audit import AuditStore
from nautilus_ext.audit import AuditStoreConfig
from nautilus_ext.audit import BreakKind
from nautilus_ext.audit import iter_records
from nautilus_ext.audit import verify_log
from nautilus_ext.audit.redaction import Redactor

WRITER = textwrap.dedent(
    """
    import sys
    from decimal import Decimal
    from nautilus_ext.audit import (AuditStore, AuditStoreConfig, BackpressurePolicy,
        IntentEvent, Mode, OrderType, Side, TimeInForce)
    from nautilus_ext.audit.redaction import Redactor

    root, start = sys.argv[1], int(sys.argv[2])
    store = AuditStore(
        AuditStoreConfig(root=root, batch_max_records=64, backpressure=BackpressurePolicy.BLOCK,
                         block_timeout_ms=60_000),
        redactor=Redactor(env={}),
    )
    i = start
    while True:
        store.append(IntentEvent(
            id=f"I-{i}", mode=Mode.LIVE, ts_event=1_704_153_600_000_000_000 + i * 60_000_000_000,
            ts_wall=1_704_153_600_000_000_000 + i, strategy_id="S-1", version_hash="ab" * 32,
            config_hash="cd" * 32,
            asset="BTC-USDT", side=Side.BUY, qty=Decimal("0.001"), order_type=OrderType.MARKET,
            tif=TimeInForce.IOC, rationale_ref="x" * (i % 300)))
        i += 1
        if i % 50 == 0:
            # Everything up to durable_seq is acknowledged: report it to the parent.
            print(store.durable_seq, flush=True)
    """
)


def _run_and_kill(script: Path, root: str, start: int, min_acked: int) -> int:
    """Run the writer, wait until ``min_acked`` records are acknowledged, SIGKILL it."""
    proc = subprocess.Popen(
        [sys.executable, str(script), root, str(start)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    acked = -1
    deadline = time.monotonic() + 60
    try:
        while acked < min_acked:
            assert time.monotonic() < deadline, "writer too slow"
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            if ready:
                line = proc.stdout.readline()
                assert line, f"writer exited early with {proc.poll()}"
                if line.strip() != "None":
                    acked = max(acked, int(line))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    return acked


@pytest.mark.slow
def test_sigkill_during_heavy_writes_loses_nothing_acknowledged(tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    root = str(tmp_path / "store")
    next_id = 0
    for round_number in range(3):
        acked = _run_and_kill(script, root, next_id, next_id + 1000)
        report = verify_log(root)
        # A kill can at most leave an unterminated final line, which the next writer cuts.
        assert report.ok or report.broken.kind is BreakKind.TORN_TAIL, report.broken
        assert report.last_seq >= acked, (round_number, report.last_seq, acked)
        ids = [r.event["id"] for r in iter_records(root)]
        assert ids == [f"I-{i}" for i in range(len(ids))]  # nothing lost, nothing reordered
        next_id = report.last_seq + 1
    # The log reopens, repairs the tail and continues the chain.
    with AuditStore(AuditStoreConfig(root=root), redactor=Redactor(env={})) as store:
        from nautilus_ext.audit import IntentEvent
        from nautilus_ext.audit import Mode
        from nautilus_ext.audit import OrderType
        from nautilus_ext.audit import Side
        from nautilus_ext.audit import TimeInForce

        seq = store.append_and_wait(
            IntentEvent(
                id=f"I-{next_id}",
                mode=Mode.LIVE,
                ts_event=1_704_153_600_000_000_000,
                ts_wall=1_704_153_600_000_000_000,
                strategy_id="S-1",
                version_hash="ab" * 32,
                config_hash="cd" * 32,
                asset="BTC-USDT",
                side=Side.BUY,
                qty=1,
                order_type=OrderType.MARKET,
                tif=TimeInForce.IOC,
            )
        )
    assert seq == next_id
    final = verify_log(root)
    assert final.ok, final.broken
    assert final.last_seq == next_id
    assert len(list(Path(root, "audit").glob("date=*"))) >= 3  # day rotation happened mid-run
