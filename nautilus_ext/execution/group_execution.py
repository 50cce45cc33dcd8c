"""
Atomic groups through ``ATOMIC_LEGS`` in the unified execution strategy.

:class:`AtomicGroupExecution` is the strategy's helper for
:meth:`~nautilus_ext.execution.strategy.UnifiedExecutionStrategy.submit_group`: it checks a group
whole before anything is sent, submits leg A as the algorithm's primary with leg B as its hedge,
and books the children's fills to the leg results and the group's neutralisation. Everything it
uses of the strategy comes through one explicit :class:`GroupContext`.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.instruments import Instrument

from nautilus_ext.audit import OrderStatus
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import NoRouteError
from nautilus_ext.execution.atomic_groups import check_pair
from nautilus_ext.execution.atomic_groups import group_options
from nautilus_ext.execution.atomic_groups import neutralisation_cost
from nautilus_ext.execution.audit_hook import ExecutionAuditor
from nautilus_ext.execution.deltas import FillRecorder
from nautilus_ext.execution.order_builder import ATOMIC_LEGS
from nautilus_ext.execution.order_builder import order_quantity
from nautilus_ext.execution.order_builder import reject
from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.results import GroupExecutionResult
from nautilus_ext.execution.results import GroupStatus
from nautilus_ext.execution.results import NeutralisationFill
from nautilus_ext.execution.results import decision_price_of
from nautilus_ext.execution.venue_choice import LoadedInstruments
from nautilus_ext.execution.venue_choice import NautilusBookView
from nautilus_ext.execution.venue_choice import candidates_of
from nautilus_ext.execution.venue_choice import choose_venue
from nautilus_ext.execution_algos.common import AlgoOutcome
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.orders.groups import AtomicGroup
from nautilus_ext.orders.model import Order
from nautilus_ext.orders.model import Side
from nautilus_ext.routing.router import Algorithm
from nautilus_ext.routing.router import RouteFamily
from nautilus_ext.routing.router import route_group
from nautilus_ext.safety.gate import GateContext

_GROUP_FAMILIES: frozenset[RouteFamily | None] = frozenset({RouteFamily.CEX, RouteFamily.TRADFI})


@dataclass(frozen=True, slots=True)
class GroupContext:
    """
    What atomic-group execution uses of its strategy, named one by one.

    The ledgers are the strategy's own (shared, mutated here); the callables are the strategy's
    services, read when called (the auditor and the safety gate may be set after construction).

    Parameters
    ----------
    registry : InstrumentRegistry
        Canonical keys to routes.
    cache : Cache
        The node's cache (orders of the algorithm's children).
    book : NautilusBookView
        Market state (arrival mids, costs, data time).
    instruments : LoadedInstruments
        The node's loaded instruments by canonical key.
    fills : FillRecorder
        Fill records with the position deltas each fill made.
    order_factory : OrderFactory
        The strategy's Nautilus order factory.
    results, groups : dict
        The strategy's per-order and per-group results.
    by_client_id : dict[ClientOrderId, str]
        Client order id -> operation id of the orders the strategy submitted.
    group_of_primary : dict[ClientOrderId, GroupExecutionResult]
        ATOMIC_LEGS primary -> its group.
    algo_outcomes : Mapping[str, AlgoOutcome]
        The latest outcome an algorithm published, by primary client order id.
    now_ns : Callable[[], int]
        The decision clock.
    next_client_order_id : Callable[[], ClientOrderId | None]
        The next client order id (None: the factory's own).
    algorithm_registered : Callable[[str], bool]
        Whether the node runs an ExecAlgorithm.
    check_gate : Callable[[Order, GateContext], None]
        The safety gate (raises when it blocks; nothing without a gate).
    submit : Callable[[Any], None]
        Submit a Nautilus order.
    auditor : Callable[[], ExecutionAuditor | None]
        The audit hook, if the run is audited.
    record_end_mid : Callable[[ExecutionResult], None]
        Value a result's unfilled part at the mid now.
    warn : Callable[[str], None]
        The strategy's warning log.
    """

    registry: InstrumentRegistry
    cache: Any
    book: NautilusBookView
    instruments: LoadedInstruments
    fills: FillRecorder
    order_factory: Any
    results: dict[str, ExecutionResult]
    groups: dict[str, GroupExecutionResult]
    by_client_id: dict[ClientOrderId, str]
    group_of_primary: dict[ClientOrderId, GroupExecutionResult]
    algo_outcomes: Mapping[str, AlgoOutcome]
    now_ns: Callable[[], int]
    next_client_order_id: Callable[[], ClientOrderId | None]
    algorithm_registered: Callable[[str], bool]
    check_gate: Callable[[Order, GateContext], None]
    submit: Callable[[Any], None]
    auditor: Callable[[], ExecutionAuditor | None]
    record_end_mid: Callable[[ExecutionResult], None]
    warn: Callable[[str], None]


class AtomicGroupExecution:
    """Submit atomic groups to ``ATOMIC_LEGS`` and book their fills (see the module docstring)."""

    def __init__(self, ctx: GroupContext) -> None:
        self._c = ctx

    def submit(self, group: AtomicGroup) -> GroupExecutionResult:
        """Validate, route and submit ``group`` (see ``UnifiedExecutionStrategy.submit_group``)."""
        ts = self._c.now_ns()
        gid = group.group_id
        legs = [
            ExecutionResult(
                operation_id=o.operation_id,
                instrument_key=str(o.instrument_key),
                side=str(o.side),
                requested_quantity=o.amount,
                ts_decision_ns=ts,
                strategy_id=o.strategy_id,
                expected_deltas={str(k): v for k, v in o.expected_deltas.items()},
                atomic_group_id=gid,
                algorithm_requested=ATOMIC_LEGS,
            )
            for o in group
        ]
        result = GroupExecutionResult(
            group_id=gid,
            legs=tuple(o.operation_id for o in group),
            ts_decision_ns=ts,
            target_quantity=group.orders[0].amount,
        )
        clash = [o.operation_id for o in group if o.operation_id in self._c.results]
        if gid in self._c.groups or clash:
            why = (
                f"INVALID_ORDER: duplicate atomic_group_id {gid}"
                if gid in self._c.groups
                else (f"INVALID_ORDER: duplicate operation_id {', '.join(clash)}")
            )
            self._reject_group(result, legs, why, key_suffix=f"#dup@{ts}")
            return result
        self._c.groups[gid] = result
        for leg in legs:
            self._c.results[leg.operation_id] = leg
        auditor = self._c.auditor()
        if auditor is not None:
            for o in group:
                auditor.intent(o, auditor.decision(o, f"atomic group {gid}"))
        try:
            primary = self._plan_group(group, result, legs)
        except NautilusExtError as e:
            self._reject_group(result, legs, f"{e.code}: {e.message}")
            self._c.warn(f"Cannot execute atomic group {gid}: {result.reason}")
            return result
        self._c.by_client_id[primary.client_order_id] = legs[0].operation_id
        self._c.group_of_primary[primary.client_order_id] = result
        if auditor is not None:
            for o, leg in zip(group, legs, strict=True):
                auditor.order(
                    operation_id=o.operation_id,
                    client_order_id=str(primary.client_order_id),
                    venue=leg.venue or o.instrument_key.venue,
                    asset=leg.nautilus_instrument_id or str(o.instrument_key),
                    side=str(o.side),
                    qty=o.amount,
                    limit_price=None,
                    tif="IOC",
                    status=OrderStatus.SUBMITTED,
                )
        self._c.submit(primary)
        return result

    def _plan_group(
        self, group: AtomicGroup, result: GroupExecutionResult, legs: list[ExecutionResult]
    ) -> Any:
        # every check before anything is submitted; returns the primary order, not yet sent
        gid = group.group_id
        groute = route_group(group, self._c.registry)
        if groute.mode is not Algorithm.ATOMIC_LEGS:
            raise NoRouteError(f"atomic group {gid}: {groute.mode} groups do not execute through Nautilus")
        a, b = check_pair(group)
        options = group_options(a)
        instruments: list[Instrument] = []
        quantities = []
        for order, rt, leg in zip((a, b), groute.routes, legs, strict=True):
            if rt.family not in _GROUP_FAMILIES:
                raise reject(order, f"{rt.family} legs cannot join ATOMIC_LEGS (CEX/TradFi only)")
            loaded: dict[str, Instrument] = self._c.instruments.candidates(order, rt)
            if not loaded:
                raise reject(order, "no candidate instrument is loaded in this node (not in the catalog?)")
            if len(loaded) > 1:
                raise reject(
                    order, f"a leg must name one venue, {sorted(loaded)} are all loaded", InvalidOrder
                )
            ((venue, inst),) = loaded.items()
            buy = order.side is Side.BUY
            leg.venue = venue
            leg.nautilus_instrument_id = str(inst.id)
            leg.arrival_mid, leg.fill_model = self._c.book.arrival(str(inst.id))
            leg.quote_currency = inst.quote_currency.code
            leg.decision_price = decision_price_of(order) or leg.arrival_mid
            leg.estimated_cost_bps = choose_venue(
                order.amount, candidates_of({venue: inst}), self._c.book, buy=buy
            )[1]
            leg.algorithm_used = ATOMIC_LEGS
            quantities.append(order_quantity(order, inst))
            instruments.append(inst)
        base_a, base_b = (i.get_base_currency() for i in instruments)
        if base_a is not None and base_b is not None and base_a != base_b:
            raise InvalidOrder(
                f"atomic group {gid}: legs trade different base assets ({base_a}, {base_b}); "
                "ATOMIC_LEGS hedges one asset against itself",
            )
        if not self._c.algorithm_registered(ATOMIC_LEGS):
            raise NoRouteError(
                f"atomic group {gid}: ATOMIC_LEGS is not registered in this node; the legs cannot "
                "execute atomically and are not sent one by one",
            )
        result.leg_buys = (a.side is Side.BUY, b.side is Side.BUY)
        result.lots = tuple(i.size_increment.as_decimal() for i in instruments)
        result.neutralise_policy = options.neutralise_policy
        result.net = {a.operation_id: Decimal(0), b.operation_id: Decimal(0)}
        params = {
            "hedge_instrument_id": str(instruments[1].id),
            "depth_check": "true" if options.depth_check else "false",
        }
        if options.neutralise_policy is not None:
            params["neutralise_policy"] = options.neutralise_policy
        if options.max_slippage is not None:
            params["max_slippage"] = str(options.max_slippage)
        if legs[0].arrival_mid is not None:
            params["arrival_price"] = str(legs[0].arrival_mid)
        primary = self._c.order_factory.market(
            instruments[0].id,
            OrderSide.BUY if a.side is Side.BUY else OrderSide.SELL,
            quantities[0],
            time_in_force=TimeInForce.GTC,
            tags=[f"op:{a.operation_id}", f"group:{gid}"],
            exec_algorithm_id=ExecAlgorithmId(ATOMIC_LEGS),
            exec_algorithm_params=params,
            client_order_id=self._c.next_client_order_id(),
        )
        for order, leg, inst, cid in zip(
            (a, b), legs, instruments, (primary.client_order_id.value, None), strict=True
        ):
            self._c.check_gate(
                order,
                GateContext(
                    venue=leg.venue or inst.id.venue.value,
                    estimated_slippage=None
                    if leg.estimated_cost_bps is None
                    else leg.estimated_cost_bps / 10_000,
                    market_data_ts_ns=self._c.book.data_ts(str(inst.id)),
                    # the primary is released: the chokepoint lets it and its children through
                    client_order_id=cid,
                ),
            )
        result.client_order_id = str(primary.client_order_id)
        for leg in legs:
            leg.client_order_id = result.client_order_id
            leg.order_type = "MARKET" if options.max_slippage is None else "LIMIT"
        return primary

    def _reject_group(
        self,
        result: GroupExecutionResult,
        legs: list[ExecutionResult],
        why: str,
        key_suffix: str = "",
    ) -> None:
        result.status = GroupStatus.REJECTED
        result.reason = why
        if key_suffix:
            self._c.groups[f"{result.group_id}{key_suffix}"] = result
        for leg in legs:
            leg.status = ExecutionStatus.REJECTED
            leg.reason = why
            if key_suffix:
                self._c.results[f"{leg.operation_id}{key_suffix}"] = leg
            self._c.record_end_mid(leg)

    def child(self, client_order_id: ClientOrderId) -> tuple[GroupExecutionResult, str, int] | None:
        # a child of an ATOMIC_LEGS primary: which group, which leg (A/B), which send (1, 2: legs)
        if not self._c.group_of_primary:
            return None
        order = self._c.cache.order(client_order_id)
        if order is None or order.exec_spawn_id is None or order.exec_spawn_id == client_order_id:
            return None
        group = self._c.group_of_primary.get(order.exec_spawn_id)
        if group is None:
            return None
        from nautilus_ext.execution_algos.atomic_legs import parse_leg_child_id

        parsed = parse_leg_child_id(order.exec_spawn_id.value, client_order_id.value)
        if parsed is None:
            return None
        return group, parsed[0], parsed[1]

    def on_fill(self, group: GroupExecutionResult, leg_name: str, n: int, event: OrderFilled) -> None:
        from nautilus_ext.execution_algos.atomic_legs import INITIAL_LEG_CHILDREN

        op = group.legs[0 if leg_name == "A" else 1]
        leg = self._c.results[op]
        leg_buys = group.leg_buys[0 if leg_name == "A" else 1]
        buy = event.order_side == OrderSide.BUY
        qty = event.last_qty.as_decimal()
        px = event.last_px.as_decimal()
        fee = event.commission.as_decimal()
        along = buy == leg_buys
        record = self._c.fills.record(event)
        if n > INITIAL_LEG_CHILDREN:
            group.neutralisation_fills.append(
                NeutralisationFill(
                    operation_id=op,
                    side="BUY" if buy else "SELL",
                    ts_ns=event.ts_event,
                    price=px,
                    quantity=qty,
                    fee=fee,
                    fee_currency=event.commission.currency.code,
                    trade_id=str(event.trade_id),
                    along=along,
                    deltas=dict(record.deltas),
                )
            )
            if leg.arrival_mid is not None:
                group.rollback_cost += neutralisation_cost(
                    buy=buy, price=px, quantity=qty, mid=leg.arrival_mid, fee=fee
                )
        if along:
            leg.fills.append(record)
        else:
            leg.unwound_quantity += qty
            for key, value in record.deltas.items():
                leg.unwound_deltas[key] = leg.unwound_deltas.get(key, Decimal(0)) + value
        group.net[op] = leg.net_filled_quantity
        leg.finalise()
        if group.status is not GroupStatus.WORKING:
            group.finalise()  # a fill after the group closed: keep its state true
        auditor = self._c.auditor()
        if auditor is not None:
            auditor.fill(
                operation_id=op,
                client_order_id=str(event.client_order_id),
                venue=leg.venue or "UNKNOWN",
                asset=leg.nautilus_instrument_id or leg.instrument_key,
                side=event.order_side.name,
                qty=qty,
                price=px,
                fees=fee,
                fee_currency=event.commission.currency.code,
                trade_id=str(event.trade_id),
                ts_event=event.ts_event,
                seq=len(leg.fills) + sum(1 for f in group.neutralisation_fills if f.operation_id == op),
            )

    def finish(self, group: GroupExecutionResult, why: str, rejected: bool = False) -> None:
        # the primary closed: the algorithm stopped (its report says how), or the primary was refused
        outcome = self._c.algo_outcomes.get(str(group.client_order_id))
        if outcome is not None:
            group.algo_stop_reason = None if outcome.stop_reason is None else str(outcome.stop_reason)
            why = outcome.reason
        group.reason = why
        group.finalise()
        for op in group.legs:
            leg = self._c.results[op]
            if rejected and not leg.fills:
                leg.status = ExecutionStatus.REJECTED
            if group.status is not GroupStatus.HEDGED:
                leg.reason = (f"{leg.reason}; " if leg.reason else "") + f"group {group.status}: {why}"
            leg.finalise()
            self._c.record_end_mid(leg)
