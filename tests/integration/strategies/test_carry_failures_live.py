"""
The funding carry's entries and exits when a venue misbehaves, on a real TradingNode against the
fake Bybit and Binance USD-M: one leg partially filled, a venue that stops answering mid-entry,
a venue whose data goes stale (VENUE_UNHEALTHY exit), and an entry whose naked leg cannot be
neutralised (UNHEDGED). Each ends with zero net exposure within a lot, and the audit log says
why.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange import Side
from nautilus_ext_testkit.fake_exchange.engine import MM_ACCOUNT
from nautilus_ext_testkit.fake_exchange.engine import EngineFill
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
LOT = Decimal("0.001")


@pytest.fixture
def exchange() -> Iterator[FakeExchange]:
    yield from fake_venues()


def _net(ex: FakeExchange) -> Decimal:
    return venue_qty(ex, "binance") + venue_qty(ex, "bybit")


def test_one_leg_partially_filled_is_neutralised_to_the_filled_size(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    node = Node(node_yaml(tmp_path, exchange, db_url), arm=False)
    try:
        strat = node.strategy
        touch_books(exchange, "2")
        # another trader takes all but 0.04 of Bybit's bids; the node hears of it 4 s late, so
        # the strategy sizes on the old book and its Bybit short IOC fills 0.04 only
        exchange.faults.ws_latency_ms = 4000
        engine = exchange.bybit.engine

        def take_bids() -> None:
            bids, _ = engine.levels("BTCUSDT")
            engine.external_trade("BTCUSDT", Side.SELL, sum(q for _, q in bids) - Decimal("0.04"), "49999.9")

        exchange.call(take_bids)
        node.arm()
        eventually(
            lambda: bool(strat.groups) and not strat._group_position,
            20,
            message=lambda: f"{strat.groups} {strat.positions}",
        )
        exchange.faults.ws_latency_ms = 0
        (group,) = strat.groups.values()
        long_op, short_op = group.legs
        assert strat.results[short_op].filled_quantity == Decimal("0.04"), (group, strat.results[short_op])
        assert strat.results[long_op].filled_quantity == QTY
        # the excess of the Binance long was sold back by the algorithm
        assert [(f.side, f.quantity) for f in group.neutralisation_fills] == [("SELL", Decimal("0.06"))]
        eventually(lambda: venue_qty(exchange, "binance") == Decimal("0.04"), 10)
        assert venue_qty(exchange, "bybit") == Decimal("-0.04")
        assert abs(_net(exchange)) < LOT
        (position,) = strat.positions.values()
        # the position is booked from the group's fills on the strategy's next step
        eventually(
            lambda: (
                (position.phase, position.long.signed, position.short.signed)
                == ("OPEN", Decimal("0.04"), Decimal("-0.04"))
            ),
            10,
            message=lambda: f"{position.phase} {position.long.signed} {position.short.signed}",
        )
        # the audit log holds the short leg's partial fill and the neutralising sale
        fills = {
            (e["asset"], e["side"], Decimal(e["qty"]))
            for e in audit_events(tmp_path)
            if e.get("event_type") == "FILL"
        }
        assert fills == {
            ("BTCUSDT-PERP.BINANCE", "BUY", QTY),
            ("BTCUSDT-LINEAR.BYBIT", "SELL", Decimal("0.04")),
            ("BTCUSDT-PERP.BINANCE", "SELL", Decimal("0.06")),
        }
    finally:
        node.stop()


def test_a_venue_timing_out_mid_entry_ends_hedged_or_flat(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Binance takes the long's order but holds the answer past the client's 3 s timeout
    exchange.faults.fault_path_prefix = "/fapi/v1/order"
    exchange.faults.fault_method = "POST"
    exchange.faults.rest_timeout_next = 1
    exchange.faults.timeout_stall_secs = 4.0
    set_env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    node = Node(node_yaml(tmp_path, exchange, db_url))
    try:
        strat = node.strategy
        eventually(
            lambda: bool(strat.groups) and not strat._group_position,
            30,
            message=lambda: f"{strat.groups} {strat.positions}",
        )
        assert exchange.faults.counters.get("rest_timeout_next") == 1
        (group,) = strat.groups.values()
        eventually(lambda: abs(_net(exchange)) < LOT, 10, message=lambda: str(_net(exchange)))
        # the position is booked from the group's fills on the strategy's next step
        eventually(
            lambda: (
                {p.long.signed for p in strat.positions.values()} <= {venue_qty(exchange, "binance")}
                and [p.short.signed for p in strat.positions.values()]
                == [venue_qty(exchange, "bybit") for _ in strat.positions]
            ),
            10,
            message=lambda: f"{strat.positions} vs venues {_net(exchange)}",
        )
        assert group.status.value in ("HEDGED", "NEUTRALISED"), group
    finally:
        node.stop()


def test_a_stale_venue_exits_the_carry_as_venue_unhealthy(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    node = Node(node_yaml(tmp_path, exchange, db_url, stale_after_secs=3))
    try:
        strat = node.strategy
        open_carry(node, exchange)
        # Binance keeps quoting, Bybit's book goes quiet: after 3 s its leg is unhealthy and the
        # carry exits while the gate still accepts Bybit's data (5 s)
        deadline = time.monotonic() + 20
        while strat.positions and time.monotonic() < deadline:
            exchange.call(
                lambda: exchange.binance.engine.seed_book(
                    "BTCUSDT", bids=[(Decimal("49999.9"), Decimal("0.001"))], asks=[]
                )
            )
            time.sleep(0.5)
        assert not strat.positions, strat.positions
        eventually(lambda: venue_qty(exchange, "binance") == 0 and venue_qty(exchange, "bybit") == 0, 10)
        (row,) = store_rows(db_url)[0]
        assert (row.status, row.exit_reason) == ("closed", "VENUE_UNHEALTHY")
        decisions = [e for e in audit_events(tmp_path) if "carry_exit:VENUE_UNHEALTHY" in str(e)]
        assert decisions
    finally:
        node.stop()


def test_an_unhedged_entry_is_unwound_and_the_strategy_stops(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Binance cannot margin the long (refused); the Bybit short fills, and Bybit's asks vanish
    # right after, so the algorithm cannot buy it back: the group ends UNHEDGED
    exchange.call(lambda: exchange.binance.engine.balances.__setitem__("USER", Decimal(50)))
    engine = exchange.bybit.engine

    def pull_asks(fill: EngineFill) -> None:
        if fill.account == "USER" and fill.side is Side.SELL:
            asyncio.get_running_loop().call_soon(
                lambda: [
                    engine.cancel(MM_ACCOUNT, o.order_id)
                    for o in engine.open_orders(MM_ACCOUNT)
                    if o.side is Side.SELL
                ]
            )

    exchange.call(lambda: engine.listeners.on_fill.append(pull_asks))
    set_env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    node = Node(node_yaml(tmp_path, exchange, db_url))
    try:
        strat = node.strategy
        eventually(lambda: strat.guard.desk.halted is not None, 30, message=lambda: f"{strat.groups}")
        (group,) = strat.groups.values()
        assert group.status.value == "UNHEDGED"
        assert venue_qty(exchange, "bybit") == -QTY
        # the asks come back: the strategy's unwind (retried) buys the short back, then stops
        exchange.call(lambda: engine.listeners.on_fill.remove(pull_asks))
        touch_books(exchange, "2")
        eventually(
            lambda: venue_qty(exchange, "bybit") == 0 and not strat.is_running,
            15,
            message=lambda: f"{venue_qty(exchange, 'bybit')} {strat.is_running} {strat.positions}",
        )
        assert venue_qty(exchange, "binance") == 0
        (row,) = store_rows(db_url)[0]
        assert (row.status, row.exit_reason) == ("closed", "UNHEDGED")
        killed = node.safety.gate.halts.killed(STRATEGY_ID)
        assert killed is not None
        assert "UNHEDGED" in killed.message
        assert any(e.get("rule") == "unhedged" for e in audit_events(tmp_path))
    finally:
        node.stop()
