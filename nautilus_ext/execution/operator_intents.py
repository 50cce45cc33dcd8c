"""
Unified orders an operator stages from a control surface (the Telegram ``/intent`` command).

An operator surface publishes an :class:`OperatorIntent` on :data:`OPERATOR_INTENTS_TOPIC` on the
node's event loop; the :class:`~nautilus_ext.execution.strategy.UnifiedExecutionStrategy` it names
submits the order through ``submit_unified`` like one of its own (audited as a DECISION with the
operator named in the rationale), so the safety gate judges it: in LIVE it is staged for a human
confirmation of its intent hash, nothing executes before that.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from dataclasses import field
from typing import Final

from nautilus_ext.orders import Order

OPERATOR_INTENTS_TOPIC: Final = "nautilus_ext.operator_intents"
"""Message-bus topic of :class:`OperatorIntent`."""


@dataclass(frozen=True)
class OperatorIntent:
    """
    A unified order from an operator, for one strategy.

    Parameters
    ----------
    strategy_id : str
        The Nautilus id of the unified strategy that submits it (``UnifiedExecutionStrategy-000``).
    order : Order
        The unified order.
    actor : str
        Who asked (``telegram:<user id>``).
    reply : Future[str]
        Set by the strategy to the order's status and reason after the submission.
    """

    strategy_id: str
    order: Order
    actor: str
    reply: Future[str] = field(default_factory=Future, compare=False)


__all__ = ["OPERATOR_INTENTS_TOPIC", "OperatorIntent"]
