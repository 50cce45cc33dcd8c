"""
The safety layer inside a live ``TradingNode``: gate, chokepoint, control endpoint, audit.

:func:`attach_safety` is called by :func:`nautilus_ext.live.node.build_trading_node` after the
node is built. It creates the :class:`~nautilus_ext.safety.SafetyGate` on the node's clock,
installs the :class:`~nautilus_ext.safety.chokepoint.GateChokepoint` in front of the execution
engine (so every order of every strategy and execution algorithm passes the gate), hands the
gate to the node's unified strategies, and adds a :class:`SafetyActor` that on a timer:

* runs the operator commands queued by the control endpoint (``nautilus-ext arm``, ``confirm``,
  ``kill`` ...) on the node's own thread, where the gate lives;
* feeds each strategy's PnL (realised plus unrealised, from Nautilus positions) to the loss
  limits;
* evaluates time-based transitions and mirrors the gate into the RiskEngine's ``TradingState``;
* publishes the gate's ``status()`` on ``nautilus_ext.safety.status`` when something (the
  operator's metrics exporter) subscribes.

Every safety event is also published on ``nautilus_ext.safety.events`` (operator surfaces
listen there, never to the gate directly).

Safety events (decisions, commands, safeguards) go to the node's audit log when it has one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from nautilus_trader.common.actor import Actor
from nautilus_trader.common.config import ActorConfig
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import GeneratePositionStatusReports
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import PriceType

from nautilus_ext.audit.context import AuditContext
from nautilus_ext.audit.context import WallClock
from nautilus_ext.audit.store import AuditStore
from nautilus_ext.audit.store import AuditStoreConfig
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.messages import publish_venue_positions
from nautilus_ext.messages import publishes_venue_positions
from nautilus_ext.messages import watched_instruments
from nautilus_ext.mode import Mode
from nautilus_ext.safety.chokepoint import GateChokepoint
from nautilus_ext.safety.chokepoint import install_chokepoint
from nautilus_ext.safety.chokepoint import is_betting
from nautilus_ext.safety.config import SafetyConfig
from nautilus_ext.safety.control import ControlEndpoint
from nautilus_ext.safety.control import run_command
from nautilus_ext.safety.events import SAFETY_CONTROL_ENDPOINT
from nautilus_ext.safety.events import SAFETY_EVENTS_TOPIC
from nautilus_ext.safety.events import SAFETY_STATUS_TOPIC
from nautilus_ext.safety.events import AuditSink
from nautilus_ext.safety.events import EventSink
from nautilus_ext.safety.events import log_sink
from nautilus_ext.safety.gate import SafetyGate

logger = logging.getLogger(__name__)

TIMER_NAME = "nautilus_ext_safety_tick"
POSITIONS_TIMER_NAME = "nautilus_ext_safety_positions"


class SafetyActorConfig(ActorConfig, frozen=True):
    """
    Timer settings of :class:`SafetyActor`.

    Parameters
    ----------
    tick_interval_ms : int
        How often commands are processed and time-based transitions evaluated.
    position_poll_interval_ms : int
        How often the venue's own positions are requested from execution clients that do not
        publish :class:`~nautilus_ext.messages.VenuePositionSnapshot` themselves (the
        native NautilusTrader adapters; the ccxt client polls on its own). 0 turns it off.
    """

    tick_interval_ms: int = 200
    position_poll_interval_ms: int = 2_000


class SafetyActor(Actor):  # type: ignore[misc]
    """Drive the gate from the node's loop (see the module docstring)."""

    def __init__(
        self,
        config: SafetyActorConfig,
        chokepoint: GateChokepoint,
        control: ControlEndpoint | None = None,
        store: AuditStore | None = None,
    ) -> None:
        super().__init__(config)
        self.chokepoint = chokepoint
        self.control = control
        self._store = store
        self._interval = timedelta(milliseconds=config.tick_interval_ms)
        self._positions_interval_ms = config.position_poll_interval_ms
        self._exec_engine: Any = None
        self._polling: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def poll_positions_of(self, exec_engine: Any) -> None:
        """Poll venue positions from ``exec_engine``'s clients that do not publish them."""
        self._exec_engine = exec_engine

    @property
    def gate(self) -> SafetyGate:
        """Return the gate."""
        return self.chokepoint.gate

    def on_start(self) -> None:
        with contextlib.suppress(RuntimeError):  # started outside a loop: no position polls
            self._loop = asyncio.get_running_loop()
        if self.control is not None:
            self.control.start()
        self.msgbus.register(SAFETY_CONTROL_ENDPOINT, self._on_control_request)
        self.clock.set_timer(TIMER_NAME, self._interval, callback=self._on_tick)
        if self._exec_engine is not None and self._positions_interval_ms > 0:
            self.clock.set_timer(
                POSITIONS_TIMER_NAME,
                timedelta(milliseconds=self._positions_interval_ms),
                callback=self._on_positions_timer,
            )
        self.chokepoint.tick()

    def on_stop(self) -> None:
        if SAFETY_CONTROL_ENDPOINT in self.msgbus.endpoints():
            self.msgbus.deregister(SAFETY_CONTROL_ENDPOINT, self._on_control_request)
        for name in (TIMER_NAME, POSITIONS_TIMER_NAME):
            if name in self.clock.timer_names:
                self.clock.cancel_timer(name)
        if self.control is not None:
            self.control.stop()
        if self._store is not None:
            self._store.flush()

    def on_dispose(self) -> None:
        if self.control is not None:  # a node built and disposed unstarted (live --check) too
            self.control.stop()
        self.chokepoint.uninstall()
        if self._store is not None:
            self._store.close()
            self._store = None

    def _on_tick(self, event: TimeEvent) -> None:
        # a LiveClock timer thread: operator commands and PnL reach the gate under the
        # chokepoint's lock, like every order and feed on the node's loop
        with self.chokepoint.lock:
            if self.control is not None:
                self.control.process_pending()
            for strategy_id, pnl in self.strategy_pnls().items():
                self.gate.update_pnl(strategy_id, pnl)
            self.chokepoint.tick()
            if self.msgbus.has_subscribers(SAFETY_STATUS_TOPIC):
                self.msgbus.publish(SAFETY_STATUS_TOPIC, self.gate.status())

    def _on_control_request(self, request: tuple[dict[str, Any], Future[dict[str, Any]]]) -> None:
        # an in-process operator surface (the web console, the Telegram bot): the same command
        # path as the HTTP endpoint (its listeners included), under the gate's lock
        body, future = request
        with self.chokepoint.lock:
            reply = self.control.execute(body) if self.control is not None else run_command(self.gate, body)
            # the surface's next page shows the state after its own command, not a tick before it
            if self.msgbus.has_subscribers(SAFETY_STATUS_TOPIC):
                self.msgbus.publish(SAFETY_STATUS_TOPIC, self.gate.status())
        if future.set_running_or_notify_cancel():
            future.set_result(reply)

    def _on_positions_timer(self, event: TimeEvent) -> None:
        clients = getattr(self._exec_engine, "_clients", {}) or {}
        for client in clients.values():
            if publishes_venue_positions(client) or client.id.value in self._polling:
                continue  # the client publishes its own snapshots (ccxt); one poll in flight each
            if not hasattr(client, "generate_position_status_reports"):
                continue
            if self._loop is None:
                continue
            self._polling.add(client.id.value)
            # LiveClock runs timer callbacks on its own thread, outside the node's loop
            # (asyncio.get_running_loop() raises there): hand the poll to the loop thread-safely
            asyncio.run_coroutine_threadsafe(self._poll_client(client), self._loop)

    async def _poll_client(self, client: Any) -> None:
        try:
            command = GeneratePositionStatusReports(
                instrument_id=None,
                start=None,
                end=None,
                command_id=UUID4(),
                ts_init=self.clock.timestamp_ns(),
            )
            reports = await client.generate_position_status_reports(command)
            reported = {r.instrument_id: r.signed_decimal_qty for r in reports}
            if client.venue is not None:
                watched = watched_instruments(self.cache, client.venue)
                if watched or reported:
                    publish_venue_positions(
                        self.msgbus, client.venue, watched, reported, self.clock.timestamp_ns()
                    )
                return
            # a multi-venue client (Interactive Brokers: one account, instruments on XCME,
            # XCBT ...): its account's orders and positions, one snapshot per instrument venue
            account_id = getattr(client, "account_id", None)
            watched = {o.instrument_id for o in self.cache.orders() if o.account_id == account_id}
            watched |= {p.instrument_id for p in self.cache.positions() if p.account_id == account_id}
            for venue in {i.venue for i in watched | set(reported)}:
                publish_venue_positions(
                    self.msgbus,
                    venue,
                    {i for i in watched if i.venue == venue},
                    {i: q for i, q in reported.items() if i.venue == venue},
                    self.clock.timestamp_ns(),
                )
        except Exception as e:  # a failed poll is no confirmation: the dirty flag ages into SAFE
            self.log.warning(f"Position poll of {client.id} failed: {e!r}")
        finally:
            self._polling.discard(client.id.value)

    def strategy_pnls(self) -> dict[str, Decimal]:
        """
        Return each strategy's PnL: realised plus unrealised over its positions.

        Betting positions are left out (see the comment in the loop). Unrealised PnL uses the
        mid (else last) price in the cache; amounts are summed in
        their settlement currency (one settlement currency per node is assumed, as the loss
        limits are single-currency).
        """
        pnls: dict[str, Decimal] = {}
        for position in self.cache.positions():
            total = pnls.setdefault(position.strategy_id.value, Decimal(0))
            if is_betting(self.cache, position.instrument_id):
                # NautilusTrader values a bet like a price position (odds x stake), far from
                # what it can win or lose: bets are bounded by liability (the gate's betting
                # limits) and realise their P&L at settlement, not here
                continue
            if position.realized_pnl is not None:
                total += position.realized_pnl.as_decimal()
            if position.is_open:
                price = self.cache.price(position.instrument_id, PriceType.MID) or self.cache.price(
                    position.instrument_id, PriceType.LAST
                )
                if price is not None:
                    total += position.unrealized_pnl(price).as_decimal()
            pnls[position.strategy_id.value] = total
        return pnls


