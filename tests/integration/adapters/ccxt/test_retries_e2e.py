"""Idempotent retries: a 429 and a timed-out request that did reach the venue never double an
order, and a modify goes through where the venue supports it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.events import OrderModifyRejected
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price

from nautilus_ext.adapters.ccxt.constants import MODIFY_NOT_SUPPORTED
from nautilus_ext.adapters.ccxt.parsing.orders import NON_UNIQUE_CLIENT_ID_EXCHANGES
from nautilus_ext.adapters.ccxt.parsing.orders import venue_client_id
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.node_harness import NodeHarness
from tests.integration.adapters.ccxt.conftest import VENUES
from tests.integration.adapters.ccxt.test_orders_e2e import _limit
from tests.integration.adapters.ccxt.test_orders_e2e import _order
from tests.integration.adapters.ccxt.test_orders_e2e import _ready
from tests.integration.adapters.ccxt.test_orders_e2e import _submit

pytestmark = pytest.mark.slow


def _owner(fake: FakeExchange, exchange_id: str) -> str:
    return str(VENUES[exchange_id]["owner"])


@pytest.mark.parametrize("fault", ["http_429_next", "rest_timeout_next"])
def test_retry_does_not_double_the_order(
    fake_exchange: FakeExchange,
    exchange_id: str,
    start_node: Callable[..., NodeHarness],
    fault: str,
) -> None:
    spec = VENUES[exchange_id]
    iid = InstrumentId.from_str(spec["instrument"])
    # venues whose ccxt signing is slow (Paradex: StarkNet typed-data hashes in pure Python,
    # ~0.25 s a request) need a longer acknowledgement timeout; the stall outlasts it
    ack_timeout = float(spec.get("retry_ack_timeout_secs", 0.6))
    h = start_node(exchange_id, subscribe=False, exec_overrides={"ack_timeout_secs": ack_timeout})
    strat = _ready(h, iid)

    def arm() -> None:
        fake_exchange.faults.fault_path_prefix = VENUES[exchange_id]["order_path"]
        fake_exchange.faults.timeout_stall_secs = ack_timeout + 0.4
        setattr(fake_exchange.faults, fault, 1)

    fake_exchange.call(arm)
    coid = _submit(h, strat, _limit(spec, iid, OrderSide.BUY, "0.1", spec["bids"][1][0]))
    eventually(lambda: _order(h, coid).status is OrderStatus.ACCEPTED, 15, message="no ack")
    wire_id = venue_client_id(exchange_id, coid)
    # timeout case: the first request took effect, its response was lost; the retry reuses
    # the client id, the venue refuses the duplicate and the client finds the first order
    # (a 429 is answered before the order handler, so only the retry is recorded). Deribit and
    # Backpack accept a reused client id, so the client looks the order up before any retry.
    lookup_first = exchange_id in NON_UNIQUE_CLIENT_ID_EXCHANGES
    expected_requests = 2 if fault == "rest_timeout_next" and not lookup_first else 1
    eventually(
        lambda: sum(r.client_id == wire_id for r in fake_exchange.received_orders) == expected_requests,
        5,
    )
    engine = getattr(fake_exchange, exchange_id).engine
    open_orders = fake_exchange.call(lambda: engine.open_orders(_owner(fake_exchange, exchange_id)))
    assert len(open_orders) == 1
    assert fake_exchange.faults.counters[fault] == 1


def test_modify_where_supported(
    fake_exchange: FakeExchange, exchange_id: str, start_node: Callable[..., NodeHarness]
) -> None:
    spec = VENUES[exchange_id]
    iid = InstrumentId.from_str(spec["instrument"])
    h = start_node(exchange_id, subscribe=False)
    strat = _ready(h, iid)
    coid = _submit(h, strat, _limit(spec, iid, OrderSide.BUY, "0.1", spec["bids"][1][0]))
    eventually(lambda: _order(h, coid).status is OrderStatus.ACCEPTED, 10)
    new_price = "49000" if exchange_id in ("hyperliquid", "deribit") else "49000.0"
    h.call(lambda: strat.modify_order(h.node.cache.order(coid), price=Price.from_str(new_price)))
    engine = getattr(fake_exchange, exchange_id).engine
    if not spec.get("modify", True):
        # ccxt has no editOrder for this venue (Aster): the modify is refused with a reason
        # code and the resting order stays as it was
        eventually(
            lambda: [e for e in strat.events if isinstance(e, OrderModifyRejected)],
            10,
            message="no modify reject",
        )
        rejected = [e for e in strat.events if isinstance(e, OrderModifyRejected)]
        assert rejected[-1].reason == MODIFY_NOT_SUPPORTED
        resting = fake_exchange.call(lambda: engine.open_orders(_owner(fake_exchange, exchange_id)))
        assert [o.price for o in resting] == [Decimal(spec["bids"][1][0])]
        assert _order(h, coid).status is OrderStatus.ACCEPTED
        return
    eventually(
        lambda: _order(h, coid).price.as_decimal() == Decimal(new_price), 10, message="modify not applied"
    )
    resting = fake_exchange.call(lambda: engine.open_orders(_owner(fake_exchange, exchange_id)))
    assert [o.price for o in resting] == [Decimal(new_price)]
