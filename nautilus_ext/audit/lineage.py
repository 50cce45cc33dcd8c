"""
Lineage queries: Decision -> Intent -> Order -> Fill (seed 001, section 4.4), with DuckDB.

DuckDB reads the JSON-lines segments in place (local files directly, remote ones through the
fsspec filesystem registered with the connection). ``show`` does not verify the hash chain
(that is :func:`~nautilus_ext.audit.records.verify_log`'s job) and skips a torn final line left
by a crashed writer, so it stays usable during an incident.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import Final

import duckdb

from nautilus_ext.audit.layout import list_segments
from nautilus_ext.audit.layout import open_root
from nautilus_ext.audit.schemas import AuditEvent
from nautilus_ext.audit.schemas import DecisionEvent
from nautilus_ext.audit.schemas import FillEvent
from nautilus_ext.audit.schemas import IntentEvent
from nautilus_ext.audit.schemas import OrderEvent
from nautilus_ext.audit.schemas import RiskEvent
from nautilus_ext.audit.schemas import dump_event
from nautilus_ext.audit.schemas import parse_event
from nautilus_ext.errors import InvalidConfig

_VIEW_SQL: Final = """
CREATE TEMP VIEW ev AS
SELECT seq,
       event->>'$.event_type' AS type,
       event->>'$.id' AS id,
       event->>'$.intent_id' AS intent_id,
       event->>'$.order_id' AS order_id,
       event->>'$.decision_id' AS decision_id,
       event->>'$.subject_id' AS subject_id,
       CAST(event AS VARCHAR) AS body
FROM read_json({paths}, format = 'newline_delimited', ignore_errors = true,
               columns = {'seq': 'UBIGINT', 'event': 'JSON'})
"""


def format_ns(ts_ns: int) -> str:
    """Format UNIX nanoseconds as ISO 8601 UTC with nanoseconds."""
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


@dataclass(frozen=True, slots=True)
class Lineage:
    """The chain of events behind one intent or order, each list in log order."""

    query_id: str
    decision: DecisionEvent | None
    intent: IntentEvent | None
    orders: list[OrderEvent] = field(default_factory=list)
    fills: list[FillEvent] = field(default_factory=list)
    risk: list[RiskEvent] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly form."""
        return {
            "query_id": self.query_id,
            "decision": dump_event(self.decision) if self.decision else None,
            "intent": dump_event(self.intent) if self.intent else None,
            "orders": [dump_event(o) for o in self.orders],
            "fills": [dump_event(f) for f in self.fills],
            "risk": [dump_event(r) for r in self.risk],
        }

    def render(self) -> str:
        """Return a human-readable tree Decision -> Intent -> Order -> Fill."""
        out = [f"Lineage of {self.query_id}"]
        if self.decision is not None:
            d = self.decision
            out.append(
                f"Decision {d.id}  {format_ns(d.ts_event)}  strategy {d.strategy_id} "
                f"[{d.mode}] version {d.version_hash[:12]}  rationale: {d.rationale!r}"
            )
        else:
            out.append("Decision: (none recorded)")
        if self.intent is not None:
            i = self.intent
            price = f" @ {i.limit_price}" if i.limit_price is not None else ""
            out.append(
                f"  -> Intent {i.id}  {format_ns(i.ts_event)}  {i.side} {i.qty} {i.asset} "
                f"{i.order_type}{price} {i.tif}"
            )
        else:
            out.append("  -> Intent: (none recorded)")
        for r in self.risk:
            out.append(f"     risk {r.rule}: {r.action} ({r.reason_code or '-'}) on {r.subject_id}")
        order_ids = list(dict.fromkeys(o.id for o in self.orders))
        for order_id in order_ids:
            records = [o for o in self.orders if o.id == order_id]
            first = records[0]
            statuses = " -> ".join(str(o.status) for o in records)
            out.append(
                f"     -> Order {order_id} @ {first.venue}  {first.side} {first.qty} "
                f"{first.asset}  {statuses}"
            )
            for f in (f for f in self.fills if f.order_id == order_id):
                out.append(
                    f"          -> Fill {f.id}  {format_ns(f.ts_event)}  {f.side} {f.qty} @ "
                    f"{f.price}  fees {f.fees} {f.fee_currency or ''}".rstrip()
                )
        return "\n".join(out)


def _typed(bodies: list[tuple[str]]) -> list[AuditEvent]:
    return [parse_event(json.loads(body)) for (body,) in bodies]


