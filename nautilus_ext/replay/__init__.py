"""
Deterministic replay support (seed 001, section 8.2).

What exists today: the comparator that says whether two runs' audit logs are identical or
where they first diverge, and the run-level hashes (strategy code hash, config hash) every
audit event carries, and the REPLAY runner for recorded backtest runs
(:func:`nautilus_ext.replay.runner.replay_run`), and the recording and REPLAY of DRY_RUN
sessions (:mod:`nautilus_ext.replay.recorder`, :func:`nautilus_ext.replay.session.replay_session`).
"""

from nautilus_ext.replay.comparator import DEFAULT_IGNORED_FIELDS
from nautilus_ext.replay.comparator import ComparisonResult
from nautilus_ext.replay.comparator import Divergence
from nautilus_ext.replay.comparator import compare_events
from nautilus_ext.replay.comparator import compare_logs
from nautilus_ext.replay.errors import RecordingMissing
from nautilus_ext.replay.errors import RecordingTampered
from nautilus_ext.replay.errors import ReplayVersionMismatch
from nautilus_ext.replay.hashing import canonical_config_json
from nautilus_ext.replay.hashing import code_version_hash
from nautilus_ext.replay.hashing import config_hash

__all__ = [
    "DEFAULT_IGNORED_FIELDS",
    "ComparisonResult",
    "Divergence",
    "RecordingMissing",
    "RecordingTampered",
    "ReplayVersionMismatch",
    "canonical_config_json",
    "code_version_hash",
    "compare_events",
    "compare_logs",
    "config_hash",
]
