"""The ccxt adapter on Deribit's inverse BTC-PERPETUAL: USD amounts, coin fees, restart."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price

from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.node_harness import NodeHarness
from tests.integration.adapters.ccxt.conftest import VENUES
from tests.integration.adapters.ccxt.test_orders_e2e import _fills
from tests.integration.adapters.ccxt.test_orders_e2e import _order
from tests.integration.adapters.ccxt.test_orders_e2e import _ready
from tests.integration.adapters.ccxt.test_orders_e2e import _submit

pytestmark = pytest.mark.slow
INVERSE = InstrumentId.from_str("BTC-PERPETUAL.DERIBIT")


def test_inverse_usd_amounts_fill_with_coin_fees_and_reconcile(
    fake_exchange: FakeExchange,
    start_node: Callable[..., NodeHarness],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in VENUES["deribit"]["env"].items():
        monkeypatch.setenv(name, value)
    engine = fake_exchange.deribit.engine
    fake_exchange.call(
        lambda: engine.seed_book("BTC-PERPETUAL", bids=[("49999.5", "5000")], asks=[("50000.5", "5000")])
    )
    h = start_node("deribit", subscribe=False)
    strat = _ready(h, InstrumentId.from_str(VENUES["deribit"]["instrument"]))
    instrument = h.call(lambda: h.node.cache.instrument(INVERSE))  # type: ignore[union-attr]
    assert instrument.is_inverse
    assert instrument.multiplier.as_decimal() == 1
    assert instrument.size_increment.as_decimal() == 10
    coid = _submit(h, strat, lambda f: f.market(INVERSE, OrderSide.BUY, instrument.make_qty(Decimal(1000))))
    eventually(lambda: _order(h, coid).status is OrderStatus.FILLED, 10, message="no inverse fill")
    fills = _fills(strat, coid)
    assert sum(f.last_qty.as_decimal() for f in fills) == Decimal(1000)
    assert fills[0].commission.currency.code == "BTC"
    # the taker fee on the coin value, in BTC's 8 decimals
    expected_fee = Decimal(1000) / Decimal("50000.5") * Decimal("0.0005")
    assert fills[0].commission.as_decimal() == pytest.approx(expected_fee, abs=Decimal("1e-8"))
    positions = h.call(lambda: h.node.cache.positions_open(instrument_id=INVERSE))  # type: ignore[union-attr]
    assert positions[0].signed_qty == pytest.approx(1000)
    assert positions[0].notional_value(Price.from_str("50000.5")).as_decimal() == pytest.approx(
        Decimal(1000) / Decimal("50000.5"), rel=Decimal("1e-6")
    )
    h.stop()
    # a fresh node learns the USD position from the venue
    h2 = start_node("deribit", subscribe=False)
    _ready(h2, InstrumentId.from_str(VENUES["deribit"]["instrument"]))

    def reconciled() -> bool:
        held = h2.node.cache.positions_open(instrument_id=INVERSE)  # type: ignore[union-attr]
        return len(held) == 1 and held[0].signed_qty == 1000

    eventually(lambda: h2.call(reconciled), 20, message="inverse position not reconciled")
