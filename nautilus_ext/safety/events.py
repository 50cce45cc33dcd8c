"""
Safety events: every command, block and safeguard transition, for the audit log.

The state machines stay pure: they hand a :class:`SafetyEvent` to an injected sink (any
callable). :func:`to_audit_event` turns one into the audit store's Command, Risk or Safeguard
event (seed 001, section 4.7.6) so a sink can be ``lambda e: store.append(to_audit_event(e, ctx))``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_ext.audit.context import AuditContext
from nautilus_ext.audit.schemas import AuditEvent
from nautilus_ext.audit.schemas import CommandEvent
from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.audit.schemas import CommandOutcome
from nautilus_ext.audit.schemas import RiskAction
from nautilus_ext.audit.schemas import RiskEvent
from nautilus_ext.audit.schemas import SafeguardEvent
from nautilus_ext.audit.schemas import SafeguardKind

logger = logging.getLogger(__name__)

SAFETY_EVENTS_TOPIC: Final = "nautilus_ext.safety.events"
"""Message-bus topic on which a node's safety layer publishes every :class:`SafetyEvent`."""
SAFETY_STATUS_TOPIC: Final = "nautilus_ext.safety.status"
"""Message-bus topic of the gate's ``status()`` dict, published on each safety tick when subscribed."""

SAFETY_CONTROL_ENDPOINT: Final = "nautilus_ext.safety.control"
"""Message bus endpoint taking ``(body, future)``: runs the operator command ``body`` (the control
endpoint's JSON body, :func:`~nautilus_ext.safety.control.run_command`) under the node's gate
lock and sets the reply on the ``concurrent.futures.Future`` (in-process operator surfaces)."""


@dataclass(frozen=True, slots=True)
class SafetyEvent:
    """
    One thing the safety layer did or refused.

    Exactly one of ``command``, ``risk_action`` and ``safeguard`` is set.

    Parameters
    ----------
    ts_ns : int
        When, UNIX ns (the injected clock).
    command : CommandKind, optional
        An operator command (arm, confirm, disarm, kill, resume) and its ``outcome``.
    risk_action : RiskAction, optional
        A risk decision (block, halt, reduce, delay).
    safeguard : SafeguardKind, optional
        An OMS safeguard transition (dirty, clean, SAFE enter/exit...).
    outcome : CommandOutcome, optional
        Whether a command took effect.
    rule : str, optional
        The rule that fired.
    code : str, optional
        The taxonomy code.
    actor : str, optional
        Who issued a command.
    strategy_id, asset, venue, intent_hash : str, optional
        What the event concerns.
    message : str
        Human-readable description.
    details : dict
        Flat extra context (scalars only; never secrets).
    """

    ts_ns: int
    command: CommandKind | None = None
    risk_action: RiskAction | None = None
    safeguard: SafeguardKind | None = None
    outcome: CommandOutcome | None = None
    rule: str | None = None
    code: str | None = None
    actor: str | None = None
    strategy_id: str | None = None
    asset: str | None = None
    venue: str | None = None
    intent_hash: str | None = None
    message: str = ""
    details: dict[str, str | int | bool | Decimal | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        kinds = [k for k in (self.command, self.risk_action, self.safeguard) if k is not None]
        if len(kinds) != 1:
            raise ValueError("a SafetyEvent has exactly one of command, risk_action and safeguard")
        if self.command is not None and self.outcome is None:
            raise ValueError("a command event needs an outcome")


EventSink = Callable[[SafetyEvent], object]
"""Where safety events go (the audit store, a list in tests)."""


def log_sink(event: SafetyEvent) -> None:
    """Write ``event`` to this module's logger (the default sink)."""
    logger.info(
        "safety event %s rule=%s code=%s asset=%s strategy=%s: %s",
        event.command or event.risk_action or event.safeguard,
        event.rule,
        event.code,
        event.asset,
        event.strategy_id,
        event.message,
    )


def to_audit_event(event: SafetyEvent, context: AuditContext, event_id: str) -> AuditEvent:
    """
    Build the audit store's event for ``event``.

    Parameters
    ----------
    event : SafetyEvent
        The safety event.
    context : AuditContext
        The run's audit header and clocks.
    event_id : str
        The audit event id.

    Returns
    -------
    AuditEvent
        A :class:`CommandEvent`, :class:`RiskEvent` or :class:`SafeguardEvent`.
    """
    details: dict[str, Any] = {**event.details, "message": event.message}
    if event.code is not None:
        details["code"] = event.code
    if event.command is not None:
        assert event.outcome is not None  # checked in __post_init__
        return context.event(
            CommandEvent,
            id=event_id,
            ts_event=event.ts_ns,
            command=event.command,
            outcome=event.outcome,
            actor=event.actor or "system",
            target=event.strategy_id or event.asset or "GLOBAL",
            intent_hash=event.intent_hash,
            ttl_secs=event.details.get("ttl_secs"),
            reason=event.message,
            details={k: v for k, v in details.items() if k != "ttl_secs"},
        )
    if event.risk_action is not None:
        return context.event(
            RiskEvent,
            id=event_id,
            ts_event=event.ts_ns,
            rule=event.rule or "unknown",
            action=event.risk_action,
            subject_id=event.intent_hash,
            asset=event.asset,
            reason_code=event.code,
            details=details,
        )
    assert event.safeguard is not None  # checked in __post_init__
    if event.rule is not None:
        details["rule"] = event.rule
    return context.event(
        SafeguardEvent,
        id=event_id,
        ts_event=event.ts_ns,
        kind=event.safeguard,
        asset=event.asset,
        venue=event.venue,
        details=details,
    )


class AuditSink:
    """
    An :data:`EventSink` that writes every safety event to the audit log.

    Parameters
    ----------
    append : callable
        Takes an audit event (``AuditStore.append``: non-blocking, group-committed).
    context : AuditContext
        The run's header and clocks.
    prefix : str
        Event id prefix; ids are ``<prefix>-<ts_ns>-<n>``.
    """

    def __init__(
        self, append: Callable[[AuditEvent], object], context: AuditContext, prefix: str = "safety"
    ) -> None:
        self._append = append
        self._context = context
        self._prefix = prefix
        self._count = 0

    def __call__(self, event: SafetyEvent) -> None:
        """Convert ``event`` and append it."""
        self._count += 1
        self._append(to_audit_event(event, self._context, f"{self._prefix}-{event.ts_ns}-{self._count}"))


__all__ = [
    "SAFETY_CONTROL_ENDPOINT",
    "SAFETY_EVENTS_TOPIC",
    "SAFETY_STATUS_TOPIC",
    "AuditSink",
    "EventSink",
    "SafetyEvent",
    "log_sink",
    "to_audit_event",
]
