"""Comparator: identical streams, and a one-field difference found and located."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.audit import AuditIntegrityError
from nautilus_ext.audit import AuditStore
from nautilus_ext.audit import AuditStoreConfig
from nautilus_ext.audit import IntentEvent
from nautilus_ext.audit import InvalidAuditRecord
from nautilus_ext.audit import Mode
from nautilus_ext.audit import OrderType
from nautilus_ext.audit import Side
from nautilus_ext.audit import TimeInForce
from nautilus_ext.audit.comparator import compare_events
from nautilus_ext.audit.comparator import compare_logs
from nautilus_ext.audit.redaction import Redactor

H = "ab" * 32


def _run(
    mode: Mode = Mode.DRY_RUN, wall_offset: int = 0, qty_of_third: str = "1", n: int = 5
) -> list[IntentEvent]:
    """A deterministic 'run': the same decisions for the same inputs, wall time aside."""
    return [
        IntentEvent(
            id=f"I-{i}",
            mode=mode,
            ts_event=1_704_153_600_000_000_000 + i,
            ts_wall=1_800_000_000_000_000_000 + wall_offset + i,
            strategy_id="S-1",
            version_hash=H,
            config_hash=H,
            asset="BTC-USDT",
            side=Side.BUY,
            qty=Decimal(qty_of_third if i == 3 else "1"),
            order_type=OrderType.MARKET,
            tif=TimeInForce.IOC,
            risk_tags=["a", "b"],
        )
        for i in range(n)
    ]


def test_identical_runs() -> None:
    result = compare_events(_run(), _run(mode=Mode.REPLAY, wall_offset=999))
    assert result.identical
    assert result.compared == 5
    assert result.describe() == "identical (5 events)"


def test_one_field_difference_is_found_and_located() -> None:
    result = compare_events(_run(), _run(qty_of_third="1.5"))
    assert not result.identical
    d = result.divergence
    assert (d.index, d.event_type, d.field, d.left, d.right) == (3, "INTENT", "qty", "1", "1.5")
    assert (d.left_id, d.right_id) == ("I-3", "I-3")
    assert "event #3 (INTENT I-3 / I-3): field 'qty' differs: left='1' right='1.5'" in result.describe()


def test_ignored_fields_can_be_narrowed() -> None:
    result = compare_events(_run(), _run(mode=Mode.REPLAY), ignore_fields=["ts_wall"])
    assert (result.divergence.index, result.divergence.field) == (0, "mode")


def test_nested_list_difference_has_a_path() -> None:
    left = [{"event_type": "X", "id": "1", "tags": ["a", "b"], "details": {"k": 1}}]
    right = [{"event_type": "X", "id": "1", "tags": ["a", "c"], "details": {"k": 1}}]
    assert compare_events(left, right).divergence.field == "tags[1]"
    right = [{"event_type": "X", "id": "1", "tags": ["a", "b"], "details": {"k": True}}]
    assert compare_events(left, right).divergence.field == "details.k"
    right = [{"event_type": "X", "id": "1", "tags": ["a", "b"], "details": {}}]
    d = compare_events(left, right).divergence
    assert (d.field, d.left, d.right) == ("details.k", "1", "<missing>")


def test_extra_event_diverges_at_end_of_stream() -> None:
    result = compare_events(_run(n=5), _run(n=6))
    d = result.divergence
    assert (d.index, d.field, d.left, d.right) == (
        5,
        "<end of stream>",
        "<end of stream>",
        "INTENT I-5",
    )
    assert result.compared == 5


def _write(root: Path, events: list[IntentEvent]) -> str:
    with AuditStore(AuditStoreConfig(root=str(root)), redactor=Redactor(env={})) as store:
        for event in events:
            store.append(event)
    return str(root)


def test_compare_logs(tmp_path: Path) -> None:
    a = _write(tmp_path / "a", _run())
    b = _write(tmp_path / "b", _run(mode=Mode.REPLAY, wall_offset=5))
    c = _write(tmp_path / "c", _run(qty_of_third="2"))
    assert compare_logs(a, b).identical
    assert compare_logs(a, c).divergence.field == "qty"


def test_compare_logs_refuses_a_tampered_log(tmp_path: Path) -> None:
    a = _write(tmp_path / "a", _run())
    segment = next((tmp_path / "a" / "audit").glob("date=*/*.jsonl"))
    segment.write_bytes(segment.read_bytes().replace(b'"I-2"', b'"I-7"'))
    with pytest.raises(AuditIntegrityError, match="HASH_MISMATCH"):
        compare_logs(a, a)
    with pytest.raises(InvalidAuditRecord, match="does not match its hash"):
        compare_logs(a, _write(tmp_path / "b", _run()), verify=False)


def test_same_events_give_byte_identical_logs(tmp_path: Path) -> None:
    # With a fixed wall clock (as in REPLAY) two runs are bit-identical, hash chain included.
    a = Path(_write(tmp_path / "a", _run()))
    b = Path(_write(tmp_path / "b", _run()))
    files_a = sorted((a / "audit").rglob("*.jsonl"))
    files_b = sorted((b / "audit").rglob("*.jsonl"))
    assert [f.relative_to(a) for f in files_a] == [f.relative_to(b) for f in files_b]
    assert [f.read_bytes() for f in files_a] == [f.read_bytes() for f in files_b]


def test_public_api_is_pinned() -> None:
    import nautilus_ext.replay as replay

    assert sorted(replay.__all__) == sorted(
        [
            "DEFAULT_IGNORED_FIELDS",
            "ComparisonResult",
            "Divergence",
            "RecordingMissing",
            "RecordingTampered",
            "ReplayVersionMismatch",
            "canonical_config_json",
            "code_version_hash",
            "compare_events",
            "compare_logs",
            "config_hash",
        ]
    )
