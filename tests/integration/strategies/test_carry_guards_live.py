"""
The funding carry's live guards on a real TradingNode against the fake Bybit and Binance USD-M.

An open carry (long Binance, short Bybit) meets the venue's own hand: Bybit auto-deleverages the
short (``execType`` ``AdlTrade``), Binance liquidates the long (``autoclose-`` client id, order
type ``LIQUIDATION``), or someone closes a leg by hand. Each time the strategy classifies it,
closes what is left through the gate, ends flat on both venues, stops, and the audit log and
the store say why.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange import Side
from nautilus_ext_testkit.fake_exchange.engine import MM_ACCOUNT
from tests.support.carry_live import BINANCE_ID
from tests.support.carry_live import BYBIT_ID
from tests.support.carry_live import QTY
from tests.support.carry_live import STRATEGY_ID
from tests.support.carry_live import Node
from tests.support.carry_live import audit_events
from tests.support.carry_live import fake_venues
from tests.support.carry_live import node_yaml
from tests.support.carry_live import open_carry
from tests.support.carry_live import set_env
from tests.support.carry_live import store_rows
from tests.support.carry_live import touch_books
from tests.support.carry_live import venue_qty

pytestmark = pytest.mark.slow


@pytest.fixture
def exchange() -> Iterator[FakeExchange]:
    yield from fake_venues()


def _flat(ex: FakeExchange) -> bool:
    return venue_qty(ex, "binance") == 0 and venue_qty(ex, "bybit") == 0


def _run_forced(
    tmp_path: Path,
    ex: FakeExchange,
    monkeypatch: pytest.MonkeyPatch,
    inject: Any,
    kind: str,
    reduced: str,
    expected_unwound: Decimal = QTY,
) -> None:
    set_env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    node = Node(node_yaml(tmp_path, ex, db_url))
    try:
        strat = node.strategy
        position = open_carry(node, ex)
        sent = len(ex.received_orders)
        touch_books(ex, "2")
        ex.call(inject)
        eventually(
            lambda: _flat(ex) and not strat.is_running,
            15,
            message=lambda: (
                f"not flat and stopped: binance={venue_qty(ex, 'binance')} bybit={venue_qty(ex, 'bybit')} "
                f"running={strat.is_running} reductions={strat.guard.reductions} "
                f"results={[(r.operation_id, r.status, r.reason) for r in strat.results.values()]}"
            ),
        )
        (reduction,) = strat.guard.reductions
        assert (reduction.kind.value, reduction.instrument_id) == (kind, reduced)
        assert reduction.source == "venue_message"
        # exactly the closing order(s) of what was left went out, through the gate
        unwind = [r for r in strat.results.values() if "unwind" in r.operation_id]
        assert unwind
        # an attempt may be refused while a leg is still dirty from the entry; what reached the
        # venue filled, and closed exactly what was left
        sent_now = [r for r in unwind if r.client_order_id is not None]
        assert all(r.status.value == "FILLED" for r in sent_now), [(r.status, r.reason) for r in unwind]
        assert len(ex.received_orders) == sent + len(sent_now)
        assert sum(r.filled_quantity for r in sent_now) == expected_unwound
        (row,) = store_rows(db_url)[0]
        assert (row.id, row.status, row.exit_reason) == (position.id, "closed", kind)
        assert kind in (strat.refusing or "")
        gate = node.safety.gate
        killed = gate.halts.killed(STRATEGY_ID)
        assert killed is not None
        assert kind in killed.message
        events = audit_events(tmp_path)
        halts = [e for e in events if e.get("rule") == "forced_reduction"]
        assert halts, "no forced_reduction record in the audit log"
        assert any(
            e["details"].get("kind") == kind and e["asset"] == reduced and e["action"] == "HALT"
            for e in halts
        ), halts
    finally:
        node.stop()


def test_adl_on_the_bybit_short_unwinds_the_binance_long_and_stops(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    def inject() -> None:
        exchange.force_close("bybit", "BTCUSDT", "adl")

    _run_forced(tmp_path, exchange, monkeypatch, inject, "ADL", BYBIT_ID)


def test_liquidation_of_the_binance_long_unwinds_the_bybit_short_and_stops(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    def inject() -> None:
        exchange.force_close("binance", "BTCUSDT", "liquidation")

    _run_forced(tmp_path, exchange, monkeypatch, inject, "LIQUIDATION", BINANCE_ID)


def test_partial_adl_closes_both_legs(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    def inject() -> None:
        exchange.force_close("binance", "BTCUSDT", "adl", qty=QTY / 2)

    # the remaining half of the Binance long and the whole Bybit short
    _run_forced(tmp_path, exchange, monkeypatch, inject, "ADL", BINANCE_ID, QTY / 2 + QTY)


def test_a_leg_closed_by_hand_is_classified_manual(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    node = Node(node_yaml(tmp_path, exchange, db_url, guard_confirm_ms=500))
    try:
        strat = node.strategy
        open_carry(node, exchange)
        touch_books(exchange, "2")
        # someone buys the Bybit short back by hand: no venue ADL/liquidation message
        engine = exchange.bybit.engine
        exchange.call(lambda: engine.submit("USER", "BTCUSDT", Side.BUY, "market", QTY))
        eventually(
            lambda: _flat(exchange) and not strat.is_running, 15, message=lambda: str(strat.guard.reductions)
        )
        (reduction,) = strat.guard.reductions
        assert (reduction.kind.value, reduction.source) == ("MANUAL", "position_snapshot")
        assert (reduction.expected, reduction.observed) == (-QTY, Decimal(0))
        (row,) = store_rows(db_url)[0]
        assert row.exit_reason == "MANUAL"
    finally:
        node.stop()


def _move_binance(ex: FakeExchange, mid: int) -> None:
    # the fakes' mark is their book's mid: moving Binance's book moves its mark (and margin)
    def seed() -> None:
        ex.binance.engine.cancel_all(MM_ACCOUNT, "BTCUSDT")
        ex.binance.engine.seed_book(
            "BTCUSDT",
            bids=[(Decimal(mid) - Decimal("0.1"), Decimal(2))],
            asks=[(Decimal(mid) + Decimal("0.1"), Decimal(2))],
        )
        ex.bybit.engine.seed_book(
            "BTCUSDT", bids=[(Decimal("49999.9"), Decimal(2))], asks=[(Decimal("50000.1"), Decimal(2))]
        )

    ex.call(seed)


def test_margin_below_the_urgent_ratio_reduces_exposure_to_zero(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Binance holds 1200 USDT: the 5000 USDT long starts at a margin ratio of about 0.24
    exchange.call(lambda: exchange.binance.engine.balances.__setitem__("USER", Decimal(1200)))
    set_env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    path = node_yaml(tmp_path, exchange, db_url, {"margin_poll_interval_ms": 300}, stop_loss="0.9")
    node = Node(path)
    try:
        strat = node.strategy
        position = open_carry(node, exchange)
        eventually(lambda: "BINANCE" in strat.guard.margin, 10, message="no margin report")
        assert strat.guard.margin["BINANCE"].level.value == "OK"
        # the mark falls 8%: equity 1200 - 400 = 800 over 4600, 0.174: WARNING, nothing traded
        sent = len(exchange.received_orders)
        _move_binance(exchange, 46_000)
        eventually(
            lambda: strat.guard.margin["BINANCE"].level.value == "WARNING",
            10,
            message=lambda: str(strat.guard.margin),
        )
        assert strat.guard.entries_blocked() is not None
        assert len(exchange.received_orders) == sent
        assert list(strat.positions) == [position.id]
        # 11%: 650 over 4450, 0.146 < 0.15: URGENT, the carry is exited at once
        _move_binance(exchange, 44_500)
        eventually(
            lambda: not strat.positions and _flat(exchange),
            15,
            message=lambda: (
                f"not reduced: {strat.guard.margin} {strat.positions} {venue_qty(exchange, 'binance')}"
            ),
        )
        (row,) = store_rows(db_url)[0]
        assert (row.status, row.exit_reason) == ("closed", "MARGIN_URGENT")
        events = [e for e in audit_events(tmp_path) if e.get("rule") == "margin_guard"]
        levels = [e["details"].get("level") for e in events if "level" in e["details"]]
        assert levels[:2] == ["WARNING", "URGENT"], events
        assert any("reducing exposure" in e["details"].get("message", "") for e in events), events
        view = next(e for e in events if e["details"].get("level") == "URGENT")["details"]
        assert Decimal(view["margin_ratio"]) < Decimal("0.15")
        assert Decimal(view["liquidation_distance"]) == Decimal(view["margin_ratio"]) - Decimal(
            view["maintenance_ratio"]
        )
        # flat: the next report is OK again, and the strategy keeps running
        eventually(lambda: strat.guard.margin["BINANCE"].level.value == "OK", 10)
        assert strat.is_running
    finally:
        node.stop()
