"""
The metrics exporter inside a live ``TradingNode``: an ``Actor`` that listens to the message
bus and serves :class:`~nautilus_ext.operator.metrics.NodeMetrics` at ``/metrics``.

It reads only what the bus carries and the cache holds, never the gate itself:

* Nautilus order events (``events.order.*``): submitted, accepted, rejected (by the venue),
  denied (by the gate's chokepoint or the RiskEngine), canceled, filled, and the
  request/ack/fill latencies per venue;
* the safety layer's events (``nautilus_ext.safety.events``: gate decisions and denials by rule,
  SAFE entries, operator commands) and status (``nautilus_ext.safety.status``: SAFE, arm,
  kills, feed staleness, the gate's positions and dirty flags);
* ``nautilus_ext.funding_collected.*`` and ``nautilus_ext.health_factor.*``
  (:mod:`nautilus_ext.messages`);
* on a timer, the cache: net positions, strategy PnL (realised and unrealised at the mid, else
  last price), balances and margin ratios.

A live node gets it from the ``metrics:`` section of its YAML (opt-in; bound to 127.0.0.1).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_trader.common.actor import Actor
from nautilus_trader.common.config import ActorConfig
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.model.enums import PriceType
from nautilus_trader.model.enums import order_side_to_str
from nautilus_trader.model.events import OrderAccepted
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderExpired
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.events import OrderSubmitted

from nautilus_ext.messages import FUNDING_COLLECTED_TOPIC
from nautilus_ext.messages import HEALTH_FACTOR_TOPIC
from nautilus_ext.messages import FundingCollected
from nautilus_ext.messages import HealthFactorUpdate
from nautilus_ext.operator.exporter import MetricsServer
from nautilus_ext.operator.metrics import NodeMetrics
from nautilus_ext.safety.events import SAFETY_EVENTS_TOPIC
from nautilus_ext.safety.events import SAFETY_STATUS_TOPIC
from nautilus_ext.safety.events import SafetyEvent

ORDER_EVENTS_TOPIC: Final = "events.order.*"
TIMER_NAME: Final = "nautilus_ext_metrics_refresh"


class PrometheusMetricsConfig(ActorConfig, frozen=True):
    """
    Settings of :class:`PrometheusMetricsActor`.

    Parameters
    ----------
    host : str
        Address the exporter binds (default loopback).
    port : int
        TCP port of ``/metrics`` (0 picks a free one).
    allow_remote : bool
        Permit a non-loopback ``host``.
    refresh_interval_ms : int
        How often positions, PnL, balances and margin are read from the cache.
    """

    host: str = "127.0.0.1"
    port: int = 9464
    allow_remote: bool = False
    refresh_interval_ms: int = 1_000

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65_535:
            raise ValueError(f"metrics port must be 0..65535, got {self.port}")
        if self.refresh_interval_ms <= 0:
            raise ValueError(f"refresh_interval_ms must be positive, got {self.refresh_interval_ms}")


class PrometheusMetricsActor(Actor):  # type: ignore[misc]
    """
    Export the node's metrics (see the module docstring).

    Raises
    ------
    InvalidConfig
        At construction (the node's build), if the exporter cannot bind its address.
    """

    def __init__(self, config: PrometheusMetricsConfig) -> None:
        super().__init__(config)
        self.metrics = NodeMetrics()
        self.server = MetricsServer(
            self.metrics.registry, config.host, config.port, allow_remote=config.allow_remote
        )
        self._interval = timedelta(milliseconds=config.refresh_interval_ms)
        self._submitted_ns: dict[str, int] = {}
        self._filled: set[str] = set()
        self._handlers: list[tuple[str, Any]] = [
            (ORDER_EVENTS_TOPIC, self._on_order_event),
            (SAFETY_EVENTS_TOPIC, self._on_safety_event),
            (SAFETY_STATUS_TOPIC, self._on_status),
            (FUNDING_COLLECTED_TOPIC, self._on_funding),
            (HEALTH_FACTOR_TOPIC, self._on_health_factor),
        ]

    @property
    def url(self) -> str:
        """Return the scrape URL."""
        return self.server.url

    def on_start(self) -> None:
        for topic, handler in self._handlers:
            self.msgbus.subscribe(topic, handler)
        self.clock.set_timer(TIMER_NAME, self._interval, callback=self._on_timer)
        self.server.start()

    def on_stop(self) -> None:
        if TIMER_NAME in self.clock.timer_names:
            self.clock.cancel_timer(TIMER_NAME)
        for topic, handler in self._handlers:
            self.msgbus.unsubscribe(topic, handler)

    def on_dispose(self) -> None:
        self.server.stop()

    # -- bus handlers -----------------------------------------------------------------------------

    def _on_order_event(self, event: Any) -> None:
        venue = event.instrument_id.venue.value
        strategy = event.strategy_id.value
        coid = event.client_order_id.value
        if isinstance(event, OrderSubmitted):
            order = self.cache.order(event.client_order_id)
            self._submitted_ns[coid] = event.ts_event
            self.metrics.on_submitted(
                venue, strategy, None if order is None else event.ts_event - order.ts_init
            )
        elif isinstance(event, OrderAccepted):
            submitted = self._submitted_ns.get(coid)
            self.metrics.on_accepted(
                venue, strategy, None if submitted is None else event.ts_event - submitted
            )
        elif isinstance(event, OrderRejected):
            submitted = self._submitted_ns.pop(coid, None)
            self.metrics.on_rejected(
                venue, event.reason, None if submitted is None else event.ts_event - submitted
            )
        elif isinstance(event, OrderDenied):
            self.metrics.on_denied(venue, event.reason)
        elif isinstance(event, OrderFilled):
            submitted = self._submitted_ns.get(coid)
            first = coid not in self._filled
            self._filled.add(coid)
            self.metrics.on_fill(
                venue,
                strategy,
                event.instrument_id.value,
                order_side_to_str(event.order_side),
                event.last_qty.as_decimal(),
                None if submitted is None or not first else event.ts_event - submitted,
            )
            order = self.cache.order(event.client_order_id)
            if order is None or order.is_closed:
                self._forget(coid)
        elif isinstance(event, OrderCanceled | OrderExpired):
            if isinstance(event, OrderCanceled):
                self.metrics.on_canceled(venue, strategy)
            self._forget(coid)

    def _forget(self, coid: str) -> None:
        self._submitted_ns.pop(coid, None)
        self._filled.discard(coid)

    def _on_safety_event(self, event: SafetyEvent) -> None:
        self.metrics.on_safety_event(event)

    def _on_status(self, status: dict[str, Any]) -> None:
        self.metrics.on_status(status)

    def _on_funding(self, payment: FundingCollected) -> None:
        self.metrics.on_funding(payment)

    def _on_health_factor(self, update: HealthFactorUpdate) -> None:
        self.metrics.on_health_factor(update)

    # -- the cache, on a timer ----------------------------------------------------------------------

    def _on_timer(self, event: TimeEvent) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Read positions, PnL, balances and margin ratios from the cache into the gauges."""
        positions: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        pnls: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
        for position in self.cache.positions():
            iid = position.instrument_id
            strategy = position.strategy_id.value
            if position.realized_pnl is not None:
                money = position.realized_pnl
                pnls[(strategy, money.currency.code, "realized")] += money.as_decimal()
            if not position.is_open:
                continue
            positions[(iid.venue.value, iid.value)] += position.signed_decimal_qty()
            price = self.cache.price(iid, PriceType.MID) or self.cache.price(iid, PriceType.LAST)
            if price is not None:
                money = position.unrealized_pnl(price)
                pnls[(strategy, money.currency.code, "unrealized")] += money.as_decimal()
        self.metrics.set_positions(positions)
        self.metrics.set_pnls(pnls)
        balances: dict[tuple[str, str, str], Decimal] = {}
        ratios: dict[tuple[str, str], Decimal] = {}
        for account in self.cache.accounts():
            venue = account.id.get_issuer()
            for kind, values in (
                ("total", account.balances_total()),
                ("free", account.balances_free()),
                ("locked", account.balances_locked()),
            ):
                for currency, money in values.items():
                    balances[(venue, currency.code, kind)] = money.as_decimal()
            if account.is_margin_account:
                for currency, total in account.balances_total().items():
                    if total.as_decimal() > 0:
                        maint = account.total_margin_maint(currency).as_decimal()
                        ratios[(venue, currency.code)] = maint / total.as_decimal()
        self.metrics.set_balances(balances)
        self.metrics.set_margin_ratios(ratios)


__all__ = ["ORDER_EVENTS_TOPIC", "PrometheusMetricsActor", "PrometheusMetricsConfig"]
