"""The data client's stale-feed signal: down streams and failing REST go stale, then recover."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.adapters.ccxt import CcxtDataClient
from nautilus_ext.adapters.ccxt import FeedStatus
from nautilus_ext.adapters.ccxt import StreamKind
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.node_harness import NodeHarness
from tests.integration.adapters.ccxt.conftest import VENUES
from tests.integration.adapters.ccxt.conftest import Recorder
from tests.integration.adapters.ccxt.conftest import client_key

pytestmark = pytest.mark.slow
# the public market-data REST paths each venue's data client falls back to
MARKET_PATH = {
    "bybit": "/v5/market",
    "binanceusdm": "/fapi/v1/depth",
    "aster": "/aster/fapi/v3/depth",
    "backpack": "/backpack/api/v1/depth",
    "coinbase": "/api/v3/brokerage/market",
    "paradex": "/v1/orderbook",
    "grvt": "/grvt/market-data/full/v1/book",
}


@pytest.mark.parametrize("exchange_id", sorted(MARKET_PATH))
def test_stale_then_recovered(
    fake_exchange: FakeExchange,
    start_node: Callable[..., NodeHarness],
    monkeypatch: pytest.MonkeyPatch,
    exchange_id: str,
) -> None:
    spec = VENUES[exchange_id]
    for name, value in spec["env"].items():
        monkeypatch.setenv(name, value)
    iid = InstrumentId.from_str(spec["instrument"])
    h = start_node(exchange_id)
    strat = h.strategy(Recorder)
    eventually(lambda: strat.quotes, 20, message="no quotes")
    client: CcxtDataClient = h.node.kernel.data_engine._clients[ClientId(client_key(exchange_id))]  # type: ignore
    statuses: list[FeedStatus] = []
    h.call(lambda: h.node.kernel.msgbus.subscribe(client.feed_status_topic, statuses.append))

    def outage(on: bool) -> None:
        faults = fake_exchange.faults
        faults.refuse_websockets = on
        faults.fault_path_prefix = MARKET_PATH[exchange_id]
        faults.http_429_next = 10_000 if on else 0

    fake_exchange.call(lambda: outage(True))
    fake_exchange.drop_websockets_threadsafe()
    eventually(
        lambda: h.call(lambda: client.is_stale(iid, StreamKind.BOOK)), 15, message="feed never reported stale"
    )
    stale = [s for s in statuses if s.stale and s.stream is StreamKind.BOOK]
    assert stale
    assert stale[0].instrument_id == iid
    assert stale[0].reason.startswith(("STREAM_ERROR:", "NO_UPDATES"))
    fake_exchange.call(lambda: outage(False))
    eventually(lambda: not h.call(lambda: client.is_stale(iid)), 20, message="feed never recovered")
    assert any(not s.stale for s in statuses)
    assert client.stream_errors > 0
    quotes_before = len(strat.quotes)
    engine: Any = getattr(fake_exchange, exchange_id).engine
    fake_exchange.call(lambda: engine.seed_book(spec["symbol"], bids=[("50000.0", "1")], asks=[]))
    eventually(lambda: len(strat.quotes) > quotes_before, 10, message="no data after recovery")
