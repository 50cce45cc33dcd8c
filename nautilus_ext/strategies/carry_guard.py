"""
The funding carry's live guards: a leg reduced by the venue (ADL, liquidation, a manual change)
and each venue's margin ratio.

:class:`CarryGuard` is composed into :class:`~nautilus_ext.strategies.funding_carry.FundingCarryStrategy`.
It listens to the adapters' :class:`~nautilus_ext.messages.ForcedReduction` messages and
:class:`~nautilus_ext.messages.VenuePositionSnapshot` s, feeds them to a
:class:`~nautilus_ext.strategies.leg_guard.LegGuard`, and on a reduction of a held leg answers
as configured (``on_forced_reduction``):

- ``UNWIND_AND_STOP`` (default): halt the strategy in the gate (audited, alerted), record the
  classified reduction in the audit log, close what is left of *every* leg of the position at
  once (the opposite leg first: it is the naked one) through the gate as ordinary IOC orders,
  retry what an IOC leaves, close the position in the store with the reduction as its
  ``exit_reason``, then stop the strategy;
- ``STOP``: halt, record and stop without trading (an operator takes over).

Margin (:mod:`~nautilus_ext.strategies.margin_guard`, from the adapters'
:class:`~nautilus_ext.messages.VenueMargin` reports): a venue entering WARNING or URGENT is
alerted and audited; while any venue is not OK no entry is made; at URGENT the riskiest
position touching it is exited at once (``MARGIN_URGENT``, the ordinary atomic exit in
reverse), one at a time, each after a fresh report still says URGENT.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from typing import Any
from typing import Final
from typing import Protocol

from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.messages import FORCED_REDUCTIONS_TOPIC
from nautilus_ext.messages import FUNDING_PAYMENTS_TOPIC
from nautilus_ext.messages import VENUE_MARGIN_TOPIC
from nautilus_ext.messages import VENUE_POSITIONS_TOPIC
from nautilus_ext.messages import ForcedReduction
from nautilus_ext.messages import FundingPaymentReport
from nautilus_ext.messages import VenueMargin
from nautilus_ext.messages import VenuePositionSnapshot
from nautilus_ext.safety.decision import Rule
from nautilus_ext.strategies.carry_rules import ExitReason
from nautilus_ext.strategies.carry_state import CarryPosition
from nautilus_ext.strategies.emergency import EmergencyDesk
from nautilus_ext.strategies.emergency import EmergencyHost
from nautilus_ext.strategies.leg_guard import LegGuard
from nautilus_ext.strategies.leg_guard import LegReduction
from nautilus_ext.strategies.leg_guard import ReductionKind
from nautilus_ext.strategies.leg_guard import unwind_plan
from nautilus_ext.strategies.margin_guard import MarginLevel
from nautilus_ext.strategies.margin_guard import MarginThresholds
from nautilus_ext.strategies.margin_guard import MarginView
from nautilus_ext.strategies.margin_guard import margin_view
from nautilus_ext.strategies.margin_guard import riskiest_first

_MS: Final = 1_000_000
_TINY: Final = Decimal("1e-12")
_RATE_PLACES: Final = Decimal("1e-12")  # an implied funding rate is stored to 12 decimals
_MAX_ATTEMPTS: Final = 20  # unwind sends per position before an operator must take over
_RETRY_MS: Final = 200  # how often an unfinished unwind is sent again
RESPONSES: Final = ("UNWIND_AND_STOP", "STOP")
UNWINDING: Final = "UNWINDING"


class CarryHost(EmergencyHost, Protocol):
    """What the guard needs of the carry strategy (its Nautilus side and its position book)."""

    cache: Any
    msgbus: Any
    clock: Any
    log: Any
    is_running: Any
    positions: dict[uuid.UUID, CarryPosition]
    results: dict[str, ExecutionResult]
    repository: Any

    def persist(self, position: CarryPosition, **fields: Any) -> None: ...

    def close_position(self, position: CarryPosition) -> None: ...

    def exit_reason_of(self, position: CarryPosition) -> str: ...

    def refuse(self, why: str, *, safe: bool) -> None: ...

    def stop_when_idle(self) -> None: ...

    def exit_position(self, position: CarryPosition, reason: ExitReason) -> None: ...


class CarryGuard:
    """Watch the carry's legs and answer a venue's reduction (see the module docstring)."""

    def __init__(self, strategy: CarryHost) -> None:
        config = strategy.config
        if config.on_forced_reduction not in RESPONSES:
            raise InvalidConfig(
                f"on_forced_reduction must be one of {', '.join(RESPONSES)}, "
                f"got {config.on_forced_reduction!r}"
            )
        try:
            band = Decimal(config.unwind_max_slippage_bps)
        except ArithmeticError as e:
            raise InvalidConfig(
                f"unwind_max_slippage_bps is malformed: {config.unwind_max_slippage_bps!r}"
            ) from e
        if not band > 0 or config.guard_confirm_ms < 0:
            raise InvalidConfig("unwind_max_slippage_bps must be > 0 and guard_confirm_ms >= 0")
        try:
            self.thresholds = MarginThresholds(
                Decimal(config.margin_warning_ratio), Decimal(config.margin_urgent_ratio)
            )
        except ArithmeticError as e:
            raise InvalidConfig(f"margin_warning_ratio/margin_urgent_ratio malformed: {e}") from e
        except InvalidConfig as e:
            raise InvalidConfig(
                f"margin_urgent_ratio must be > 0 and below margin_warning_ratio, got "
                f"{config.margin_urgent_ratio} and {config.margin_warning_ratio}"
            ) from e
        self._s = strategy
        self.response = config.on_forced_reduction
        self.guard = LegGuard(
            self.lot_of, confirm_ns=config.guard_confirm_ms * _MS, message_window_ns=60_000 * _MS
        )
        self.desk = EmergencyDesk(
            strategy,
            f"{config.strategy_name}-unwind",
            band / Decimal(10_000),
        )
        self.venue_positions: dict[str, Decimal] = {}
        self.reductions: list[LegReduction] = []  # every reduction answered, in order
        self._pending: dict[str, list[str]] = {}  # position id -> operation ids of its unwind
        self._attempts: dict[str, int] = {}  # position id -> unwind sends
        self.margin: dict[str, MarginView] = {}  # venue -> latest view
        self._margin_ts: dict[str, int] = {}  # venue -> when its latest report came
        self._margin_exit_ns = 0  # when the latest MARGIN_URGENT exit went out

    def start(self) -> None:
        """Subscribe to the adapters' forced-reduction messages and venue position snapshots."""
        msgbus = self._s.msgbus
        msgbus.subscribe(topic=FORCED_REDUCTIONS_TOPIC, handler=self.on_forced_reduction)
        msgbus.subscribe(topic=VENUE_POSITIONS_TOPIC, handler=self.on_venue_positions)
        msgbus.subscribe(topic=VENUE_MARGIN_TOPIC, handler=self.on_venue_margin)
        msgbus.subscribe(topic=FUNDING_PAYMENTS_TOPIC, handler=self.on_funding_payment)

    def stop(self) -> None:
        """Unsubscribe (on the strategy's stop)."""
        msgbus = self._s.msgbus
        for topic, handler in (
            (FORCED_REDUCTIONS_TOPIC, self.on_forced_reduction),
            (VENUE_POSITIONS_TOPIC, self.on_venue_positions),
            (VENUE_MARGIN_TOPIC, self.on_venue_margin),
            (FUNDING_PAYMENTS_TOPIC, self.on_funding_payment),
        ):
            if msgbus.is_subscribed(topic, handler):
                msgbus.unsubscribe(topic=topic, handler=handler)

    # -- inputs --------------------------------------------------------------------------------

    def lot_of(self, instrument_id: str) -> Decimal:
        """Return the size increment of ``instrument_id`` (0 when not loaded)."""
        inst = self._s.cache.instrument(InstrumentId.from_str(instrument_id))
        return Decimal(0) if inst is None else inst.size_increment.as_decimal()

    def expected(self) -> dict[str, Decimal]:
        """Return the signed quantity the open positions hold per instrument."""
        held: dict[str, Decimal] = {}
        for position in self._s.positions.values():
            if position.phase == "OPEN":
                for leg in position.legs():
                    held[leg.instrument_id] = held.get(leg.instrument_id, Decimal(0)) + leg.signed
        return held

    def busy(self) -> set[str]:
        """Return the instruments with something of the strategy in flight."""
        s = self._s
        busy = {leg.instrument_id for p in s.positions.values() if p.phase != "OPEN" for leg in p.legs()}
        busy |= {str(o.instrument_id) for o in s.cache.orders_open(strategy_id=s.id)}
        busy |= {str(o.instrument_id) for o in s.cache.orders_inflight(strategy_id=s.id)}
        return busy

    def on_forced_reduction(self, message: ForcedReduction) -> None:
        """Handle an adapter's ADL or liquidation message."""
        if not self._s.is_running:
            return
        iid = str(message.instrument_id)
        reduction = self.guard.on_venue_message(
            iid,
            ReductionKind(message.kind),
            message.quantity,
            self.expected().get(iid, Decimal(0)),
            int(self._s.clock.timestamp_ns()),
        )
        if reduction is not None:
            self.respond(reduction)

    def on_venue_positions(self, snapshot: VenuePositionSnapshot) -> None:
        """Handle a venue position snapshot (an adapter's REST poll)."""
        positions: Mapping[InstrumentId, Decimal] = snapshot.positions
        observed = {str(k): v for k, v in positions.items()}
        self.venue_positions.update(observed)
        if not self._s.is_running:
            return
        now = int(self._s.clock.timestamp_ns())
        for reduction in self.guard.on_venue_positions(observed, self.expected(), self.busy(), now):
            self.respond(reduction)

    # -- funding history -----------------------------------------------------------------------

    def on_funding_payment(self, report: FundingPaymentReport) -> None:
        """
        Record a payment from the venue's funding history against the position holding its
        instrument at that time (once: the store is unique per position, venue, symbol and time,
        so the payments the strategy booked itself and every re-read of the history are kept
        once). This is what backfills the payments received while the node was down.
        """
        s = self._s
        iid = str(report.instrument_id)
        when = datetime.fromtimestamp(report.ts_ns / 1_000_000_000, tz=UTC)
        for position in s.positions.values():
            if position.phase == "OPENING" or position.opened_ns > report.ts_ns:
                continue
            for leg in position.legs():
                if leg.instrument_id != iid or leg.signed == 0:
                    continue
                rate = report.rate
                if rate is None:
                    # Binance's income rows carry no rate: the one the amount implies at entry
                    price = leg.entry_price or Decimal(0)
                    implied = -report.amount / (leg.signed * price) if price else Decimal(0)
                    rate = implied.quantize(_RATE_PLACES, rounding=ROUND_HALF_EVEN)
                try:
                    recorded = s.repository.record_funding_payment(
                        position_id=position.id,
                        venue=leg.instrument_key.split(":", 1)[0],
                        symbol=position.base,
                        funding_rate=rate,
                        amount=report.amount,
                        currency=report.currency,
                        payment_time=when,
                    )
                except NautilusExtError as e:
                    # never raised into the adapter that published it
                    s.log.error(f"Cannot record the funding payment {report.payment_id} of {iid}: {e}")
                    continue
                if recorded:
                    position.funding += report.amount
                    s.log.info(
                        f"Funding {report.amount} {report.currency} on {iid} at {when} from the venue history"
                    )

    # -- margin --------------------------------------------------------------------------------

    def on_venue_margin(self, report: VenueMargin) -> None:
        """Handle a venue's margin report: alert on a change of level, reduce at URGENT."""
        view = margin_view(
            report.venue,
            report.equity,
            report.maintenance_margin,
            report.notional,
            self.thresholds,
            {str(k): v for k, v in report.liquidation_prices.items()},
            {str(k): v for k, v in report.marks.items()},
        )
        previous = self.margin.get(report.venue)
        self.margin[report.venue] = view
        self._margin_ts[report.venue] = int(self._s.clock.timestamp_ns())
        if previous is None or previous.level is not view.level:
            self._margin_changed(view)
        if self._s.is_running:
            self.reduce_for_margin()

    def _margin_changed(self, view: MarginView) -> None:
        why = view.describe()
        if view.level is MarginLevel.OK:
            self._s.log.info(f"Carry margin back to normal: {why}")
            return
        self._s.log.warning(f"Carry margin {view.level.value}: {why}")
        self.desk.alert(
            why,
            Rule.MARGIN_GUARD,
            asset=view.venue,
            level=view.level.value,
            margin_ratio=view.margin_ratio,
            maintenance_ratio=view.maintenance_ratio,
            liquidation_distance=view.liquidation_distance,
            price_distance=view.price_distance,
            warning_ratio=self.thresholds.warning_ratio,
            urgent_ratio=self.thresholds.urgent_ratio,
        )

    def entries_blocked(self) -> str | None:
        """Return why no entry may be made now (a venue's margin below the warning ratio)."""
        for view in self.margin.values():
            if view.level is not MarginLevel.OK:
                return view.describe()
        return None

    def reduce_for_margin(self) -> None:
        """At URGENT, exit the riskiest open position (one at a time, each after a fresh report)."""
        s = self._s
        if any(p.phase != "OPEN" for p in s.positions.values()):
            return  # an exit (or entry) is working: wait for its outcome
        if not any(v.level is MarginLevel.URGENT for v in self.margin.values()):
            return
        # a report newer than the last reduction must still say URGENT
        if not any(
            self._margin_ts[venue] > self._margin_exit_ns and view.level is MarginLevel.URGENT
            for venue, view in self.margin.items()
        ):
            return
        ranked = riskiest_first(
            list(s.positions.values()),
            lambda p: [leg.instrument_id.rsplit(".", 1)[-1] for leg in p.legs()],
            lambda p: p.notional,
            self.margin,
        )
        if not ranked:
            return
        self._margin_exit_ns = int(s.clock.timestamp_ns())
        position = ranked[0]
        self.desk.record(
            f"reducing exposure: exiting carry position {position.id} ({position.base})",
            Rule.MARGIN_GUARD,
            asset=position.long.instrument_id,
            position_id=str(position.id),
            notional=position.notional,
        )
        s.exit_position(position, ExitReason.MARGIN_URGENT)

    # -- the response --------------------------------------------------------------------------

    def position_of(self, instrument_id: str) -> CarryPosition | None:
        """Return the open position holding ``instrument_id``."""
        for position in self._s.positions.values():
            if any(leg.instrument_id == instrument_id for leg in position.legs()):
                return position
        return None

    def respond(self, reduction: LegReduction) -> None:
        """Halt, record and (per ``on_forced_reduction``) unwind the position of ``reduction``."""
        s = self._s
        self.reductions.append(reduction)
        position = self.position_of(reduction.instrument_id)
        why = reduction.describe()
        s.log.error(f"Carry leg reduced by the venue: {why}")
        rule = Rule.FORCED_REDUCTION
        self.desk.halt(f"carry halted: {why}", rule)
        self.desk.record(
            why,
            rule,
            asset=reduction.instrument_id,
            kind=reduction.kind.value,
            expected=reduction.expected,
            observed=reduction.observed,
            source=reduction.source,
            response=self.response,
            position_id=None if position is None else str(position.id),
        )
        s.refuse(f"{reduction.kind.value}: {why}", safe=False)
        if position is None:
            s.stop_when_idle()
            return
        for leg in position.legs():
            if leg.instrument_id == reduction.instrument_id:
                leg.signed = reduction.observed
        position.phase = UNWINDING
        s.persist(position, exit_reason=reduction.kind.value)
        if self.response == "STOP":
            s.stop_when_idle()
            return
        self._attempts[str(position.id)] = 1
        self.unwind(position)
        self._retry_timer(True)

    def on_unhedged(self, position: CarryPosition, why: str) -> None:
        """Answer a group that ended UNHEDGED: halt, record, close both legs, stop."""
        s = self._s
        s.log.error(f"Carry position {position.id} is unhedged: {why}")
        self.desk.halt(f"carry halted: {why}", Rule.UNHEDGED)
        self.desk.record(
            why,
            Rule.UNHEDGED,
            asset=position.long.instrument_id,
            position_id=str(position.id),
            long=position.long.signed,
            short=position.short.signed,
        )
        s.refuse(f"UNHEDGED: {why}", safe=False)
        position.phase = UNWINDING
        s.persist(position, exit_reason="UNHEDGED")
        self._attempts[str(position.id)] = 1
        self.unwind(position)
        self._retry_timer(True)

    def unwind(self, position: CarryPosition) -> None:
        """Send what closes every leg of ``position`` (the opposite of the reduced leg first)."""
        s = self._s
        legs = sorted(position.legs(), key=lambda leg: leg.instrument_id in self.guard.tripped)
        plan = unwind_plan([(leg.instrument_id, leg.signed) for leg in legs], {}, self.lot_of)
        keys = {leg.instrument_id: leg.instrument_key for leg in legs}
        orders = [(keys[iid], side, qty) for iid, side, qty in plan]
        if not orders:
            return  # flat (within a lot): the next step closes it
        results = self.desk.close(orders, f"carry_unwind:{s.exit_reason_of(position)}")
        self._pending[str(position.id)] = [r.operation_id for r in results]

    def step(self, *, retry: bool) -> None:
        """
        Account the ended unwind orders and close a position once flat; with ``retry`` (the
        strategy's cycle) send again what an IOC or a refusal left, at most ``_MAX_ATTEMPTS``
        times per position (then an operator takes over, said so in the log).
        """
        s = self._s
        for position in [p for p in s.positions.values() if p.phase == UNWINDING]:
            pid = str(position.id)
            operation_ids = self._pending.get(pid)
            if operation_ids:
                results = [s.results[op] for op in operation_ids if op in s.results]
                if any(self._working(r.client_order_id) for r in results):
                    continue
                del self._pending[pid]
                for result in results:
                    delta = result.filled_quantity if result.side == "BUY" else -result.filled_quantity
                    for leg in position.legs():
                        if leg.instrument_key == result.instrument_key:
                            leg.signed += delta
                s.persist(position)
            if all(abs(leg.signed) < max(self.lot_of(leg.instrument_id), _TINY) for leg in position.legs()):
                s.close_position(position)
                continue
            if not retry or self.response == "STOP":
                continue
            attempts = self._attempts.get(pid, 0)
            if attempts >= _MAX_ATTEMPTS:
                if attempts == _MAX_ATTEMPTS:
                    self._attempts[pid] = attempts + 1
                    s.log.error(
                        f"Carry unwind of {pid} gave up after {attempts} attempts: an operator must close it"
                    )
                continue
            self._attempts[pid] = attempts + 1
            self.unwind(position)
        if not any(p.phase == UNWINDING for p in s.positions.values()):
            self._retry_timer(False)
            if self.desk.halted:
                s.stop_when_idle()

    def _retry_timer(self, on: bool) -> None:
        # an unwind is retried every _RETRY_MS (a refused or partly filled IOC, a dirty leg),
        # not at the strategy's cycle, which may be minutes
        clock = self._s.clock
        name = f"{self._s.id}:carry-unwind"
        running = name in clock.timer_names
        if on and not running:
            clock.set_timer_ns(name, _RETRY_MS * _MS, 0, 0, lambda _: self.step(retry=True))
        elif not on and running:
            clock.cancel_timer(name)

    def _working(self, client_order_id: str | None) -> bool:
        if client_order_id is None:
            return False
        order = self._s.cache.order(ClientOrderId(client_order_id))
        return order is not None and not order.is_closed


__all__ = ["RESPONSES", "UNWINDING", "CarryGuard", "CarryHost"]
