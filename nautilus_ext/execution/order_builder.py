"""
The order builder: one unified Order and its Route in, one Nautilus order out.

:func:`build_order` holds the five ways a routed order becomes a Nautilus order:

1. an exit algorithm (take-profit/stop-loss) is registered: it works the entry (market or
   limit, as the order says) and places the exits;
2. a market order whose route names a registered ExecAlgorithm: a GTC market primary the
   algorithm takes over;
3. a market order with ``max_slippage``: a marketable IOC limit at arrival +- the bound;
4. a market order: IOC market;
5. a limit order (a bet at its odds): a limit on the tick grid, GTC unless
   ``metadata.time_in_force`` is ``IOC``.

It only calls the given Nautilus ``OrderFactory``; everything else (lot and tick checks,
parameters for the algorithm) is a pure function of its arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN
from decimal import ROUND_UP
from decimal import Decimal
from typing import Any

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.instruments import Instrument

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import NoRouteError
from nautilus_ext.orders.model import Operation
from nautilus_ext.orders.model import Order
from nautilus_ext.routing.router import Algorithm
from nautilus_ext.routing.router import Route

ATOMIC_LEGS = str(Algorithm.ATOMIC_LEGS)


@dataclass(frozen=True, slots=True)
class BuiltOrder:
    """
    A Nautilus order built for a unified order, with what its result reports.

    ``limit_price`` is set when the builder chose the price (the ``max_slippage`` bound);
    ``algorithm`` names the ExecAlgorithm that takes the order (None: sent directly).
    """

    order: Any
    order_type: str
    limit_price: Decimal | None = None
    algorithm: str | None = None


def limit_of(order: Order) -> Decimal | None:
    """
    Return the limit price an order executes at: its ``price``, or for a bet its ``odds``.

    A bet always executes as a limit at its odds: NautilusTrader turns a market order on Betfair
    into a limit at the far end of the ladder (1.01 or 1000), never what a bettor meant.
    """
    if order.price is not None or order.operation is not Operation.BET:
        return order.price
    return order.odds


def protective_limit(arrival: Decimal, max_slippage: Decimal, tick: Decimal, *, buy: bool) -> Decimal:
    """
    Return the worst acceptable price for ``max_slippage`` (a fraction), rounded inside the bound.

    Buys round the cap down to the tick grid, sells round the floor up: never beyond the bound.
    """
    raw = arrival * (1 + max_slippage) if buy else arrival * (1 - max_slippage)
    ticks = (raw / tick).to_integral_value(rounding=ROUND_DOWN if buy else ROUND_UP)
    return ticks * tick


def reject(order: Order, why: str, error: type[NautilusExtError] = NoRouteError) -> NautilusExtError:
    """Return the typed error refusing ``order`` (``NoRouteError`` unless told otherwise)."""
    return error(f"order {order.operation_id}: {why}", order_id=order.operation_id)


def order_quantity(order: Order, inst: Instrument) -> Any:
    """
    Return the order amount as the instrument's Quantity.

    Raises
    ------
    InvalidOrder
        If the amount is off the lot grid or below the minimum size.
    """
    step = inst.size_increment.as_decimal()
    units = (order.amount / step).to_integral_value(rounding=ROUND_DOWN)
    amount = units * step
    if amount != order.amount:
        raise reject(
            order,
            f"amount {order.amount} is not a multiple of the lot size {step} on {inst.id}",
            InvalidOrder,
        )
    min_qty = inst.min_quantity
    if min_qty is not None and amount < min_qty.as_decimal():
        raise reject(order, f"amount {amount} is below the minimum size {min_qty} on {inst.id}", InvalidOrder)
    return inst.make_qty(amount)


def limit_price(order: Order, inst: Instrument, limit: Decimal | None = None) -> Any:
    """
    Return the limit (``limit``, else the order's price) as the instrument's Price.

    Raises
    ------
    InvalidOrder
        If the price is off the tick grid.
    """
    wanted = order.price if limit is None else limit
    if wanted is None:
        raise reject(order, "a limit order needs a price", InvalidOrder)
    price = inst.make_price(wanted)
    if price.as_decimal() != wanted:
        raise reject(order, f"price {wanted} is not on the tick grid {inst.price_increment}", InvalidOrder)
    return price


def algo_params(
    order: Order, spec: Mapping[str, Any], arrival_mid: Decimal | None, venues: Sequence[str]
) -> dict[str, str]:
    """
    Return the ``exec_algorithm_params`` of a primary: the route's parameters, the Order's own
    guard and urgency (even when metadata names the algorithm), the arrival mid, and every
    loaded candidate instrument id (for algorithms that split across venues, SOR_CEFI).
    """
    params = {k: str(v) for k, v in spec.items()}
    if order.max_slippage is not None:
        params.setdefault("max_slippage", str(order.max_slippage))
    if order.urgency is not None:
        params.setdefault("urgency", str(order.urgency))
    if arrival_mid is not None:
        params["arrival_price"] = str(arrival_mid)
    params["venues"] = ",".join(sorted(venues))
    return params


def build_order(
    order: Order,
    rt: Route,
    inst: Instrument,
    factory: Any,
    *,
    buy: bool,
    arrival_mid: Decimal | None,
    venues: Sequence[str],
    algorithm_registered: Callable[[str], bool],
    next_client_order_id: Callable[[], ClientOrderId | None],
) -> BuiltOrder:
    """
    Build the Nautilus order for ``order`` routed by ``rt`` to ``inst`` (see the module docstring).

    Parameters
    ----------
    order : Order
        The unified order.
    rt : Route
        Its route (algorithm, exit algorithm and their parameters).
    inst : Instrument
        The chosen venue's instrument.
    factory : OrderFactory
        The strategy's Nautilus order factory.
    buy : bool
        Whether it is a Nautilus BUY (BUY, or LAY for a bet).
    arrival_mid : Decimal, optional
        The mid when the order was routed (anchors ``max_slippage`` and the algorithms).
    venues : Sequence[str]
        Nautilus ids of every loaded candidate instrument.
    algorithm_registered : Callable[[str], bool]
        Whether this node runs the named ExecAlgorithm.
    next_client_order_id : Callable[[], ClientOrderId | None]
        The client order id to use (None: the factory's own).

    Raises
    ------
    InvalidOrder
        If the order is off the lot or tick grid, or names ``ATOMIC_LEGS`` (groups only).
    """
    quantity = order_quantity(order, inst)
    side = OrderSide.BUY if buy else OrderSide.SELL
    tags = [f"op:{order.operation_id}"]
    limit = limit_of(order)
    algo = rt.algorithm
    if algo is not None and str(algo.name) == ATOMIC_LEGS:
        raise reject(order, "ATOMIC_LEGS executes atomic groups: use submit_group", InvalidOrder)
    exit_algo = rt.exit_algorithm
    if exit_algo is not None and algorithm_registered(str(exit_algo.name)):
        # the exit algorithm works the entry too, so its exits follow the entry's fills;
        # metadata.algo_params reach it when metadata.algorithm names it
        spec = dict(exit_algo.params)
        if algo is not None and algo.name == exit_algo.name:
            spec = {**algo.params, **spec}
        algo_id = ExecAlgorithmId(str(exit_algo.name))
        params = algo_params(order, spec, arrival_mid, venues)
        if order.price is None:
            built = factory.market(
                inst.id,
                side,
                quantity,
                time_in_force=TimeInForce.GTC,
                tags=tags,
                exec_algorithm_id=algo_id,
                exec_algorithm_params=params,
                client_order_id=next_client_order_id(),
            )
            return BuiltOrder(built, "MARKET", algorithm=str(exit_algo.name))
        built = factory.limit(
            inst.id,
            side,
            quantity,
            limit_price(order, inst),
            time_in_force=TimeInForce.GTC,
            tags=tags,
            exec_algorithm_id=algo_id,
            exec_algorithm_params=params,
            client_order_id=next_client_order_id(),
        )
        return BuiltOrder(built, "LIMIT", algorithm=str(exit_algo.name))
    if limit is None and algo is not None and algorithm_registered(str(algo.name)):
        # the ExecAlgorithm takes the primary over and sends IOC children (execution_algos)
        built = factory.market(
            inst.id,
            side,
            quantity,
            time_in_force=TimeInForce.GTC,
            tags=tags,
            exec_algorithm_id=ExecAlgorithmId(str(algo.name)),
            exec_algorithm_params=algo_params(order, algo.params, arrival_mid, venues),
            client_order_id=next_client_order_id(),
        )
        return BuiltOrder(built, "MARKET", algorithm=str(algo.name))
    if limit is None and order.max_slippage is not None and arrival_mid is not None:
        # a marketable IOC limit at arrival +- max_slippage: no part fills beyond the bound
        # (the rest is cancelled and reported)
        bound = protective_limit(arrival_mid, order.max_slippage, inst.price_increment.as_decimal(), buy=buy)
        built = factory.limit(
            inst.id,
            side,
            quantity,
            inst.make_price(bound),
            time_in_force=TimeInForce.IOC,
            tags=tags,
            client_order_id=next_client_order_id(),
        )
        return BuiltOrder(built, "MARKET_PROTECTED", limit_price=bound)
    if limit is None:
        built = factory.market(
            inst.id,
            side,
            quantity,
            time_in_force=TimeInForce.IOC,
            tags=tags,
            client_order_id=next_client_order_id(),
        )
        return BuiltOrder(built, "MARKET")
    price = limit_price(order, inst, limit)
    tif = TimeInForce.IOC if (order.metadata or {}).get("time_in_force") == "IOC" else TimeInForce.GTC
    built = factory.limit(
        inst.id,
        side,
        quantity,
        price,
        time_in_force=tif,
        tags=tags,
        client_order_id=next_client_order_id(),
    )
    return BuiltOrder(built, "LIMIT")
