"""What a run's safety gate allowed and denied, counted for its report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from dataclasses import field

from nautilus_ext.audit.schemas import RiskAction
from nautilus_ext.safety.events import SafetyEvent


@dataclass(slots=True)
class GateSummary:
    """
    What the safety gate decided during a run (the report's "Safety gate" table).

    Attributes
    ----------
    limits_hash : str
        Hash of the limits the run used (what a LIVE operator confirms).
    source : str
        Where the limits came from (a file, ``inline``).
    allowed : int
        Orders the gate released.
    denials : Counter[tuple[str, str]]
        Denied orders by (taxonomy code, rule).
    examples : dict[tuple[str, str], str]
        One message per (code, rule), the first seen.
    """

    limits_hash: str
    source: str
    allowed: int = 0
    denials: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: dict[tuple[str, str], str] = field(default_factory=dict)

    def observe(self, event: SafetyEvent) -> None:
        """Count one safety event (an :data:`~nautilus_ext.safety.events.EventSink`)."""
        if event.risk_action is RiskAction.ALLOW:
            self.allowed += 1
        elif event.risk_action is RiskAction.BLOCK:
            key = (event.code or "UNKNOWN", event.rule or "unknown")
            self.denials[key] += 1
            self.examples.setdefault(key, event.message)

    @property
    def denied(self) -> int:
        """Return the number of denied orders."""
        return sum(self.denials.values())


__all__ = ["GateSummary"]
