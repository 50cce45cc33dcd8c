"""
Deterministic comparison of two runs' audit events: "identical" or the first divergence.

Events are compared in order, field by field (nested fields as dotted paths, list items as
``[i]``). Fields that legitimately differ between a run and its replay are ignored by default:
``ts_wall`` (wall time) and ``mode`` (a DRY_RUN session against its REPLAY). Everything else,
including event and sequence order, must match exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any
from typing import Final

from pydantic import BaseModel

from nautilus_ext.audit.errors import AuditIntegrityError
from nautilus_ext.audit.layout import list_segments
from nautilus_ext.audit.layout import open_root
from nautilus_ext.audit.records import iter_records
from nautilus_ext.audit.records import verify_log
from nautilus_ext.errors import InvalidConfig

DEFAULT_IGNORED_FIELDS: Final = frozenset({"ts_wall", "mode"})
"""Top-level event fields ignored unless the caller says otherwise."""

MISSING: Final = "<missing>"
END_OF_STREAM: Final = "<end of stream>"


@dataclass(frozen=True, slots=True)
class Divergence:
    """The first difference: event index (0-based), event type, field path and both values."""

    index: int
    event_type: str
    field: str
    left: str
    right: str
    left_id: str | None
    right_id: str | None

    def describe(self) -> str:
        """Return a one-line human description."""
        return (
            f"event #{self.index} ({self.event_type} {self.left_id} / {self.right_id}): "
            f"field {self.field!r} differs: left={self.left!r} right={self.right!r}"
        )


@dataclass(frozen=True, slots=True)
class ComparisonResult:
    """Outcome of a comparison; ``identical`` is True only if no divergence was found."""

    identical: bool
    compared: int
    divergence: Divergence | None
    ignored_fields: frozenset[str]

    def describe(self) -> str:
        """Return ``identical (N events)`` or the divergence."""
        if self.divergence is None:
            return f"identical ({self.compared} events)"
        return f"diverged at {self.divergence.describe()}"


def _as_json(event: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(event, BaseModel):
        return event.model_dump(mode="json")
    return dict(event)


def _first_difference(left: Any, right: Any, path: str) -> tuple[str, Any, Any] | None:
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        for key in sorted(set(left) | set(right)):
            sub = f"{path}.{key}" if path else key
            if key not in left or key not in right:
                return sub, left.get(key, MISSING), right.get(key, MISSING)
            found = _first_difference(left[key], right[key], sub)
            if found is not None:
                return found
        return None
    if isinstance(left, list) and isinstance(right, list):
        for index, (a, b) in enumerate(zip_longest(left, right, fillvalue=MISSING)):
            found = _first_difference(a, b, f"{path}[{index}]")
            if found is not None:
                return found
        return None
    # type() matters: 1 and True, or 1 and "1", are different recorded values.
    if type(left) is not type(right) or left != right:
        return path or "<event>", left, right
    return None


def compare_events(
    left: Iterable[BaseModel | Mapping[str, Any]],
    right: Iterable[BaseModel | Mapping[str, Any]],
    *,
    ignore_fields: Iterable[str] = DEFAULT_IGNORED_FIELDS,
) -> ComparisonResult:
    """
    Compare two event streams in order and report the first divergence.

    Parameters
    ----------
    left, right : Iterable
        Audit event models or their JSON dicts, in log order.
    ignore_fields : Iterable[str]
        Top-level event fields to leave out (default ``ts_wall`` and ``mode``).

    Returns
    -------
    ComparisonResult
        ``identical`` or the first :class:`Divergence`; a longer stream diverges at the first
        extra event with field ``<end of stream>``.
    """
    ignored = frozenset(ignore_fields)
    count = 0
    for index, (a, b) in enumerate(zip_longest(left, right)):
        if a is None or b is None:
            present = _as_json(a if a is not None else b)
            described = f"{present.get('event_type')} {present.get('id')}"
            divergence = Divergence(
                index,
                str(present.get("event_type")),
                END_OF_STREAM,
                described if a is not None else END_OF_STREAM,
                described if b is not None else END_OF_STREAM,
                present.get("id") if a is not None else None,
                present.get("id") if b is not None else None,
            )
            return ComparisonResult(False, count, divergence, ignored)
        left_json = {k: v for k, v in _as_json(a).items() if k not in ignored}
        right_json = {k: v for k, v in _as_json(b).items() if k not in ignored}
        found = _first_difference(left_json, right_json, "")
        count += 1
        if found is not None:
            field, lv, rv = found
            divergence = Divergence(
                index,
                str(left_json.get("event_type")),
                field,
                str(lv),
                str(rv),
                left_json.get("id"),
                right_json.get("id"),
            )
            return ComparisonResult(False, count, divergence, ignored)
    return ComparisonResult(True, count, None, ignored)


def _events(root: str, storage_options: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
    for record in iter_records(root, storage_options):
        yield record.event


def compare_logs(
    left_root: str,
    right_root: str,
    *,
    ignore_fields: Iterable[str] = DEFAULT_IGNORED_FIELDS,
    verify: bool = True,
    left_storage_options: dict[str, Any] | None = None,
    right_storage_options: dict[str, Any] | None = None,
) -> ComparisonResult:
    """
    Compare the audit logs under two roots (see :func:`compare_events`).

    Raises
    ------
    InvalidConfig
        If either root holds no audit log.
    AuditIntegrityError
        If ``verify`` is set and either log's hash chain is broken (a tampered log cannot be
        trusted to compare).
    """
    for root, options in (
        (left_root, left_storage_options),
        (right_root, right_storage_options),
    ):
        fs, audit_path = open_root(root, options)
        if not list_segments(fs, audit_path):
            # Comparing against a missing log must not read as "identical".
            raise InvalidConfig(f"no audit log under {root}")
        if not verify:
            continue
        report = verify_log(root, options)
        if report.broken is not None:
            raise AuditIntegrityError(
                f"audit log at {root} is broken: {report.broken.describe()}",
                details={"kind": str(report.broken.kind), "path": report.broken.path},
            )
    return compare_events(
        _events(left_root, left_storage_options),
        _events(right_root, right_storage_options),
        ignore_fields=ignore_fields,
    )


__all__ = [
    "DEFAULT_IGNORED_FIELDS",
    "END_OF_STREAM",
    "MISSING",
    "ComparisonResult",
    "Divergence",
    "compare_events",
    "compare_logs",
]
