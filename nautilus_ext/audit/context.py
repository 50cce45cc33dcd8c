"""
Stamping events with the run's header from injected clocks.

An :class:`AuditContext` holds what every event of a run shares (mode, strategy id, code and
config hashes) and two clocks: ``clock`` gives ``ts_event`` (the Nautilus clock of the run:
simulated in BACKTEST and REPLAY) and ``wall_clock`` gives ``ts_wall``. In REPLAY, pass a fixed
wall clock so that nothing in a replay reads the real time (seed 001, section 8.2). Any object
with ``timestamp_ns() -> int`` is a clock, including Nautilus' ``Clock``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from typing import Protocol
from typing import TypeVar

from pydantic import ValidationError

from nautilus_ext.audit.errors import InvalidAuditRecord
from nautilus_ext.audit.schemas import EVENT_CLASSES
from nautilus_ext.audit.schemas import _EventBase
from nautilus_ext.audit.schemas import describe_validation_error
from nautilus_ext.mode import Mode

EventT = TypeVar("EventT", bound=_EventBase)


class Clock(Protocol):
    """Anything that tells the time in UNIX nanoseconds."""

    def timestamp_ns(self) -> int:
        """Return the current time, UNIX ns."""
        ...


class WallClock:
    """The real wall clock (never use it in REPLAY)."""

    def timestamp_ns(self) -> int:
        """Return ``time.time_ns()``."""
        return time.time_ns()


@dataclass(frozen=True, slots=True)
class AuditContext:
    """
    The shared header of a run's events and the clocks that time them.

    Parameters
    ----------
    mode : Mode
        The run mode.
    strategy_id : str
        The strategy (or ``GLOBAL``).
    version_hash : str
        The strategy code hash (see :func:`nautilus_ext.replay.code_version_hash`).
    config_hash : str
        The run config hash (see :func:`nautilus_ext.replay.config_hash`).
    clock : Clock
        Gives ``ts_event``.
    wall_clock : Clock
        Gives ``ts_wall``.
    """

    mode: Mode
    strategy_id: str
    version_hash: str
    config_hash: str
    clock: Clock
    wall_clock: Clock

    def header(self, ts_event: int | None = None) -> dict[str, Any]:
        """Return the header fields, reading the clocks (``ts_event`` may be given instead)."""
        return {
            "mode": self.mode,
            "ts_event": self.clock.timestamp_ns() if ts_event is None else ts_event,
            "ts_wall": self.wall_clock.timestamp_ns(),
            "strategy_id": self.strategy_id,
            "version_hash": self.version_hash,
            "config_hash": self.config_hash,
        }

    def event(self, event_class: type[EventT], /, **fields: Any) -> EventT:
        """
        Build an event of ``event_class`` stamped with this context's header.

        Parameters
        ----------
        event_class : type
            One of the event models (``IntentEvent``...).
        **fields : Any
            The event's own fields; ``ts_event`` may be passed to override the clock.

        Raises
        ------
        InvalidAuditRecord
            If the fields do not make a valid event; ``details['errors']`` names each problem.
        """
        if event_class not in EVENT_CLASSES.values():
            raise InvalidAuditRecord(
                f"{event_class.__name__} is not an audit event class",
                details={"errors": ["event_class: not an audit event"]},
            )
        data = {**self.header(fields.pop("ts_event", None)), **fields}
        try:
            return event_class.model_validate(data)
        except ValidationError as e:
            problems = describe_validation_error(e)
            raise InvalidAuditRecord(
                f"invalid {event_class.__name__}: {'; '.join(problems)}",
                details={"errors": problems},
            ) from e


__all__ = ["AuditContext", "Clock", "WallClock"]
