"""End to end: a real TradingNode with the ccxt adapter against the fake exchange."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import CurrencyPair

from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange import Side
from tests.integration.adapters.ccxt.conftest import VENUES
from tests.integration.adapters.ccxt.conftest import Recorder

pytestmark = pytest.mark.slow


def _connected(h) -> bool:  # type: ignore[no-untyped-def]
    node = h.node
    return bool(node.is_running() and node.cache.instruments() and h.strategy(Recorder).is_running)


def test_connect_load_instruments_subscribe(
    fake_exchange: FakeExchange, exchange_id: str, start_node
) -> None:  # type: ignore[no-untyped-def]
    h = start_node(exchange_id)
    spec = VENUES[exchange_id]
    iid = InstrumentId.from_str(spec["instrument"])
    eventually(lambda: _connected(h), 20, message="node did not connect")
    instrument = h.call(lambda: h.node.cache.instrument(iid))
    assert instrument is not None
    assert instrument.size_increment.as_decimal() == Decimal(spec["qty_step"])
    canonical_venue = spec.get("canonical_venue", spec["venue"])
    kind = spec.get("canonical_kind", "PERPETUAL")
    assert instrument.info["canonical_key"].startswith(f"{canonical_venue}:{kind}:BTC-")
    strat = h.strategy(Recorder)
    eventually(lambda: strat.deltas and strat.quotes, 10, message="no book data")
    first = strat.deltas[0]
    assert len(first.deltas) == 1 + len(spec["bids"]) + len(spec["asks"])  # CLEAR + levels
    assert strat.quotes[-1].bid_price.as_decimal() == Decimal(spec["bids"][0][0])
    # another trader lifts the offer: trade tick and a book delta reach the strategy
    engine = getattr(fake_exchange, exchange_id).engine
    fake_exchange.call(lambda: engine.external_trade(spec["symbol"], Side.BUY, "0.5"))
    eventually(lambda: strat.trades, 10, message="no trade tick")
    assert strat.trades[-1].size.as_decimal() == Decimal("0.5")
    eventually(lambda: len(strat.deltas) > 1, 10)


def test_rest_polling_mode(fake_exchange: FakeExchange, exchange_id: str, start_node) -> None:  # type: ignore[no-untyped-def]
    h = start_node(exchange_id, data_overrides={"use_websocket": False, "poll_interval_ms": 100})
    spec = VENUES[exchange_id]
    eventually(lambda: _connected(h), 20, message="node did not connect")
    strat = h.strategy(Recorder)
    eventually(lambda: strat.deltas and strat.quotes, 10, message="no polled book data")
    engine = getattr(fake_exchange, exchange_id).engine
    fake_exchange.call(lambda: engine.external_trade(spec["symbol"], Side.BUY, "0.5"))
    eventually(lambda: len(strat.quotes) > 1, 10, message="no polled quote after the trade")
    if exchange_id == "hyperliquid":
        # ccxt's Hyperliquid fetchTrades is the account's fills: no public REST tape
        assert strat.trades == []
        return
    eventually(lambda: strat.trades, 10, message="no polled trade")
    assert len(strat.trades) == 1  # history before subscribing is not replayed, no repeats


def test_mark_price_and_funding_rate(fake_exchange: FakeExchange, exchange_id: str, start_node) -> None:  # type: ignore[no-untyped-def]
    h = start_node(exchange_id, subscribe=False, subscribe_derivatives=True)
    eventually(lambda: _connected(h), 20, message="node did not connect")
    strat = h.strategy(Recorder)
    spec = VENUES[exchange_id]
    if not spec.get("derivatives", True):
        # a spot venue (capability flag): there is no mark price or funding to deliver, and
        # asking for them must neither invent any nor stop the node
        iid = InstrumentId.from_str(spec["instrument"])
        assert isinstance(h.call(lambda: h.node.cache.instrument(iid)), CurrencyPair)
        time.sleep(1.0)  # a few of the data client's poll/stream cycles
        assert strat.marks == []
        assert strat.fundings == []
        assert h.node.is_running()
        return
    if not spec.get("funding", True):
        # ccxt has no funding-rate call for this venue (GRVT): marks only, and no funding
        # rate is invented
        eventually(lambda: strat.marks, 15, message="no mark data")
        mid = (Decimal(spec["bids"][0][0]) + Decimal(spec["asks"][0][0])) / 2
        assert strat.marks[-1].value.as_decimal() == pytest.approx(mid, abs=Decimal(1))
        assert strat.fundings == []
        return
    eventually(lambda: strat.marks and strat.fundings, 15, message="no mark/funding data")
    mid = (Decimal(spec["bids"][0][0]) + Decimal(spec["asks"][0][0])) / 2
    assert strat.marks[-1].value.as_decimal() == pytest.approx(mid, abs=Decimal(1))
    protocol = getattr(fake_exchange, exchange_id)
    assert strat.fundings[-1].rate == protocol.funding_rate
