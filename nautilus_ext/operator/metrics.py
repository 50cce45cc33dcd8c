"""
The node's Prometheus metrics (seed 001 section 10 "latency metrics (request/ack/fill)", seed 004
"Live Grafana dashboard: margin health, strategy pnl, balances, active positions").

:class:`NodeMetrics` owns one ``CollectorRegistry`` (never the process-global one: two nodes in
one process, or a test, each get their own) and turns what the node's message bus carries into
metrics. It knows nothing of Nautilus' threads or timers: the
:class:`~nautilus_ext.operator.actor.PrometheusMetricsActor` feeds it. Every metric name starts
with ``nautilus_ext_``; :data:`METRIC_NAMES` lists them (the Grafana dashboards in
``deploy/grafana/`` may reference only these, a test checks).

Label values are bounded by what the node trades: venues, strategies, instruments, taxonomy
codes and gate rules, never order ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from typing import Final

from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Gauge
from prometheus_client import Histogram

from nautilus_ext.audit.schemas import RiskAction
from nautilus_ext.audit.schemas import SafeguardKind
from nautilus_ext.errors import ErrorCode
from nautilus_ext.messages import FundingCollected
from nautilus_ext.messages import HealthFactorUpdate
from nautilus_ext.safety.events import SafetyEvent

LATENCY_BUCKETS_SECS: Final = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
"""Histogram buckets of the order latencies, seconds."""

_CODES: Final = frozenset(str(c) for c in ErrorCode)
_LEADING_CODE: Final = re.compile(r"^\s*(?:list refused:\s*)?([A-Z][A-Z_]+)\b")
_NS: Final = 1_000_000_000


def reason_code(reason: str | None, default: str) -> str:
    """
    Return the taxonomy code a reject or denial reason starts with (``"RISK_BLOCKED: ..."``).

    The adapters and the gate put the code first; anything else counts as ``default``.
    """
    match = _LEADING_CODE.match(reason or "")
    if match is not None and match.group(1) in _CODES:
        return match.group(1)
    return default


class NodeMetrics:
    """
    Every metric of one node, with the update methods the metrics actor calls.

    Parameters
    ----------
    registry : CollectorRegistry, optional
        Where the metrics register (default: a new, private registry).
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        # -- orders and fills (Nautilus order events) ---------------------------------------
        self.orders_submitted = Counter(
            "nautilus_ext_orders_submitted",
            "Orders handed to a venue's execution client.",
            ["venue", "strategy"],
            registry=r,
        )
        self.orders_accepted = Counter(
            "nautilus_ext_orders_accepted",
            "Orders the venue acknowledged.",
            ["venue", "strategy"],
            registry=r,
        )
        self.orders_canceled = Counter(
            "nautilus_ext_orders_canceled", "Orders canceled.", ["venue", "strategy"], registry=r
        )
        self.fills = Counter(
            "nautilus_ext_fills", "Fills received.", ["venue", "strategy", "instrument", "side"], registry=r
        )
        self.filled_quantity = Counter(
            "nautilus_ext_filled_quantity",
            "Filled quantity, instrument units.",
            ["venue", "instrument", "side"],
            registry=r,
        )
        self.rejects = Counter(
            "nautilus_ext_order_rejects",
            "Orders refused, by taxonomy code: source venue (OrderRejected) or node (OrderDenied: "
            "the safety gate or Nautilus' RiskEngine).",
            ["venue", "source", "code"],
            registry=r,
        )
        self.request_latency = Histogram(
            "nautilus_ext_order_request_latency_seconds",
            "Order created -> handed to the venue client (strategy, gate, engines), seconds.",
            ["venue"],
            buckets=LATENCY_BUCKETS_SECS,
            registry=r,
        )
        self.ack_latency = Histogram(
            "nautilus_ext_order_ack_latency_seconds",
            "Order submitted -> acknowledged (accepted or rejected) by the venue, seconds.",
            ["venue"],
            buckets=LATENCY_BUCKETS_SECS,
            registry=r,
        )
        self.fill_latency = Histogram(
            "nautilus_ext_order_fill_latency_seconds",
            "Order submitted -> first fill, seconds.",
            ["venue"],
            buckets=LATENCY_BUCKETS_SECS,
            registry=r,
        )
        # -- the safety gate (its events) ----------------------------------------------------
        self.gate_decisions = Counter(
            "nautilus_ext_gate_decisions",
            "Safety gate decisions on orders and amends.",
            ["action"],
            registry=r,
        )
        self.gate_denials = Counter(
            "nautilus_ext_gate_denials",
            "Orders and amends the safety gate refused, by taxonomy code and rule.",
            ["code", "rule"],
            registry=r,
        )
        self.safe_mode_entries = Counter(
            "nautilus_ext_safe_mode_entries", "SAFE mode entries (first cause).", ["code", "rule"], registry=r
        )
        self.operator_commands = Counter(
            "nautilus_ext_operator_commands",
            "Operator commands (arm, confirm, kill, resume...) by outcome.",
            ["command", "outcome"],
            registry=r,
        )
        # -- the safety gate (its status) ----------------------------------------------------
        self.safe_mode = Gauge("nautilus_ext_safe_mode", "1 while the node is in SAFE mode.", registry=r)
        self.armed = Gauge("nautilus_ext_armed", "1 while LIVE execution is armed.", registry=r)
        self.arm_expires = Gauge(
            "nautilus_ext_arm_expires_timestamp_seconds",
            "When the current arm expires (0: not armed).",
            registry=r,
        )
        self.strategy_killed = Gauge(
            "nautilus_ext_strategy_killed",
            "1 while a strategy's kill switch is engaged.",
            ["strategy"],
            registry=r,
        )
        self.recovery_problems = Gauge(
            "nautilus_ext_recovery_problems",
            "Checks that still block leaving SAFE mode (besides the incident reference).",
            registry=r,
        )
        self.staged_intents = Gauge(
            "nautilus_ext_staged_intents", "Intents staged and awaiting a human confirmation.", registry=r
        )
        self.feed_staleness = Gauge(
            "nautilus_ext_feed_staleness_seconds",
            "Age of the latest message per feed (market data per asset, WebSocket per venue), seconds.",
            ["kind", "feed"],
            registry=r,
        )
        self.internal_position = Gauge(
            "nautilus_ext_gate_position",
            "The gate's running sum of fills per position key (signed).",
            ["asset"],
            registry=r,
        )
        self.position_dirty = Gauge(
            "nautilus_ext_position_dirty",
            "1 while a position key has fills not yet confirmed by the venue.",
            ["asset"],
            registry=r,
        )
        # -- portfolio (Nautilus cache) ------------------------------------------------------
        self.position = Gauge(
            "nautilus_ext_position",
            "Net open position per instrument (signed, instrument units).",
            ["venue", "instrument"],
            registry=r,
        )
        self.pnl = Gauge(
            "nautilus_ext_strategy_pnl",
            "Strategy PnL in its settlement currency (kind realized or unrealized).",
            ["strategy", "currency", "kind"],
            registry=r,
        )
        self.balance = Gauge(
            "nautilus_ext_account_balance",
            "Account balance per currency (kind total, free or locked).",
            ["venue", "currency", "kind"],
            registry=r,
        )
        self.margin_ratio = Gauge(
            "nautilus_ext_margin_ratio",
            "Maintenance margin / total balance per margin account currency (1 means liquidation).",
            ["venue", "currency"],
            registry=r,
        )
        self.health_factor = Gauge(
            "nautilus_ext_health_factor",
            "Lending account health factor (below 1 liquidatable).",
            ["account", "protocol"],
            registry=r,
        )
        self.funding_collected = Gauge(
            "nautilus_ext_funding_collected",
            "Cumulative funding booked since the node started (positive received, negative paid).",
            ["venue", "currency"],
            registry=r,
        )
        self.funding_payments = Counter(
            "nautilus_ext_funding_payments", "Funding payments booked.", ["venue"], registry=r
        )
        # label sets last seen per gauge, so a position that went flat or a released kill is
        # set to 0 instead of repeating a stale value
        self._seen: dict[str, set[tuple[str, ...]]] = {}

    # -- order events ---------------------------------------------------------------------------

    def on_submitted(self, venue: str, strategy: str, latency_ns: int | None) -> None:
        """Count an order handed to a venue client (``latency_ns``: since it was created)."""
        self.orders_submitted.labels(venue, strategy).inc()
        if latency_ns is not None:
            self.request_latency.labels(venue).observe(max(0, latency_ns) / _NS)

    def on_accepted(self, venue: str, strategy: str, latency_ns: int | None) -> None:
        """Count an acknowledged order (``latency_ns``: since it was submitted)."""
        self.orders_accepted.labels(venue, strategy).inc()
        if latency_ns is not None:
            self.ack_latency.labels(venue).observe(max(0, latency_ns) / _NS)

    def on_rejected(self, venue: str, reason: str | None, latency_ns: int | None) -> None:
        """Count an order the venue refused (its reason's leading taxonomy code)."""
        self.rejects.labels(venue, "venue", reason_code(reason, str(ErrorCode.ORDER_REJECTED))).inc()
        if latency_ns is not None:
            self.ack_latency.labels(venue).observe(max(0, latency_ns) / _NS)

    def on_denied(self, venue: str, reason: str | None) -> None:
        """Count an order the node refused before the venue (the gate's chokepoint or RiskEngine)."""
        self.rejects.labels(venue, "node", reason_code(reason, "RISK_ENGINE")).inc()

    def on_canceled(self, venue: str, strategy: str) -> None:
        """Count a canceled order."""
        self.orders_canceled.labels(venue, strategy).inc()

    def on_fill(
        self, venue: str, strategy: str, instrument: str, side: str, quantity: Decimal, latency_ns: int | None
    ) -> None:
        """Count a fill (``latency_ns``: since the order was submitted, first fill only)."""
        self.fills.labels(venue, strategy, instrument, side).inc()
        self.filled_quantity.labels(venue, instrument, side).inc(float(quantity))
        if latency_ns is not None:
            self.fill_latency.labels(venue).observe(max(0, latency_ns) / _NS)

    # -- safety ---------------------------------------------------------------------------------

    def on_safety_event(self, event: SafetyEvent) -> None:
        """Count gate decisions and denials, SAFE entries and operator commands."""
        # a decision names the order it judged; other risk events are state changes (halts...)
        decided = "operation_id" in event.details or "client_order_id" in event.details
        if event.risk_action in (RiskAction.ALLOW, RiskAction.BLOCK) and decided:
            self.gate_decisions.labels(str(event.risk_action)).inc()
        if event.risk_action is RiskAction.BLOCK and event.code is not None:
            self.gate_denials.labels(event.code, event.rule or "unknown").inc()
        if event.safeguard is SafeguardKind.SAFE_MODE_ENTER and not event.message.startswith(
            "(already SAFE)"
        ):
            self.safe_mode_entries.labels(event.code or "unknown", event.rule or "unknown").inc()
        if event.command is not None and event.outcome is not None:
            self.operator_commands.labels(str(event.command), str(event.outcome)).inc()

    def on_status(self, status: Mapping[str, Any]) -> None:
        """Set the gauges of the gate's ``status()`` (see :meth:`SafetyGate.status`)."""
        self.safe_mode.set(1 if status.get("safe") else 0)
        self.armed.set(1 if status.get("armed") else 0)
        expires = status.get("arm_expires_at_ns")
        self.arm_expires.set(0 if expires is None else int(expires) / _NS)
        self.recovery_problems.set(len(status.get("recovery_problems") or []))
        self.staged_intents.set(len(status.get("staged") or []))
        killed: dict[tuple[str, ...], float] = {(str(s),): 1.0 for s in status.get("killed_strategies") or []}
        self._set_all("strategy_killed", self.strategy_killed, killed)
        feeds: dict[tuple[str, ...], float] = {}
        for key, age_ms in (status.get("feed_age_ms") or {}).items():
            kind, _, name = str(key).partition(":")
            feeds[("market_data" if kind == "md" else "websocket", name)] = int(age_ms) / 1000
        self._set_all("feed_staleness", self.feed_staleness, feeds)
        positions: dict[tuple[str, ...], float] = {
            (str(a),): float(Decimal(q)) for a, q in (status.get("positions") or {}).items()
        }
        self._set_all("internal_position", self.internal_position, positions)
        dirty: dict[tuple[str, ...], float] = {(str(a),): 1.0 for a in status.get("dirty") or []}
        self._set_all(
            "position_dirty", self.position_dirty, dirty | dict.fromkeys(positions.keys() - dirty, 0.0)
        )

    # -- portfolio ------------------------------------------------------------------------------

    def set_positions(self, positions: Mapping[tuple[str, str], Decimal]) -> None:
        """Set the net position per ``(venue, instrument)``; others seen before go to 0."""
        self._set_all("position", self.position, {k: float(v) for k, v in positions.items()})

    def set_pnls(self, pnls: Mapping[tuple[str, str, str], Decimal]) -> None:
        """Set the PnL per ``(strategy, currency, kind)``."""
        self._set_all("pnl", self.pnl, {k: float(v) for k, v in pnls.items()})

    def set_balances(self, balances: Mapping[tuple[str, str, str], Decimal]) -> None:
        """Set the balance per ``(venue, currency, kind)``."""
        self._set_all("balance", self.balance, {k: float(v) for k, v in balances.items()})

    def set_margin_ratios(self, ratios: Mapping[tuple[str, str], Decimal]) -> None:
        """Set the margin ratio per ``(venue, currency)``."""
        self._set_all("margin_ratio", self.margin_ratio, {k: float(v) for k, v in ratios.items()})

    def on_health_factor(self, update: HealthFactorUpdate) -> None:
        """Set a lending account's health factor."""
        self.health_factor.labels(update.account, update.protocol).set(float(update.health_factor))

    def on_funding(self, payment: FundingCollected) -> None:
        """Add a booked funding payment."""
        self.funding_collected.labels(payment.venue, payment.currency).inc(float(payment.amount))
        self.funding_payments.labels(payment.venue).inc()

    def _set_all(self, name: str, gauge: Gauge, values: Mapping[tuple[str, ...], float]) -> None:
        for labels in self._seen.get(name, set()) - values.keys():
            gauge.labels(*labels).set(0)
        for labels, value in values.items():
            gauge.labels(*labels).set(value)
        self._seen[name] = self._seen.get(name, set()) | set(values)

    # -- names ----------------------------------------------------------------------------------

    def names(self) -> set[str]:
        """Return every sample name the registry exposes (with ``_total``, ``_bucket``... suffixes)."""
        return sample_names(self.registry.collect())


def sample_names(families: Iterable[Any]) -> set[str]:
    """Return the sample names a registry's metric families expose (``_total``, ``_bucket``...)."""
    names: set[str] = set()
    for family in families:
        if family.type == "counter":
            names |= {f"{family.name}_total", f"{family.name}_created"}
        elif family.type == "histogram":
            names |= {f"{family.name}_{s}" for s in ("bucket", "count", "sum", "created")}
        else:
            names.add(family.name)
    return names


METRIC_NAMES: Final = frozenset(NodeMetrics().names())
"""Every sample name the exporter can expose (what dashboards may reference)."""


__all__ = ["LATENCY_BUCKETS_SECS", "METRIC_NAMES", "NodeMetrics", "reason_code", "sample_names"]
