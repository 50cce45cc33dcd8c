"""
NautilusTrader's native Binance USD-M adapter, built by the project's live node wiring
(``adapter: native`` with URL overrides), against the fake exchange: connect, instruments,
book/quote/trade streams, submit, partial fill, fill, position, cancel, reject.

The native futures client with HMAC keys uses REST for orders and a REST listenKey for the user
stream; the WS API (``session.logon``) is used only with Ed25519 keys and is not served by
the fake, so Ed25519 is not covered here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.orders import Order

from nautilus_ext.live.config import LiveNodeConfig
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange import Side
from nautilus_ext_testkit.node_harness import NodeHarness
from tests.integration.adapters.ccxt.conftest import Recorder
from tests.support.unguarded import SAFETY_SECTION
from tests.support.unguarded import unguarded_node

pytestmark = pytest.mark.slow
IID = InstrumentId.from_str("BTCUSDT-PERP.BINANCE")


@pytest.fixture
def fake() -> Iterator[FakeExchange]:
    exchange = FakeExchange()
    exchange.start_in_thread()
    engine = exchange.binance.engine
    exchange.call(
        lambda: engine.seed_book(
            "BTCUSDT",
            bids=[("49999.9", "1"), ("49999.0", "2")],
            asks=[("50000.1", "1"), ("50001.0", "2")],
        )
    )
    yield exchange
    exchange.stop_thread()


@pytest.fixture
def node(fake: FakeExchange, monkeypatch: pytest.MonkeyPatch) -> Iterator[NodeHarness]:
    # NautilusTrader reads the native adapter's keys from these variables
    monkeypatch.setenv("BINANCE_API_KEY", "fake-key")
    monkeypatch.setenv("BINANCE_API_SECRET", "fake-secret")
    config = LiveNodeConfig.model_validate(
        {
            "mode": "LIVE",
            "allow_live_orders": True,
            "safety": SAFETY_SECTION,
            "trader_id": "TESTER-001",
            "log_level": "ERROR",
            "timeout_connection_secs": 20.0,
            "venues": [
                {
                    "venue": "BINANCE",
                    "adapter": "native",
                    "rest_url_override": fake.base_url,
                    "ws_url_override": fake.ws_url,
                    "instrument_ids": [str(IID)],
                }
            ],
            "strategies": [
                {
                    "strategy_path": "tests.integration.adapters.ccxt.conftest:Recorder",
                    "config_path": "tests.integration.adapters.ccxt.conftest:RecorderConfig",
                    "config": {"instrument_id": str(IID)},
                }
            ],
        }
    )

    def build(loop: asyncio.AbstractEventLoop) -> TradingNode:
        return unguarded_node(config, loop)

    harness = NodeHarness(build)
    harness.start()
    yield harness
    harness.stop()


def _ready(h: NodeHarness) -> Recorder:
    eventually(
        lambda: (
            h.node is not None
            and h.node.is_running()
            and h.node.cache.instrument(IID)
            and h.node.cache.account_for_venue(IID.venue)
            and h.strategy(Recorder).is_running
        ),
        25,
        message="native Binance node did not connect",
    )
    return h.strategy(Recorder)  # type: ignore[return-value]


def _submit(h: NodeHarness, strat: Recorder, side: OrderSide, qty: str, price: str) -> ClientOrderId:
    def go() -> ClientOrderId:
        instrument: Any = h.node.cache.instrument(IID)  # type: ignore[union-attr]
        order = strat.order_factory.limit(
            IID, side, instrument.make_qty(Decimal(qty)), instrument.make_price(Decimal(price))
        )
        strat.submit_order(order)
        return order.client_order_id

    return h.call(go)


def _order(h: NodeHarness, coid: ClientOrderId) -> Order:
    order = h.call(lambda: h.node.cache.order(coid))  # type: ignore[union-attr]
    assert order is not None
    return order


def test_native_connect_stream_submit_fill_cancel_reject(fake: FakeExchange, node: NodeHarness) -> None:
    strat = _ready(node)
    instrument: Any = node.call(lambda: node.node.cache.instrument(IID))  # type: ignore[union-attr]
    assert instrument.size_increment.as_decimal() == Decimal("0.001")
    assert instrument.price_increment.as_decimal() == Decimal("0.1")
    eventually(lambda: strat.quotes and strat.deltas, 10, message="no native book data")
    assert strat.quotes[-1].bid_price.as_decimal() == Decimal("49999.9")
    engine = fake.binance.engine
    fake.call(lambda: engine.external_trade("BTCUSDT", Side.BUY, "0.5"))
    eventually(lambda: strat.trades, 10, message="no native trade tick")
    assert strat.trades[-1].size.as_decimal() == Decimal("0.5")
    # a resting bid behind the MM's 1.0: partial then full fill, over the listenKey stream
    coid = _submit(node, strat, OrderSide.BUY, "0.3", "49999.9")
    eventually(lambda: _order(node, coid).status is OrderStatus.ACCEPTED, 10, message="no ack")
    fake.call(lambda: engine.external_trade("BTCUSDT", Side.SELL, "1.1"))
    eventually(lambda: _order(node, coid).status is OrderStatus.PARTIALLY_FILLED, 10)
    assert _order(node, coid).filled_qty.as_decimal() == Decimal("0.1")
    fake.call(lambda: engine.external_trade("BTCUSDT", Side.SELL, "0.2"))
    eventually(lambda: _order(node, coid).status is OrderStatus.FILLED, 10, message="no fill")
    positions = node.call(lambda: node.node.cache.positions_open(instrument_id=IID))  # type: ignore
    assert [p.signed_qty for p in positions] == [pytest.approx(0.3)]
    # cancel
    resting = _submit(node, strat, OrderSide.BUY, "0.1", "49000.0")
    eventually(lambda: _order(node, resting).status is OrderStatus.ACCEPTED, 10)
    node.call(lambda: strat.cancel_order(node.node.cache.order(resting)))  # type: ignore[union-attr]
    eventually(lambda: _order(node, resting).status is OrderStatus.CANCELED, 10, message="no cancel")
    assert fake.call(lambda: engine.open_orders("USER")) == []
    # margin the account cannot carry: the venue's -2019 becomes a rejection
    big = _submit(node, strat, OrderSide.BUY, "90", "49000.0")
    eventually(lambda: _order(node, big).status is OrderStatus.REJECTED, 10, message="no reject")
    reasons = [e.reason for e in strat.events if isinstance(e, OrderRejected)]
    assert any("-2019" in r for r in reasons), reasons
