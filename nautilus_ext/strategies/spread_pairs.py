"""
Pair positions of the perp/perp spread strategy: the ``ATOMIC_LEGS`` groups that open and unwind
them, their store rows and state, and the restart reconciliation.

:class:`SpreadPairs` is the base of :class:`~.perp_spread.PerpSpreadStrategy`: it owns the
positions (the funding carry strategy's :class:`~.carry_state.CarryPosition` and store tables,
so one report reads both strategies), turns a pair of legs into an atomic group of unified
Orders (leg A carries the pair's ``neutralise_policy`` and ``max_slippage``: IOC limits inside
the sizing band), moves a position on when its group ends (OPENING -> OPEN or closed when flat,
CLOSING -> closed or OPEN with what is left), and refuses to trade (SAFE mode under a gate) when
the store and the venues disagree.
"""

from __future__ import annotations

import uuid
from datetime import UTC
from datetime import datetime
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from typing import Any

from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument

from nautilus_ext.adapters.symbology import key_for_instrument
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.execution.results import GroupStatus
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.orders import AtomicGroup
from nautilus_ext.orders import Order
from nautilus_ext.persistence import Database
from nautilus_ext.persistence.models import StrategyPosition
from nautilus_ext.persistence.repository import StrategyRepository
from nautilus_ext.safety.decision import Rule
from nautilus_ext.strategies.carry_state import CarryLeg
from nautilus_ext.strategies.carry_state import CarryPosition
from nautilus_ext.strategies.leg_reconcile import leg_mismatches
from nautilus_ext.strategies.spread_state import PerpSpreadConfig

_NS = 1_000_000_000


