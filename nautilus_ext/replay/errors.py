"""
Errors of REPLAY: a recording that is missing, incomplete or tampered with, or code that is not
the pinned version. They reuse the nearest existing codes (the taxonomy has no replay codes).
"""

from __future__ import annotations

from nautilus_ext.audit.errors import AuditIntegrityError
from nautilus_ext.errors import InvalidConfig


class RecordingMissing(InvalidConfig):
    """The run directory holds no usable recording (manifest or catalog absent, incomplete)."""


class RecordingTampered(AuditIntegrityError):
    """A recorded file is missing, extra or changed since the session wrote its manifest."""


class ReplayVersionMismatch(InvalidConfig):
    """The strategy code differs from the version pinned by the recording (both hashes named)."""


__all__ = ["RecordingMissing", "RecordingTampered", "ReplayVersionMismatch"]
