"""
A venue settling funding at an unchanged rate still reaches strategies as a FundingRateUpdate.

The data client used to deliver a funding update only when the rate changed; a settlement moves
the next funding time on at the same rate, and a strategy accounting funding per settlement (the
funding carry) never saw it. Now the next funding time counts as a change too.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.node_harness import NodeHarness
from tests.integration.adapters.ccxt.conftest import VENUES
from tests.integration.adapters.ccxt.conftest import Recorder

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("venue", ["bybit", "binanceusdm"])
def test_a_settlement_at_an_unchanged_rate_is_delivered(
    fake_exchange: FakeExchange,
    start_node: Callable[..., NodeHarness],
    monkeypatch: pytest.MonkeyPatch,
    venue: str,
) -> None:
    for name, value in VENUES[venue]["env"].items():
        monkeypatch.setenv(name, value)
    protocol = "binance" if venue == "binanceusdm" else venue
    symbol = VENUES[venue]["symbol"]
    h = start_node(venue, subscribe=False, subscribe_derivatives=True)
    strat = h.strategy(Recorder)
    eventually(lambda: strat.fundings, 20, message="no funding data")
    first = strat.fundings[-1]
    assert first.next_funding_ns

    fake_exchange.call(lambda: fake_exchange.settle_funding(protocol, symbol))

    eventually(
        lambda: strat.fundings[-1].next_funding_ns > first.next_funding_ns,
        10,
        message="the settlement never reached the strategy",
    )
    after = strat.fundings[-1]
    assert Decimal(after.rate) == Decimal(first.rate)  # same rate, a new funding time
    interval_ns = (after.interval or 480) * 60 * 1_000_000_000
    assert after.next_funding_ns - first.next_funding_ns == interval_ns