class SpreadPairs(UnifiedExecutionStrategy):
    """The pair positions of a two-venue spread strategy (see the module docstring)."""

    # set by the subclass: venue A's and B's Nautilus instrument ids, the IOC band (fraction)
    a_id: str
    b_id: str
    max_slippage: Decimal

    def __init__(self, config: PerpSpreadConfig, repository: StrategyRepository | None = None) -> None:
        super().__init__(config)
        self._repository = repository
        self._database: Database | None = None
        self.positions: dict[uuid.UUID, CarryPosition] = {}
        self._group_position: dict[str, uuid.UUID] = {}
        self.refusing: str | None = None  # why no new order may go out (reconciliation, hedges)
        self._n = 0  # operation counter (groups, maker orders, hedges), stored as group_count
        self._retry_after = 0
        self.reconciled = False

    def close_store(self) -> None:
        """Close the store opened from ``db_url`` (a given repository is left open)."""
        if self._database is not None:
            self._database.close()
            self._database = None
            self._repository = None

    def restore(self) -> None:
        """Rebuild the open positions and the operation counter from the store."""
        name = self.config.strategy_name
        self._n = int(self.repository.get_state(name, "group_count", 0))
        for row in self.repository.open_positions(name):
            state = self.repository.get_state(name, f"position:{row.id}")
            if state is None:
                self._refuse(f"stored position {row.id} has no leg state")
                continue
            self.positions[row.id] = CarryPosition.from_state(row.id, state, row.cumulative_funding)

    @property
    def repository(self) -> StrategyRepository:
        """The store positions and hedges live in (opened from ``db_url`` on first use)."""
        if self._repository is None:
            self._database = Database.open(self.config.db_url)
            self._repository = StrategyRepository(self._database)
        return self._repository

    def _instrument(self, iid: str) -> Instrument | None:
        return self.cache.instrument(InstrumentId.from_str(iid))

    def _dirty(self, *iids: str) -> bool:
        # the gate blocks new orders on an asset whose last fill the venue has not confirmed
        gate = self.safety_gate
        return gate is not None and any(gate.oms.dirty_since(self._key(i)) is not None for i in iids)

    def _key(self, iid: str) -> str:
        inst = self._instrument(iid)
        if inst is None:
            raise InvalidConfig(f"instrument {iid} is not loaded")
        return str(key_for_instrument(inst, self.registry))

    def _open_position(
        self, gid: str, long_id: str, short_id: str, notional: Decimal, edge: Decimal
    ) -> CarryPosition:
        inst = self._instrument(long_id)
        base = inst.get_base_currency() if inst is not None else None
        position = CarryPosition(
            id=uuid.uuid4(),
            base=(base.code if base is not None else "UNKNOWN").upper(),
            long=CarryLeg(long_id, self._key(long_id), Decimal(0)),
            short=CarryLeg(short_id, self._key(short_id), Decimal(0)),
            opened_ns=int(self.decision_clock.timestamp_ns()),
            phase="OPEN",
            group_id=gid,
            notional=notional,
        )
        # the row exists before any order: a restart finds it and never opens it twice
        self.repository.add_position(
            StrategyPosition(
                id=position.id,
                strategy_name=self.config.strategy_name,
                symbol=position.base,
                long_venue=position.long.instrument_key.split(":", 1)[0],
                short_venue=position.short.instrument_key.split(":", 1)[0],
                size_usd=store_amount(notional),
                entry_long_rate=Decimal(0),
                entry_short_rate=Decimal(0),
                entry_divergence=edge.quantize(Decimal("1e-18"), rounding=ROUND_HALF_EVEN),
                opened_at=datetime.fromtimestamp(position.opened_ns / _NS, tz=UTC),
                status="open",
            )
        )
        self.positions[position.id] = position
        return position

    def unwind(self, position: CarryPosition, reason: str) -> None:
        """Close both legs of ``position`` by an atomic pair in reverse."""
        qty = min(abs(position.long.signed), abs(position.short.signed))
        if qty <= 0:
            self._close(position, reason)
            return
        if self._dirty(position.long.instrument_id, position.short.instrument_id):
            return  # the next cycle, once the venues confirmed the last fills
        gid = self._next_group("exit")
        group = self._group(
            gid,
            [(position.long.instrument_id, "SELL", qty), (position.short.instrument_id, "BUY", qty)],
            f"spread_exit:{reason}",
        )
        if not self.releasable(group):
            return
        position.phase = "CLOSING"
        position.group_id = gid
        self._group_position[gid] = position.id
        self._persist(position, exit_reason=reason)
        self.log.info(f"Unwinding spread position {position.id}: {reason}")
        self._submit(group)

    def _next_group(self, kind: str) -> str:
        self._n += 1
        self.repository.set_state(self.config.strategy_name, "group_count", self._n)
        return f"{self.config.strategy_name}-{kind}-{self._n}"

    def _order(self, op: str, iid: str, side: str, qty: Decimal, intent: str, **fields: Any) -> Order:
        key = self._key(iid)
        return Order(
            operation_id=op,
            operation="trade",
            instrument_key=key,
            venue=key.split(":", 1)[0],
            side=side,
            amount=qty,
            strategy_id=str(self.id),
            strategy_intent=intent,
            created_at=datetime.fromtimestamp(self.decision_clock.timestamp_ns() / _NS, tz=UTC),
            **fields,
        )

    def _group(self, gid: str, legs: list[tuple[str, str, Decimal]], intent: str) -> AtomicGroup:
        orders = [
            self._order(
                f"{gid}-{n}",
                iid,
                side,
                qty,
                intent,
                atomic_group_id=gid,
                sequence_in_group=n,
                # leg A carries the pair's options: IOC limits within the sizing band
                metadata={
                    "neutralise_policy": self.config.neutralise_policy,
                    "max_slippage": str(self.max_slippage),
                }
                if n == 0
                else {},
            )
            for n, (iid, side, qty) in enumerate(legs)
        ]
        return AtomicGroup.from_orders(orders)

    def releasable(self, group: AtomicGroup) -> bool:
        """Return whether ``group`` can go out now (LIVE: an armed auto-confirm policy covers both legs)."""
        gate = self.safety_gate
        if gate is None or self._mode.value != "LIVE":
            return True
        if all(gate.auto_confirmable(order) for order in group.orders):
            return True
        self.log.warning(
            f"Cannot release spread group {group.group_id}: LIVE needs an arm with an auto-confirm policy"
        )
        return False

    def _submit(self, group: AtomicGroup) -> None:
        gate = self.safety_gate
        if gate is not None and self._mode.value == "LIVE":
            for order in group.orders:
                gate.stage(order)
        self.submit_group(group)
        self._group_status()

    def _persist(self, position: CarryPosition, **fields: Any) -> None:
        self.repository.set_state(self.config.strategy_name, f"position:{position.id}", position.state())
        if fields:
            self.repository.update_position(position.id, **fields)

    def _close(self, position: CarryPosition, reason: str) -> None:
        position.phase = "CLOSED"
        self._persist(
            position,
            status="closed",
            exit_reason=reason,
            closed_at=datetime.fromtimestamp(self.decision_clock.timestamp_ns() / _NS, tz=UTC),
        )
        self.positions.pop(position.id, None)

    def _group_status(self) -> None:
        # a pair that ended moves its position on: OPENING -> OPEN (or closed when flat),
        # CLOSING -> closed (or OPEN again with what is left)
        for gid, pid in list(self._group_position.items()):
            group = self.groups.get(gid)
            position = self.positions.get(pid)
            if group is None or position is None or group.status is GroupStatus.WORKING:
                continue
            del self._group_position[gid]
            if group.status is GroupStatus.UNHEDGED:
                self._refuse(f"spread group {gid} ended UNHEDGED: {group.reason}")
            long_op, short_op = group.legs
            long_net, short_net = group.net.get(long_op, Decimal(0)), group.net.get(short_op, Decimal(0))
            fees = sum((f.fee for op in group.legs for f in self.results[op].fills), Decimal(0)) + sum(
                (f.fee for f in group.neutralisation_fills), Decimal(0)
            )
            if position.phase == "OPENING":
                position.long.signed, position.short.signed = long_net, -short_net
                position.long.entry_price = self.results[long_op].avg_fill_price
                position.short.entry_price = self.results[short_op].avg_fill_price
                if long_net == 0 and short_net == 0:
                    self._retry_after = (
                        int(self.decision_clock.timestamp_ns()) + self.config.entry_retry_secs * _NS
                    )
                    self._close(position, f"ENTRY_{group.status.value}")
                    continue
                position.phase = "OPEN"
                position.notional = abs(position.long.signed) * (position.long.entry_price or Decimal(0))
                self._persist(
                    position, size_usd=store_amount(position.notional), total_fees_paid=store_amount(fees)
                )
            elif position.phase == "CLOSING":
                position.long.signed -= long_net
                position.short.signed += short_net
                if position.long.signed == 0 and position.short.signed == 0:
                    self._close(position, _stored_reason(self, position))
                else:
                    position.phase = "OPEN"
                    self.log.warning(f"Spread unwind {gid} left {position.long.signed}: {group.reason}")
                    self._persist(position, exit_reason=None)

    def reconcile(self) -> list[str]:
        """Compare the stored positions with the node's positions per instrument (empty: agree)."""
        expected: dict[str, Decimal] = {}
        problems: list[str] = []
        for position in self.positions.values():
            if position.phase not in ("OPEN",):
                problems.append(f"position {position.id} was {position.phase} when the node stopped")
            for leg in position.legs():
                expected[leg.instrument_id] = expected.get(leg.instrument_id, Decimal(0)) + leg.signed
        return problems + leg_mismatches(self.cache, expected, (self.a_id, self.b_id))

    def _refuse(self, why: str) -> None:
        # the first reason stands; the store has it before anything reads self.refusing
        if self.refusing is not None:
            return
        self.repository.set_state(self.config.strategy_name, "refusing", why)
        self.refusing = why
        self.log.error(f"Perp spread refuses to trade: {why}")
        gate = self.safety_gate
        if gate is not None:
            gate.halts.enter_safe(ErrorCode.POSITION_MISMATCH, Rule.POSITION_MISMATCH, why)


def store_amount(value: Decimal) -> Decimal:
    # the store's money columns hold 12 decimal places (rates 18): round explicitly, half-even
    return value.quantize(Decimal("1e-12"), rounding=ROUND_HALF_EVEN)


def _stored_reason(strategy: SpreadPairs, position: CarryPosition) -> str:
    for row in strategy.repository.open_positions(strategy.config.strategy_name):
        if row.id == position.id and row.exit_reason:
            return str(row.exit_reason)
    return "CLOSED"


__all__ = ["SpreadPairs", "store_amount"]
