"""
What a recorded session adds to its market data: operator commands and the venue's own events.

A session with a safety layer (every LIVE session) depends on more than its data: the gate
releases orders only after an operator's ``arm`` and ``confirm``, stops on ``kill``, leaves SAFE
mode on ``resume``; and it confirms fills by the venue's position snapshots, blocks on stale
feeds and enters SAFE mode on a fill gap. The recording keeps both, each with the time it
took effect on the node's clock (the clock the data's ``ts_init`` is on):

* ``commands.jsonl``: every operator command as issued (the control endpoint's JSON body,
  never its token) and the gate's reply;
* ``venue_events.jsonl``: every :class:`~nautilus_ext.safety.chokepoint.VenuePositionSnapshot`,
  feed status change and :class:`~nautilus_ext.safety.chokepoint.FillGap` the gate received.

:class:`SessionEventPlayer` plays them back in a REPLAY at their recorded times: commands through
:func:`~nautilus_ext.safety.control.run_command` (the function the control endpoint runs), venue
events published on the same message-bus topics.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.messages import FEED_STATUS_TOPIC
from nautilus_ext.messages import FILL_GAPS_TOPIC
from nautilus_ext.messages import VENUE_POSITIONS_TOPIC
from nautilus_ext.messages import FillGap
from nautilus_ext.messages import VenuePositionSnapshot
from nautilus_ext.replay.errors import RecordingMissing

COMMANDS_FILE: Final = "commands.jsonl"
VENUE_EVENTS_FILE: Final = "venue_events.jsonl"
VENUE_TOPICS: Final = (VENUE_POSITIONS_TOPIC, FEED_STATUS_TOPIC, FILL_GAPS_TOPIC)
"""The message-bus topics of the venue events the gate reads (wildcards per venue)."""


class JsonLinesLog:
    """An append-only JSON-lines file, one writer thread at a time, flushed per line."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def append(self, item: dict[str, Any]) -> None:
        """Write one line (sorted keys, decimals and ids as strings)."""
        line = json.dumps(item, sort_keys=True, default=str)
        with self._lock:
            if not self._file.closed:
                self._file.write(line + "\n")
                self._file.flush()

    def close(self) -> None:
        """Close the file (later appends are dropped)."""
        with self._lock:
            self._file.close()


def encode_venue_event(event: Any) -> dict[str, Any] | None:
    """Return the JSON form of a venue event (``None`` for a message of another kind)."""
    if isinstance(event, VenuePositionSnapshot):
        return {
            "kind": "venue_positions",
            "venue": event.venue,
            "positions": {
                str(k): str(v) for k, v in sorted(event.positions.items(), key=lambda kv: str(kv[0]))
            },
            "ts_ns": event.ts_ns,
            "source": event.source,
        }
    if isinstance(event, FillGap):
        return {
            "kind": "fill_gap",
            "venue": event.venue,
            "instrument_id": str(event.instrument_id),
            "client_order_id": event.client_order_id,
            "venue_filled": str(event.venue_filled),
            "seen_filled": str(event.seen_filled),
            "ts_ns": event.ts_ns,
        }
    if hasattr(event, "stale") and hasattr(event, "instrument_id") and hasattr(event, "stream"):
        return {
            "kind": "feed_status",
            "instrument_id": str(event.instrument_id),
            "stream": str(getattr(event.stream, "value", event.stream)),
            "stale": bool(event.stale),
            "reason": str(event.reason),
            "ts_ns": int(event.ts_ns),
        }
    return None


