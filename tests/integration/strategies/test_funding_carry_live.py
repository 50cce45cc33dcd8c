"""
The funding carry strategy in a LIVE TradingNode against two fake venues (Bybit and Binance
USD-M through the ccxt adapter), armed with an auto-confirm policy.

Bybit's funding is rich and Binance's cheap: the strategy goes long Binance, short Bybit through
ATOMIC_LEGS; the fakes settle funding and each leg's payment lands in the store with the sign
and amount the venue booked; a funding flip on Bybit closes the position and both venues end
flat. A Binance leg refused for lack of margin is neutralised to zero. A node restarted with an
open position rebuilds it from the store and opens nothing; a venue position changed while the
node was down makes it refuse to trade (SAFE mode).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange import Side
from tests.support.carry_live import BYBIT_ID
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


@pytest.fixture
def exchange() -> Iterator[FakeExchange]:
    yield from fake_venues()


def test_carry_opens_collects_funding_and_exits_on_a_flip(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    node = Node(node_yaml(tmp_path, exchange, db_url))
    try:
        strat = node.strategy
        position = open_carry(node, exchange)
        group = strat.groups[position.group_id]
        assert group.status.value == "HEDGED"
        assert group.algo_stop_reason == "COMPLETED"
        # both legs went out as IOC limits inside the 10 bp sizing band, never pure market
        node_cache = node.h.node.cache  # type: ignore[union-attr]
        legs = [o for o in node_cache.orders() if o.client_order_id.value.endswith(("-A1", "-B2"))]
        assert {(o.order_type.name, o.time_in_force.name) for o in legs} == {("LIMIT", "IOC")}
        assert len(legs) == 2
        assert {o.price.as_decimal() for o in legs} == {Decimal("50050.0"), Decimal("49950.0")}

        # both venues settle funding: the short on Bybit receives, the long on Binance pays
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
        eventually(lambda: len(store_rows(db_url)[1]) == 2, 15, message="funding payments never recorded")
        _, payments = store_rows(db_url)
        assert {(p.venue, p.payment_amount, p.funding_rate, p.currency) for p in payments} == {
            ("BINANCE-FUTURES", -QTY * MARK * CHEAP, CHEAP, "USDT"),
            ("BYBIT", QTY * MARK * RICH, RICH, "USDT"),
        }
        assert {p.position_id for p in payments} == {position.id}
        assert {int(p.payment_time.timestamp() * 1000) for p in payments} == {
            s.ts_ms for v in settled.values() for s in v
        }
        # the venue's booked amounts, to the cent: what the store holds is what the accounts got
        assert sum(p.payment_amount for p in payments) == sum(s.amount for v in settled.values() for s in v)

        # Bybit's funding flips below Binance's: the carry now loses, the strategy exits
        touch_books(exchange, "3")
        exchange.call(lambda: exchange.bybit.engine.funding.configure("BTCUSDT", rate=Decimal(0)))
        eventually(
            lambda: not strat.positions,
            20,
            message=lambda: (
                f"the carry was not closed on the flip: {strat.positions} "
                f"{[(g.group_id, g.status, g.reason, g.net) for g in strat.groups.values()]} "
                f"{strat.samples.get(BYBIT_ID)} refusing={strat.refusing}"
            ),
        )
        eventually(lambda: venue_qty(exchange, "binance") == 0 and venue_qty(exchange, "bybit") == 0, 10)
        positions, _ = store_rows(db_url)
        (row,) = positions
        assert (row.status, row.exit_reason) == ("closed", "FUNDING_FLIP")
        assert row.cumulative_funding == QTY * MARK * (RICH - CHEAP)
        assert row.closed_at is not None
        assert strat.refusing is None
    finally:
        node.stop()


def test_a_refused_leg_is_neutralised_and_nothing_is_held(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Binance cannot margin 0.1 BTC: the long leg is refused, the Bybit short is bought back
    exchange.call(lambda: exchange.binance.engine.balances.__setitem__("USER", Decimal(50)))
    set_env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    node = Node(node_yaml(tmp_path, exchange, db_url))
    try:
        strat = node.strategy
        eventually(lambda: bool(strat.groups) and not strat.positions, 30, message=str(strat.groups))
        (group,) = strat.groups.values()
        assert group.status.value == "NEUTRALISED", group
        # the Bybit short filled and was bought back by the algorithm
        assert [f.side for f in group.neutralisation_fills] == ["BUY"]
        assert strat.results[group.legs[0]].status.value == "REJECTED"
        eventually(lambda: venue_qty(exchange, "bybit") == 0, 10)
        assert venue_qty(exchange, "binance") == 0
        assert abs(group.net_exposure) == 0
        (row,) = store_rows(db_url)[0]
        assert row.status == "closed"
        assert row.exit_reason == f"ENTRY_{group.status.value}"
        # the pair waits entry_retry_secs before another try: one group only
        assert len(strat.groups) == 1
    finally:
        node.stop()


def test_a_restart_rebuilds_the_open_carry_and_opens_nothing(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    path = node_yaml(tmp_path, exchange, db_url)
    node = Node(path)
    try:
        before = open_carry(node, exchange)
        state = before.state()
    finally:
        node.stop()
    sent = len(exchange.received_orders)

    again = Node(path)
    try:
        strat = again.strategy
        (after,) = strat.positions.values()
        assert (after.id, after.state()) == (before.id, state)
        # several cycles later: reconciled, nothing re-opened, nothing sent
        eventually(lambda: getattr(strat, "_reconciled", False), 10)
        cycles = strat.repository.get_state("funding_carry", "group_count")
        t0 = strat.clock.timestamp_ns()
        eventually(lambda: strat.clock.timestamp_ns() > t0 + 3_000_000_000, 10)
        assert strat.refusing is None
        assert len(exchange.received_orders) == sent
        assert list(strat.positions) == [before.id]
        assert strat.repository.get_state("funding_carry", "group_count") == cycles
        assert (venue_qty(exchange, "binance"), venue_qty(exchange, "bybit")) == (QTY, -QTY)
    finally:
        again.stop()


def test_a_venue_position_changed_while_down_refuses_to_trade(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    path = node_yaml(tmp_path, exchange, db_url)
    node = Node(path)
    try:
        open_carry(node, exchange)
    finally:
        node.stop()
    # someone closes the Bybit short by hand while the node is down
    engine = exchange.bybit.engine
    exchange.call(lambda: engine.submit("USER", "BTCUSDT", Side.BUY, "market", QTY))
    sent = len(exchange.received_orders)

    again = Node(path)
    try:
        strat = again.strategy
        eventually(lambda: strat.refusing is not None, 15, message="the mismatch was not seen")
        assert BYBIT_ID in (strat.refusing or "")
        assert again.safety.gate.safe is not None
        assert len(exchange.received_orders) == sent
        assert strat.repository.get_state("funding_carry", "refusing") == strat.refusing
    finally:
        again.stop()


def test_live_without_an_auto_confirm_policy_sends_and_stores_nothing(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    # armed, but no policy: an atomic pair cannot be confirmed leg by leg, so nothing goes out
    set_env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    node = Node(node_yaml(tmp_path, exchange, db_url), auto_confirm=())
    try:
        strat = node.strategy
        eventually(lambda: strat.last_scan is not None and strat.last_scan.opportunities, 10)
        t0 = strat.clock.timestamp_ns()
        eventually(lambda: strat.clock.timestamp_ns() > t0 + 2_500_000_000, 10)
        assert strat.groups == {}
        assert strat.positions == {}
        assert exchange.received_orders == []
        assert store_rows(db_url) == ([], [])
    finally:
        node.stop()
