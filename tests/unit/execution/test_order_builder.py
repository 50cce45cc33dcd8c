"""The order builder: each of the five ways a routed unified order becomes a Nautilus order."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from nautilus_trader.common.component import TestClock
from nautilus_trader.common.factories import OrderFactory
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TraderId

from nautilus_ext.adapters.symbology import build_instrument
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.execution.order_builder import BuiltOrder
from nautilus_ext.execution.order_builder import algo_params
from nautilus_ext.execution.order_builder import build_order
from nautilus_ext.execution.order_builder import protective_limit
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.orders import Order
from nautilus_ext.routing.router import route

KEY = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
REGISTRY = InstrumentRegistry.default()
INST = build_instrument(REGISTRY.get(KEY), REGISTRY)
ARRIVAL = Decimal("60000.25")


def _order(**kw: Any) -> Order:
    base: dict[str, Any] = {
        "operation_id": "op-1",
        "operation": "trade",
        "instrument_key": KEY,
        "venue": "BINANCE-FUTURES",
        "side": "BUY",
        "amount": "0.100",
    }
    base.update(kw)
    return Order(**base)


def _build(
    order: Order,
    registered: Callable[[str], bool] = lambda name: True,
    arrival: Decimal | None = ARRIVAL,
    coid: ClientOrderId | None = None,
) -> BuiltOrder:
    factory = OrderFactory(TraderId("TESTER-001"), StrategyId("S-001"), TestClock())
    return build_order(
        order,
        route(order, REGISTRY),
        INST,
        factory,
        buy=order.side.value in ("BUY", "LAY"),
        arrival_mid=arrival,
        venues=[str(INST.id)],
        algorithm_registered=registered,
        next_client_order_id=lambda: coid,
    )


def test_a_market_order_is_an_ioc_market() -> None:
    built = _build(_order(), coid=ClientOrderId("O-FIXED-1"))
    assert built.order_type == "MARKET"
    assert built.order.order_type == OrderType.MARKET
    assert built.order.time_in_force == TimeInForce.IOC
    assert built.order.side == OrderSide.BUY
    assert built.order.quantity.as_decimal() == Decimal("0.100")
    assert built.order.client_order_id == ClientOrderId("O-FIXED-1")
    assert built.order.tags == ["op:op-1"]
    assert built.algorithm is None
    assert built.limit_price is None


def test_a_limit_order_is_a_gtc_limit_unless_metadata_asks_for_ioc() -> None:
    built = _build(_order(price="59000.0", side="SELL"))
    assert built.order_type == "LIMIT"
    assert built.order.order_type == OrderType.LIMIT
    assert built.order.time_in_force == TimeInForce.GTC
    assert built.order.price.as_decimal() == Decimal("59000.0")
    ioc = _build(_order(price="59000.0", metadata={"time_in_force": "IOC"}))
    assert ioc.order.time_in_force == TimeInForce.IOC


def test_max_slippage_makes_a_marketable_ioc_limit_inside_the_bound() -> None:
    built = _build(_order(max_slippage="0.001"))
    bound = protective_limit(ARRIVAL, Decimal("0.001"), INST.price_increment.as_decimal(), buy=True)
    assert built.order_type == "MARKET_PROTECTED"
    assert built.limit_price == bound <= ARRIVAL * Decimal("1.001")
    assert built.order.order_type == OrderType.LIMIT
    assert built.order.time_in_force == TimeInForce.IOC
    assert built.order.price.as_decimal() == bound
    # without an arrival mid there is nothing to anchor the bound: a plain market order
    assert _build(_order(max_slippage="0.001"), arrival=None).order_type == "MARKET"


def test_a_smart_order_goes_to_its_registered_algorithm_as_a_gtc_primary() -> None:
    order = _order(
        smart_execution_enabled=True, metadata={"algorithm": "TWAP", "algo_params": {"horizon_secs": "60"}}
    )
    built = _build(order)
    assert built.algorithm == "TWAP"
    assert built.order.exec_algorithm_id.value == "TWAP"
    assert built.order.time_in_force == TimeInForce.GTC
    params = built.order.exec_algorithm_params
    assert params["horizon_secs"] == "60"
    assert params["arrival_price"] == str(ARRIVAL)
    assert params["venues"] == str(INST.id)
    # not registered in this node: sent directly
    direct = _build(order, registered=lambda name: False)
    assert direct.algorithm is None
    assert direct.order.exec_algorithm_id is None


def test_take_profit_and_stop_loss_go_to_the_exit_algorithm_with_the_entry() -> None:
    order = _order(take_profit_price="61000.0", stop_loss_price="59000.0")
    built = _build(order)
    assert built.algorithm == "TPSL"
    assert built.order.exec_algorithm_id.value == "TPSL"
    assert built.order_type == "MARKET"
    limit_entry = _build(_order(price="59900.0", take_profit_price="61000.0", stop_loss_price="59000.0"))
    assert limit_entry.order_type == "LIMIT"
    assert limit_entry.order.exec_algorithm_id.value == "TPSL"


@pytest.mark.parametrize(
    ("kw", "fragment"),
    [
        ({"amount": "0.1005"}, "lot size"),
        ({"price": "59000.05"}, "tick grid"),
    ],
)
def test_off_grid_orders_are_refused_with_a_typed_error(kw: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidOrder, match=fragment) as info:
        _build(_order(**kw))
    assert info.value.code == "INVALID_ORDER"


def test_algorithm_params_carry_the_orders_own_guard_and_urgency() -> None:
    order = _order(max_slippage="0.002", urgency="high")
    params = algo_params(order, {"x": 1}, None, ["B.X", "A.X"])
    assert params == {"x": "1", "max_slippage": "0.002", "urgency": "high", "venues": "A.X,B.X"}
