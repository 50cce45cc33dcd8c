"""NautilusTrader's native Deribit adapter, wired by ``nautilus_ext.live``, against the fake
exchange: connect, instruments, book/quotes/trades, submit, ack, partial fill, position, cancel."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price

from nautilus_ext.live.config import LiveNodeConfig
from nautilus_ext.mode import Mode
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange import Side
from nautilus_ext_testkit.node_harness import NodeHarness
from tests.integration.adapters.ccxt.conftest import Recorder
from tests.support.unguarded import SAFETY_SECTION
from tests.support.unguarded import unguarded_node

pytestmark = pytest.mark.slow
LINEAR = "BTC_USDC-PERPETUAL"


@pytest.fixture
def fake() -> Iterator[FakeExchange]:
    exchange = FakeExchange()
    exchange.start_in_thread()
    engine = exchange.deribit.engine
    exchange.call(lambda: engine.seed_book(LINEAR, bids=[("49999", "1")], asks=[("50001", "1")]))
    exchange.call(
        lambda: engine.seed_book("BTC-PERPETUAL", bids=[("49999.5", "1000")], asks=[("50000.5", "1000")])
    )
    yield exchange
    exchange.stop_thread()


def _node(fake: FakeExchange, instrument_id: str) -> NodeHarness:
    config = LiveNodeConfig.model_validate(
        {
            "mode": Mode.LIVE,
            "allow_live_orders": True,
            "safety": SAFETY_SECTION,
            "trader_id": "TESTER-001",
            "log_level": "ERROR",
            "venues": [
                {
                    "venue": "DERIBIT",
                    "adapter": "native",
                    "rest_url_override": fake.base_url,
                    "ws_url_override": fake.ws_url,
                }
            ],
            "strategies": [
                {
                    "strategy_path": "tests.integration.adapters.ccxt.conftest:Recorder",
                    "config_path": "tests.integration.adapters.ccxt.conftest:RecorderConfig",
                    "config": {"instrument_id": instrument_id},
                }
            ],
            "timeout_connection_secs": 20.0,
        }
    )
    harness = NodeHarness(lambda loop: unguarded_node(config, loop))
    harness.start()
    return harness


def test_native_adapter_trades_against_the_fake(fake: FakeExchange, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DERIBIT_API_KEY", "fake-key")
    monkeypatch.setenv("DERIBIT_API_SECRET", "fake-secret")
    iid = InstrumentId.from_str(f"{LINEAR}.DERIBIT")
    h = _node(fake, str(iid))
    try:
        eventually(
            lambda: h.node.is_running() and h.node.cache.account_for_venue(iid.venue) is not None,
            25,
            message="native node did not connect",
        )
        instrument = h.call(lambda: h.node.cache.instrument(iid))
        assert instrument.size_increment.as_decimal() == Decimal("0.0001")
        assert instrument.price_increment.as_decimal() == Decimal(1)
        strat = h.strategy(Recorder)
        eventually(lambda: strat.is_running and strat.deltas and strat.quotes, 10, message="no book data")
        assert strat.quotes[-1].bid_price.as_decimal() == Decimal(49999)
        engine = fake.deribit.engine
        fake.call(lambda: engine.external_trade(LINEAR, Side.BUY, "0.5"))
        eventually(lambda: strat.trades, 10, message="no trade tick")
        assert strat.trades[-1].size.as_decimal() == Decimal("0.5")

        def submit():  # type: ignore[no-untyped-def]
            order = strat.order_factory.limit(
                iid, OrderSide.BUY, instrument.make_qty(Decimal("0.3")), Price.from_str("49999")
            )
            strat.submit_order(order)
            return order.client_order_id

        coid = h.call(submit)
        order = lambda: h.call(lambda: h.node.cache.order(coid))  # noqa: E731
        eventually(lambda: order().status is OrderStatus.ACCEPTED, 10, message="no ack")
        # the venue saw our client order id as the label
        assert [o for o in fake.received_orders if o.venue == "deribit"][-1].client_id == coid.value
        fake.call(lambda: engine.external_trade(LINEAR, Side.SELL, "1.1"))  # 1.0 MM first, then 0.1 ours
        eventually(lambda: order().status is OrderStatus.PARTIALLY_FILLED, 10, message="no fill event")
        assert order().filled_qty.as_decimal() == Decimal("0.1")
        positions = h.call(lambda: h.node.cache.positions_open(instrument_id=iid))
        assert [p.signed_qty for p in positions] == [pytest.approx(0.1)]
        h.call(lambda: strat.cancel_order(h.node.cache.order(coid)))
        eventually(lambda: order().status is OrderStatus.CANCELED, 10, message="no cancel")
        assert fake.call(lambda: engine.open_orders("USER:USDC")) == []
        # the inverse perpetual: amounts are USD (10 USD contracts), multiplier 1
        inverse_id = InstrumentId.from_str("BTC-PERPETUAL.DERIBIT")
        inverse = h.call(lambda: h.node.cache.instrument(inverse_id))
        assert inverse.is_inverse
        assert inverse.size_increment.as_decimal() == 10
        assert inverse.multiplier.as_decimal() == 1

        def buy_usd():  # type: ignore[no-untyped-def]
            market = strat.order_factory.market(inverse_id, OrderSide.BUY, inverse.make_qty(Decimal(1000)))
            strat.submit_order(market)
            return market.client_order_id

        usd = h.call(buy_usd)
        eventually(lambda: h.call(lambda: h.node.cache.order(usd)).status is OrderStatus.FILLED, 10)
        assert fake.call(lambda: engine.position("USER:BTC", "BTC-PERPETUAL").qty) == Decimal(1000)
        held = h.call(lambda: h.node.cache.positions_open(instrument_id=inverse_id))
        assert held[0].signed_qty == pytest.approx(1000)
        # 1,000 USD at 50,000.5 is 0.02 BTC, as the venue margins it
        assert held[0].notional_value(Price.from_str("50000.5")).as_decimal() == pytest.approx(
            Decimal(1000) / Decimal("50000.5"), rel=Decimal("1e-6")
        )
    finally:
        h.stop()
