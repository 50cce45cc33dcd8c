"""
Atomic groups through ``ATOMIC_LEGS`` in the unified execution strategy.

:class:`AtomicGroupExecution` is the strategy's helper for
:meth:`~nautilus_ext.execution.strategy.UnifiedExecutionStrategy.submit_group`: it checks a group
whole before anything is sent, submits leg A as the algorithm's primary with leg B as its hedge,
and books the children's fills to the leg results and the group's neutralisation. It works on
the strategy's cache, clock, order factory and results (a friend of the strategy, same package).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING
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
from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.results import FillRecord
from nautilus_ext.execution.results import GroupExecutionResult
from nautilus_ext.execution.results import GroupStatus
from nautilus_ext.execution.results import NeutralisationFill
from nautilus_ext.execution.results import decision_price_of
from nautilus_ext.execution_algos import REPORT_KEY_PREFIX
from nautilus_ext.execution_algos import AlgoReport
from nautilus_ext.orders.groups import AtomicGroup
from nautilus_ext.orders.model import Order
from nautilus_ext.orders.model import Side
from nautilus_ext.routing.router import Algorithm
from nautilus_ext.routing.router import RouteFamily
from nautilus_ext.routing.router import route_group
from nautilus_ext.safety.gate import GateContext

if TYPE_CHECKING:
    from nautilus_ext.execution.strategy import UnifiedExecutionStrategy

ATOMIC_LEGS = str(Algorithm.ATOMIC_LEGS)
_GROUP_FAMILIES: frozenset[RouteFamily | None] = frozenset({RouteFamily.CEX, RouteFamily.TRADFI})


class AtomicGroupExecution:
    """Submit atomic groups to ``ATOMIC_LEGS`` and book their fills (see the module docstring)."""

    def __init__(self, strategy: UnifiedExecutionStrategy) -> None:
        self._s = strategy

    def submit(self, group: AtomicGroup) -> GroupExecutionResult:
        """Validate, route and submit ``group`` (see ``UnifiedExecutionStrategy.submit_group``)."""
        ts = self._s.decision_clock.timestamp_ns()
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
        clash = [o.operation_id for o in group if o.operation_id in self._s.results]
        if gid in self._s.groups or clash:
            why = (
                f"INVALID_ORDER: duplicate atomic_group_id {gid}"
                if gid in self._s.groups
                else (f"INVALID_ORDER: duplicate operation_id {', '.join(clash)}")
            )
            self._reject_group(result, legs, why, key_suffix=f"#dup@{ts}")
            return result
        self._s.groups[gid] = result
        for leg in legs:
            self._s.results[leg.operation_id] = leg
        if self._s._auditor is not None:
            for o in group:
                self._s._auditor.intent(o, self._s._auditor.decision(o, f"atomic group {gid}"))
        try:
            primary = self._plan_group(group, result, legs)
        except NautilusExtError as e:
            self._reject_group(result, legs, f"{e.code}: {e.message}")
            self._s.log.warning(f"Cannot execute atomic group {gid}: {result.reason}")
            return result
        self._s._by_client_id[primary.client_order_id] = legs[0].operation_id
        self._s._group_of_primary[primary.client_order_id] = result
        if self._s._auditor is not None:
            for o, leg in zip(group, legs, strict=True):
                self._s._auditor.order(
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
        self._s.submit_order(primary)
        return result

    def _plan_group(
        self, group: AtomicGroup, result: GroupExecutionResult, legs: list[ExecutionResult]
    ) -> Any:
        # every check before anything is submitted; returns the primary order, not yet sent
        gid = group.group_id
        groute = route_group(group, self._s.registry)
        if groute.mode is not Algorithm.ATOMIC_LEGS:
            raise NoRouteError(f"atomic group {gid}: {groute.mode} groups do not execute through Nautilus")
        a, b = check_pair(group)
        options = group_options(a)
        instruments: list[Instrument] = []
        quantities = []
        for order, rt, leg in zip((a, b), groute.routes, legs, strict=True):
            if rt.family not in _GROUP_FAMILIES:
                raise _reject(order, f"{rt.family} legs cannot join ATOMIC_LEGS (CEX/TradFi only)")
            loaded: dict[str, Instrument] = {}
            for cand in rt.candidates:
                try:
                    inst = self._s._instrument_for(order, str(cand.key))
                except NautilusExtError:
                    continue
                if inst is not None:
                    loaded[cand.venue] = inst
            if not loaded:
                raise _reject(order, "no candidate instrument is loaded in this node (not in the catalog?)")
            if len(loaded) > 1:
                raise _reject(
                    order, f"a leg must name one venue, {sorted(loaded)} are all loaded", InvalidOrder
                )
            ((venue, inst),) = loaded.items()
            buy = order.side is Side.BUY
            leg.venue = venue
            leg.nautilus_instrument_id = str(inst.id)
            leg.arrival_mid, leg.fill_model = self._s._arrival(inst.id)
            leg.quote_currency = inst.quote_currency.code
            leg.decision_price = decision_price_of(order) or leg.arrival_mid
            leg.estimated_cost_bps = self._s._choose_venue(order, {venue: inst}, buy)[1]
            leg.algorithm_used = ATOMIC_LEGS
            quantities.append(self._s._quantity(order, inst))
            instruments.append(inst)
        base_a, base_b = (i.get_base_currency() for i in instruments)
        if base_a is not None and base_b is not None and base_a != base_b:
            raise InvalidOrder(
                f"atomic group {gid}: legs trade different base assets ({base_a}, {base_b}); "
                "ATOMIC_LEGS hedges one asset against itself",
            )
        if f"{ATOMIC_LEGS}.execute" not in self._s.msgbus.endpoints():
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
        if legs[0].arrival_mid is not None:
            params["arrival_price"] = str(legs[0].arrival_mid)
        primary = self._s.order_factory.market(
            instruments[0].id,
            OrderSide.BUY if a.side is Side.BUY else OrderSide.SELL,
            quantities[0],
            time_in_force=TimeInForce.GTC,
            tags=[f"op:{a.operation_id}", f"group:{gid}"],
            exec_algorithm_id=ExecAlgorithmId(ATOMIC_LEGS),
            exec_algorithm_params=params,
            client_order_id=self._s._client_order_id(),
        )
        if self._s.safety_gate is not None:
            for order, leg, inst, cid in zip(
                (a, b), legs, instruments, (primary.client_order_id.value, None), strict=True
            ):
                self._s.safety_gate.check(
                    order,
                    GateContext(
                        venue=leg.venue or inst.id.venue.value,
                        estimated_slippage=None
                        if leg.estimated_cost_bps is None
                        else leg.estimated_cost_bps / 10_000,
                        market_data_ts_ns=self._s._data_ts(inst.id),
                        # the primary is released: the chokepoint lets it and its children through
                        client_order_id=cid,
                    ),
                ).raise_if_blocked()
        result.client_order_id = str(primary.client_order_id)
        for leg in legs:
            leg.client_order_id = result.client_order_id
            leg.order_type = "MARKET"
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
            self._s.groups[f"{result.group_id}{key_suffix}"] = result
        for leg in legs:
            leg.status = ExecutionStatus.REJECTED
            leg.reason = why
            if key_suffix:
                self._s.results[f"{leg.operation_id}{key_suffix}"] = leg
            self._s._record_end_mid(leg)

    def child(self, client_order_id: ClientOrderId) -> tuple[GroupExecutionResult, str, int] | None:
        # a child of an ATOMIC_LEGS primary: which group, which leg (A/B), which send (1, 2: legs)
        if not self._s._group_of_primary:
            return None
        order = self._s.cache.order(client_order_id)
        if order is None or order.exec_spawn_id is None or order.exec_spawn_id == client_order_id:
            return None
        group = self._s._group_of_primary.get(order.exec_spawn_id)
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
        leg = self._s.results[op]
        leg_buys = group.leg_buys[0 if leg_name == "A" else 1]
        buy = event.order_side == OrderSide.BUY
        qty = event.last_qty.as_decimal()
        px = event.last_px.as_decimal()
        fee = event.commission.as_decimal()
        along = buy == leg_buys
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
                )
            )
            if leg.arrival_mid is not None:
                group.rollback_cost += neutralisation_cost(
                    buy=buy, price=px, quantity=qty, mid=leg.arrival_mid, fee=fee
                )
        if along:
            leg.fills.append(
                FillRecord(
                    ts_ns=event.ts_event,
                    price=px,
                    quantity=qty,
                    fee=fee,
                    fee_currency=event.commission.currency.code,
                    trade_id=str(event.trade_id),
                    liquidity=event.liquidity_side.name,
                )
            )
        else:
            leg.unwound_quantity += qty
        group.net[op] = leg.net_filled_quantity
        leg.finalise()
        if group.status is not GroupStatus.WORKING:
            group.finalise()  # a fill after the group closed: keep its state true
        if self._s._auditor is not None:
            self._s._auditor.fill(
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
        raw = self._s.cache.get(REPORT_KEY_PREFIX + str(group.client_order_id))
        if raw is not None:
            report = AlgoReport.from_json(raw)
            group.algo_stop_reason = None if report.stop_reason is None else str(report.stop_reason)
            why = f"{report.stop_reason}: {report.detail}" if report.detail else str(report.stop_reason)
        group.reason = why
        group.finalise()
        for op in group.legs:
            leg = self._s.results[op]
            if rejected and not leg.fills:
                leg.status = ExecutionStatus.REJECTED
            if group.status is not GroupStatus.HEDGED:
                leg.reason = (f"{leg.reason}; " if leg.reason else "") + f"group {group.status}: {why}"
            leg.finalise()
            self._s._record_end_mid(leg)


def _reject(order: Order, why: str, error: type[NautilusExtError] = NoRouteError) -> NautilusExtError:
    return error(f"order {order.operation_id}: {why}", order_id=order.operation_id)
