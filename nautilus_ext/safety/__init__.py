"""
The safety layer (seed 001, sections 3, 4.7, 6, 8.6, 12 and 16.1): nothing reaches a venue,
a chain or a bookmaker except through :class:`SafetyGate`.

- :mod:`~nautilus_ext.safety.config`: the validated thresholds (:class:`SafetyConfig`).
- :mod:`~nautilus_ext.safety.arming`: one-shot arm with TTL, staged intents, hash confirmation.
- :mod:`~nautilus_ext.safety.risk`: the risk policy matrix.
- :mod:`~nautilus_ext.safety.oms`: running sum, dirty flags, reconciliation, feed health,
  rate limit and flip-flop detector.
- :mod:`~nautilus_ext.safety.halts`: SAFE mode and kill switches.
- :mod:`~nautilus_ext.safety.gate`: the single pre-trade gate and the recovery procedure.
- :mod:`~nautilus_ext.safety.chokepoint` and :mod:`~nautilus_ext.safety.amends`: the execution
  engine's one door in a node (orders, amends, algorithm children, cancels, a kill's cancels).
- :mod:`~nautilus_ext.safety.control` and :mod:`~nautilus_ext.safety.cli`: a local authenticated
  control endpoint and the operator commands (arm, confirm, disarm, status, kill, resume).

Every state machine is pure and deterministic: time comes from an injected clock, effects are
:class:`SafetyEvent` records handed to a sink (see :func:`to_audit_event` for the audit log).
"""

from nautilus_ext.safety.arming import ArmingController
from nautilus_ext.safety.arming import ArmState
from nautilus_ext.safety.arming import StagedIntent
from nautilus_ext.safety.arming import intent_hash
from nautilus_ext.safety.config import ArmingConfig
from nautilus_ext.safety.config import AutoConfirmPolicy
from nautilus_ext.safety.config import OmsConfig
from nautilus_ext.safety.config import RiskConfig
from nautilus_ext.safety.config import SafetyConfig
from nautilus_ext.safety.decision import Decision
from nautilus_ext.safety.decision import Rule
from nautilus_ext.safety.events import AuditSink
from nautilus_ext.safety.events import SafetyEvent
from nautilus_ext.safety.events import to_audit_event
from nautilus_ext.safety.gate import GateContext
from nautilus_ext.safety.gate import SafetyGate
from nautilus_ext.safety.halts import Halt
from nautilus_ext.safety.halts import HaltState
from nautilus_ext.safety.oms import Fill
from nautilus_ext.safety.oms import OmsSafeguards
from nautilus_ext.safety.risk import RiskPolicies

__all__ = [
    "ArmState",
    "ArmingConfig",
    "ArmingController",
    "AuditSink",
    "AutoConfirmPolicy",
    "Decision",
    "Fill",
    "GateContext",
    "Halt",
    "HaltState",
    "OmsConfig",
    "OmsSafeguards",
    "RiskConfig",
    "RiskPolicies",
    "Rule",
    "SafetyConfig",
    "SafetyEvent",
    "SafetyGate",
    "StagedIntent",
    "intent_hash",
    "to_audit_event",
]
