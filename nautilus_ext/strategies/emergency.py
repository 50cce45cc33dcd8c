"""
Emergency actions of a multi-leg strategy: halt it, record why, close legs through the gate.

:class:`EmergencyDesk` is what a strategy's guard (leg reduced by the venue, margin breached)
calls; it never builds a path around the safety gate:

- :meth:`EmergencyDesk.halt` kills the strategy in the gate (``SafetyGate.halts.kill`` with the
  guard's rule: new risk is refused, reduce-only orders still pass, the kill is audited and the
  gate's alert callbacks fire); without a gate it logs the alert;
- :meth:`EmergencyDesk.record` writes a safety event to the audit log (through the gate);
- :meth:`EmergencyDesk.close` sends each closing order as an ordinary unified ``Order`` through
  :meth:`~nautilus_ext.execution.strategy.UnifiedExecutionStrategy.submit_unified` (routing, the
  gate, the audit log), as an IOC limit ``max_slippage`` from the mid; in LIVE each order is
  staged first so the armed auto-confirm policy releases it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import Any
from typing import Protocol

from nautilus_ext.audit.schemas import RiskAction
from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.orders import Order
from nautilus_ext.safety.decision import Rule
from nautilus_ext.safety.events import SafetyEvent
from nautilus_ext.safety.gate import SafetyGate

logger = logging.getLogger(__name__)
_NS = 1_000_000_000


class EmergencyHost(Protocol):
    """What the desk needs of a strategy (any :class:`UnifiedExecutionStrategy` has it)."""

    id: Any
    config: Any
    decision_clock: Any
    safety_gate: SafetyGate | None

    def submit_unified(
        self, order: Order, *, rationale: str | None = None, inputs: Mapping[str, Any] | None = None
    ) -> ExecutionResult: ...


class EmergencyDesk:
    """
    Halt, audit and close for one strategy (see the module docstring).

    Parameters
    ----------
    strategy : EmergencyHost
        The strategy whose legs are closed (a ``UnifiedExecutionStrategy``: its gate, clock and
        submit path are used).
    name : str
        Prefix of the closing orders' operation ids (unique per strategy instance).
    max_slippage : Decimal
        The IOC band of the closing orders, a fraction of the mid.
    """

    def __init__(self, strategy: EmergencyHost, name: str, max_slippage: Decimal) -> None:
        self._strategy = strategy
        self._name = name
        self._max_slippage = max_slippage
        self._n = 0
        self.halted: str | None = None  # why the strategy was halted, once it was

    def _now_ns(self) -> int:
        return int(self._strategy.decision_clock.timestamp_ns())

    def halt(self, reason: str, rule: Rule) -> None:
        """Stop new risk for the strategy (gate kill: audited, alerted); idempotent."""
        if self.halted is not None:
            return
        self.halted = reason
        strategy_id = str(self._strategy.id)
        gate = self._strategy.safety_gate
        if gate is not None:
            gate.halts.kill("system", strategy_id, reason, rule)
        else:
            logger.critical("SAFETY ALERT: strategy %s halted: %s (%s)", strategy_id, reason, rule)

    def record(
        self,
        message: str,
        rule: Rule,
        *,
        asset: str | None = None,
        action: RiskAction = RiskAction.HALT,
        **details: Any,
    ) -> None:
        """Write a safety event (``action``, HALT by default) to the audit log; log it without a gate."""
        gate = self._strategy.safety_gate
        flat = {
            k: (v if isinstance(v, str | int | bool | Decimal) or v is None else str(v))
            for k, v in details.items()
        }
        if gate is None:
            logger.error("%s: %s %s", rule, message, flat)
            return
        gate.record(
            SafetyEvent(
                ts_ns=self._now_ns(),
                risk_action=action,
                rule=str(rule),
                strategy_id=str(self._strategy.id),
                asset=asset,
                message=message,
                details=flat,
            )
        )

    def alert(self, message: str, rule: Rule, *, asset: str | None = None, **details: Any) -> None:
        """Raise an alert without halting: the safety alert log line and an audit record."""
        logger.critical("SAFETY ALERT: strategy %s: %s (%s)", self._strategy.id, message, rule)
        self.record(message, rule, asset=asset, action=RiskAction.REDUCE, **details)

    def close(self, orders: Sequence[tuple[str, str, Decimal]], intent: str) -> list[ExecutionResult]:
        """
        Send ``(instrument_key, side, quantity)`` closing orders now; return their results.

        Each is an IOC limit within ``max_slippage`` of its mid (never a pure market order).
        """
        strategy = self._strategy
        gate = strategy.safety_gate
        live = gate is not None and str(strategy.config.mode) == "LIVE"
        now = datetime.fromtimestamp(self._now_ns() / _NS, tz=UTC)
        results = []
        for key, side, qty in orders:
            self._n += 1
            order = Order(
                operation_id=f"{self._name}-{self._now_ns()}-{self._n}",
                operation="trade",
                instrument_key=key,
                venue=key.split(":", 1)[0],
                side=side,
                amount=qty,
                max_slippage=self._max_slippage,
                strategy_id=str(strategy.id),
                strategy_intent=intent,
                created_at=now,
            )
            if live and gate is not None:
                gate.stage(order)
            results.append(strategy.submit_unified(order, rationale=intent))
        return results


__all__ = ["EmergencyDesk", "EmergencyHost"]