def decode_venue_event(item: dict[str, Any]) -> tuple[str, Any]:
    """
    Return the topic and message of a recorded venue event.

    Raises
    ------
    RecordingMissing
        If the item is not a venue event this version can play back.
    """
    kind = item.get("kind")
    try:
        if kind == "venue_positions":
            snapshot = VenuePositionSnapshot(
                venue=str(item["venue"]),
                positions={InstrumentId.from_str(k): Decimal(v) for k, v in item["positions"].items()},
                ts_ns=int(item["ts_ns"]),
                source=str(item["source"]),
            )
            return f"nautilus_ext.venue_positions.{snapshot.venue}", snapshot
        if kind == "fill_gap":
            gap = FillGap(
                venue=str(item["venue"]),
                instrument_id=InstrumentId.from_str(item["instrument_id"]),
                client_order_id=str(item["client_order_id"]),
                venue_filled=Decimal(item["venue_filled"]),
                seen_filled=Decimal(item["seen_filled"]),
                ts_ns=int(item["ts_ns"]),
            )
            return f"nautilus_ext.fill_gaps.{gap.venue}", gap
        if kind == "feed_status":
            from nautilus_ext.adapters.ccxt.data import FeedStatus
            from nautilus_ext.adapters.ccxt.data import StreamKind

            iid = InstrumentId.from_str(item["instrument_id"])
            status = FeedStatus(
                instrument_id=iid,
                stream=StreamKind(item["stream"]),
                stale=bool(item["stale"]),
                reason=str(item["reason"]),
                ts_ns=int(item["ts_ns"]),
            )
            return f"nautilus_ext.feed_status.{iid.venue}", status
    except (KeyError, TypeError, ValueError) as e:
        raise RecordingMissing(f"unreadable recorded venue event {item!r}: {e}") from None
    raise RecordingMissing(f"unknown recorded venue event kind {kind!r}")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """
    Read a recorded JSON-lines file (empty when the session wrote none).

    Raises
    ------
    RecordingMissing
        If a line is not a JSON object with a ``ts_ns``.
    """
    if not path.is_file():
        return []
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise RecordingMissing(f"{path}:{n}: not JSON: {e}") from None
        if not isinstance(item, dict) or not isinstance(item.get("ts_ns"), int):
            raise RecordingMissing(f"{path}:{n}: expected an object with an integer ts_ns")
        items.append(item)
    return items


@dataclass(frozen=True, slots=True)
class _Due:
    ts_ns: int
    kind: str  # "command" or "venue"
    item: dict[str, Any]


class SessionEventPlayerConfig(ActorConfig, frozen=True):
    """Configuration of :class:`SessionEventPlayer` (nothing to set: the events are passed in)."""


class SessionEventPlayer(Actor):  # type: ignore[misc]
    """
    Play a recording's commands and venue events back at their recorded times (REPLAY).

    Parameters
    ----------
    chokepoint : GateChokepoint
        The replay's chokepoint: commands run on its gate under its lock.
    commands : list[dict]
        Recorded ``commands.jsonl`` items (``ts_ns``, ``body``).
    venue_events : list[dict]
        Recorded ``venue_events.jsonl`` items (``ts_ns``, ``event``).
    """

    def __init__(
        self,
        chokepoint: Any,
        commands: list[dict[str, Any]],
        venue_events: list[dict[str, Any]],
    ) -> None:
        super().__init__(SessionEventPlayerConfig(component_id="SessionEventPlayer"))
        self._chokepoint = chokepoint
        # commands before venue events at one instant: as the gate saw them recorded, in order
        due = [_Due(int(c["ts_ns"]), "command", c) for c in commands]
        due += [_Due(int(v["ts_ns"]), "venue", v) for v in venue_events]
        self._due = sorted(enumerate(due), key=lambda p: (p[1].ts_ns, p[0]))
        self._pending: dict[str, _Due] = {}
        self.replies: list[dict[str, Any]] = []

    def on_start(self) -> None:
        now = self.clock.timestamp_ns()
        for index, due in self._due:
            if due.ts_ns <= now:
                self._play(due)  # before the first data: in effect from the start
                continue
            name = f"session-event-{index}"
            self._pending[name] = due
            self.clock.set_time_alert_ns(name, due.ts_ns, self._on_due)

    def _on_due(self, event: Any) -> None:
        due = self._pending.pop(getattr(event, "name", ""), None)
        if due is not None:
            self._play(due)

    def _play(self, due: _Due) -> None:
        from nautilus_ext.safety.control import run_command

        if due.kind == "command":
            with self._chokepoint.lock:
                self.replies.append(run_command(self._chokepoint.gate, dict(due.item["body"])))
                # as the live safety timer does after running commands: the RiskEngine's
                # trading state follows the gate at once (an arm lifts HALTED)
                self._chokepoint.tick()
            return
        topic, message = decode_venue_event(due.item["event"])
        self.msgbus.publish(topic, message)


__all__ = [
    "COMMANDS_FILE",
    "VENUE_EVENTS_FILE",
    "VENUE_TOPICS",
    "JsonLinesLog",
    "SessionEventPlayer",
    "SessionEventPlayerConfig",
    "decode_venue_event",
    "encode_venue_event",
    "read_jsonl",
]
