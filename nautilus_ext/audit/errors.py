"""
Audit-specific errors, placed in the project's taxonomy (:mod:`nautilus_ext.errors`).

The taxonomy has no audit codes yet, so each class reuses the nearest existing code and says
which rule or reason fired in ``details``::

    InvalidAuditRecord   (RequestError, ValueError)  INVALID_CONFIG     an event failed its schema
    AuditBackpressure    (RiskBlocked)               RISK_BLOCKED       rule AUDIT_BACKPRESSURE
    AuditStorageError    (ExternalError)             VENUE_UNAVAILABLE  the disk or bucket failed
    AuditIntegrityError  (ExternalError)             VENUE_UNAVAILABLE  the log is corrupt

An action whose audit record cannot be enqueued must not happen ("written to the audit log
before it happens"), which is why back-pressure is a safety refusal.
"""

from __future__ import annotations

from typing import Any

from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import ExternalError
from nautilus_ext.errors import RequestError
from nautilus_ext.errors import RiskBlocked


class InvalidAuditRecord(RequestError, ValueError):
    """An audit event or record failed validation; ``details['errors']`` lists each problem."""

    code = ErrorCode.INVALID_CONFIG


class AuditBackpressure(RiskBlocked):
    """The audit queue is full: the action that wanted a record must not proceed."""

    def __init__(self, message: str, **context: Any) -> None:
        details = dict(context.pop("details", None) or {})
        details.setdefault("rule", "AUDIT_BACKPRESSURE")
        super().__init__(message, details=details, **context)


class AuditStorageError(ExternalError):
    """Writing to or reading from the audit storage (disk, bucket) failed."""

    code = ErrorCode.VENUE_UNAVAILABLE


class AuditIntegrityError(ExternalError):
    """The audit log is corrupt beyond a torn final line; ``details`` names the broken link."""

    code = ErrorCode.VENUE_UNAVAILABLE
    default_retryable = False


__all__ = [
    "AuditBackpressure",
    "AuditIntegrityError",
    "AuditStorageError",
    "InvalidAuditRecord",
]
