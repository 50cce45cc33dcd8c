"""The safety package's public API is pinned: a change here is a deliberate decision."""

from __future__ import annotations

import nautilus_ext.safety as safety
from nautilus_ext.safety import cli
from nautilus_ext.safety import control


def test_package_all_is_pinned() -> None:
    assert sorted(safety.__all__) == [
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
    for name in safety.__all__:
        assert getattr(safety, name) is not None


def test_cli_and_control_all_are_pinned() -> None:
    assert sorted(cli.__all__) == ["DEFAULT_URL", "TOKEN_ENV", "URL_ENV", "app", "send", "state_lines"]
    assert sorted(control.__all__) == [
        "COMMANDS",
        "ControlEndpoint",
        "MIN_TOKEN_LENGTH",
        "node_state",
        "run_command",
    ]
    names = {c.callback.__name__ for c in cli.app.registered_commands if c.callback is not None}
    assert names == {
        "arm",
        "cancel_all",
        "confirm",
        "confirm_limits",
        "disarm",
        "flatten",
        "kill",
        "release",
        "reset_risk_baselines",
        "resume",
        "status",
    }
