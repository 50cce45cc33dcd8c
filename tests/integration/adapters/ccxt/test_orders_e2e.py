"""End to end order lifecycle through a real TradingNode: ack, fills, position, cancel, reject,
dropped sockets and restart reconciliation, on the Bybit, Binance USD-M, OKX, Hyperliquid,
Deribit and Coinbase fakes.

Coinbase Advanced is spot (``"positions": False`` in VENUES): where the perpetual venues check
the venue position, the spot venue checks the wallets instead (the node's account balances,
refreshed from the venue after fills, and the venue's own wallet), and reduce-only orders,
which have no meaning without a position, are denied before anything is sent."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.orders import Order

from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange import Side
from nautilus_ext_testkit.node_harness import NodeHarness
from tests.integration.adapters.ccxt.conftest import VENUES
from tests.integration.adapters.ccxt.conftest import Recorder

pytestmark = pytest.mark.slow


def _ready(h: NodeHarness, iid: InstrumentId) -> Recorder:
    eventually(
        lambda: (
            h.node is not None
            and h.node.is_running()
            and h.node.cache.instrument(iid)
            and h.node.cache.account_for_venue(iid.venue)
            # a strategy ignores its order events until RUNNING, which can lag node start
            and h.strategy(Recorder).is_running
        ),
        20,
        message="node did not connect",
    )
    return h.strategy(Recorder)  # type: ignore[return-value]


def _submit(h: NodeHarness, strat: Recorder, make: Callable[[Any], Order]) -> ClientOrderId:
    def go() -> ClientOrderId:
        order = make(strat.order_factory)
        strat.submit_order(order)
        return order.client_order_id

    return h.call(go)


def _order(h: NodeHarness, coid: ClientOrderId) -> Order:
    order = h.call(lambda: h.node.cache.order(coid))  # type: ignore[union-attr]
    assert order is not None
    return order


def _fills(strat: Recorder, coid: ClientOrderId) -> list[OrderFilled]:
    return [e for e in list(strat.events) if isinstance(e, OrderFilled) and e.client_order_id == coid]


def _rejections(strat: Recorder) -> list[str]:
    return [e.reason for e in list(strat.events) if isinstance(e, OrderRejected)]


def _limit(
    spec: dict[str, Any], iid: InstrumentId, side: OrderSide, qty: str, price: str, **kw: Any
) -> Callable[[Any], Order]:
    def make(factory: Any) -> Order:
        instrument_qty = Decimal(qty)
        return factory.limit(iid, side, _q(spec, instrument_qty), _p(price), **kw)

    return make


def _q(spec: dict[str, Any], qty: Decimal) -> Any:
    from nautilus_trader.model.objects import Quantity

    precision = -Decimal(spec["qty_step"]).as_tuple().exponent
    return Quantity(qty, int(precision))


def _holds(
    h: NodeHarness,
    fake: FakeExchange,
    exchange_id: str,
    iid: InstrumentId,
    qty: Decimal,
    avg_px: str | None = None,
) -> None:
    """Assert the account holds ``qty`` of the instrument: a position, or a spot wallet."""
    spec = VENUES[exchange_id]
    if spec.get("positions", True):
        position = h.call(lambda: h.node.cache.positions_open(instrument_id=iid))  # type: ignore
        assert len(position) == 1
        assert position[0].signed_qty == pytest.approx(float(qty))
        if avg_px is not None:
            assert position[0].avg_px_open == pytest.approx(float(avg_px))
        return
    from nautilus_trader.model.objects import Currency
    from nautilus_trader.model.objects import Money

    base, quote = Currency.from_str(spec["base"]), Currency.from_str(spec["quote"])
    protocol = getattr(fake, exchange_id)
    wallets = fake.call(protocol.wallets)
    assert wallets[spec["base"]] == qty  # the venue's wallet moved by exactly the fills

    def node_balances() -> tuple[Decimal, Decimal] | None:
        account = h.node.cache.account_for_venue(iid.venue)  # type: ignore[union-attr]
        if account is None or account.balance_total(base) is None:
            return None
        return account.balance_total(base).as_decimal(), account.balance_total(quote).as_decimal()

    # the node holds quote at the currency's precision (USD: cents)
    quote_total = Money(wallets[spec["quote"]], quote).as_decimal()
    eventually(
        lambda: h.call(node_balances) == (qty, quote_total),
        10,
        message=lambda: f"node balances {h.call(node_balances)} != venue {wallets}",
    )


def _p(price: str) -> Any:
    from nautilus_trader.model.objects import Price

    return Price.from_str(price)


def test_limit_ack_partial_fill_fill_position(
    fake_exchange: FakeExchange, exchange_id: str, start_node: Callable[..., NodeHarness]
) -> None:
    spec = VENUES[exchange_id]
    iid = InstrumentId.from_str(spec["instrument"])
    h = start_node(exchange_id, subscribe=False)
    strat = _ready(h, iid)
    bid = spec["bids"][0][0]
    coid = _submit(h, strat, _limit(spec, iid, OrderSide.BUY, "0.3", bid))
    eventually(lambda: _order(h, coid).status is OrderStatus.ACCEPTED, 10, message="no ack")
    engine = getattr(fake_exchange, exchange_id).engine
    # the MM bid at the same price has time priority: 1.0 fills first, then 0.1 of ours
    fake_exchange.call(lambda: engine.external_trade(spec["symbol"], Side.SELL, "1.1"))
    eventually(lambda: _order(h, coid).status is OrderStatus.PARTIALLY_FILLED, 10)
    assert _order(h, coid).filled_qty.as_decimal() == Decimal("0.1")
    fake_exchange.call(lambda: engine.external_trade(spec["symbol"], Side.SELL, "0.2"))
    eventually(lambda: _order(h, coid).status is OrderStatus.FILLED, 10, message="no fill")
    fills = _fills(strat, coid)
    assert [f.last_qty.as_decimal() for f in fills] == [Decimal("0.1"), Decimal("0.2")]
    assert len({f.trade_id for f in fills}) == 2
    assert all(f.last_px.as_decimal() == Decimal(bid) for f in fills)
    _holds(h, fake_exchange, exchange_id, iid, Decimal("0.3"), avg_px=bid)


def test_market_ioc_fok_post_only_reduce_only(
    fake_exchange: FakeExchange, exchange_id: str, start_node: Callable[..., NodeHarness]
) -> None:
    spec = VENUES[exchange_id]
    iid = InstrumentId.from_str(spec["instrument"])
    h = start_node(exchange_id, subscribe=False)
    strat = _ready(h, iid)
    ask = spec["asks"][0][0]
    bid = spec["bids"][0][0]
    # IOC crossing the ask for more than is there: fills 1.0 at the best ask, rest canceled
    ioc = _submit(h, strat, _limit(spec, iid, OrderSide.BUY, "1.5", ask, time_in_force=TimeInForce.IOC))
    eventually(lambda: _order(h, ioc).is_closed, 10, message="IOC not closed")
    assert _order(h, ioc).filled_qty.as_decimal() == Decimal("1.0")
    assert _order(h, ioc).status is OrderStatus.CANCELED
    # post-only that would take liquidity never fills
    po = _submit(h, strat, _limit(spec, iid, OrderSide.BUY, "0.1", spec["asks"][1][0], post_only=True))
    eventually(lambda: _order(h, po).is_closed, 10, message="post-only not closed")
    assert _order(h, po).filled_qty.as_decimal() == 0
    spot = not spec.get("positions", True)
    if spot:
        # spot: a reduce-only order is denied before anything leaves; a plain sell reduces
        sent_before = len(fake_exchange.received_orders)
        denied = _submit(
            h, strat, lambda f: f.market(iid, OrderSide.SELL, _q(spec, Decimal("0.4")), reduce_only=True)
        )
        eventually(lambda: _order(h, denied).status is OrderStatus.DENIED, 10)
        reasons = [e.reason for e in list(strat.events) if isinstance(e, OrderDenied)]
        assert reasons[-1].startswith("REDUCE_ONLY_NOT_SUPPORTED")
        assert len(fake_exchange.received_orders) == sent_before
    # (reduce-only) sell against the long: fills at the bid
    ro = _submit(
        h,
        strat,
        lambda f: f.market(iid, OrderSide.SELL, _q(spec, Decimal("0.4")), reduce_only=not spot),
    )
    eventually(lambda: _order(h, ro).status is OrderStatus.FILLED, 10, message="no RO fill")
    # the cache shows FILLED (engine thread) a moment before the strategy has the event
    eventually(lambda: bool(_fills(strat, ro)), 5, message="fill never reached the strategy")
    assert _fills(strat, ro)[0].last_px.as_decimal() == Decimal(bid)
    _holds(h, fake_exchange, exchange_id, iid, Decimal("0.6"))
    # a reduce-only that would flip the position is refused by the venue: rejected, or on
    # venues that risk-check after acknowledging (Paradex) closed unfilled (a per-venue
    # capability); spot: selling more than the wallet holds is rejected
    bad = _submit(
        h, strat, lambda f: f.market(iid, OrderSide.SELL, _q(spec, Decimal("2")), reduce_only=not spot)
    )
    refused = OrderStatus[spec.get("reduce_only_overflow_status", "REJECTED")]
    eventually(lambda: _order(h, bad).status is refused, 10)
    assert _order(h, bad).filled_qty.as_decimal() == 0
    _holds(h, fake_exchange, exchange_id, iid, Decimal("0.6"))
    if spot:
        assert _rejections(strat)[-1].startswith("INSUFFICIENT_BALANCE")


def test_cancel_and_cancel_all(
    fake_exchange: FakeExchange, exchange_id: str, start_node: Callable[..., NodeHarness]
) -> None:
    spec = VENUES[exchange_id]
    iid = InstrumentId.from_str(spec["instrument"])
    h = start_node(exchange_id, subscribe=False)
    strat = _ready(h, iid)
    low = spec["bids"][1][0]
    ids = [_submit(h, strat, _limit(spec, iid, OrderSide.BUY, "0.1", low)) for _ in range(3)]
    eventually(lambda: all(_order(h, c).status is OrderStatus.ACCEPTED for c in ids), 10)
    h.call(lambda: strat.cancel_order(h.node.cache.order(ids[0])))  # type: ignore[union-attr]
    eventually(lambda: _order(h, ids[0]).status is OrderStatus.CANCELED, 10)
    engine = getattr(fake_exchange, exchange_id).engine
    owner = spec["owner"]
    assert len(fake_exchange.call(lambda: engine.open_orders(owner))) == 2
    h.call(lambda: strat.cancel_all_orders(iid))
    eventually(lambda: all(_order(h, c).status is OrderStatus.CANCELED for c in ids), 10)
    assert fake_exchange.call(lambda: engine.open_orders(owner)) == []


def test_rejections_are_events_with_reason_codes(
    fake_exchange: FakeExchange, exchange_id: str, start_node: Callable[..., NodeHarness]
) -> None:
    spec = VENUES[exchange_id]
    iid = InstrumentId.from_str(spec["instrument"])
    h = start_node(exchange_id, subscribe=False)
    strat = _ready(h, iid)
    # injected venue reject
    fake_exchange.call(lambda: setattr(fake_exchange.faults, "reject_next_orders", 1))
    rej = _submit(h, strat, _limit(spec, iid, OrderSide.BUY, "0.1", spec["bids"][1][0]))
    eventually(
        lambda: _rejections(strat),
        10,
        message=lambda: (
            f"no rejection: {_order(h, rej)} events={list(strat.events)} "
            f"faults={fake_exchange.faults.counters} received={fake_exchange.received_orders}"
        ),
    )
    assert _order(h, rej).status is OrderStatus.REJECTED
    assert _rejections(strat)[-1].split(":")[0] in ("ORDER_REJECTED", "INVALID_ORDER")
    # insufficient balance
    big = _submit(h, strat, _limit(spec, iid, OrderSide.BUY, "90", spec["bids"][1][0]))
    eventually(lambda: len(_rejections(strat)) == 2, 10)
    assert _order(h, big).status is OrderStatus.REJECTED
    assert _rejections(strat)[-1].startswith("INSUFFICIENT_BALANCE")
    # an order type the adapter cannot send is denied before anything leaves
    sent_before = len(fake_exchange.received_orders)
    stop = _submit(
        h,
        strat,
        lambda f: f.stop_market(iid, OrderSide.BUY, _q(spec, Decimal("0.1")), _p(spec["asks"][1][0])),
    )
    eventually(lambda: [e for e in strat.events if isinstance(e, OrderDenied)], 10)
    assert _order(h, stop).status is OrderStatus.DENIED
    denied = [e for e in strat.events if isinstance(e, OrderDenied)]
    assert denied[-1].reason.startswith("UNSUPPORTED_ORDER_TYPE")
    assert len(fake_exchange.received_orders) == sent_before


def test_dropped_socket_and_duplicates_lose_and_double_nothing(
    fake_exchange: FakeExchange, exchange_id: str, start_node: Callable[..., NodeHarness]
) -> None:
    spec = VENUES[exchange_id]
    iid = InstrumentId.from_str(spec["instrument"])
    h = start_node(exchange_id, subscribe=False)
    strat = _ready(h, iid)
    bid = spec["bids"][0][0]
    coid = _submit(h, strat, _limit(spec, iid, OrderSide.BUY, "0.4", bid))
    eventually(lambda: _order(h, coid).status is OrderStatus.ACCEPTED, 10)
    engine = getattr(fake_exchange, exchange_id).engine
    fake_exchange.call(lambda: setattr(fake_exchange.faults, "duplicate_fills", True))
    fake_exchange.call(lambda: engine.external_trade(spec["symbol"], Side.SELL, "1.1"))
    eventually(lambda: _order(h, coid).filled_qty.as_decimal() == Decimal("0.1"), 10)
    # drop every socket, and a fill happens while the client is reconnecting
    dropped = fake_exchange.drop_websockets_threadsafe()
    # a venue without usable private streams (Aster) has no socket open here: its fills come
    # from the REST poll alone, which must neither lose nor double one
    assert dropped >= (1 if spec.get("private_stream", True) else 0)
    fake_exchange.call(lambda: engine.external_trade(spec["symbol"], Side.SELL, "0.2"))
    eventually(
        lambda: _order(h, coid).filled_qty.as_decimal() == Decimal("0.3"),
        15,
        message="fill during the outage was lost",
    )
    fake_exchange.call(lambda: engine.external_trade(spec["symbol"], Side.SELL, "0.1"))
    eventually(lambda: _order(h, coid).status is OrderStatus.FILLED, 15)
    fills = _fills(strat, coid)
    assert sum(f.last_qty.as_decimal() for f in fills) == Decimal("0.4")
    assert len({f.trade_id for f in fills}) == len(fills) == 3
    client = h.node.kernel.exec_engine._clients[h.node.kernel.exec_engine.registered_clients[0]]
    assert client.duplicate_fills_ignored >= 1


def test_restart_reconciles_open_orders_and_positions(
    fake_exchange: FakeExchange, exchange_id: str, start_node: Callable[..., NodeHarness]
) -> None:
    spec = VENUES[exchange_id]
    iid = InstrumentId.from_str(spec["instrument"])
    h = start_node(exchange_id, subscribe=False)
    strat = _ready(h, iid)
    taker = _submit(h, strat, lambda f: f.market(iid, OrderSide.BUY, _q(spec, Decimal("0.5"))))
    eventually(lambda: _order(h, taker).status is OrderStatus.FILLED, 10)
    resting = _submit(h, strat, _limit(spec, iid, OrderSide.BUY, "0.2", spec["bids"][1][0]))
    eventually(lambda: _order(h, resting).status is OrderStatus.ACCEPTED, 10)
    h.stop()
    # a fresh node with an empty cache learns the venue's state
    h2 = start_node(exchange_id, subscribe=False)
    _ready(h2, iid)

    has_positions = spec.get("positions", True)

    def reconciled() -> bool:
        orders = h2.node.cache.orders_open(instrument_id=iid)  # type: ignore[union-attr]
        positions = h2.node.cache.positions_open(instrument_id=iid)  # type: ignore[union-attr]
        return len(orders) == 1 and (len(positions) == 1 or not has_positions)

    eventually(lambda: h2.call(reconciled), 20, message="not reconciled")
    orders = h2.call(lambda: h2.node.cache.orders_open(instrument_id=iid))  # type: ignore
    assert orders[0].quantity.as_decimal() == Decimal("0.2")
    # perpetuals: the venue position is rebuilt; spot: the wallets are read back
    _holds(h2, fake_exchange, exchange_id, iid, Decimal("0.5"))
