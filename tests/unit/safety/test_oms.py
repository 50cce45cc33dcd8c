"""OMS safeguards (seed 001, section 4.7): running sum, dirty flags, reconcile, feeds, spam."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.common.component import TestClock

from nautilus_ext.audit.schemas import SafeguardKind
from nautilus_ext.errors import ErrorCode
from nautilus_ext.safety import Fill
from nautilus_ext.safety import HaltState
from nautilus_ext.safety import OmsSafeguards
from nautilus_ext.safety import Rule
from nautilus_ext.safety import SafetyConfig

from .conftest import ASSET
from .conftest import MS
from .conftest import VENUE
from .conftest import Recorder
from .conftest import advance
from .conftest import config_dict

D = Decimal


@pytest.fixture
def halts(clock: TestClock, recorder: Recorder) -> HaltState:
    return HaltState(clock, recorder, lambda halt, strategy: None)


def _oms(clock: TestClock, recorder: Recorder, halts: HaltState, ws_gating: bool = True) -> OmsSafeguards:
    return OmsSafeguards(SafetyConfig.parse(config_dict()).oms, clock, halts, recorder, ws_gating=ws_gating)


@pytest.fixture
def oms(clock: TestClock, recorder: Recorder, halts: HaltState) -> OmsSafeguards:
    return _oms(clock, recorder, halts)


def fill(fid: str, qty: str, seq: int | None = None, asset: str = ASSET) -> Fill:
    return Fill(fill_id=fid, venue=VENUE, asset=asset, quantity=D(qty), seq=seq)


def test_fill_rejects_zero_quantity() -> None:
    with pytest.raises(ValueError, match="non-zero"):
        fill("f", "0")


def test_running_sum_is_signed_and_deduplicated(oms: OmsSafeguards) -> None:
    assert oms.on_fill(fill("f1", "1.5"))
    assert oms.on_fill(fill("f2", "-0.5"))
    assert not oms.on_fill(fill("f1", "1.5"))  # duplicate id: ignored
    assert oms.position(ASSET) == D(1)
    # the same id from another venue is another fill
    assert oms.on_fill(Fill(fill_id="f1", venue="BYBIT", asset=ASSET, quantity=D(1)))
    assert oms.position(ASSET) == D(2)


def test_sequence_gap_enters_safe(oms: OmsSafeguards, halts: HaltState, recorder: Recorder) -> None:
    oms.on_fill(fill("f1", "1", seq=7))
    oms.on_fill(fill("f2", "1", seq=8))
    assert halts.safe is None
    oms.on_fill(fill("f4", "1", seq=10))
    assert halts.safe is not None
    assert halts.safe.code is ErrorCode.FILL_SEQ_GAP
    assert oms.position(ASSET) == D(3)  # still counted
    assert any(e.safeguard is SafeguardKind.FILL_SEQ_GAP for e in recorder.events)


def test_sequence_going_backwards_enters_safe(oms: OmsSafeguards, halts: HaltState) -> None:
    oms.on_fill(fill("f1", "1", seq=7))
    oms.on_fill(fill("f0", "1", seq=6))
    assert halts.safe is not None
    assert halts.safe.rule is Rule.FILL_SEQ_GAP


def test_duplicate_with_same_seq_is_not_a_gap(oms: OmsSafeguards, halts: HaltState) -> None:
    oms.on_fill(fill("f1", "1", seq=1))
    oms.on_fill(fill("f1", "1", seq=1))
    oms.on_fill(fill("f2", "1", seq=2))
    assert halts.safe is None


def test_fill_marks_dirty_until_position_update_matches(oms: OmsSafeguards) -> None:
    oms.on_fill(fill("f1", "2"))
    assert oms.dirty_since(ASSET) is not None
    assert not oms.on_position_update(ASSET, D("1.9"))
    assert oms.dirty_since(ASSET) is not None
    assert oms.on_position_update(ASSET, D("2.0015"))  # within 0.1 % relative
    assert oms.dirty_since(ASSET) is None


def test_rest_snapshot_can_clean(oms: OmsSafeguards) -> None:
    oms.on_fill(fill("f1", "2"))
    assert oms.on_snapshot(ASSET, D(2))
    assert oms.dirty_since(ASSET) is None


def test_dirty_beyond_max_age_enters_safe(oms: OmsSafeguards, halts: HaltState, clock: TestClock) -> None:
    oms.on_fill(fill("f1", "2"))
    advance(clock, 2000 * MS)
    oms.tick()
    assert halts.safe is None
    advance(clock, 1)
    oms.tick()
    assert halts.safe is not None
    assert halts.safe.rule is Rule.DIRTY_POSITION


def test_mismatch_within_grace_is_tolerated(oms: OmsSafeguards, halts: HaltState, clock: TestClock) -> None:
    oms.on_fill(fill("f1", "2"))
    advance(clock, 999 * MS)
    oms.on_snapshot(ASSET, D(0))  # venue lags: inside the grace window
    advance(clock, 1900 * MS)
    oms.on_snapshot(ASSET, D(2))
    oms.tick()
    assert halts.safe is None


def test_persistent_mismatch_enters_safe(oms: OmsSafeguards, halts: HaltState, clock: TestClock) -> None:
    oms.on_fill(fill("f1", "2"))
    oms.on_position_update(ASSET, D(2))
    advance(clock, 1000 * MS)
    oms.on_snapshot(ASSET, D(3))  # outside grace: mismatch starts
    advance(clock, 2999 * MS)
    oms.tick()
    assert halts.safe is None
    advance(clock, 1 * MS)
    oms.tick()
    assert halts.safe is not None
    assert halts.safe.code is ErrorCode.POSITION_MISMATCH


def test_transient_mismatch_clears(oms: OmsSafeguards, halts: HaltState, clock: TestClock) -> None:
    oms.on_snapshot(ASSET, D(1))
    advance(clock, 1000 * MS)
    oms.on_snapshot(ASSET, D(0))
    advance(clock, 5000 * MS)
    oms.tick()
    assert halts.safe is None


def test_absolute_tolerance_covers_zero(oms: OmsSafeguards) -> None:
    assert oms.on_snapshot(ASSET, D("0.0001"))
    assert not oms.on_snapshot(ASSET, D("0.0002"))


def test_due_for_reconciliation(oms: OmsSafeguards, clock: TestClock) -> None:
    oms.on_fill(fill("f1", "1"))
    assert oms.due_for_reconciliation() == [ASSET]
    oms.on_snapshot(ASSET, D(1))
    assert oms.due_for_reconciliation() == []
    advance(clock, 5001 * MS)
    assert oms.due_for_reconciliation() == [ASSET]


def test_market_data_staleness(oms: OmsSafeguards, clock: TestClock, recorder: Recorder) -> None:
    error = oms.feed_block(ASSET, None, None)
    assert error is not None
    assert error.code is ErrorCode.MARKET_DATA_STALE  # never seen: fail closed
    oms.on_market_data(ASSET)
    assert oms.feed_block(ASSET, None, None) is None
    advance(clock, 1001 * MS)
    error = oms.feed_block(ASSET, None, None)
    assert error is not None
    assert error.details["rule"] == Rule.MARKET_DATA_STALE
    # the caller's data timestamp wins
    assert oms.feed_block(ASSET, None, clock.timestamp_ns() - 10 * MS) is None
    oms.on_market_data(ASSET)
    kinds = [e.safeguard for e in recorder.events]
    assert kinds == [
        SafeguardKind.FEED_STALE,
        SafeguardKind.FEED_HEALTHY,
        SafeguardKind.FEED_STALE,
        SafeguardKind.FEED_HEALTHY,
    ]


def test_ws_staleness_and_disconnect(oms: OmsSafeguards, clock: TestClock) -> None:
    oms.on_market_data(ASSET)
    error = oms.feed_block(ASSET, VENUE, None)
    assert error is not None
    assert error.code is ErrorCode.WS_STALE
    oms.on_ws_message(VENUE)
    assert oms.feed_block(ASSET, VENUE, None) is None
    oms.on_ws_disconnect(VENUE)
    error = oms.feed_block(ASSET, VENUE, None)
    assert error is not None
    assert "disconnected" in error.message
    oms.on_ws_message(VENUE)
    advance(clock, 1001 * MS)
    oms.on_market_data(ASSET)
    error = oms.feed_block(ASSET, VENUE, None)
    assert error is not None
    assert error.code is ErrorCode.WS_STALE


def test_ws_gating_off_in_backtest(clock: TestClock, recorder: Recorder, halts: HaltState) -> None:
    oms = _oms(clock, recorder, halts, ws_gating=False)
    oms.on_market_data(ASSET)
    assert oms.feed_block(ASSET, VENUE, None) is None


def test_order_rate_limit_breach_enters_safe(oms: OmsSafeguards, halts: HaltState, clock: TestClock) -> None:
    for i in range(5):
        assert oms.rate_block(ASSET) is None
        oms.record_place(ASSET, f"o{i}")
        advance(clock, 100 * MS)
    assert oms.rate_block("OTHER") is None
    error = oms.rate_block(ASSET)
    assert error is not None
    assert error.code is ErrorCode.ORDER_RATE_LIMIT_BREACH
    assert halts.safe is not None
    assert halts.safe.code is ErrorCode.ORDER_RATE_LIMIT_BREACH


def test_rate_window_slides(oms: OmsSafeguards, halts: HaltState, clock: TestClock) -> None:
    for i in range(5):
        oms.record_place(ASSET, f"o{i}")
    advance(clock, 1000 * MS)
    assert oms.rate_block(ASSET) is None
    assert halts.safe is None


def test_flipflop_detector(oms: OmsSafeguards, halts: HaltState, clock: TestClock) -> None:
    for i in range(2):
        oms.record_place(ASSET, f"o{i}")
        advance(clock, 10_000 * MS)
        oms.record_cancel(ASSET, f"o{i}")
    oms.record_cancel(ASSET, "unknown")  # a cancel of an order we never placed is no cycle
    assert halts.safe is None
    oms.record_place(ASSET, "o3")
    oms.record_cancel(ASSET, "o3")
    assert halts.safe is not None
    assert halts.safe.code is ErrorCode.FLIPFLOP_DETECTED


def test_slow_place_cancel_is_not_flipflop(oms: OmsSafeguards, halts: HaltState, clock: TestClock) -> None:
    for i in range(5):
        oms.record_place(ASSET, f"o{i}")
        advance(clock, 60_001 * MS)
        oms.record_cancel(ASSET, f"o{i}")
    assert halts.safe is None


def test_recovery_problems(oms: OmsSafeguards, clock: TestClock) -> None:
    oms.on_fill(fill("f1", "1"))
    since = clock.timestamp_ns()
    assert oms.reconciliation_problems(since) != []
    oms.on_snapshot(ASSET, D(1))
    assert oms.reconciliation_problems(since) == []
    assert oms.feed_problems() == ["no market data has been received"]
    oms.on_market_data(ASSET)
    oms.on_ws_message(VENUE)
    assert oms.feed_problems() == []
    oms.on_ws_disconnect(VENUE)
    assert oms.feed_problems() == [f"WebSocket of {VENUE} is stale"]


def test_resync_adopts_venue_position(oms: OmsSafeguards) -> None:
    oms.on_fill(fill("f1", "1"))
    oms.resync(ASSET, D(3), "alice")
    assert oms.position(ASSET) == D(3)
    assert oms.on_snapshot(ASSET, D(3))


def test_fill_gap_reported_by_an_adapter_enters_safe(
    oms: OmsSafeguards, halts: HaltState, recorder: Recorder
) -> None:
    oms.on_fill_gap(VENUE, ASSET, "order O-1: the venue reports 2 filled, only 1 of fills can be obtained")
    assert halts.safe is not None
    assert halts.safe.code is ErrorCode.FILL_SEQ_GAP
    (event,) = [e for e in recorder.events if e.safeguard is SafeguardKind.FILL_SEQ_GAP]
    assert event.asset == ASSET
    assert event.venue == VENUE
