"""
SAFE mode and kill switches (seed 001, sections 4.7.3, 7, 15 and 16.1).

- SAFE mode is global: no new risk (only cancels and reduce-only hedges), an alert, and it is
  left only through :meth:`nautilus_ext.safety.gate.SafetyGate.resume` after the recovery
  checks. Entering it again while SAFE keeps the first cause and records the new one.
- The global kill switch enters SAFE mode. A per-strategy kill halts one strategy (its new
  orders are blocked; reduce-only orders still pass) until a human releases it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from nautilus_ext.audit.context import Clock
from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.audit.schemas import CommandOutcome
from nautilus_ext.audit.schemas import RiskAction
from nautilus_ext.audit.schemas import SafeguardKind
from nautilus_ext.errors import ErrorCode
from nautilus_ext.safety.decision import Rule
from nautilus_ext.safety.events import EventSink
from nautilus_ext.safety.events import SafetyEvent

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Halt:
    """
    Why something is halted.

    Parameters
    ----------
    code : ErrorCode
        The taxonomy code of the cause.
    rule : Rule
        The rule that fired.
    message : str
        What happened.
    since_ns : int
        When, UNIX ns.
    """

    code: ErrorCode
    rule: Rule
    message: str
    since_ns: int


Alert = Callable[[Halt, str | None], object]
"""Called on every SAFE entry (strategy ``None``) and per-strategy kill (the strategy id)."""


class HaltState:
    """
    SAFE mode and kill switches (see the module docstring).

    Parameters
    ----------
    clock : Clock
        The injected clock.
    sink : EventSink
        Receives every transition.
    alert : callable
        Called with the :class:`Halt` and the strategy id (``None`` for SAFE mode).
    """

    def __init__(self, clock: Clock, sink: EventSink, alert: Alert) -> None:
        self._clock = clock
        self._sink = sink
        self._alert = alert
        self._safe: Halt | None = None
        self._safe_causes: list[Halt] = []
        self._killed: dict[str, Halt] = {}

    @property
    def safe(self) -> Halt | None:
        """Return the first cause of the current SAFE mode, or ``None`` when not SAFE."""
        return self._safe

    @property
    def safe_causes(self) -> tuple[Halt, ...]:
        """Return every cause recorded since SAFE mode was entered."""
        return tuple(self._safe_causes)

    def killed(self, strategy_id: str | None) -> Halt | None:
        """Return why ``strategy_id`` is killed, or ``None``."""
        return None if strategy_id is None else self._killed.get(strategy_id)

    @property
    def killed_strategies(self) -> dict[str, Halt]:
        """Return the killed strategies and why."""
        return dict(self._killed)

    def enter_safe(self, code: ErrorCode, rule: Rule, message: str, **where: str | None) -> Halt:
        """Enter (or stay in) SAFE mode for ``code``/``rule``; alert on first entry."""
        halt = Halt(code=code, rule=rule, message=message, since_ns=self._clock.timestamp_ns())
        self._safe_causes.append(halt)
        first = self._safe is None
        if first:
            self._safe = halt
            logger.warning("Entering SAFE mode: %s (%s)", message, code)
        self._sink(
            SafetyEvent(
                ts_ns=halt.since_ns,
                safeguard=SafeguardKind.SAFE_MODE_ENTER,
                rule=str(rule),
                code=str(code),
                asset=where.get("asset"),
                venue=where.get("venue"),
                message=message if first else f"(already SAFE) {message}",
            ),
        )
        if first:
            self._alert(halt, None)
        return halt

    def exit_safe(self, actor: str) -> None:
        """Leave SAFE mode (the gate calls this only after the recovery checks)."""
        if self._safe is None:
            return
        self._safe = None
        self._safe_causes = []
        self._sink(
            SafetyEvent(
                ts_ns=self._clock.timestamp_ns(),
                safeguard=SafeguardKind.SAFE_MODE_EXIT,
                actor=actor,
                message=f"SAFE mode left after the recovery checks by {actor}",
            ),
        )

    def kill(self, actor: str, strategy_id: str | None, reason: str, rule: Rule = Rule.KILL_SWITCH) -> Halt:
        """
        Engage the kill switch: globally (``strategy_id`` ``None``: SAFE mode) or for one strategy.

        Returns
        -------
        Halt
            The recorded halt.
        """
        now = self._clock.timestamp_ns()
        self._sink(
            SafetyEvent(
                ts_ns=now,
                command=CommandKind.KILL,
                outcome=CommandOutcome.ACCEPTED,
                actor=actor,
                strategy_id=strategy_id,
                rule=str(rule),
                message=reason,
            ),
        )
        if strategy_id is None:
            return self.enter_safe(ErrorCode.SAFE_MODE, rule, f"global kill by {actor}: {reason}")
        halt = Halt(code=ErrorCode.RISK_BLOCKED, rule=rule, message=reason, since_ns=now)
        if strategy_id not in self._killed:
            self._killed[strategy_id] = halt
            self._sink(
                SafetyEvent(
                    ts_ns=now,
                    risk_action=RiskAction.HALT,
                    rule=str(rule),
                    code=str(ErrorCode.RISK_BLOCKED),
                    strategy_id=strategy_id,
                    message=reason,
                ),
            )
            self._alert(halt, strategy_id)
        return self._killed[strategy_id]

    def release(self, actor: str, strategy_id: str, incident_ref: str = "") -> bool:
        """Release a per-strategy kill (human command); return whether it was killed."""
        was = self._killed.pop(strategy_id, None) is not None
        released = "strategy kill released" + (f" (incident {incident_ref})" if incident_ref else "")
        self._sink(
            SafetyEvent(
                ts_ns=self._clock.timestamp_ns(),
                command=CommandKind.RESUME,
                outcome=CommandOutcome.ACCEPTED if was else CommandOutcome.REJECTED,
                actor=actor,
                strategy_id=strategy_id,
                message=released if was else "strategy was not killed",
            ),
        )
        return was


__all__ = ["Alert", "Halt", "HaltState"]
