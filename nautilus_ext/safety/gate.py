"""
The single pre-trade gate every external effect passes (seed 001, sections 4.7, 6, 12, 16.1).

:meth:`SafetyGate.check` judges one unified Order about to be placed and returns a
:class:`~nautilus_ext.safety.decision.Decision`. The checks, in order (the first that fails
blocks):

1. time-based transitions (arm expiry, dirty age, persistent mismatch);
2. dirty position on the asset (blocks even hedges: the position is unknown);
3. SAFE mode and per-strategy kill (only orders that reduce ``|position|`` pass);
4. trading hours: an order on a market that is closed (the CME Globex daily halt, the weekend,
   a holiday; :mod:`nautilus_ext.tradfi.sessions`) is blocked with rule ``market_closed``;
5. feed health (market data, venue WebSocket);
6. the risk matrix;
7. LIVE only: a valid arm and a confirmation of this exact order's hash;
8. the per-asset order rate limit.

A child an execution algorithm spawned from a released parent (``GateContext.child_of``) is
covered by the parent's LIVE confirmation, but only while the arm that released the parent is
in force: after a disarm, an expiry or SAFE mode a child may only reduce the position.

An allowed order is committed: its LIVE confirmation is spent (one confirmation, one release)
and it counts toward the rate limit and the flip-flop detector. Cancels always pass
(:meth:`SafetyGate.check_cancel`) but are audited and recorded for the flip-flop detector.
:meth:`SafetyGate.kill_and_cancel` engages a kill switch and asks every kill listener (the
node's chokepoint, a bundle gate) to cancel what is working in its scope; the
:class:`KillReport` says what was cancelled and what could not be.
:meth:`SafetyGate.check_group` judges orders that execute together (an on-chain atomic
bundle, :mod:`nautilus_ext.onchain.gated`): all pass and are committed, or none is.

Leaving SAFE mode (:meth:`SafetyGate.resume`) needs the section 16.1 checks: positions
reconciled since SAFE began, data fresh, limits confirmed by hash and not breached, an
incident report reference; it also withdraws any arm, so LIVE needs a fresh human arm after.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from nautilus_trader.model.enums import TradingState

from nautilus_ext.audit.context import Clock
from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.audit.schemas import CommandOutcome
from nautilus_ext.audit.schemas import RiskAction
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.errors import SafeModeActive
from nautilus_ext.mode import Mode
from nautilus_ext.orders.model import Operation
from nautilus_ext.orders.model import Order
from nautilus_ext.safety.arming import ArmingController
from nautilus_ext.safety.arming import ArmState
from nautilus_ext.safety.arming import StagedIntent
from nautilus_ext.safety.arming import intent_hash
from nautilus_ext.safety.betting import BettingBook
from nautilus_ext.safety.config import SafetyConfig
from nautilus_ext.safety.decision import Decision
from nautilus_ext.safety.decision import Rule
from nautilus_ext.safety.decision import risk_blocked
from nautilus_ext.safety.events import EventSink
from nautilus_ext.safety.events import SafetyEvent
from nautilus_ext.safety.events import log_sink
from nautilus_ext.safety.halts import Halt
from nautilus_ext.safety.halts import HaltState
from nautilus_ext.safety.oms import Fill
from nautilus_ext.safety.oms import OmsSafeguards
from nautilus_ext.safety.risk import RiskPolicies
from nautilus_ext.tradfi.sessions import TradingHours

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GateContext:
    """
    What the caller knows about an order at the moment it would be sent.

    Parameters
    ----------
    venue : str, optional
        The venue chosen (default: the order's ``venue`` or its key's venue).
    estimated_slippage : Decimal, optional
        Pre-trade slippage estimate, a fraction of the arrival price.
    market_data_ts_ns : int, optional
        Time of the market data the decision used, UNIX ns (default: the recorded feed time).
    asset : str, optional
        The position key (default: the order's canonical instrument key text).
    client_order_id : str, optional
        The Nautilus order that carries ``order``: an allowed order is recorded as *released*,
        so the node's chokepoint (:mod:`nautilus_ext.safety.chokepoint`) lets that exact order,
        and the children an execution algorithm spawns from it, through.
    child_of : str, optional
        Set by the chokepoint for a child of a released order: the parent's confirmation
        covers it, so the LIVE arm/confirmation step is skipped; every other check applies.
    """

    venue: str | None = None
    estimated_slippage: Decimal | None = None
    market_data_ts_ns: int | None = None
    asset: str | None = None
    client_order_id: str | None = None
    child_of: str | None = None


@dataclass(frozen=True, slots=True)
class KillReport:
    """
    What a kill did: the halt, and the cancels it requested or could not make.

    Parameters
    ----------
    halt : Halt
        The recorded halt (SAFE mode, or the strategy kill).
    strategy_id : str, optional
        The strategy killed (``None``: global).
    cancelled : tuple[str, ...]
        What was cancelled or had a cancel sent (one line each: order or bundle, venue).
    not_cancelled : tuple[str, ...]
        What is still working and why it could not be cancelled.
    """

    halt: Halt
    strategy_id: str | None
    cancelled: tuple[str, ...] = ()
    not_cancelled: tuple[str, ...] = ()


KillListener = Callable[[str | None], tuple[list[str], list[str]]]
"""Cancels what is working in a kill's scope (``None``: everything); returns (cancelled, not)."""

FlattenListener = Callable[[str, str], tuple[list[str], list[str]]]
"""Closes a strategy's open positions through the gate for ``actor``; returns (sent, not sent)."""

CancelListener = Callable[[str | None, str | None], tuple[list[str], list[str]]]
"""Cancels working orders of ``(strategy_id, venue)`` (``None``: any); returns (cancelled, not)."""


@dataclass(frozen=True, slots=True)
class _Release:
    # an order the gate released: its position key, size, and the LIVE arm it was released under
    asset: str
    amount: Decimal
    arm_id: int | None


def _reduces(position: Decimal, delta: Decimal) -> bool:
    # strictly smaller |position| without flipping sides: a hedge, no new risk
    after = position + delta
    return abs(after) < abs(position) and (after == 0 or (after > 0) == (position > 0))


class SafetyGate:
    """
    Modes, arming, kill switches, risk matrix and OMS safeguards behind one ``check``.

    Parameters
    ----------
    config : SafetyConfig
        The validated configuration (its ``mode`` decides whether arming applies).
    clock : Clock
        The injected clock (Nautilus' clock in a node; never wall time in REPLAY).
    sink : EventSink, optional
        Receives every safety event (default: the module logger).
    alert : callable, optional
        Called with ``(halt, strategy_id)`` on SAFE entry (``None``) and strategy kills.
    trading_hours : TradingHours, optional
        Session calendars for the market-closed rule (default: those of the roots in
        ``configs/tradfi/rolls.yaml``). Orders on instruments without a calendar are not
        judged by it.
    market_hours_rule : bool, default True
        Whether the market-closed rule applies at all.
    """

    def __init__(
        self,
        config: SafetyConfig,
        clock: Clock,
        *,
        sink: EventSink = log_sink,
        alert: Callable[[Halt, str | None], object] | None = None,
        trading_hours: TradingHours | None = None,
        market_hours_rule: bool = True,
    ) -> None:
        self._config = config
        self._clock = clock
        self._sink = sink
        self._user_alert = alert
        self.halts = HaltState(clock, sink, self._on_halt)
        self.arming = ArmingController(config.arming, clock, sink)
        self.risk = RiskPolicies(config.risk, clock, self.halts, sink)
        self.oms = OmsSafeguards(
            config.oms, clock, self.halts, sink, ws_gating=config.mode in (Mode.LIVE, Mode.DRY_RUN)
        )
        # bets: liability per market, event and day, and Betfair's rules (a ``betting`` section)
        self.betting = None if config.betting is None else BettingBook(config.betting)
        self._limits_confirmed: tuple[str, int] | None = None
        self.trading_hours: TradingHours | None = None
        if market_hours_rule:
            self.trading_hours = trading_hours or TradingHours.default()
        # client order id -> release record, for orders this gate allowed (see GateContext)
        self._released: dict[str, _Release] = {}
        # owner -> callback(strategy_id), asked to cancel working orders on a kill
        self._kill_listeners: dict[int, tuple[object, KillListener]] = {}
        # owner -> callback(strategy_id, venue), asked by an operator's cancel-all
        self._cancel_listeners: dict[int, tuple[object, CancelListener]] = {}
        # owner -> callback(strategy_id, actor), asked by an operator's emergency flatten
        self._flatten_listeners: dict[int, tuple[object, FlattenListener]] = {}
        # owner -> callback(intent_hash), called when an intent is confirmed by a human
        self._confirm_listeners: dict[int, tuple[object, Callable[[str], object]]] = {}
        logger.info("Safety gate started: mode=%s limits_hash=%s", config.mode, config.limits_hash())

    @property
    def mode(self) -> Mode:
        """Return the run mode."""
        return self._config.mode

    @property
    def clock(self) -> Clock:
        """Return the injected clock."""
        return self._clock

    @property
    def config(self) -> SafetyConfig:
        """Return the configuration."""
        return self._config

    @property
    def safe(self) -> Halt | None:
        """Return the cause of SAFE mode, or ``None``."""
        return self.halts.safe

    # -- operator commands --------------------------------------------------------------------

    def arm(self, ttl_secs: int, actor: str, auto_confirm: Sequence[str] = ()) -> ArmState:
        """Arm LIVE execution (see :meth:`ArmingController.arm`); SAFE mode still blocks new risk."""
        return self.arming.arm(ttl_secs, actor, auto_confirm)

    def disarm(self, actor: str) -> bool:
        """Withdraw the arm and every confirmation."""
        return self.arming.disarm(actor)

    def stage(self, order: Order) -> StagedIntent:
        """Stage an intent; its ``intent_hash`` is what a human confirms."""
        return self.arming.stage(order)

    def confirm(self, digest: str, actor: str) -> StagedIntent:
        """Confirm the staged intent with exactly this hash, then tell the listeners."""
        intent = self.arming.confirm(digest, actor)
        for _, callback in list(self._confirm_listeners.values()):
            callback(intent.intent_hash)
        return intent

    def auto_confirmable(self, order: Order) -> bool:
        """Return whether an armed auto-confirm policy covers ``order`` right now."""
        return self.arming.is_armed() and self.arming.auto_policy(order) is not None

    def add_confirm_listener(self, owner: object, callback: Callable[[str], object]) -> None:
        """Call ``callback(intent_hash)`` after each successful confirmation (one per owner)."""
        self._confirm_listeners[id(owner)] = (owner, callback)

    def confirm_listener_owner(self, owner: object) -> object | None:
        """Return ``owner`` if it has a confirmation listener, else ``None``."""
        entry = self._confirm_listeners.get(id(owner))
        return None if entry is None else entry[0]

    def kill(self, actor: str, strategy_id: str | None = None, reason: str = "operator kill") -> Halt:
        """Engage the kill switch and cancel what works in its scope (see :meth:`kill_and_cancel`)."""
        return self.kill_and_cancel(actor, strategy_id, reason).halt

    def kill_and_cancel(
        self, actor: str, strategy_id: str | None = None, reason: str = "operator kill"
    ) -> KillReport:
        """
        Engage the kill switch, globally (SAFE mode, disarmed) or for one strategy, and cancel.

        After the halt, every kill listener cancels what is working in the scope (the node's
        chokepoint: the working orders at every venue, through the execution engine's cancel
        commands; a bundle gate: staged and released bundles not yet sent). The report is
        audited (a ``KILL`` command event) and returned.
        """
        halt = self.halts.kill(actor, strategy_id, reason)
        cancelled: list[str] = []
        not_cancelled: list[str] = []
        for _, listener in list(self._kill_listeners.values()):
            try:
                done, failed = listener(strategy_id)
            except NautilusExtError as e:  # one venue's failure must not stop the others
                done, failed = [], [f"{type(e).__name__}: {e.message}"]
            cancelled += done
            not_cancelled += failed
        report = KillReport(
            halt=halt,
            strategy_id=strategy_id,
            cancelled=tuple(cancelled),
            not_cancelled=tuple(not_cancelled),
        )
        self._report_cancels(actor, strategy_id, "kill_cancel", "kill", cancelled, not_cancelled)
        return report

    def add_kill_listener(self, owner: object, callback: KillListener) -> None:
        """Ask ``callback(strategy_id)`` to cancel working orders on each kill (one per owner)."""
        self._kill_listeners[id(owner)] = (owner, callback)

    def remove_kill_listener(self, owner: object) -> None:
        """Stop asking ``owner`` on kills."""
        self._kill_listeners.pop(id(owner), None)

    def add_cancel_listener(self, owner: object, callback: CancelListener) -> None:
        """Ask ``callback(strategy_id, venue)`` to cancel working orders on a cancel-all."""
        self._cancel_listeners[id(owner)] = (owner, callback)

    def remove_cancel_listener(self, owner: object) -> None:
        """Stop asking ``owner`` on cancel-alls."""
        self._cancel_listeners.pop(id(owner), None)

    def add_flatten_listener(self, owner: object, callback: FlattenListener) -> None:
        """Ask ``callback(strategy_id, actor)`` to close positions on an emergency flatten."""
        self._flatten_listeners[id(owner)] = (owner, callback)

    def remove_flatten_listener(self, owner: object) -> None:
        """Stop asking ``owner`` on flattens."""
        self._flatten_listeners.pop(id(owner), None)

    def flatten(self, actor: str, strategy_id: str) -> tuple[list[str], list[str]]:
        """
        Close every open position of ``strategy_id`` (the operator's emergency flatten).

        Each closing order passes this gate like any other (see :mod:`nautilus_ext.safety.flatten`).
        Audited as a ``KILL``-kind command with rule ``flatten``; returns (sent, not sent).
        """
        sent: list[str] = []
        failed: list[str] = []
        for _, listener in list(self._flatten_listeners.values()):
            try:
                done, refused = listener(strategy_id, actor)
            except NautilusExtError as e:
                done, refused = [], [f"{type(e).__name__}: {e.message}"]
            sent += done
            failed += refused
        self._sink(
            SafetyEvent(
                ts_ns=self._clock.timestamp_ns(),
                command=CommandKind.KILL,
                outcome=CommandOutcome.ACCEPTED if not failed else CommandOutcome.REJECTED,
                actor=actor,
                strategy_id=strategy_id,
                rule="flatten",
                message=(
                    f"flatten {strategy_id}: {len(sent)} closing order(s) sent, {len(failed)} not"
                    + "".join(f"; sent {c}" for c in sent)
                    + "".join(f"; NOT sent {c}" for c in failed)
                ),
                details={"sent": len(sent), "not_sent": len(failed)},
            ),
        )
        return sent, failed

    def cancel_all(
        self, actor: str, venue: str | None = None, strategy_id: str | None = None
    ) -> tuple[list[str], list[str]]:
        """
        Cancel every working order at ``venue`` of ``strategy_id`` (``None``: all), no halt.

        The operator's cancel-all (seed 004): cancels only reduce exposure, so it needs no arm
        and passes in SAFE mode. Audited as a ``KILL``-kind command with rule ``cancel_all``
        (what was and was not cancelled); returns (cancelled, not cancelled).
        """
        cancelled: list[str] = []
        not_cancelled: list[str] = []
        for _, listener in list(self._cancel_listeners.values()):
            try:
                done, failed = listener(strategy_id, venue)
            except NautilusExtError as e:
                done, failed = [], [f"{type(e).__name__}: {e.message}"]
            cancelled += done
            not_cancelled += failed
        scope = f"venue {venue or 'ALL'}, strategy {strategy_id or 'ALL'}"
        self._report_cancels(
            actor, strategy_id, "cancel_all", f"cancel-all ({scope})", cancelled, not_cancelled
        )
        return cancelled, not_cancelled

    def _report_cancels(
        self,
        actor: str,
        strategy_id: str | None,
        rule: str,
        what: str,
        cancelled: Sequence[str],
        not_cancelled: Sequence[str],
    ) -> None:
        # one audited record naming every order a kill or a cancel-all did and did not cancel
        self._sink(
            SafetyEvent(
                ts_ns=self._clock.timestamp_ns(),
                command=CommandKind.KILL,
                outcome=CommandOutcome.ACCEPTED,
                actor=actor,
                strategy_id=strategy_id,
                rule=rule,
                message=(
                    f"{what} cancelled {len(cancelled)}, could not cancel {len(not_cancelled)}"
                    + "".join(f"; cancelled {c}" for c in cancelled)
                    + "".join(f"; NOT cancelled {c}" for c in not_cancelled)
                ),
                details={"cancelled": len(cancelled), "not_cancelled": len(not_cancelled)},
            ),
        )

    def release_strategy(self, actor: str, strategy_id: str, incident_ref: str = "") -> bool:
        """Release a per-strategy kill (human command); return whether it was killed."""
        return self.halts.release(actor, strategy_id, incident_ref)

    def release_problems(self, strategy_id: str, incident_ref: str = "") -> list[str]:
        """
        Return what still prevents releasing ``strategy_id``'s kill (empty when it can be released).

        The per-strategy form of :meth:`recovery_problems`: the strategy must be killed, its loss
        must be back inside its limit (else the next PnL update kills it again: reset the
        baselines after review) and an incident report must be referenced.
        """
        problems = []
        if self.halts.killed(strategy_id) is None:
            problems.append(f"strategy {strategy_id} is not killed")
        breach = self.risk.strategy_breach(strategy_id)
        if breach is not None:
            problems.append(breach)
        if not incident_ref.strip():
            problems.append("no incident report reference")
        return problems

    def confirm_limits(self, actor: str, limits_hash: str) -> bool:
        """Confirm the risk limits in force by their hash (a recovery check); return whether it matched."""
        ok = limits_hash == self._config.limits_hash()
        if ok:
            self._limits_confirmed = (limits_hash, self._clock.timestamp_ns())
        self._command(
            CommandKind.RESUME, actor, ok, "limits confirmed" if ok else "limits hash does not match"
        )
        return ok

    def reset_risk_baselines(self, actor: str) -> None:
        """Count losses afresh from current PnL (human command; logged)."""
        self.risk.reset_baselines(actor)

    def recovery_problems(self, incident_ref: str | None = "") -> list[str]:
        """
        Return what still prevents leaving SAFE mode (empty when the checks pass).

        ``incident_ref`` ``None`` leaves out the incident reference (it comes with ``resume``).
        """
        halt = self.halts.safe
        if halt is None:
            return []
        problems = self.oms.reconciliation_problems(halt.since_ns)
        problems += self.oms.feed_problems()
        confirmed = self._limits_confirmed
        if confirmed is None or confirmed[0] != self._config.limits_hash() or confirmed[1] < halt.since_ns:
            problems.append("risk limits not confirmed by hash since SAFE mode began")
        problems += [message for _, message in self.risk.global_breaches()]
        if incident_ref is not None and not incident_ref.strip():
            problems.append("no incident report reference")
        return problems

    def resume(self, actor: str, incident_ref: str) -> bool:
        """
        Leave SAFE mode after the section 16.1 checks; LIVE then needs a fresh human arm.

        Returns ``False`` (and records a rejected command) when the gate was not in SAFE mode,
        ``True`` when it left SAFE mode.

        Raises
        ------
        SafeModeActive
            If a check fails; ``details['problems']`` lists every one.
        """
        if self.halts.safe is None:
            self._command(CommandKind.RESUME, actor, False, "not in SAFE mode")
            return False
        problems = self.recovery_problems(incident_ref)
        if problems:
            self._command(CommandKind.RESUME, actor, False, "; ".join(problems))
            raise SafeModeActive(
                f"cannot leave SAFE mode: {'; '.join(problems)}",
                details={"rule": str(Rule.SAFE_MODE), "problems": problems},
            )
        self.halts.exit_safe(actor)
        self.arming.disarm("system", "SAFE mode left: a fresh human arm is required")
        self._limits_confirmed = None
        self._command(CommandKind.RESUME, actor, True, f"SAFE mode left (incident {incident_ref})")
        return True

    def trading_state(self) -> TradingState:
        """
        Return the NautilusTrader ``TradingState`` mirroring the gate (``RiskEngine.set_trading_state``).

        SAFE mode is ``REDUCING`` (Nautilus then denies orders that grow a position); LIVE
        without a valid arm is ``HALTED``; otherwise ``ACTIVE``. The gate stays the authority:
        this lets Nautilus' own RiskEngine enforce the same line for orders submitted directly.
        """
        if self.halts.safe is not None:
            return TradingState.REDUCING
        if self.mode is Mode.LIVE and not self.arming.is_armed():
            return TradingState.HALTED
        return TradingState.ACTIVE

    def refuse_command(self, command: CommandKind, actor: str, message: str) -> None:
        """Record a command refused before it reached the gate (for example, failed authentication)."""
        self._command(command, actor, False, message)

    def status(self) -> dict[str, Any]:
        """Return a JSON-friendly summary: mode, arm, SAFE cause, kills, dirty assets, positions."""
        arm = self.arming.arm_state
        safe = self.halts.safe
        return {
            "mode": str(self.mode),
            "armed": arm is not None,
            "arm_expires_at_ns": None if arm is None else arm.expires_at_ns,
            "safe": None
            if safe is None
            else {"code": str(safe.code), "rule": str(safe.rule), "message": safe.message},
            "safe_causes": [
                {"code": str(h.code), "rule": str(h.rule), "message": h.message, "since_ns": h.since_ns}
                for h in self.halts.safe_causes
            ],
            # what still stands between SAFE mode and resume (the incident reference comes with it)
            "recovery_problems": self.recovery_problems(None),
            "killed_strategies": sorted(self.halts.killed_strategies),
            "kills": {
                s: {"code": str(h.code), "rule": str(h.rule), "message": h.message, "since_ns": h.since_ns}
                for s, h in sorted(self.halts.killed_strategies.items())
            },
            # what a human confirms: the hash together with what the order does
            "staged": [
                {
                    "intent_hash": i.intent_hash,
                    "operation_id": i.order.operation_id,
                    "strategy_id": i.order.strategy_id,
                    "instrument_key": str(i.order.instrument_key),
                    "side": str(i.order.side),
                    "amount": str(i.order.amount),
                    "price": None if i.order.price is None else str(i.order.price),
                    "confirmed_by": i.confirmed_by,
                    "expires_at_ns": i.expires_at_ns,
                }
                for i in self.arming.staged()
            ],
            "dirty": sorted(a for a in self.oms.positions if self.oms.dirty_since(a) is not None),
            "positions": {a: str(q) for a, q in sorted(self.oms.positions.items())},
            "limits_hash": self._config.limits_hash(),
            "feed_age_ms": {k: v // 1_000_000 for k, v in sorted(self.oms.feed_ages_ns().items())},
            "risk_headroom": self.risk.headroom(dict(self.oms.positions)),
        }

    # -- inputs from the venue side -----------------------------------------------------------

    def on_fill(self, fill: Fill) -> bool:
        """Record a fill (deduplicated); see :meth:`OmsSafeguards.on_fill`."""
        return self.oms.on_fill(fill)

    def on_fill_gap(self, venue: str, asset: str, message: str) -> None:
        """Record fills the venue reported but never delivered (SAFE mode, FILL_SEQ_GAP)."""
        self.oms.on_fill_gap(venue, asset, message)

    def on_position_update(self, asset: str, quantity: Decimal) -> bool:
        """Record a WS position event."""
        return self.oms.on_position_update(asset, quantity)

    def on_snapshot(self, asset: str, quantity: Decimal) -> bool:
        """Record a REST position snapshot."""
        return self.oms.on_snapshot(asset, quantity)

    def on_market_data(self, asset: str, ts_ns: int | None = None) -> None:
        """Record market data for ``asset``."""
        self.oms.on_market_data(asset, ts_ns)

    def on_ws_message(self, venue: str) -> None:
        """Record a WebSocket message from ``venue``."""
        self.oms.on_ws_message(venue)

    def on_ws_disconnect(self, venue: str) -> None:
        """Record a WebSocket disconnect of ``venue``."""
        self.oms.on_ws_disconnect(venue)

    def record_latency(self, venue: str, latency_ms: int) -> None:
        """Record a venue round-trip latency, ms."""
        self.risk.record_latency(venue, latency_ms)

    def update_pnl(self, strategy_id: str, pnl: Decimal) -> None:
        """Record a strategy's cumulative PnL (may kill it or enter SAFE mode)."""
        self.risk.update_pnl(strategy_id, pnl)

    def tick(self) -> None:
        """Evaluate time-based transitions (call on a timer; :meth:`check` calls it too)."""
        self.arming.is_armed()
        self.oms.tick()

    # -- the gate -----------------------------------------------------------------------------

    def check(self, order: Order, context: GateContext | None = None) -> Decision:
        """
        Judge placing ``order`` now; commit it when allowed (see the module docstring).

        Never raises for a blocked order: the :class:`Decision` carries the typed error.
        """
        ctx = context or GateContext()
        asset = ctx.asset or str(order.instrument_key)
        venue = ctx.venue or order.venue or order.instrument_key.venue
        # a child of a released order is covered by its parent's confirmation
        live = self.mode is Mode.LIVE and ctx.child_of is None
        if ctx.child_of is not None:
            refused = self._child_block(order, asset, ctx.child_of)
            if refused is not None:
                self._decision_event(RiskAction.BLOCK, refused, order, asset, venue, None)
                return Decision(error=refused, details=dict(refused.details))
        # the content hash costs most of a check: only LIVE needs it (for the confirmation)
        digest = intent_hash(order) if live else None
        self.tick()
        error = self._evaluate(order, asset, venue, ctx, digest, live=live)
        if error is not None:
            self._decision_event(RiskAction.BLOCK, error, order, asset, venue, digest)
            return Decision(error=error, intent_hash=digest, details=dict(error.details))
        self._commit(order, asset, venue, ctx, digest)
        return Decision(intent_hash=digest)

    def check_group(self, orders: Sequence[tuple[Order, GateContext]]) -> Decision:
        """
        Judge orders that reach the venue together or not at all (one on-chain atomic bundle).

        Every order passes every check of :meth:`check`; nothing is committed unless all pass,
        so a refused group spends no confirmation and counts toward no rate limit. In LIVE the
        first order's confirmation releases the group: it must name the content hash of every
        later order in ``metadata["group_intents"]`` (so confirming it confirms exactly those
        orders), and is spent once.

        Never raises for a blocked group: the :class:`Decision` carries the first typed error.

        Raises
        ------
        InvalidOrder
            If the group is empty or names an asset twice (net the orders per asset first).
        """
        if not orders:
            raise InvalidOrder("check_group needs at least one order")
        assets = [ctx.asset or str(order.instrument_key) for order, ctx in orders]
        if len(set(assets)) != len(assets):
            # each order is judged against the position before the group: net them per asset
            raise InvalidOrder(f"check_group needs one order per asset, got {sorted(assets)}")
        live = self.mode is Mode.LIVE
        first = orders[0][0]
        digest = intent_hash(first) if live else None
        self.tick()
        judged: list[tuple[Order, str, str, GateContext]] = []
        named = set((first.metadata or {}).get("group_intents") or ()) if live else set()
        for index, (order, ctx) in enumerate(orders):
            asset = ctx.asset or str(order.instrument_key)
            venue = ctx.venue or order.venue or order.instrument_key.venue
            error: NautilusExtError | None = None
            if ctx.child_of is not None:
                error = risk_blocked(Rule.NOT_RELEASED, "a group order cannot be the child of another order")
            elif live and index > 0 and intent_hash(order) not in named:
                error = risk_blocked(
                    Rule.NOT_CONFIRMED,
                    f"order {order.operation_id} is not named by the group's confirmed intent {digest}",
                    intent_hash=digest,
                )
            if error is None:
                error = self._evaluate(order, asset, venue, ctx, digest if index == 0 else None, live=live)
            if error is not None:
                self._decision_event(RiskAction.BLOCK, error, order, asset, venue, digest)
                return Decision(error=error, intent_hash=digest, details=dict(error.details))
            judged.append((order, asset, venue, ctx))
        for index, (order, asset, venue, ctx) in enumerate(judged):
            self._commit(order, asset, venue, ctx, digest if index == 0 else None)
        return Decision(intent_hash=digest)

    def record(self, event: SafetyEvent) -> None:
        """Write ``event`` to the gate's sink (the audit log), e.g. an execution outcome."""
        self._sink(event)

    def _evaluate(
        self,
        order: Order,
        asset: str,
        venue: str,
        ctx: GateContext,
        digest: str | None,
        *,
        live: bool,
    ) -> NautilusExtError | None:
        # every check except the commit; ``digest`` is the hash whose confirmation releases
        # the order in LIVE (``None``: covered by another order's confirmation)
        error = self._first_block(order, asset, venue, ctx)
        if error is None and live and digest is not None:
            error = self.arming.release_check(order, digest)
        if error is None:
            error = self.oms.rate_block(asset)
        return error

    def _child_block(self, order: Order, asset: str, parent_id: str) -> NautilusExtError | None:
        # a child rides on its parent's release: only while the arm that released it is in force
        parent = self._released.get(parent_id)
        if parent is None:
            return risk_blocked(
                Rule.NOT_RELEASED, f"parent order {parent_id} was never released by the safety gate"
            )
        if self.mode is not Mode.LIVE or self.halts.safe is not None:
            return None  # SAFE mode's own check follows, and refuses the same children
        armed = self.arming.is_armed()
        arm = self.arming.arm_state
        if armed and arm is not None and arm.arm_id == parent.arm_id:
            return None
        if _reduces(self.oms.position(asset), order.signed_amount):
            return None  # reducing the position is no new risk
        return risk_blocked(
            Rule.NOT_ARMED,
            f"the arm that released parent order {parent_id} is withdrawn or expired (disarm, "
            "expiry or SAFE mode): its children may only reduce the position",
        )

    def _commit(self, order: Order, asset: str, venue: str, ctx: GateContext, digest: str | None) -> None:
        if digest is not None:
            self.arming.consume(digest)
        self.oms.record_place(asset, order.operation_id)
        if order.operation is Operation.BET and self.betting is not None:
            order_id = ctx.client_order_id or order.operation_id
            self.betting.commit(order, asset, order_id, self._clock.timestamp_ns())
        if ctx.client_order_id is not None:
            arm = self.arming.arm_state
            self._released[ctx.client_order_id] = _Release(
                asset=asset, amount=order.amount, arm_id=None if arm is None else arm.arm_id
            )
        self._decision_event(RiskAction.ALLOW, None, order, asset, venue, digest)

    def on_bet_fill(self, asset: str, client_order_id: str, odds: Decimal, stake: Decimal) -> None:
        """Record a matched part of a bet this gate released (its market's liability)."""
        if self.betting is not None:
            self.betting.on_fill(asset, client_order_id, odds, stake)

    def on_bet_closed(self, asset: str, client_order_id: str) -> None:
        """Drop the unmatched rest of a bet (cancelled, lapsed, rejected) from its liability."""
        if self.betting is not None:
            self.betting.on_closed(asset, client_order_id)

    def released_asset(self, client_order_id: str) -> str | None:
        """Return the position key of an order this gate released, or ``None`` if it did not."""
        release = self._released.get(client_order_id)
        return None if release is None else release.asset

    def released_amount(self, client_order_id: str) -> Decimal | None:
        """Return the size the gate released an order for (its unified amount), or ``None``."""
        release = self._released.get(client_order_id)
        return None if release is None else release.amount

    def forget_released(self, client_order_id: str) -> None:
        """Drop a released order once it is closed (keeps the registry bounded)."""
        self._released.pop(client_order_id, None)

    def check_cancel(self, asset: str, order_id: str, strategy_id: str | None = None) -> Decision:
        """Allow a cancel (always: cancels reduce risk), audit it and record it for the flip-flop detector."""
        self.oms.record_cancel(asset, order_id)
        self._sink(
            SafetyEvent(
                ts_ns=self._clock.timestamp_ns(),
                risk_action=RiskAction.ALLOW,
                rule="cancel",
                strategy_id=strategy_id,
                asset=asset,
                message=f"cancel of order {order_id} allowed",
                details={"client_order_id": order_id},
            ),
        )
        return Decision()

    def _first_block(self, order: Order, asset: str, venue: str, ctx: GateContext) -> NautilusExtError | None:
        if self.oms.dirty_since(asset) is not None:
            return risk_blocked(
                Rule.DIRTY_POSITION,
                f"{asset} is dirty (fill not yet confirmed by a position update or snapshot); cancels only",
            )
        position = self.oms.position(asset)
        reduces = _reduces(position, order.signed_amount)
        safe = self.halts.safe
        if safe is not None and not reduces:
            return SafeModeActive(
                f"SAFE mode ({safe.code}: {safe.message}): only cancels and reduce-only orders",
                details={"rule": str(Rule.SAFE_MODE), "cause": str(safe.rule)},
            )
        killed = self.halts.killed(order.strategy_id)
        if killed is not None and not reduces:
            return RiskBlocked(
                f"strategy {order.strategy_id} is killed ({killed.message}); reduce-only orders only",
                details={"rule": str(Rule.KILL_SWITCH), "cause": str(killed.rule)},
            )
        if self.trading_hours is not None:
            closed = self._market_closed(self.trading_hours, order)
            if closed is not None:
                return closed
        feed = self.oms.feed_block(asset, venue, ctx.market_data_ts_ns)
        if feed is not None:
            return feed
        bet = order.operation is Operation.BET and self.betting is not None
        if bet and self.betting is not None:
            refused = self.betting.check(order, asset, self._clock.timestamp_ns())
            if refused is not None:
                return refused
        return self.risk.check(
            order,
            asset=asset,
            position=position,
            venue=venue,
            estimated_slippage=ctx.estimated_slippage,
            position_limit=not bet,  # a bet's liability replaces its net stake
        )

    def _market_closed(self, hours: TradingHours, order: Order) -> RiskBlocked | None:
        # the exchange takes no order while closed: reducing ones included (cancels still pass)
        calendar = hours.calendar_for_key(order.instrument_key)
        if calendar is None:
            return None
        now = self._clock.timestamp_ns()
        try:
            if calendar.is_open(now):
                return None
            why = calendar.describe(now)
        except NautilusExtError as e:
            why = f"no trading hours known ({e.message})"
        return risk_blocked(
            Rule.MARKET_CLOSED,
            f"{order.instrument_key}: market closed: {why}; new orders wait for the session",
            calendar=calendar.name,
        )

    # -- internals ----------------------------------------------------------------------------

    def _on_halt(self, halt: Halt, strategy_id: str | None) -> None:
        if strategy_id is None:
            # SAFE mode ends the arm: re-arming comes only after the recovery checks
            self.arming.disarm("system", f"SAFE mode: {halt.message}")
        if self._user_alert is not None:
            self._user_alert(halt, strategy_id)

    def _command(self, command: CommandKind, actor: str, ok: bool, message: str) -> None:
        self._sink(
            SafetyEvent(
                ts_ns=self._clock.timestamp_ns(),
                command=command,
                outcome=CommandOutcome.ACCEPTED if ok else CommandOutcome.REJECTED,
                actor=actor,
                message=message,
            ),
        )

    def _decision_event(
        self,
        action: RiskAction,
        error: NautilusExtError | None,
        order: Order,
        asset: str,
        venue: str,
        digest: str | None,
    ) -> None:
        self._sink(
            SafetyEvent(
                ts_ns=self._clock.timestamp_ns(),
                risk_action=action,
                rule="gate" if error is None else str(error.details.get("rule", "unknown")),
                code=None if error is None else str(error.code),
                strategy_id=order.strategy_id,
                asset=asset,
                venue=venue,
                intent_hash=digest,
                message=f"order {order.operation_id} allowed" if error is None else error.message,
                details={"operation_id": order.operation_id},
            ),
        )


__all__ = ["CancelListener", "FlattenListener", "GateContext", "KillListener", "KillReport", "SafetyGate"]
