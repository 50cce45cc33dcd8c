"""A bounded log of result events, addressed by a node-wide cursor, that streams resume from."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ResultEvent:
    """One thing that happened to a submitted Order (see ``ResultEvent`` in the proto)."""

    cursor: int
    strategy_id: str
    operation_id: str
    kind: str
    status: str
    code: str
    message: str
    payload_json: str
    ts_ns: int
    final: bool


class CursorExpired(Exception):
    """A stream asked to resume before the oldest retained event."""


class ResultLog:
    """
    Result events per strategy id, the newest ``retention`` kept (memory is bounded).

    Appended from the node's event loop, read by the gRPC threads: a reader resumes after any
    cursor it saw and gets every later event of its strategy exactly once, in order.
    """

    def __init__(self, retention: int) -> None:
        self._retention = retention
        self._events: deque[ResultEvent] = deque()
        self._by_strategy: dict[str, deque[ResultEvent]] = {}
        self._cursor = 0
        self._dropped_upto = 0  # every cursor <= this was evicted
        self._cond = threading.Condition()

    @property
    def cursor(self) -> int:
        """Return the cursor of the newest event (0 before any)."""
        with self._cond:
            return self._cursor

    def append(
        self,
        strategy_id: str,
        operation_id: str,
        kind: str,
        *,
        status: str,
        ts_ns: int,
        code: str = "",
        message: str = "",
        payload_json: str = "",
        final: bool = False,
    ) -> ResultEvent:
        """Record one event and wake the readers; return it with its cursor."""
        with self._cond:
            self._cursor += 1
            event = ResultEvent(
                self._cursor,
                strategy_id,
                operation_id,
                kind,
                status,
                code,
                message,
                payload_json,
                ts_ns,
                final,
            )
            self._events.append(event)
            self._by_strategy.setdefault(strategy_id, deque()).append(event)
            while len(self._events) > self._retention:
                old = self._events.popleft()
                self._by_strategy[old.strategy_id].popleft()
                self._dropped_upto = old.cursor
            self._cond.notify_all()
            return event

    def read(self, strategy_id: str, after: int, timeout_secs: float) -> list[ResultEvent]:
        """
        Return the events of ``strategy_id`` after cursor ``after``, waiting up to ``timeout_secs``.

        Raises
        ------
        CursorExpired
            If events after ``after`` were already evicted (the caller would miss some).
        """
        with self._cond:
            if after < self._dropped_upto:
                raise CursorExpired(
                    f"cursor {after} is older than the retained results (oldest {self._dropped_upto + 1})"
                )
            events = self._after(strategy_id, after)
            if not events:
                self._cond.wait(timeout_secs)
                events = self._after(strategy_id, after)
            return events

    def _after(self, strategy_id: str, after: int) -> list[ResultEvent]:
        events = self._by_strategy.get(strategy_id)
        if not events or events[-1].cursor <= after:
            return []
        # cursors increase: walk back from the newest until at or before `after`
        out: list[ResultEvent] = []
        for e in reversed(events):
            if e.cursor <= after:
                break
            out.append(e)
        out.reverse()
        return out
