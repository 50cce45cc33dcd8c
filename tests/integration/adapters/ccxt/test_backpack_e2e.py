"""Backpack end to end beyond the shared suites: trade ids that repeat across markets."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.node_harness import NodeHarness
from tests.integration.adapters.ccxt.conftest import VENUES
from tests.integration.adapters.ccxt.test_orders_e2e import _fills
from tests.integration.adapters.ccxt.test_orders_e2e import _order
from tests.integration.adapters.ccxt.test_orders_e2e import _q
from tests.integration.adapters.ccxt.test_orders_e2e import _ready
from tests.integration.adapters.ccxt.test_orders_e2e import _submit

pytestmark = pytest.mark.slow
ETH = InstrumentId.from_str("ETH/USDC:USDC.BACKPACK")


def test_same_trade_id_in_two_markets_is_two_fills(
    fake_exchange: FakeExchange,
    start_node: Callable[..., NodeHarness],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = VENUES["backpack"]
    for name, value in spec["env"].items():
        monkeypatch.setenv(name, value)
    engine = fake_exchange.backpack.engine
    fake_exchange.call(
        lambda: engine.seed_book("ETH_USDC_PERP", bids=[("2999.99", "5")], asks=[("3000.01", "5")])
    )
    btc = InstrumentId.from_str(spec["instrument"])
    h = start_node("backpack", subscribe=False)
    strat = _ready(h, btc)
    eth_qty = {**spec, "qty_step": "0.001"}
    first = _submit(h, strat, lambda f: f.market(btc, OrderSide.BUY, _q(spec, Decimal("0.5"))))
    eventually(lambda: _order(h, first).status is OrderStatus.FILLED, 10, message="no BTC fill")
    second = _submit(h, strat, lambda f: f.market(ETH, OrderSide.BUY, _q(eth_qty, Decimal("2"))))
    eventually(lambda: _order(h, second).status is OrderStatus.FILLED, 10, message="ETH fill dropped")
    # Backpack numbers trades per market: both fills are trade 1 of their market
    assert [f.trade_id.value for f in _fills(strat, first)] == ["1"]
    assert [f.trade_id.value for f in _fills(strat, second)] == ["1"]
    positions = h.call(lambda: h.node.cache.positions_open())  # type: ignore[union-attr]
    assert sorted((str(p.instrument_id), p.signed_qty) for p in positions) == [
        ("BTC/USDC:USDC.BACKPACK", 0.5),
        ("ETH/USDC:USDC.BACKPACK", 2.0),
    ]
