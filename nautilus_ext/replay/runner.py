"""
REPLAY of a recorded backtest run: the same spec, data and code, a fixed clock, compared event
by event with the original audit log.

A run with ``audit_root`` records its spec as ``<audit_root>/run.json`` beside the log. Replay
re-runs that spec in REPLAY mode into a fresh audit root and compares the two logs with
:func:`~nautilus_ext.replay.compare_logs` (wall times and the mode field are ignored), then the
safety gate's logs (``<audit_root>/safety``): the answer is "identical" or the first divergence
(event, field, both values).
"""

from __future__ import annotations

import json
from pathlib import Path

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.replay.comparator import ComparisonResult
from nautilus_ext.replay.comparator import compare_logs

RUN_FILE = "run.json"
SAFETY_LOG = "safety"
"""The safety gate's own log under a run's audit root (``nautilus_ext.backtest.safety``)."""


def record_run(spec: object, audit_root: str) -> Path:
    """Write the run's spec (a ``BacktestSpec``) next to its audit log; return the file."""
    from nautilus_ext.backtest.config import BacktestSpec

    if not isinstance(spec, BacktestSpec):
        raise InvalidConfig(f"expected a BacktestSpec, got {type(spec).__name__}")
    path = Path(audit_root) / RUN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(spec.model_dump_json(indent=2), encoding="utf-8")
    return path


def replay_run(audit_root: str | Path, workdir: str | Path) -> ComparisonResult:
    """
    Re-run the recorded run under ``audit_root`` in REPLAY mode and compare the logs.

    Raises
    ------
    InvalidConfig
        If ``audit_root`` holds no recorded run.
    """
    from nautilus_ext.backtest.config import BacktestSpec
    from nautilus_ext.backtest.runner import run_backtest

    root = Path(audit_root)
    run_file = root / RUN_FILE
    if not run_file.is_file():
        raise InvalidConfig(f"{root} holds no recorded run ({RUN_FILE} is missing)")
    try:
        spec = BacktestSpec.model_validate(json.loads(run_file.read_text(encoding="utf-8")))
    except (ValueError, json.JSONDecodeError) as e:
        raise InvalidConfig(f"{run_file}: {e}") from None
    replay_root = Path(workdir) / "replay-audit"
    replayed = spec.model_copy(
        update={
            "mode": "REPLAY",
            "audit_root": str(replay_root),
            "results_root": None,
            "output_dir": str(workdir),
        }
    )
    run_backtest(replayed)
    result = compare_logs(str(root), str(replay_root))
    if not result.identical:
        return result
    # the safety gate's log (decisions, commands, safeguards) must replay identically too
    recorded_safety = root / SAFETY_LOG
    if not recorded_safety.is_dir():
        return result
    safety = compare_logs(str(recorded_safety), str(replay_root / SAFETY_LOG))
    if not safety.identical:
        return safety
    return ComparisonResult(True, result.compared + safety.compared, None, result.ignored_fields)
