"""
Which safety events an operator must be told about, as one line each (console and Telegram).

:func:`alert_of` turns a :class:`~nautilus_ext.safety.events.SafetyEvent` into an
:class:`Alert` or ``None``: SAFE mode entered, kills (global and per strategy), loss halts,
position mismatches with the venue, stale feeds, fill gaps, rate-limit and flip-flop breaches,
refused operator commands. :func:`margin_alert` does the same for a health factor under its
threshold (a margin breach).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Final

from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.audit.schemas import CommandOutcome
from nautilus_ext.audit.schemas import RiskAction
from nautilus_ext.audit.schemas import SafeguardKind
from nautilus_ext.messages import HealthFactorUpdate
from nautilus_ext.safety.events import SafetyEvent


@unique
class AlertLevel(StrEnum):
    """How urgent an alert is."""

    CRITICAL = "CRITICAL"  # trading stopped (SAFE mode, global kill) or money at risk (margin)
    WARNING = "WARNING"  # something needs a look (strategy kill, mismatch, stale feed)


@unique
class AlertKind(StrEnum):
    """What an alert is about (Telegram pushes :data:`PUSHED_KINDS`)."""

    SAFE_MODE = "SAFE_MODE"  # SAFE mode entered
    KILL = "KILL"  # a kill switch (global or per strategy) engaged
    HALT = "HALT"  # a risk policy halted a strategy or the system
    MARGIN = "MARGIN"  # margin breach: health factor under its threshold
    ADL = "ADL"  # a venue auto-deleveraged a position (a SafetyEvent with rule "adl")
    FLATTEN = "FLATTEN"  # an operator's emergency flatten of a strategy
    RECONCILE = "RECONCILE"  # the venue's position disagrees with the running sum
    FEED = "FEED"  # a feed went stale or a fill sequence gap was seen
    ABUSE = "ABUSE"  # order rate limit or flip-flop breach
    COMMAND_REFUSED = "COMMAND_REFUSED"  # an operator command was refused


PUSHED_KINDS: Final = frozenset({AlertKind.SAFE_MODE, AlertKind.KILL, AlertKind.ADL, AlertKind.MARGIN})
"""What seed 001 section 20 pushes to the operators' chats."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: when (UNIX ns), level, kind and a one-line text (never a secret)."""

    ts_ns: int
    level: AlertLevel
    kind: AlertKind
    text: str


def alert_of(event: SafetyEvent) -> Alert | None:
    """Return the alert ``event`` calls for, or ``None``."""
    ts = event.ts_ns
    if event.rule == "adl":
        return Alert(ts, AlertLevel.CRITICAL, AlertKind.ADL, f"ADL: {event.message}")
    if event.safeguard is SafeguardKind.SAFE_MODE_ENTER:
        return Alert(ts, AlertLevel.CRITICAL, AlertKind.SAFE_MODE, f"SAFE mode entered: {event.message}")
    if event.command is CommandKind.KILL and event.rule == "flatten":
        return Alert(ts, AlertLevel.WARNING, AlertKind.FLATTEN, f"flatten by {event.actor}: {event.message}")
    # the kill itself (not its cancel report, nor an operator's cancel-all)
    kill = event.command is CommandKind.KILL and event.rule not in ("cancel_all", "kill_cancel")
    if kill and event.outcome is CommandOutcome.ACCEPTED:
        scope = "global" if event.strategy_id is None else f"strategy {event.strategy_id}"
        level = AlertLevel.CRITICAL if event.strategy_id is None else AlertLevel.WARNING
        return Alert(ts, level, AlertKind.KILL, f"kill ({scope}) by {event.actor}: {event.message}")
    if event.risk_action is RiskAction.HALT:
        return Alert(ts, AlertLevel.CRITICAL, AlertKind.HALT, f"halt ({event.rule}): {event.message}")
    if event.safeguard is SafeguardKind.RECONCILE_MISMATCH:
        return Alert(ts, AlertLevel.WARNING, AlertKind.RECONCILE, event.message)
    if event.safeguard in (SafeguardKind.FEED_STALE, SafeguardKind.FILL_SEQ_GAP):
        return Alert(ts, AlertLevel.WARNING, AlertKind.FEED, event.message)
    if event.safeguard in (SafeguardKind.RATE_LIMIT_BREACH, SafeguardKind.FLIPFLOP_DETECTED):
        return Alert(ts, AlertLevel.WARNING, AlertKind.ABUSE, event.message)
    if event.command is not None and event.outcome is CommandOutcome.REJECTED:
        return Alert(
            ts, AlertLevel.WARNING, AlertKind.COMMAND_REFUSED, f"{event.command} refused: {event.message}"
        )
    return None


def margin_alert(update: HealthFactorUpdate, threshold: Decimal) -> Alert | None:
    """Return a margin-breach alert when ``update``'s health factor is under ``threshold``."""
    if update.health_factor >= threshold:
        return None
    return Alert(
        update.ts_ns,
        AlertLevel.CRITICAL,
        AlertKind.MARGIN,
        f"margin breach: {update.protocol} account {update.account} health factor "
        f"{update.health_factor} < {threshold}",
    )


__all__ = ["PUSHED_KINDS", "Alert", "AlertKind", "AlertLevel", "alert_of", "margin_alert"]
