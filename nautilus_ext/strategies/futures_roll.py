"""
Hold a futures position through its rolls: the front-month key, resolved and rolled over time.

:class:`FuturesRollStrategy` keeps a target position in a front-month key
(``CME:FUTURE:SP500-USD-FRONT@LIN``). It opens the position in the contract the key resolves to
(:class:`~nautilus_ext.tradfi.front.FrontMonthResolver` over the ``FuturesContract`` instruments
in the node's cache: Databento definitions in a backtest, the broker's contract details live).
When the trade date reaches the held contract's roll date it rolls the position into the
contract the key resolves to then, as a calendar spread (one atomic group) or two legs per the
root's ``roll_method`` in ``configs/tradfi/rolls.yaml``, through
:meth:`~nautilus_ext.execution.strategy.UnifiedExecutionStrategy.submit_unified` /
:meth:`~nautilus_ext.execution.strategy.UnifiedExecutionStrategy.submit_group` (the safety gate
judges every leg). :meth:`FuturesRollStrategy.roll_reports` prices each roll
(:func:`~nautilus_ext.tradfi.roll_orders.roll_report`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from decimal import Decimal
from typing import Any

from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.execution.config import UnifiedExecutionConfig
from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.results import GroupStatus
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.orders.groups import AtomicGroup
from nautilus_ext.orders.model import Order
from nautilus_ext.tradfi.front import FrontMonthResolver
from nautilus_ext.tradfi.front import InstrumentContractProvider
from nautilus_ext.tradfi.front import ListedContract
from nautilus_ext.tradfi.roll_orders import RollLeg
from nautilus_ext.tradfi.roll_orders import RollReport
from nautilus_ext.tradfi.roll_orders import roll_orders
from nautilus_ext.tradfi.roll_orders import roll_report
from nautilus_ext.tradfi.rolls import RollCalendar
from nautilus_ext.tradfi.rolls import RollMethod
from nautilus_ext.tradfi.trade_date import trade_date
from nautilus_ext.tradfi.trade_date import trade_date_start_ns

_MAX_OPEN_SENDS = 3
_RETRYABLE = frozenset({ExecutionStatus.REJECTED, ExecutionStatus.UNFILLED})
_GROUP_REFUSED = frozenset({GroupStatus.REJECTED, GroupStatus.NOT_EXECUTED})


class FuturesRollConfig(UnifiedExecutionConfig, frozen=True):
    """
    Configuration of :class:`FuturesRollStrategy`.

    Parameters
    ----------
    front_key : str
        The front-month key held (``CME:FUTURE:SP500-USD-FRONT@LIN``).
    target_quantity : str
        The signed position to hold, in contracts (``"3"`` long, ``"-2"`` short).
    enter_at_ns : int, default 0
        Do not open the position before this time (UNIX ns).
    rolls_path : str, optional
        The roll calendar file (default: ``configs/tradfi/rolls.yaml``).
    roll_method : str, optional
        ``CALENDAR_SPREAD`` or ``TWO_LEGS``, overriding the root's configured method.
    """

    front_key: str = ""
    target_quantity: str = "0"
    enter_at_ns: int = 0
    rolls_path: str | None = None
    roll_method: str | None = None


@dataclass
class _Roll:
    # one roll: its date, contracts, method, legs' operation ids and the position it moves
    day: date
    old: ListedContract
    new: ListedContract
    method: RollMethod
    close_op: str
    open_op: str
    position: Decimal
    open_sent: int = 0  # two legs: how many times the open leg was sent
    refused: bool = False  # refused before the position moved: held stays in the old contract


class FuturesRollStrategy(UnifiedExecutionStrategy):
    """
    Hold ``target_quantity`` of a front-month key and roll it (see the module docstring).

    A calendar spread goes out as one atomic group: if the gate or the pre-flight refuses it,
    the position stays in the old contract and the roll is tried again on the next trade date.
    Two legs go out one after the other: the open leg only once the close leg has filled (so a
    refused close never doubles the position), and a refused open leg is sent again on the next
    data point, a few times at most (:attr:`errors` records each refusal).
    """

    def __init__(self, config: FuturesRollConfig) -> None:
        super().__init__(config)
        self.front = InstrumentKey.parse(config.front_key)
        if not self.front.is_continuous:
            raise InvalidConfig(f"front_key {config.front_key!r} is not a front-month key (...-FRONT@LIN)")
        self.target = Decimal(config.target_quantity)
        self.calendar = (
            RollCalendar.from_yaml(config.rolls_path) if config.rolls_path else RollCalendar.default()
        )
        root = self.calendar.root_of(self.front)
        self.method = RollMethod(config.roll_method or self.calendar.spec(root).roll_method)
        self._enter_at = config.enter_at_ns
        self._depth_check = config.book_data
        self.held: ListedContract | None = None
        self.rolls: list[_Roll] = []
        self.errors: list[str] = []
        self._refused_on: date | None = None
        self._resolver: FrontMonthResolver | None = None

    @property
    def resolver(self) -> FrontMonthResolver:
        """The front-month resolver over the node's ``FuturesContract`` instruments."""
        if self._resolver is None:
            provider = InstrumentContractProvider(self.calendar, self.cache.instruments())
            self._resolver = FrontMonthResolver(self.calendar, provider)
        return self._resolver

    def on_quote_tick(self, tick: Any) -> None:
        self._step(tick.ts_init)

    def on_trade_tick(self, tick: Any) -> None:
        self._step(tick.ts_init)

    def _net(self, contract: ListedContract) -> Decimal:
        return Decimal(str(self.portfolio.net_position(InstrumentId.from_str(contract.instrument_id))))

    def _quoted_since(self, contract: ListedContract, since_ns: int) -> bool:
        # both legs need market data of the roll date's session (the gate refuses stale data)
        iid = InstrumentId.from_str(contract.instrument_id)
        last = self.cache.quote_tick(iid) or self.cache.trade_tick(iid)
        return last is not None and last.ts_init >= since_ns

    def _step(self, ts_ns: int) -> None:
        if self.target == 0 or ts_ns < self._enter_at:
            return
        when = datetime.fromtimestamp(ts_ns / 1e9, tz=UTC)
        day = trade_date(ts_ns)
        try:
            if self.held is None:
                self.held = self.resolver.resolve(self.front, ts_ns)
                self.submit_unified(self._entry(self.held, when))
                return
            current = self.rolls[-1] if self.rolls else None
            if current is not None and not current.refused and current.old == self.held:
                self._advance_two_legs(current, when)
                return
            if day < self.held.roll_date or day == self._refused_on:
                return
            position = self._net(self.held)
            if position == 0:
                return  # the entry has not filled yet
            new = self.resolver.resolve(self.front, ts_ns)
            session = trade_date_start_ns(day)
            if not (self._quoted_since(self.held, session) and self._quoted_since(new, session)):
                return
            self._start_roll(day, new, position, when)
        except NautilusExtError as e:
            # a front month with no listed contract, a refused roll: recorded, never raised
            # into the engine (the next data point tries again)
            self.errors.append(f"{e.code}: {e.message}")
            self.log.warning(f"Cannot hold {self.front}: {e.message}")

    def _start_roll(self, day: date, new: ListedContract, position: Decimal, when: datetime) -> None:
        assert self.held is not None
        op = f"roll-{self.held.symbol}-{new.symbol}"
        close, open_ = roll_orders(
            position,
            self.held,
            new,
            self.method,
            operation_id=op,
            created_at=when,
            strategy_id=self.id.value,
            depth_check=self._depth_check,
        )
        roll = _Roll(day, self.held, new, self.method, close.operation_id, open_.operation_id, position)
        self.rolls.append(roll)
        if self.method is RollMethod.CALENDAR_SPREAD:
            group = self.submit_group(AtomicGroup.from_orders([close, open_]))
            if group.status in _GROUP_REFUSED:
                self._refuse(roll, f"calendar spread {group.group_id}: {group.reason}")
            else:
                self.held = new
            return
        self.submit_unified(close)
        self._advance_two_legs(roll, when)

    def _refuse(self, roll: _Roll, why: str) -> None:
        roll.refused = True
        self._refused_on = roll.day
        self.errors.append(why)
        self.log.warning(f"Roll of {roll.old.key} into {roll.new.key} refused: {why}")

    def _advance_two_legs(self, roll: _Roll, when: datetime) -> None:
        # the open leg goes out only once the close leg has filled
        if roll.method is not RollMethod.TWO_LEGS:
            return
        closed = self.results.get(roll.close_op)
        if closed is None or not self._terminal(closed):
            return  # the close leg is still working
        if closed.filled_quantity == 0:
            self._refuse(roll, f"close leg {roll.close_op}: {closed.status} {closed.reason}")
            return
        opened = self.results.get(roll.open_op) if roll.open_sent else None
        if opened is not None and opened.status is ExecutionStatus.FILLED:
            self.held = roll.new
            return
        if opened is not None and (
            not self._terminal(opened) or opened.status not in _RETRYABLE or opened.filled_quantity
        ):
            return  # working, or partly filled: left as it is (the report says incomplete)
        if roll.open_sent >= _MAX_OPEN_SENDS:
            return
        if opened is not None:
            self.errors.append(f"open leg {roll.open_op}: {opened.status} {opened.reason}")
        roll.open_sent += 1
        # the open leg is the size the close leg actually moved
        moved = closed.filled_quantity if roll.position > 0 else -closed.filled_quantity
        suffix = "" if roll.open_sent == 1 else f"-retry{roll.open_sent}"
        _, open_ = roll_orders(
            moved,
            roll.old,
            roll.new,
            roll.method,
            operation_id=f"roll-{roll.old.symbol}-{roll.new.symbol}{suffix}",
            created_at=when,
            strategy_id=self.id.value,
        )
        roll.open_op = open_.operation_id
        self.submit_unified(open_)
        if self.results[roll.open_op].status is ExecutionStatus.FILLED:
            self.held = roll.new

    def _terminal(self, result: ExecutionResult) -> bool:
        # a result's status is UNFILLED while its order works: the Nautilus order says if it closed
        if result.status is ExecutionStatus.REJECTED or result.client_order_id is None:
            return True
        order = self.cache.order(ClientOrderId(result.client_order_id))
        return order is None or bool(order.is_closed)

    def _entry(self, contract: ListedContract, when: datetime) -> Order:
        return Order(
            operation_id=f"enter-{contract.symbol}",
            operation="trade",
            instrument_key=contract.key,
            venue=contract.key.venue,
            side="BUY" if self.target > 0 else "SELL",
            amount=abs(self.target),
            expected_deltas={contract.key: self.target},
            strategy_id=self.id.value,
            strategy_intent="enter",
            created_at=when,
        )

    def _leg(self, op: str) -> RollLeg:
        result: ExecutionResult | None = self.results.get(op)
        if result is None:
            return RollLeg(Decimal(0), None, None, Decimal(0))
        sign = 1 if result.side == "BUY" else -1
        return RollLeg(sign * result.filled_quantity, result.avg_fill_price, result.arrival_mid, result.fees)

    def roll_reports(self) -> list[RollReport]:
        """Return a report per roll so far (cost and spread paid, from the legs' fills)."""
        out = []
        for roll in self.rolls:
            instrument = self.cache.instrument(InstrumentId.from_str(roll.old.instrument_id))
            multiplier = Decimal(1) if instrument is None else instrument.multiplier.as_decimal()
            out.append(
                roll_report(
                    roll.day,
                    (str(roll.old.key), self._leg(roll.close_op)),
                    (str(roll.new.key), self._leg(roll.open_op)),
                    roll.method,
                    multiplier,
                    roll.position,
                )
            )
        return out


__all__ = ["FuturesRollConfig", "FuturesRollStrategy"]
