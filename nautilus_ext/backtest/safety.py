"""
The safety layer of a backtest or REPLAY: the live node's gate and chokepoint, installed the same way.

:func:`install_backtest_safety` calls :func:`nautilus_ext.safety.actor.attach_safety` on the
built ``BacktestEngine`` (seed 001, 8.9: "Backtest uses same pipeline as DRY_RUN"): the
:class:`~nautilus_ext.safety.chokepoint.GateChokepoint` takes over the engine's
``ExecEngine.execute`` endpoint, the unified strategies get the gate, and a ``SafetyActor``
feeds strategy PnL to the loss limits on the simulated clock. There is no control endpoint:
arming is LIVE only. Every decision is counted in a
:class:`~nautilus_ext.reports.gate.GateSummary` for the report and, with an ``audit_root``,
written to ``<audit_root>/safety`` like a live node's.
"""

from __future__ import annotations

from typing import Any

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.reports.gate import GateSummary

SAFETY_AUDIT_DIR = "safety"
"""Where a run's safety log goes under its ``audit_root`` (as ``<audit.root>/safety`` live)."""


def install_backtest_safety(engine: Any, spec: BacktestSpec) -> tuple[Any, GateSummary]:
    """
    Install the safety layer in a built, not yet running ``BacktestEngine``.

    Returns
    -------
    tuple[NodeSafety, GateSummary]
        What was installed and the summary it fills while the engine runs.

    Raises
    ------
    InvalidConfig
        If the spec's safety config is missing or invalid.
    """
    from nautilus_ext.safety.actor import attach_safety

    section = spec.safety_section()
    config = section.load(spec.mode)
    summary = GateSummary(limits_hash=config.limits_hash(), source=section.config_path or "inline")
    audit_root = None
    if spec.audit_root is not None:
        audit_root = "/".join([spec.audit_root.rstrip("/"), SAFETY_AUDIT_DIR])
    safety = attach_safety(
        engine,
        config,
        control_port=None,
        control_token_env="NAUTILUS_EXT_CONTROL_TOKEN",
        tick_interval_ms=section.tick_interval_ms,
        audit_root=audit_root,
        audit_fsync=True,
        observer=summary.observe,
    )
    return safety, summary


__all__ = ["SAFETY_AUDIT_DIR", "install_backtest_safety"]
