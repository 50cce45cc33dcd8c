"""
The web console inside a live ``TradingNode``: an ``Actor`` that keeps a
:class:`~nautilus_ext.operator.web.state.ConsoleState` from the bus and the cache, serves the
FastAPI application with uvicorn on its own thread, and sends the console's commands to the
safety layer's bus endpoint (:data:`~nautilus_ext.safety.events.SAFETY_CONTROL_ENDPOINT`), the
same :func:`~nautilus_ext.safety.control.run_command` path the CLI reaches over HTTP.

A live node gets it from the ``web:`` section of its YAML (opt-in; loopback unless configured).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_trader.common.actor import Actor
from nautilus_trader.common.config import ActorConfig
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.model.enums import PriceType
from nautilus_trader.model.enums import order_side_to_str
from nautilus_trader.model.enums import order_status_to_str
from nautilus_trader.model.enums import order_type_to_str
from nautilus_trader.model.events import OrderFilled

from nautilus_ext.audit.lineage import Lineage
from nautilus_ext.audit.lineage import show
from nautilus_ext.audit.schemas import SafeguardKind
from nautilus_ext.messages import HEALTH_FACTOR_TOPIC
from nautilus_ext.messages import HealthFactorUpdate
from nautilus_ext.operator.alerts import alert_of
from nautilus_ext.operator.alerts import margin_alert
from nautilus_ext.operator.bridge import NodeBridge
from nautilus_ext.operator.web.app import create_app
from nautilus_ext.operator.web.auth import Authenticator
from nautilus_ext.operator.web.auth import users_from_env
from nautilus_ext.operator.web.server import ConsoleServer
from nautilus_ext.operator.web.state import ConsoleState
from nautilus_ext.operator.web.state import FillRow
from nautilus_ext.operator.web.state import OrderRow
from nautilus_ext.operator.web.state import PnlRow
from nautilus_ext.safety.events import SAFETY_EVENTS_TOPIC
from nautilus_ext.safety.events import SAFETY_STATUS_TOPIC
from nautilus_ext.safety.events import SafetyEvent

logger = logging.getLogger(__name__)

TIMER_NAME: Final = "nautilus_ext_web_console"
USERS_ENV: Final = "NAUTILUS_EXT_WEB_USERS"
_LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})


class WebConsoleConfig(ActorConfig, frozen=True):
    """
    Settings of :class:`WebConsoleActor`.

    Parameters
    ----------
    host : str
        Address to bind (loopback unless ``allow_remote``).
    port : int
        TCP port (0 picks a free one; see :attr:`WebConsoleActor.url`).
    allow_remote : bool
        Permit a non-loopback ``host`` (put TLS in front and set ``secure_cookies``).
    users_env : str
        Environment variable with the users (``name:role:secret``, comma separated).
    session_ttl_secs : int
        Absolute session lifetime, seconds.
    max_login_failures : int
        Failed logins per client address before a lockout.
    lockout_secs : int
        Lockout duration, seconds.
    actions_per_minute : int
        Commands one user may send per minute.
    secure_cookies : bool
        Mark cookies ``Secure``.
    audit_root : str, optional
        The node's audit root (``<root>/safety`` and ``<root>/strategies/<n>`` are searched).
    refresh_interval_ms : int
        How often commands are sent and the cache is read.
    command_timeout_secs : float
        How long an action waits for the node's reply.
    margin_alert_threshold : str
        A health factor below this is a margin-breach alert (decimal string).
    """

    host: str = "127.0.0.1"
    port: int = 8765
    allow_remote: bool = False
    users_env: str = USERS_ENV
    session_ttl_secs: int = 3600
    max_login_failures: int = 5
    lockout_secs: int = 300
    actions_per_minute: int = 30
    secure_cookies: bool = False
    audit_root: str | None = None
    refresh_interval_ms: int = 200
    command_timeout_secs: float = 10.0
    margin_alert_threshold: str = "1.2"

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65_535:
            raise ValueError(f"web console port must be 0..65535, got {self.port}")
        if self.host not in _LOOPBACK and not self.allow_remote:
            raise ValueError(f"web console host {self.host!r}: loopback unless allow_remote is true")
        if self.refresh_interval_ms <= 0 or self.session_ttl_secs <= 0:
            raise ValueError("refresh_interval_ms and session_ttl_secs must be positive")


class WebConsoleActor(Actor):  # type: ignore[misc]
    """
    Serve the web console of the node it runs in (see the module docstring).

    Raises
    ------
    InvalidConfig
        At construction (the node's build), if the users variable is unset or malformed or the
        address cannot be bound.
    """

    def __init__(self, config: WebConsoleConfig) -> None:
        super().__init__(config)
        self.console = ConsoleState()
        self._auth = Authenticator(
            users_from_env(config.users_env, os.environ),
            session_ttl_secs=config.session_ttl_secs,
            max_failures=config.max_login_failures,
            lockout_secs=config.lockout_secs,
        )
        self._interval = timedelta(milliseconds=config.refresh_interval_ms)
        self._margin_threshold = Decimal(config.margin_alert_threshold)
        self._audit_root = config.audit_root
        self.bridge = NodeBridge(config.command_timeout_secs)
        self.app = create_app(
            self.console,
            self._auth,
            self.command,
            None if config.audit_root is None else self.lineage,
            secure_cookies=config.secure_cookies,
            actions_per_minute=config.actions_per_minute,
        )
        self.server = ConsoleServer(self.app, config.host, config.port, allow_remote=config.allow_remote)
        self._handlers: list[tuple[str, Any]] = [
            ("events.order.*", self._on_order_event),
            (SAFETY_EVENTS_TOPIC, self._on_safety_event),
            (SAFETY_STATUS_TOPIC, self._on_status),
            (HEALTH_FACTOR_TOPIC, self._on_health_factor),
        ]

    @property
    def url(self) -> str:
        """Return the console's base URL."""
        return self.server.url

    def on_start(self) -> None:
        loop = None
        with contextlib.suppress(RuntimeError):
            loop = asyncio.get_running_loop()
        self.bridge.attach(self.msgbus, loop)
        for topic, handler in self._handlers:
            self.msgbus.subscribe(topic, handler)
        self.clock.set_timer(TIMER_NAME, self._interval, callback=self._on_timer)
        self.server.start()
        logger.info("Web console listening on %s", self.url)

    def on_stop(self) -> None:
        if TIMER_NAME in self.clock.timer_names:
            self.clock.cancel_timer(TIMER_NAME)
        for topic, handler in self._handlers:
            self.msgbus.unsubscribe(topic, handler)
        self.bridge.fail_pending("the node stopped")

    def on_dispose(self) -> None:
        self.server.stop()

    # -- commands --------------------------------------------------------------------------------

    def command(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send one control command to the node's safety layer and wait for the reply (any thread)."""
        return self.bridge.command(body)

    def lineage(self, query_id: str) -> Lineage | None:
        """Return the Decision -> Intent -> Order -> Fill chain of ``query_id`` from the node's logs."""
        if self._audit_root is None:
            return None
        root = Path(self._audit_root)
        candidates = [root / "safety", *sorted((root / "strategies").glob("*"))]
        # the logs name intents "intent:<operation id>" and fills "fill:<trade id>"; bare ids too
        queries = [query_id] if ":" in query_id else [query_id, f"intent:{query_id}", f"fill:{query_id}"]
        for candidate in candidates:
            if (candidate / "audit").exists():
                for query in queries:
                    found = show(query, str(candidate))
                    if found is not None:
                        return found
        return None

    # -- bus handlers ---------------------------------------------------------------------------

    def _on_order_event(self, event: Any) -> None:
        if isinstance(event, OrderFilled):
            self.console.add_fill(
                FillRow(
                    ts_ns=event.ts_event,
                    strategy_id=event.strategy_id.value,
                    instrument_id=event.instrument_id.value,
                    side=order_side_to_str(event.order_side),
                    qty=str(event.last_qty),
                    price=str(event.last_px),
                    client_order_id=event.client_order_id.value,
                    venue_order_id=event.venue_order_id.value,
                    trade_id=event.trade_id.value,
                )
            )

    def _on_safety_event(self, event: SafetyEvent) -> None:
        if event.asset is not None and "venue_qty" in event.details:
            self.console.set_venue_figure(
                event.asset,
                str(event.details["venue_qty"]),
                event.safeguard is SafeguardKind.RECONCILE_OK,
                event.ts_ns,
            )
        alert = alert_of(event)
        if alert is not None:
            self.console.add_alert(alert)

    def _on_status(self, status: dict[str, Any]) -> None:
        self.console.set_status(status)

    def _on_health_factor(self, update: HealthFactorUpdate) -> None:
        self.console.set_health_factor(f"{update.protocol}:{update.account}", str(update.health_factor))
        alert = margin_alert(update, self._margin_threshold)
        if alert is not None:
            self.console.add_alert(alert)

    # -- the cache, on a timer ----------------------------------------------------------------------

    def _on_timer(self, event: TimeEvent) -> None:
        self.bridge.drain()
        self.refresh()

    def refresh(self) -> None:
        """Read working orders, strategy PnL, strategies and venues from the cache."""
        orders = [
            OrderRow(
                client_order_id=o.client_order_id.value,
                strategy_id=o.strategy_id.value,
                instrument_id=o.instrument_id.value,
                side=order_side_to_str(o.side),
                order_type=order_type_to_str(o.order_type),
                qty=str(o.quantity),
                filled=str(o.filled_qty),
                price=str(o.price) if o.has_price else "market",
                status=order_status_to_str(o.status),
            )
            for o in sorted(
                [*self.cache.orders_open(), *self.cache.orders_inflight()],
                key=lambda o: o.client_order_id.value,
            )
        ]
        realized: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        unrealized: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for position in self.cache.positions():
            strategy = position.strategy_id.value
            if position.realized_pnl is not None:
                key = (strategy, position.realized_pnl.currency.code)
                realized[key] += position.realized_pnl.as_decimal()
            if position.is_open:
                iid = position.instrument_id
                price = self.cache.price(iid, PriceType.MID) or self.cache.price(iid, PriceType.LAST)
                if price is not None:
                    money = position.unrealized_pnl(price)
                    unrealized[(strategy, money.currency.code)] += money.as_decimal()
        pnl = [
            PnlRow(s, c, str(realized.get((s, c), Decimal(0))), str(unrealized.get((s, c), Decimal(0))))
            for s, c in sorted(set(realized) | set(unrealized))
        ]
        # Nautilus strategies with orders, and the unified strategy ids the gate knows (kills,
        # loss books, staged intents): a per-strategy kill names the latter
        status = self.console.snapshot().status
        named = {str(s) for s in self.cache.strategy_ids()}
        named |= set(status.get("killed_strategies") or [])
        named |= set((status.get("risk_headroom") or {}).get("strategies") or {})
        named |= {str(i["strategy_id"]) for i in status.get("staged") or []}
        strategies = sorted(named)
        venues = sorted({i.venue.value for i in self.cache.instrument_ids()})
        # maintenance margin over total balance, per margin account and currency
        margins: dict[str, str] = {}
        for account in self.cache.accounts():
            if not account.is_margin_account:
                continue
            for currency, total in account.balances_total().items():
                if total.as_decimal() > 0:
                    maint = account.total_margin_maint(currency).as_decimal()
                    ratio = (maint / total.as_decimal()).quantize(Decimal("0.0001"))
                    margins[f"{account.id.get_issuer()} {currency.code}"] = str(ratio)
        self.console.set_book(orders, pnl, strategies, venues, margins)


__all__ = ["USERS_ENV", "WebConsoleActor", "WebConsoleConfig"]
