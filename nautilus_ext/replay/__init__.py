"""
Deterministic replay support (seed 001, section 8.2).

The recording and REPLAY of DRY_RUN sessions (:mod:`nautilus_ext.replay.recorder`,
:func:`nautilus_ext.replay.session.replay_session`) and the replay errors. The REPLAY of a
recorded backtest run is :func:`nautilus_ext.backtest.runner.replay_run`. The comparator that
says whether two runs' audit logs are identical or where they first diverge, and the run-level
hashes (strategy code hash, config hash) every audit event carries, live with the audit
(:mod:`nautilus_ext.audit.comparator`, :mod:`nautilus_ext.audit.hashing`) and are re-exported
here.
"""

from nautilus_ext.audit.comparator import DEFAULT_IGNORED_FIELDS
from nautilus_ext.audit.comparator import ComparisonResult
from nautilus_ext.audit.comparator import Divergence
from nautilus_ext.audit.comparator import compare_events
from nautilus_ext.audit.comparator import compare_logs
from nautilus_ext.audit.hashing import canonical_config_json
from nautilus_ext.audit.hashing import code_version_hash
from nautilus_ext.audit.hashing import config_hash
from nautilus_ext.replay.errors import RecordingMissing
from nautilus_ext.replay.errors import RecordingTampered
from nautilus_ext.replay.errors import ReplayVersionMismatch

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
