"""Property: any single-byte change anywhere in the log is reported by verify."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext.audit import AuditStore
from nautilus_ext.audit import AuditStoreConfig
from nautilus_ext.audit import FillEvent
from nautilus_ext.audit import Mode
from nautilus_ext.audit import Side
from nautilus_ext.audit import verify_log
from nautilus_ext.audit.redaction import Redactor

LOG_BYTES_UPPER_BOUND = 8 * 1024


@pytest.fixture(scope="module")
def written_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Write 8 fills once; return (root, its only segment)."""
    root = tmp_path_factory.mktemp("tamper")
    with AuditStore(AuditStoreConfig(root=str(root)), redactor=Redactor(env={})) as store:
        for i in range(8):
            store.append(
                FillEvent(
                    id=f"F-{i}",
                    mode=Mode.LIVE,
                    ts_event=1_704_153_600_000_000_000 + i,
                    ts_wall=1_704_153_600_000_000_000 + i,
                    strategy_id="S-1",
                    version_hash="ab" * 32,
                    config_hash="cd" * 32,
                    venue="KRAKEN",
                    asset="XBT-USD",
                    side=Side.SELL,
                    qty=Decimal("0.25"),
                    price=Decimal("43210.5"),
                    fees=Decimal("-0.01"),
                    order_id=f"O-{i}",
                )
            )
    segment = next(root.glob("audit/date=*/*.jsonl"))
    assert len(segment.read_bytes()) < LOG_BYTES_UPPER_BOUND
    return root, segment


@settings(max_examples=150, deadline=None)
@given(position=st.integers(0, LOG_BYTES_UPPER_BOUND), byte=st.integers(0, 255))
def test_any_byte_change_is_detected(written_log: tuple[Path, Path], position: int, byte: int) -> None:
    root, segment = written_log
    original = segment.read_bytes()
    position %= len(original) - 1  # any byte but the final newline
    if original[position] == byte:
        byte = (byte + 1) % 256
    tampered = bytearray(original)
    tampered[position] = byte
    segment.write_bytes(bytes(tampered))
    try:
        report = verify_log(str(root))
    finally:
        segment.write_bytes(original)
    assert not report.ok, (position, byte)


def test_untouched_log_verifies(written_log: tuple[Path, Path]) -> None:
    assert verify_log(str(written_log[0])).ok