def show(query_id: str, root: str, storage_options: dict[str, Any] | None = None) -> Lineage | None:
    """
    Return the lineage of an intent, order or fill id.

    Parameters
    ----------
    query_id : str
        An Intent id (all its orders and fills), an Order id (that order and its fills) or a
        Fill id (its order and fills).
    root : str
        The storage root holding ``audit/`` (local path or ``gs://bucket/prefix``).
    storage_options : dict, optional
        fsspec options for remote roots.

    Returns
    -------
    Lineage or None
        None if no Intent, Order or Fill has that id.

    Raises
    ------
    InvalidConfig
        If ``query_id`` is empty or ``root`` cannot be opened.
    """
    if not query_id.strip():
        raise InvalidConfig("a lineage query needs a non-empty intent, order or fill id")
    fs, audit_path = open_root(root, storage_options)
    segments = list_segments(fs, audit_path)
    if not segments:
        return None
    con = duckdb.connect()
    try:
        local = "file" in fs.protocol or "local" in fs.protocol
        if not local:
            con.register_filesystem(fs)
        paths = [s.path if local else fs.unstrip_protocol(s.path) for s in segments]
        # DDL cannot take prepared parameters: quote the paths as SQL string literals.
        literal = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"
        con.execute(_VIEW_SQL.replace("{paths}", literal))
        return _query(con, query_id)
    finally:
        con.close()


def _query(con: duckdb.DuckDBPyConnection, query_id: str) -> Lineage | None:
    hits = con.execute(
        "SELECT type, intent_id, order_id FROM ev WHERE id = ? "
        "AND type IN ('INTENT', 'ORDER', 'FILL') ORDER BY seq",
        [query_id],
    ).fetchall()
    if not hits:
        return None
    kinds = {row[0] for row in hits}
    intent_id: str | None
    if "INTENT" in kinds:
        intent_id = query_id
        orders = _typed(
            con.execute(
                "SELECT body FROM ev WHERE type = 'ORDER' AND intent_id = ? ORDER BY seq",
                [intent_id],
            ).fetchall()
        )
        order_ids = list(dict.fromkeys(o.id for o in orders))
    else:
        order_ids = [query_id] if "ORDER" in kinds else [next(r[2] for r in hits)]
        orders = _typed(
            con.execute(
                "SELECT body FROM ev WHERE type = 'ORDER' AND list_contains(?, id) ORDER BY seq",
                [order_ids],
            ).fetchall()
        )
        intent_ids = [r[1] for r in hits if r[1]] + [
            o.intent_id for o in orders if isinstance(o, OrderEvent) and o.intent_id
        ]
        intent_id = intent_ids[0] if intent_ids else None
    fills = _typed(
        con.execute(
            "SELECT body FROM ev WHERE type = 'FILL' "
            "AND (list_contains(?, order_id) OR (? IS NOT NULL AND ? = ? AND intent_id = ?)) "
            "ORDER BY seq",
            [order_ids, intent_id, intent_id, query_id, intent_id],
        ).fetchall()
    )
    intent = decision = None
    if intent_id is not None:
        found = _typed(
            con.execute(
                "SELECT body FROM ev WHERE type = 'INTENT' AND id = ? ORDER BY seq LIMIT 1",
                [intent_id],
            ).fetchall()
        )
        intent = found[0] if found else None
    if isinstance(intent, IntentEvent) and intent.decision_id is not None:
        found = _typed(
            con.execute(
                "SELECT body FROM ev WHERE type = 'DECISION' AND id = ? ORDER BY seq LIMIT 1",
                [intent.decision_id],
            ).fetchall()
        )
        decision = found[0] if found else None
    subjects = [*order_ids, *([intent_id] if intent_id else [])]
    risk = _typed(
        con.execute(
            "SELECT body FROM ev WHERE type = 'RISK' AND list_contains(?, subject_id) ORDER BY seq",
            [subjects],
        ).fetchall()
    )
    return Lineage(
        query_id=query_id,
        decision=decision if isinstance(decision, DecisionEvent) else None,
        intent=intent if isinstance(intent, IntentEvent) else None,
        orders=[o for o in orders if isinstance(o, OrderEvent)],
        fills=[f for f in fills if isinstance(f, FillEvent)],
        risk=[r for r in risk if isinstance(r, RiskEvent)],
    )


__all__ = ["Lineage", "format_ns", "show"]
