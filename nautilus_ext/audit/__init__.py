"""
Audit store (seed 001, sections 4, 8 and 13): an append-only, hash-chained, durable log of
Decision, Intent, Order, Fill, Command, Risk and Safeguard events, with lineage queries,
verification and reports.

- Build events with :class:`AuditContext` (header and timestamps from injected clocks).
- Write them with :class:`AuditStore` (non-blocking, group-committed, redacted; see
  :mod:`nautilus_ext.audit.sinks` for what "durable" means on a local path and on ``gs://``).
- Check a log with :func:`verify_log`; query lineage with :func:`show`.
- Compare two runs' logs (first divergence) with :mod:`nautilus_ext.audit.comparator`; the
  run-level hashes (code version, config) are :mod:`nautilus_ext.audit.hashing`.
- Reports: :mod:`nautilus_ext.audit.reports`; Parquet copies of closed days:
  :mod:`nautilus_ext.audit.compaction`.
- Mount :data:`nautilus_ext.audit.cli.app` as ``nautilus-ext audit``.

Layout: ``<root>/audit/date=YYYY-MM-DD/<first seq, 20 digits>.jsonl``, segments in write order
(a back-dated event joins the open segment; see :mod:`nautilus_ext.audit.layout`).
"""

from nautilus_ext.audit.canonical import GENESIS_HASH
from nautilus_ext.audit.canonical import canonical_json
from nautilus_ext.audit.context import AuditContext
from nautilus_ext.audit.context import Clock
from nautilus_ext.audit.context import WallClock
from nautilus_ext.audit.errors import AuditBackpressure
from nautilus_ext.audit.errors import AuditIntegrityError
from nautilus_ext.audit.errors import AuditStorageError
from nautilus_ext.audit.errors import InvalidAuditRecord
from nautilus_ext.audit.lineage import Lineage
from nautilus_ext.audit.lineage import show
from nautilus_ext.audit.records import AuditRecord
from nautilus_ext.audit.records import BreakKind
from nautilus_ext.audit.records import BrokenLink
from nautilus_ext.audit.records import VerifyReport
from nautilus_ext.audit.records import iter_records
from nautilus_ext.audit.records import verify_log
from nautilus_ext.audit.redaction import REDACTED
from nautilus_ext.audit.redaction import Redactor
from nautilus_ext.audit.schemas import SCHEMA_VERSION
from nautilus_ext.audit.schemas import AuditEvent
from nautilus_ext.audit.schemas import CommandEvent
from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.audit.schemas import CommandOutcome
from nautilus_ext.audit.schemas import DecisionEvent
from nautilus_ext.audit.schemas import EventType
from nautilus_ext.audit.schemas import FillEvent
from nautilus_ext.audit.schemas import IntentEvent
from nautilus_ext.audit.schemas import OrderEvent
from nautilus_ext.audit.schemas import OrderStatus
from nautilus_ext.audit.schemas import OrderType
from nautilus_ext.audit.schemas import RiskAction
from nautilus_ext.audit.schemas import RiskEvent
from nautilus_ext.audit.schemas import SafeguardEvent
from nautilus_ext.audit.schemas import SafeguardKind
from nautilus_ext.audit.schemas import Side
from nautilus_ext.audit.schemas import TimeInForce
from nautilus_ext.audit.schemas import Urgency
from nautilus_ext.audit.schemas import parse_event
from nautilus_ext.audit.store import AlertKind
from nautilus_ext.audit.store import AuditAlert
from nautilus_ext.audit.store import AuditStats
from nautilus_ext.audit.store import AuditStore
from nautilus_ext.audit.store import AuditStoreConfig
from nautilus_ext.audit.store import BackpressurePolicy
from nautilus_ext.mode import Mode

__all__ = [
    "GENESIS_HASH",
    "REDACTED",
    "SCHEMA_VERSION",
    "AlertKind",
    "AuditAlert",
    "AuditBackpressure",
    "AuditContext",
    "AuditEvent",
    "AuditIntegrityError",
    "AuditRecord",
    "AuditStats",
    "AuditStorageError",
    "AuditStore",
    "AuditStoreConfig",
    "BackpressurePolicy",
    "BreakKind",
    "BrokenLink",
    "Clock",
    "CommandEvent",
    "CommandKind",
    "CommandOutcome",
    "DecisionEvent",
    "EventType",
    "FillEvent",
    "IntentEvent",
    "InvalidAuditRecord",
    "Lineage",
    "Mode",
    "OrderEvent",
    "OrderStatus",
    "OrderType",
    "Redactor",
    "RiskAction",
    "RiskEvent",
    "SafeguardEvent",
    "SafeguardKind",
    "Side",
    "TimeInForce",
    "Urgency",
    "VerifyReport",
    "WallClock",
    "canonical_json",
    "iter_records",
    "parse_event",
    "show",
    "verify_log",
]
