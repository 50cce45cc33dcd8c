"""The replay errors sit in the project's taxonomy (the public names are pinned in test_comparator)."""

from __future__ import annotations

import nautilus_ext.replay as replay
from nautilus_ext.audit.errors import AuditIntegrityError
from nautilus_ext.errors import InvalidConfig


def test_replay_errors_are_typed() -> None:
    # a missing recording and a version mismatch are requests that cannot be served; a tampered
    # recording is an integrity failure, like a broken audit chain
    assert issubclass(replay.RecordingMissing, InvalidConfig)
    assert issubclass(replay.ReplayVersionMismatch, InvalidConfig)
    assert issubclass(replay.RecordingTampered, AuditIntegrityError)