@dataclass
class NodeSafety:
    """What :func:`attach_safety` installed (for tests and the CLI)."""

    gate: SafetyGate
    chokepoint: GateChokepoint
    actor: SafetyActor
    control: ControlEndpoint | None
    store: AuditStore | None


def attach_safety(
    node: TradingNode | Any,
    config: SafetyConfig,
    *,
    control_port: int | None,
    control_token_env: str,
    tick_interval_ms: int,
    audit_root: str | None = None,
    audit_fsync: bool = True,
    observer: EventSink | None = None,
    exec_forward: Any = None,
) -> NodeSafety:
    """
    Install the safety layer in a built (not yet running) node; return its parts.

    ``node`` is a ``TradingNode`` or a ``BacktestEngine`` (anything with the built ``kernel``
    and ``trader``): backtests and REPLAY install the same gate and chokepoint this way, with
    no control endpoint (``control_port=None``).

    Raises
    ------
    InvalidConfig
        If a control endpoint is wanted and its token variable is unset or too short.

    ``observer`` also receives every safety event (a backtest counts its denials this way).
    ``exec_forward`` is the handler the ``ExecEngine.execute`` endpoint points at when it is not
    the engine's ``execute`` (a recorded DRY_RUN runs its engines synchronously).
    """
    kernel = node.kernel
    control_token = None
    if control_port is not None:
        control_token = os.environ.get(control_token_env)
        if not control_token:
            raise InvalidConfig(
                f"the safety control endpoint needs a token in ${control_token_env} "
                "(at least 32 characters; never put it in a config file)"
            )
    store: AuditStore | None = None
    sink: EventSink = log_sink
    if audit_root is not None:
        from nautilus_ext.audit.hashing import code_version_hash
        from nautilus_ext.audit.hashing import config_hash

        store = AuditStore(AuditStoreConfig(root=audit_root, fsync=audit_fsync))
        context = AuditContext(
            mode=config.mode,
            strategy_id="SAFETY",
            version_hash=code_version_hash(SafetyGate, extra_modules=[GateChokepoint]),
            # the limits without the mode: a REPLAY of a run hashes the same as the run
            config_hash=config_hash(config.model_dump(mode="json", exclude={"mode"})),
            clock=kernel.clock,
            wall_clock=WallClock(),
        )
        sink = AuditSink(store.append, context)
    if observer is not None:
        sink = _both(sink, observer)
    sink = _both(sink, _publisher(kernel.msgbus))
    gate = SafetyGate(config, kernel.clock, sink=sink, alert=_alert)
    chokepoint = install_chokepoint(
        gate,
        msgbus=kernel.msgbus,
        cache=kernel.cache,
        exec_engine=kernel.exec_engine if exec_forward is None else _Endpoint(exec_forward),
        risk_engine=kernel.risk_engine,
    )
    control = None
    if control_port is not None and control_token is not None:
        control = ControlEndpoint(gate, control_token, port=control_port)
    actor = SafetyActor(SafetyActorConfig(tick_interval_ms=tick_interval_ms), chokepoint, control, store)
    actor.poll_positions_of(kernel.exec_engine)
    node.trader.add_actor(actor)
    # a strategy that takes a gate (UnifiedExecutionStrategy's ``safety_gate``) gets this one: a
    # capability check, so safety/ does not import the execution service that imports it
    for strategy in node.trader.strategies():
        if hasattr(strategy, "safety_gate") and strategy.safety_gate is None:
            strategy.safety_gate = gate
    if config.mode is Mode.LIVE:
        logger.warning("LIVE safety gate installed: orders need an arm and a confirmation")
    return NodeSafety(gate=gate, chokepoint=chokepoint, actor=actor, control=control, store=store)


@dataclass(frozen=True)
class _Endpoint:
    # what install_chokepoint takes over: an object whose ``execute`` the endpoint points at
    execute: Any


def _both(first: EventSink, second: EventSink) -> EventSink:
    def sink(event: Any) -> None:
        first(event)
        second(event)

    return sink


def _publisher(msgbus: Any) -> EventSink:
    # operator surfaces (metrics, consoles) subscribe to the bus, never to the gate itself
    def publish(event: Any) -> None:
        msgbus.publish(SAFETY_EVENTS_TOPIC, event)

    return publish


def _alert(halt: Any, strategy_id: str | None) -> None:
    scope = "SAFE mode" if strategy_id is None else f"strategy {strategy_id} killed"
    logger.critical("SAFETY ALERT: %s: %s (%s)", scope, halt.message, halt.code)


__all__ = ["NodeSafety", "SafetyActor", "SafetyActorConfig", "attach_safety"]
