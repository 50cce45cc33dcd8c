"""
The funding carry's live guards: a leg reduced by the venue (ADL, liquidation, a manual change).

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
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from typing import Final
from typing import Protocol

from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.messages import FORCED_REDUCTIONS_TOPIC
from nautilus_ext.messages import VENUE_POSITIONS_TOPIC
from nautilus_ext.messages import ForcedReduction
from nautilus_ext.messages import VenuePositionSnapshot
from nautilus_ext.safety.decision import Rule
from nautilus_ext.strategies.carry_state import CarryPosition
from nautilus_ext.strategies.emergency import EmergencyDesk
from nautilus_ext.strategies.emergency import EmergencyHost
from nautilus_ext.strategies.leg_guard import LegGuard
from nautilus_ext.strategies.leg_guard import LegReduction
from nautilus_ext.strategies.leg_guard import ReductionKind
from nautilus_ext.strategies.leg_guard import unwind_plan

_MS: Final = 1_000_000
_TINY: Final = Decimal("1e-12")
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

    def persist(self, position: CarryPosition, **fields: Any) -> None: ...

    def close_position(self, position: CarryPosition) -> None: ...

    def exit_reason_of(self, position: CarryPosition) -> str: ...

    def refuse(self, why: str, *, safe: bool) -> None: ...

    def stop_when_idle(self) -> None: ...


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

    def start(self) -> None:
        """Subscribe to the adapters' forced-reduction messages and venue position snapshots."""
        msgbus = self._s.msgbus
        msgbus.subscribe(topic=FORCED_REDUCTIONS_TOPIC, handler=self.on_forced_reduction)
        msgbus.subscribe(topic=VENUE_POSITIONS_TOPIC, handler=self.on_venue_positions)

    def stop(self) -> None:
        """Unsubscribe (on the strategy's stop)."""
        msgbus = self._s.msgbus
        for topic, handler in (
            (FORCED_REDUCTIONS_TOPIC, self.on_forced_reduction),
            (VENUE_POSITIONS_TOPIC, self.on_venue_positions),
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
