"""
Atomic two-leg execution (seed 002 ``AtomicMultiOrderExecutor``, seed 004 "leg imbalance").

The primary is leg A; ``hedge_instrument_id`` names leg B, traded on the opposite side for the
same base quantity (a delta-neutral pair, e.g. long spot on one venue, short perp on another).

1. Pre-flight: both books must show the full quantity on the side we take, else the parent
   stops with ``INSUFFICIENT_DEPTH`` and nothing is sent.
2. Both legs go out together as IOC market children; with ``max_slippage`` (a fraction) as IOC
   limits at each leg's arrival mid +/- the bound, rounded inward to the tick (seed 004: IOC
   limits for taking, no pure market orders), so neither leg walks the book past it.
3. When both have closed (filled, partly filled, rejected or cancelled after
   ``leg_timeout_secs``), the imbalance ``|filled A| - |filled B|`` is neutralised by the
   policy: ``CLOSE_EXCESS`` trades the over-filled leg back by the excess, ``COMPLETE_HEDGE``
   trades the under-filled leg up to the other. IOC market children (neutralising must not
   stall on a price bound: the imbalance is the larger risk, seed 002), up to
   ``max_neutralise_attempts`` rounds, until the imbalance is below a lot.

The report's ``detail`` gives each leg's net fill, the residual imbalance and the rollback cost
(what the neutralising trades paid against the arrival mids, in quote currency).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Any

from nautilus_trader.common.events import TimeEvent
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.orders import LimitOrder
from nautilus_trader.model.orders import MarketOrder

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.execution_algos.base import Parent
from nautilus_ext.execution_algos.base import SmartExecAlgorithm
from nautilus_ext.execution_algos.base import SmartExecAlgorithmConfig
from nautilus_ext.execution_algos.common import StopReason
from nautilus_ext.execution_algos.common import param_decimal
from nautilus_ext.execution_algos.common import param_str
from nautilus_ext.execution_algos.common import round_to_lot
from nautilus_ext.execution_algos.common import slippage_cap_price

NS_PER_SEC = 1_000_000_000
INITIAL_LEG_CHILDREN = 2
"""Children numbered 1 (leg A) and 2 (leg B) are the legs; later ones neutralise."""


def leg_child_id(primary_id: str, leg: str, n: int) -> str:
    """Return the client order id of the ``n``-th child of a parent (``<primary>-<leg><n>``)."""
    return f"{primary_id}-{leg}{n}"


def parse_leg_child_id(primary_id: str, child_id: str) -> tuple[str, int] | None:
    """Return ``(leg, n)`` of a child id built by :func:`leg_child_id`, or None if it is not one."""
    prefix = f"{primary_id}-"
    if not child_id.startswith(prefix):
        return None
    tail = child_id[len(prefix) :]
    if len(tail) < 2 or tail[0] not in ("A", "B") or not tail[1:].isdigit():
        return None
    return tail[0], int(tail[1:])


@unique
class NeutralisePolicy(StrEnum):
    """How a leg imbalance is removed."""

    CLOSE_EXCESS = "CLOSE_EXCESS"  # trade the over-filled leg back (ends smaller but neutral)
    COMPLETE_HEDGE = "COMPLETE_HEDGE"  # trade the under-filled leg up (ends closer to the target)


class AtomicLegsExecAlgorithmConfig(SmartExecAlgorithmConfig, frozen=True):
    """
    Configuration of :class:`AtomicLegsExecAlgorithm`.

    Parameters
    ----------
    neutralise_policy : str, default "CLOSE_EXCESS"
        ``CLOSE_EXCESS`` or ``COMPLETE_HEDGE`` (orders may override).
    leg_timeout_secs : int, default 10
        A leg still working after this long is cancelled, in seconds.
    max_neutralise_attempts : int, default 3
        Neutralising rounds before stopping with the residual imbalance reported; the last
        round always closes the excess (``COMPLETE_HEDGE`` falls back to it).
    neutralise_retry_secs : int, default 1
        Wait before a neutralising round after the first (books refill), in seconds.
    dirty_retry_ms : int, default 100
        A neutralising order the safety gate refused only because its asset is *dirty* (a fill
        the venue has not confirmed yet, seed 001 section 4.7.2) never reached the market: it is
        sent again after this long, in milliseconds, without counting as a round, for at most
        ``leg_timeout_secs`` (the naked leg waits for the venue's confirmation, not a second).
    """

    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("ATOMIC_LEGS")
    neutralise_policy: str = "CLOSE_EXCESS"
    leg_timeout_secs: int = 10
    max_neutralise_attempts: int = 3
    neutralise_retry_secs: int = 1
    dirty_retry_ms: int = 100

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.neutralise_policy not in NeutralisePolicy.__members__:
            raise InvalidConfig(
                f"neutralise_policy must be CLOSE_EXCESS or COMPLETE_HEDGE, got {self.neutralise_policy!r}"
            )
        if (
            min(
                self.leg_timeout_secs,
                self.max_neutralise_attempts,
                self.neutralise_retry_secs,
                self.dirty_retry_ms,
            )
            <= 0
        ):
            raise InvalidConfig(
                "leg_timeout_secs, max_neutralise_attempts, neutralise_retry_secs and dirty_retry_ms "
                "must be positive"
            )


def _dirty_denial(order: Any, why: str) -> bool:
    # the safety gate's DIRTY_POSITION denial ("<asset> is dirty (fill not yet confirmed ...)");
    # a denial inside submit_order arrives as "denied on submission": read the order's event
    reason = why
    if order is not None and order.status == OrderStatus.DENIED:
        reason = f"{why} {getattr(order.last_event, 'reason', '')}"
    return "is dirty" in reason


@dataclass(frozen=True, slots=True)
class LegTrade:
    """A neutralising trade: which leg, buy or sell, how much."""

    leg: str  # "A" or "B"
    buy: bool
    quantity: Decimal


def neutralisation(
    filled_a: Decimal,
    filled_b: Decimal,
    *,
    a_buys: bool,
    policy: NeutralisePolicy,
    target: Decimal,
    lot_a: Decimal,
    lot_b: Decimal,
) -> LegTrade | None:
    """
    Return the trade that removes the imbalance between the legs' absolute fills (None when
    the imbalance is below the traded leg's lot).

    Leg A trades in direction ``a_buys``, leg B in the opposite one; ``filled_*`` are absolute
    net quantities in each leg's own direction. ``COMPLETE_HEDGE`` never takes a leg past
    ``target``; what it cannot complete it closes instead.
    """
    gap = filled_a - filled_b
    if gap == 0:
        return None
    over, under = ("A", "B") if gap > 0 else ("B", "A")
    excess = abs(gap)
    lot = {"A": lot_a, "B": lot_b}
    direction = {"A": a_buys, "B": not a_buys}
    if policy is NeutralisePolicy.COMPLETE_HEDGE:
        room = target - (filled_b if under == "B" else filled_a)
        qty = round_to_lot(min(excess, room), lot[under])
        if qty > 0:
            return LegTrade(leg=under, buy=direction[under], quantity=qty)
    qty = round_to_lot(excess, lot[over])
    if qty <= 0:
        return None
    return LegTrade(leg=over, buy=not direction[over], quantity=qty)


def depth_available(levels: list[tuple[Decimal, Decimal]]) -> Decimal:
    """Return the displayed size over the given levels."""
    return sum((size for _, size in levels), Decimal(0))


class AtomicLegsExecAlgorithm(SmartExecAlgorithm):
    """Two legs together, then neutralise any imbalance (see the module docstring)."""

    algorithm_name = "ATOMIC_LEGS"

    def __init__(self, config: AtomicLegsExecAlgorithmConfig | None = None) -> None:
        config = config or AtomicLegsExecAlgorithmConfig()
        super().__init__(config)
        self._defaults = config
        self._leg_of: dict[ClientOrderId, str] = {}
        self._seq: dict[ClientOrderId, int] = {}

    def begin(self, parent: Parent, params: dict[str, Any]) -> None:
        hedge_id = param_str(params, "hedge_instrument_id", "")
        if not hedge_id:
            raise InvalidOrder("hedge_instrument_id is required")
        hedge = self.cache.instrument(InstrumentId.from_str(hedge_id))
        if hedge is None:
            raise InvalidOrder(f"hedge instrument {hedge_id} is not loaded in this node")
        policy = param_str(params, "neutralise_policy", self._defaults.neutralise_policy).upper()
        if policy not in NeutralisePolicy.__members__:
            raise InvalidOrder(f"neutralise_policy must be CLOSE_EXCESS or COMPLETE_HEDGE, got {policy!r}")
        if round_to_lot(parent.total, hedge.size_increment.as_decimal()) != parent.total:
            raise InvalidOrder(f"quantity {parent.total} is not on the hedge's lot {hedge.size_increment}")
        a, b = parent.instrument, hedge
        mids = {"A": self.mid_price(a.id), "B": self.mid_price(b.id)}
        caps: dict[str, Decimal] = {}
        max_slippage = param_decimal(params, "max_slippage", None)
        if max_slippage is not None:
            for leg, inst, buy in (("A", a, parent.buy), ("B", b, not parent.buy)):
                mid = mids[leg]
                if mid is None:
                    raise InvalidOrder(f"no mid on {inst.id} to bound the leg by max_slippage")
                caps[leg] = slippage_cap_price(
                    mid, max_slippage, buy=buy, tick=inst.price_increment.as_decimal()
                )
        parent.state.update(
            legs={"A": a, "B": b},
            buys={"A": parent.buy, "B": not parent.buy},
            net={"A": Decimal(0), "B": Decimal(0)},
            mids=mids,
            caps=caps,
            policy=NeutralisePolicy(policy),
            attempts=0,
            phase="LEGS",
            rollback_cost=Decimal(0),
        )
        depth_check = param_str(params, "depth_check", "true").lower()
        if depth_check not in ("true", "false"):
            raise InvalidOrder(f"depth_check must be true or false, got {depth_check!r}")
        short = [leg for leg in ("A", "B") if self._depth(parent, leg) < parent.total]
        if short and depth_check == "true":
            names = ", ".join(str(parent.state["legs"][leg].id) for leg in short)
            self.finish(
                parent, StopReason.INSUFFICIENT_DEPTH, f"pre-flight: not enough displayed depth on {names}"
            )
            return
        # a venue that executes on arrival (a recorded DRY_RUN, its REPLAY) fills leg A inside its
        # submission, before leg B exists: judge the pair only once both legs are out
        parent.state["sending"] = True
        for leg in ("A", "B"):
            self._send(parent, leg, parent.state["buys"][leg], parent.total)
        parent.state["sending"] = False
        name = f"{self.id}:{parent.primary.client_order_id.value}:timeout"
        parent.timers.append(name)
        self.clock.set_time_alert_ns(
            name, self.clock.timestamp_ns() + self._defaults.leg_timeout_secs * NS_PER_SEC, self._on_timeout
        )
        if not parent.working and not parent.done:
            self.on_child_closed(parent)

    def _depth(self, parent: Parent, leg: str) -> Decimal:
        inst: Instrument = parent.state["legs"][leg]
        book = self.cache.order_book(inst.id)
        if book is None:
            return Decimal(0)
        side = book.asks() if parent.state["buys"][leg] else book.bids()
        return depth_available([(lvl.price.as_decimal(), Decimal(str(lvl.size()))) for lvl in side])

    def _send(self, parent: Parent, leg: str, buy: bool, qty: Decimal) -> None:
        inst: Instrument = parent.state["legs"][leg]
        primary = parent.primary
        n = self._seq.get(primary.client_order_id, 0) + 1
        self._seq[primary.client_order_id] = n
        cap = parent.state["caps"].get(leg) if parent.state["phase"] == "LEGS" else None
        child: MarketOrder | LimitOrder
        if cap is not None:
            child = LimitOrder(
                trader_id=primary.trader_id,
                strategy_id=primary.strategy_id,
                instrument_id=inst.id,
                client_order_id=ClientOrderId(leg_child_id(primary.client_order_id.value, leg, n)),
                order_side=OrderSide.BUY if buy else OrderSide.SELL,
                quantity=inst.make_qty(qty),
                price=inst.make_price(cap),
                init_id=UUID4(),
                ts_init=self.clock.timestamp_ns(),
                time_in_force=TimeInForce.IOC,
                exec_algorithm_id=self.id,
                exec_spawn_id=primary.client_order_id,
                tags=list(primary.tags) if primary.tags else None,
            )
            self._leg_of[child.client_order_id] = leg
            self.submit_on_venue(parent, child, qty)
            return
        child = MarketOrder(
            trader_id=primary.trader_id,
            strategy_id=primary.strategy_id,
            instrument_id=inst.id,
            client_order_id=ClientOrderId(leg_child_id(primary.client_order_id.value, leg, n)),
            order_side=OrderSide.BUY if buy else OrderSide.SELL,
            quantity=inst.make_qty(qty),
            init_id=UUID4(),
            ts_init=self.clock.timestamp_ns(),
            time_in_force=TimeInForce.IOC,
            exec_algorithm_id=self.id,
            exec_spawn_id=primary.client_order_id,
            tags=list(primary.tags) if primary.tags else None,
        )
        self._leg_of[child.client_order_id] = leg
        self.submit_on_venue(parent, child, qty)

    def _on_timeout(self, event: TimeEvent) -> None:
        pid = event.name.rsplit(":", 2)[1]
        for parent in self.parents.values():
            if parent.primary.client_order_id.value == pid and not parent.done and parent.working:
                parent.report.detail = "a leg timed out: cancel requested"
                for cid in list(parent.working):
                    order = self.cache.order(cid)
                    # also legs still in flight (submitted, not yet acknowledged by the venue)
                    if (
                        order is not None
                        and (order.is_open or order.is_inflight)
                        and not order.is_pending_cancel
                    ):
                        self.cancel_order(order)

    def on_order_filled(self, event: OrderFilled) -> None:
        leg = self._leg_of.get(event.client_order_id)
        parent = self._parent_for(event.client_order_id)
        if leg is None or parent is None:
            return
        qty = event.last_qty.as_decimal()
        parent.report.taker_quantity += qty
        along = (event.order_side == OrderSide.BUY) == parent.state["buys"][leg]
        parent.state["net"][leg] += qty if along else -qty
        if parent.state["phase"] == "NEUTRALISE":
            mid = parent.state["mids"][leg]
            if mid is not None:
                px = event.last_px.as_decimal()
                paid = (px - mid) * qty if event.order_side == OrderSide.BUY else (mid - px) * qty
                parent.state["rollback_cost"] += paid + event.commission.as_decimal()
        left = parent.working.get(event.client_order_id, Decimal(0)) - qty
        if left > 0:
            parent.working[event.client_order_id] = left
        else:
            parent.working.pop(event.client_order_id, None)
            if not parent.done:
                self.on_child_closed(parent)

    def _closed(self, client_order_id: ClientOrderId, rejected: bool, why: str = "") -> None:
        # a refused or cancelled leg is not a reason to stop: it is what neutralisation is for
        parent = self._parent_for(client_order_id)
        if parent is None or parent.working.pop(client_order_id, None) is None:
            return
        if rejected:
            parent.rejects += 1
            if parent.state["phase"] == "NEUTRALISE" and _dirty_denial(
                self.cache.order(client_order_id), why
            ):
                parent.state["dirty_retry"] = True
        if not parent.done:
            self.on_child_closed(parent)

    def _progress(self, parent: Parent) -> None:
        # the base's "filled >= total" does not apply to two legs: decide on closed children only
        if not parent.done:
            self.on_child_closed(parent)

    def _trade(self, parent: Parent) -> LegTrade | None:
        net = parent.state["net"]
        last = parent.state["attempts"] >= self._defaults.max_neutralise_attempts
        return neutralisation(
            net["A"],
            net["B"],
            a_buys=parent.buy,
            policy=NeutralisePolicy.CLOSE_EXCESS if last else parent.state["policy"],
            target=parent.total,
            lot_a=parent.state["legs"]["A"].size_increment.as_decimal(),
            lot_b=parent.state["legs"]["B"].size_increment.as_decimal(),
        )

    def on_child_closed(self, parent: Parent) -> None:
        if parent.working or parent.done or parent.state.get("waiting") or parent.state.get("sending"):
            return
        parent.filled = parent.state["net"]["A"]
        if self._trade(parent) is None:
            self._done(parent)
            return
        defaults = self._defaults
        dirty = parent.state.pop("dirty_retry", False)
        denials = parent.state.get("dirty_denials", 0)
        if dirty and denials * defaults.dirty_retry_ms < defaults.leg_timeout_secs * 1000:
            # refused by the gate until the venue confirms the fill: soon again, not a round
            parent.state["dirty_denials"] = denials + 1
            parent.state["waiting"] = True
            name = f"{self.id}:{parent.primary.client_order_id.value}:d{denials}"
            parent.timers.append(name)
            self.clock.set_time_alert_ns(
                name, self.clock.timestamp_ns() + defaults.dirty_retry_ms * 1_000_000, self._on_retry
            )
            return
        attempts = parent.state["attempts"]
        if attempts >= self._defaults.max_neutralise_attempts:
            self._done(parent, unneutralised=True)
            return
        parent.state["attempts"] = attempts + 1
        parent.state["phase"] = "NEUTRALISE"
        if attempts == 0:
            self._neutralise(parent)
            return
        # a retry: let the books refill first
        parent.state["waiting"] = True
        name = f"{self.id}:{parent.primary.client_order_id.value}:n{attempts}"
        parent.timers.append(name)
        self.clock.set_time_alert_ns(
            name,
            self.clock.timestamp_ns() + self._defaults.neutralise_retry_secs * NS_PER_SEC,
            self._on_retry,
        )

    def _neutralise(self, parent: Parent) -> None:
        trade = self._trade(parent)  # the last attempt closes the excess whatever the policy
        if trade is None:
            self._done(parent)
        else:
            self._send(parent, trade.leg, trade.buy, trade.quantity)

    def _on_retry(self, event: TimeEvent) -> None:
        pid = event.name.rsplit(":", 2)[1]
        for parent in self.parents.values():
            if parent.primary.client_order_id.value == pid and not parent.done:
                parent.state["waiting"] = False
                self._neutralise(parent)

    def _done(self, parent: Parent, unneutralised: bool = False) -> None:
        net = parent.state["net"]
        imbalance = net["A"] - net["B"]
        legs = parent.state["legs"]
        detail = (
            f"leg A {legs['A'].id} {net['A']}, leg B {legs['B'].id} {net['B']}, "
            f"imbalance {imbalance}, rollback cost {parent.state['rollback_cost']:.6f}"
        )
        parent.filled = net["A"]
        if unneutralised:
            reason = StopReason.UNHEDGED
        elif net["A"] == parent.total and net["B"] == parent.total:
            reason = StopReason.COMPLETED
        else:
            reason = StopReason.ROLLED_BACK
        self.finish(parent, reason, detail)
