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
from typing import Any

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


# the client waits up to 7 s for an answer: the stalled order is still in flight at the stop
SLOW_CLIENT = {"timeout_ms": 7_000}


def _stall_next_binance_order(ex: FakeExchange) -> None:
    # Binance executes the next order at once but holds its answer for 8 s, and the venues'
    # private pushes are 8 s late: the node is stopped with that order in flight and its group
    # unfinished (the Bybit leg's fill still arrives by the REST poll)
    ex.faults.fill_delay_ms = 8_000
    ex.faults.fault_path_prefix = "/fapi/v1/order"
    ex.faults.fault_method = "POST"
    ex.faults.timeout_stall_secs = 8.0
    ex.faults.rest_timeout_next = 1


def _no_orders_for(ex: FakeExchange, strat: Any, secs: float) -> None:
    sent = len(ex.received_orders)
    t0 = strat.clock.timestamp_ns()
    eventually(lambda: strat.clock.timestamp_ns() > t0 + int(secs * 1e9), secs + 10)
    assert len(ex.received_orders) == sent


def test_a_node_stopped_mid_entry_adopts_the_hedged_legs_and_opens_nothing_again(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    path = node_yaml(tmp_path, exchange, db_url, SLOW_CLIENT)
    _stall_next_binance_order(exchange)
    node = Node(path)
    try:
        strat = node.strategy
        eventually(
            lambda: venue_qty(exchange, "binance") == QTY and venue_qty(exchange, "bybit") == -QTY,
            15,
            message="the entry never reached both venues",
        )
        (position,) = strat.positions.values()
        assert position.phase == "OPENING"  # Binance's answer is still held
    finally:
        node.stop()
    (row,) = store_rows(db_url)[0]
    assert row.status == "open"
    sent = len(exchange.received_orders)
    exchange.faults.fill_delay_ms = 0

    touch_books(exchange, "3")
    again = Node(path)
    try:
        strat = again.strategy
        eventually(lambda: getattr(strat, "_reconciled", False), 15)
        (after,) = strat.positions.values()
        assert (after.id, after.phase, after.long.signed, after.short.signed) == (
            position.id,
            "OPEN",
            QTY,
            -QTY,
        )
        assert after.long.entry_price is not None
        assert strat.refusing is None
        _no_orders_for(exchange, strat, 3)
        assert len(exchange.received_orders) == sent
        assert (venue_qty(exchange, "binance"), venue_qty(exchange, "bybit")) == (QTY, -QTY)
        assert strat.repository.get_state("funding_carry", f"position:{position.id}")["phase"] == "OPEN"
    finally:
        again.stop()


def test_a_node_stopped_mid_exit_closes_the_flat_position_and_sends_nothing(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    path = node_yaml(tmp_path, exchange, db_url, SLOW_CLIENT)
    node = Node(path)
    try:
        strat = node.strategy
        position = open_carry(node, exchange)
        _stall_next_binance_order(exchange)
        touch_books(exchange, "3")
        exchange.call(lambda: exchange.bybit.engine.funding.configure("BTCUSDT", rate=Decimal(0)))
        eventually(
            lambda: venue_qty(exchange, "binance") == 0 and venue_qty(exchange, "bybit") == 0,
            15,
            message="the exit never reached both venues",
        )
        assert strat.positions[position.id].phase == "CLOSING"
    finally:
        node.stop()
    sent = len(exchange.received_orders)
    exchange.faults.fill_delay_ms = 0

    touch_books(exchange, "2")
    again = Node(path)
    try:
        strat = again.strategy
        eventually(lambda: getattr(strat, "_reconciled", False), 15)
        assert strat.positions == {}
        assert strat.refusing is None
        (row,) = store_rows(db_url)[0]
        assert (row.status, row.exit_reason) == ("closed", "FUNDING_FLIP")
        _no_orders_for(exchange, strat, 3)
        assert len(exchange.received_orders) == sent
    finally:
        again.stop()
