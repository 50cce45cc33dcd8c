"""Recorded venue events round-trip exactly; a damaged event file is refused with a typed error."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.adapters.ccxt.data import FeedStatus
from nautilus_ext.adapters.ccxt.data import StreamKind
from nautilus_ext.messages import FillGap
from nautilus_ext.messages import VenuePositionSnapshot
from nautilus_ext.replay.errors import RecordingMissing
from nautilus_ext.replay.session_events import JsonLinesLog
from nautilus_ext.replay.session_events import decode_venue_event
from nautilus_ext.replay.session_events import encode_venue_event
from nautilus_ext.replay.session_events import read_jsonl

IID = InstrumentId.from_str("BTCUSDT-LINEAR.BYBIT")


@pytest.mark.parametrize(
    ("event", "topic"),
    [
        (
            VenuePositionSnapshot("BYBIT", {IID: Decimal("-0.010")}, 123, "ws"),
            "nautilus_ext.venue_positions.BYBIT",
        ),
        (FillGap("BYBIT", IID, "O-1", Decimal("0.02"), Decimal("0.01"), 456), "nautilus_ext.fill_gaps.BYBIT"),
        (FeedStatus(IID, StreamKind.BOOK, True, "NO_UPDATES", 789), "nautilus_ext.feed_status.BYBIT"),
    ],
)
def test_venue_events_round_trip_through_json(event: object, topic: str) -> None:
    encoded = encode_venue_event(event)
    assert encoded is not None
    decoded_topic, decoded = decode_venue_event(json.loads(json.dumps(encoded)))
    assert (decoded_topic, decoded) == (topic, event)


def test_other_messages_are_not_venue_events() -> None:
    assert encode_venue_event("hello") is None
    with pytest.raises(RecordingMissing, match="unknown"):
        decode_venue_event({"kind": "weather"})
    with pytest.raises(RecordingMissing, match="unreadable"):
        decode_venue_event({"kind": "fill_gap", "venue": "BYBIT"})


def test_event_files_are_read_back_and_damage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "commands.jsonl"
    assert read_jsonl(path) == []  # a session without commands
    log = JsonLinesLog(path)
    log.append({"ts_ns": 1, "body": {"command": "arm", "amount": Decimal("0.5")}})
    log.close()
    log.append({"ts_ns": 2})  # after close: dropped, never half-written
    assert read_jsonl(path) == [{"ts_ns": 1, "body": {"command": "arm", "amount": "0.5"}}]
    path.write_text('{"ts_ns": 1}\nnot json\n')
    with pytest.raises(RecordingMissing, match=r"commands\.jsonl:2"):
        read_jsonl(path)
    path.write_text('{"ts": 1}\n')
    with pytest.raises(RecordingMissing, match="integer ts_ns"):
        read_jsonl(path)
