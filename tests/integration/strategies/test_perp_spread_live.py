"""
The perp/perp spread strategy in LIVE TradingNodes against the fake Hyperliquid (venue A, USDC)
and the fake Bybit (venue B, USDT) through the ccxt adapter, armed with the shipped auto-confirm
policy ``spread``; and the same config in DRY_RUN (simulated fills, nothing sent).

- TAKER round trip: Bybit's bids jump 100 USD above Hyperliquid's asks: buy Hyperliquid, sell
  Bybit (IOC limits, 0.1 BTC = the position cap); another trader takes Bybit's rich bids, the
  gap closes, the pair is unwound and both venues end flat.
- Partial fill: the venues' market data goes silent, another trader takes most of Bybit's rich
  bid; the strategy, armed now, sends its pair on the book it saw: Bybit fills 0.04 of 0.1 and
  the 0.06 excess bought on Hyperliquid is sold back at once (CLOSE_EXCESS): 0.04 each way held.
- MAKER: a bid rests on Hyperliquid at the price that pays against Bybit's bid; two external
  sells fill it (0.004, then 0.006), each fill is hedged at once by an IOC sell on Bybit, and the
  time from the fill on Hyperliquid to the hedge's ack and fill on Bybit is recorded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from nautilus_ext.live.config import load_live_config
from nautilus_ext.persistence import Database
from nautilus_ext.persistence.models import StrategyPosition
from nautilus_ext.safety.cli import send
from nautilus_ext.strategies.perp_spread import PerpSpreadStrategy
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange import Side
from nautilus_ext_testkit.fake_exchange.hyperliquid import TEST_PRIVATE_KEY
from nautilus_ext_testkit.fake_exchange.hyperliquid import TEST_WALLET

pytestmark = pytest.mark.slow
TOKEN = "s" * 40
REPO = Path(__file__).resolve().parents[3]
HL_ID, BYBIT_ID = "BTC-USD-PERP.HYPERLIQUID", "BTCUSDT-LINEAR.BYBIT"
MARK = Decimal(50_000)
CAP = Decimal("0.1")  # 5000 USD / 50000


def seed_books(
    ex: FakeExchange,
    *,
    hl: tuple[str, str] = ("49999", "50001"),
    bybit: tuple[str, str] = ("49999.9", "50200"),
) -> None:
    """Seed both fakes: Hyperliquid's and Bybit's (bid, ask), 2 BTC each; no gap between them."""

    def seed() -> None:
        for venue, symbol in (("hyperliquid", "BTC"), ("bybit", "BTCUSDT")):
            engine = getattr(ex, venue).engine
            engine.funding.configure(
                symbol, rate=Decimal(0), interval_hours=8, mark_price=MARK, index_price=MARK
            )
        ex.hyperliquid.engine.seed_book("BTC", bids=[(hl[0], "2")], asks=[(hl[1], "2")])
        ex.bybit.engine.seed_book("BTCUSDT", bids=[(bybit[0], "2")], asks=[(bybit[1], "2")])

    ex.call(seed)


def touch(ex: FakeExchange) -> None:
    """Add a far level on both books: the fakes' books are quiet unless changed, and both the
    strategy (stale_after_secs) and the gate refuse to trade on old data."""

    def seed() -> None:
        ex.hyperliquid.engine.seed_book("BTC", bids=[("40000", "0.001")], asks=[])
        ex.bybit.engine.seed_book("BTCUSDT", bids=[("40000", "0.001")], asks=[])

    ex.call(seed)


@pytest.fixture
def exchange() -> Iterator[FakeExchange]:
    # a real venue's books move all the time; the fakes' are moved every 0.5 s (a far level), so
    # the strategy's and the gate's staleness checks see live venues however slow this machine is
    ex = FakeExchange()
    ex.start_in_thread()
    stop = threading.Event()

    def keep_fresh() -> None:
        while not stop.wait(0.5):
            touch(ex)

    ticker = threading.Thread(target=keep_fresh, name="touch-books", daemon=True)
    ticker.start()
    yield ex
    stop.set()
    ticker.join(5)
    ex.stop_thread()


def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAUTILUS_EXT_HYPERLIQUID_WALLET_ADDRESS", TEST_WALLET)
    monkeypatch.setenv("NAUTILUS_EXT_HYPERLIQUID_PRIVATE_KEY", TEST_PRIVATE_KEY)
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_API_KEY", "fake-key")
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_API_SECRET", "fake-secret")
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)


def node_yaml(tmp_path: Path, ex: FakeExchange, mode: str = "LIVE", **strategy: Any) -> Path:
    """Write the shipped node config, pointed at the fakes, with ``strategy`` overrides."""
    name = "perp_spread_live.yaml" if mode == "LIVE" else "perp_spread_dry_run.yaml"
    shipped = yaml.safe_load((REPO / "configs" / "live" / name).read_text())
    fake = {
        "rest_url_override": ex.base_url,
        "ws_url_override": ex.ws_url,
        "enable_rate_limit": False,
        "timeout_ms": 3000,
        "fill_poll_interval_ms": 300,
        "position_poll_interval_ms": 300,
    }
    for venue in shipped["venues"]:
        venue.update(fake)
    config = shipped["strategies"][0]["config"]
    config.update(
        {
            "db_url": f"sqlite:///{tmp_path / 'spread.db'}",
            "interval_ms": 200,
            "max_position_usd": "5000",
            "max_total_usd": "5000",
            "taker_fee_b": "0.00055",
            **strategy,
        }
    )
    shipped.update(
        {
            "log_level": "ERROR",
            "audit": {"root": str(tmp_path / "audit"), "fsync": False},
            "timeout_connection_secs": 20,
        }
    )
    if mode == "LIVE":
        shipped["safety"] = {
            "config_path": str(REPO / "configs" / "safety" / "perp_spread.yaml"),
            "control_port": 0,
        }
    else:
        shipped["safety"]["config_path"] = str(REPO / "configs" / "safety" / "default.yaml")
    path = tmp_path / f"{mode.lower()}.yaml"
    path.write_text(yaml.safe_dump(shipped))
    return path


class Node:
    """One node of the test, started with fresh books on both venues (LIVE: optionally armed)."""

    def __init__(self, path: Path, *, arm: bool = True) -> None:
        from nautilus_ext_testkit.node_harness import start_live_node

        self.h, live_node = start_live_node(load_live_config(path))
        self.safety = live_node.safety
        node = self.h.node
        assert node is not None
        self.node = node
        self.strategy: PerpSpreadStrategy = self.h.strategy(PerpSpreadStrategy)  # type: ignore[assignment]
        strat = self.strategy
        eventually(
            lambda: (
                node.is_running()
                and strat.book(strat.a_id) is not None
                and strat.book(strat.b_id) is not None
            ),
            30,
            message="live node did not start",
        )
        if self.safety is not None:
            gate = self.safety.gate
            eventually(lambda: not gate.oms.feed_problems(), 10, message="feeds never healthy")
        if arm:
            self.arm()

    def arm(self) -> None:
        assert self.safety is not None
        assert self.safety.control is not None
        _, armed = send(
            self.safety.control.url,
            TOKEN,
            {"command": "arm", "ttl_secs": 300, "actor": "alice", "auto_confirm": ["spread"]},
        )
        assert armed["ok"], armed

    def stop(self) -> None:
        self.h.stop()


def venue_qty(ex: FakeExchange, venue: str) -> Decimal:
    """Return the test account's position on a fake venue (signed, base units)."""
    engine = getattr(ex, venue).engine
    owner, symbol = (TEST_WALLET, "BTC") if venue == "hyperliquid" else ("USER", "BTCUSDT")
    return ex.call(lambda: engine.position(owner, symbol).qty)  # type: ignore[no-any-return]


def rows(db_url: str) -> list[StrategyPosition]:
    database = Database.open(db_url)
    try:
        with database.session() as session:
            found = list(session.execute(select(StrategyPosition)).scalars())
            session.expunge_all()
        return found
    finally:
        database.close()


def describe(strat: PerpSpreadStrategy) -> str:
    """Say what the strategy sees (for failure messages)."""
    a, b = strat.book(strat.a_id), strat.book(strat.b_id)
    return (
        f"groups={strat.groups} opportunity={strat.last_opportunity} refusing={strat.refusing} "
        f"healthy={strat.healthy()} A={a and (a.bids[:1], a.asks[:1])} B={b and (b.bids[:1], b.asks[:1])} "
        f"costs={strat.costs()} positions={strat.positions} quotes={strat.quotes} hedges={strat.hedges} "
        f"results={[(r.operation_id, r.status, r.reason, r.filled_quantity) for r in strat.results.values()]}"
    )


def _rich_bybit(ex: FakeExchange, size: str) -> None:
    # Bybit's bid jumps to 50100, above Hyperliquid's 50001 ask (below Bybit's own 50200 ask)
    touch(ex)
    ex.call(lambda: ex.bybit.engine.seed_book("BTCUSDT", bids=[("50100", size)], asks=[]))


def test_taker_opens_on_the_gap_and_unwinds_when_it_closes(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch)
    seed_books(exchange)
    db_url = f"sqlite:///{tmp_path / 'spread.db'}"
    node = Node(node_yaml(tmp_path, exchange))
    try:
        strat = node.strategy
        assert exchange.received_orders == []  # no gap yet: nothing sent
        _rich_bybit(exchange, "0.3")
        eventually(
            lambda: any(p.phase == "OPEN" for p in strat.positions.values()),
            20,
            message=lambda: describe(strat),
        )
        (position,) = strat.positions.values()
        assert (position.long.instrument_id, position.short.instrument_id) == (HL_ID, BYBIT_ID)
        assert (position.long.signed, position.short.signed) == (CAP, -CAP)
        assert position.short.entry_price == Decimal(50100)
        assert position.long.entry_price == Decimal(50001)
        eventually(
            lambda: venue_qty(exchange, "hyperliquid") == CAP and venue_qty(exchange, "bybit") == -CAP, 10
        )
        group = strat.groups[position.group_id]
        assert group.status.value == "HEDGED"
        legs = [o for o in node.node.cache.orders() if o.client_order_id.value.endswith(("-A1", "-B2"))]
        assert {(o.order_type.name, o.time_in_force.name) for o in legs} == {("LIMIT", "IOC")}
        (row,) = rows(db_url)
        assert (row.status, row.long_venue, row.short_venue) == ("open", "HYPERLIQUID", "BYBIT")

        # another trader takes Bybit's rich bids and its offer comes back to 50000.1: both mids
        # are 50000, the gap closed, the pair is unwound
        touch(exchange)
        exchange.call(lambda: exchange.bybit.engine.external_trade("BTCUSDT", Side.SELL, "0.2", "50100"))
        exchange.call(lambda: exchange.bybit.engine.seed_book("BTCUSDT", bids=[], asks=[("50000.1", "2")]))
        eventually(
            lambda: not strat.positions,
            20,
            message=lambda: f"not unwound: {strat.positions} {strat.groups} refusing={strat.refusing}",
        )
        eventually(lambda: venue_qty(exchange, "hyperliquid") == 0 and venue_qty(exchange, "bybit") == 0, 10)
        (row,) = rows(db_url)
        assert (row.status, row.exit_reason) == ("closed", "SPREAD_CLOSED")
        assert row.closed_at is not None
        assert row.total_fees_paid > 0
        assert strat.refusing is None
    finally:
        node.stop()


def test_a_partial_fill_is_neutralised_at_once(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch)
    seed_books(exchange)
    node = Node(node_yaml(tmp_path, exchange, max_positions=1), arm=False)
    try:
        strat = node.strategy
        _rich_bybit(exchange, "0.3")
        eventually(
            lambda: (b := strat.book(BYBIT_ID)) is not None and b.bids[0] == (Decimal(50100), Decimal("0.3")),
            10,
        )
        assert strat.groups == {}  # not armed: nothing sent
        # the strategy's view freezes; another trader takes 0.26 of the 0.3 it sees
        exchange.call(lambda: setattr(exchange.faults, "silence_market_data", True))
        exchange.call(lambda: exchange.bybit.engine.external_trade("BTCUSDT", Side.SELL, "0.26", "50100"))
        node.arm()
        eventually(
            lambda: strat.positions and all(p.phase == "OPEN" for p in strat.positions.values()),
            20,
            message=lambda: f"no spread: {strat.groups} refusing={strat.refusing}",
        )
        (position,) = strat.positions.values()
        group = strat.groups[position.group_id]
        assert group.target_quantity == CAP
        # Bybit filled 0.04; the 0.06 bought beyond it on Hyperliquid was sold back at once
        assert [(f.side, f.quantity) for f in group.neutralisation_fills] == [("SELL", Decimal("0.06"))]
        assert (position.long.signed, position.short.signed) == (Decimal("0.04"), Decimal("-0.04"))
        eventually(
            lambda: (
                venue_qty(exchange, "hyperliquid") == Decimal("0.04")
                and venue_qty(exchange, "bybit") == Decimal("-0.04")
            ),
            10,
        )
        assert group.net_exposure == 0
        assert strat.refusing is None
    finally:
        node.stop()


def test_maker_fills_on_hyperliquid_are_hedged_on_bybit_with_time_to_hedge(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch)
    seed_books(exchange, hl=("49900", "50100"), bybit=("49999.9", "50000.1"))
    db_url = f"sqlite:///{tmp_path / 'spread.db'}"
    path = node_yaml(
        tmp_path,
        exchange,
        execution="MAKER",
        maker_quantity="0.01",
        max_inventory="0.05",
        exit_spread_bps="-1000",
    )
    node = Node(path)
    try:
        strat = node.strategy
        # Bybit's bid 49999.9 after its taker fee, the latency allowance, Hyperliquid's maker fee
        # and the 2 bp edge: a bid at 49949 on Hyperliquid's 1 USD tick
        bound = (
            Decimal("49999.9")
            * (1 - Decimal("0.00055") - Decimal("0.0001"))
            / (1 + Decimal("0.00015") + Decimal("0.0002"))
        )
        price = Decimal(int(bound))

        def resting_bid() -> Any:
            orders = exchange.call(lambda: exchange.hyperliquid.engine.open_orders(TEST_WALLET, "BTC"))
            return next((o for o in orders if o.side == Side.BUY), None)

        touch(exchange)
        eventually(lambda: resting_bid() is not None, 15, message=lambda: describe(strat))
        assert resting_bid().price == price
        # another trader sells into it: 0.004, then the remaining 0.006
        for n, qty in enumerate(("0.004", "0.006"), start=1):
            exchange.call(
                lambda q=qty: exchange.hyperliquid.engine.external_trade("BTC", Side.SELL, q, str(price))
            )
            eventually(
                lambda n=n: len(strat.hedges) == n and strat.hedges[-1].done and strat.unhedged == 0,
                15,
                message=lambda: f"not hedged: {strat.hedges} unhedged={strat.unhedged}",
            )
            gate = node.safety.gate  # type: ignore[union-attr]
            eventually(lambda g=gate: not any(g.oms.dirty_since(a) for a in list(g.oms.positions)), 10)
        assert [(h.side, h.quantity, h.filled) for h in strat.hedges] == [
            ("SELL", Decimal("0.004"), Decimal("0.004")),
            ("SELL", Decimal("0.006"), Decimal("0.006")),
        ]
        for hedge in strat.hedges:
            assert hedge.time_to_ack_ms is not None
            assert hedge.time_to_fill_ms is not None
            assert 0 < hedge.time_to_ack_ms <= hedge.time_to_fill_ms < 5_000
        stored = strat.repository.get_state("perp_spread", "hedge:2")
        assert stored["quantity"] == "0.006"
        assert stored["time_to_fill_ms"] == strat.hedges[1].time_to_fill_ms
        eventually(
            lambda: (
                venue_qty(exchange, "hyperliquid") == Decimal("0.01")
                and venue_qty(exchange, "bybit") == Decimal("-0.01")
            ),
            10,
        )
        (row,) = rows(db_url)
        assert (row.status, row.long_venue, row.short_venue) == ("open", "HYPERLIQUID", "BYBIT")
        (position,) = strat.positions.values()
        assert (position.long.signed, position.short.signed) == (Decimal("0.01"), Decimal("-0.01"))
        assert node.safety.gate.safe is None  # type: ignore[union-attr]
    finally:
        node.stop()


def test_dry_run_with_the_same_config_trades_the_gap_and_sends_nothing(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)
    seed_books(exchange)
    node = Node(node_yaml(tmp_path, exchange, mode="DRY_RUN"), arm=False)
    try:
        strat = node.strategy
        _rich_bybit(exchange, "0.3")
        eventually(
            lambda: any(p.phase == "OPEN" for p in strat.positions.values()),
            20,
            message=lambda: describe(strat),
        )
        (position,) = strat.positions.values()
        assert (position.long.instrument_id, position.short.instrument_id) == (HL_ID, BYBIT_ID)
        assert position.long.signed == CAP
        assert exchange.received_orders == []  # simulated fills: nothing left the process
    finally:
        node.stop()


def test_a_restart_rebuilds_the_open_pair_opens_nothing_and_unwinds_it_later(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch)
    seed_books(exchange)
    db_url = f"sqlite:///{tmp_path / 'spread.db'}"
    path = node_yaml(tmp_path, exchange, max_positions=1)
    node = Node(path)
    try:
        strat = node.strategy
        _rich_bybit(exchange, "0.3")
        eventually(
            lambda: any(p.phase == "OPEN" for p in strat.positions.values()),
            20,
            message=lambda: describe(strat),
        )
        (before,) = strat.positions.values()
        state = before.state()
        eventually(
            lambda: venue_qty(exchange, "hyperliquid") == CAP and venue_qty(exchange, "bybit") == -CAP, 10
        )
    finally:
        node.stop()
    sent = len(exchange.received_orders)

    again = Node(path)  # the gap is still open: only the store keeps it from opening a second pair
    try:
        strat = again.strategy
        (after,) = strat.positions.values()
        assert (after.id, after.state()) == (before.id, state)
        touch(exchange)
        eventually(lambda: strat.reconciled, 10)
        t0 = strat.clock.timestamp_ns()
        eventually(lambda: strat.clock.timestamp_ns() > t0 + 2_000_000_000, 10)
        assert strat.refusing is None
        assert len(exchange.received_orders) == sent
        assert list(strat.positions) == [before.id]
        # the gap closes: the restored pair is unwound, both venues flat
        touch(exchange)
        exchange.call(lambda: exchange.bybit.engine.external_trade("BTCUSDT", Side.SELL, "0.2", "50100"))
        exchange.call(lambda: exchange.bybit.engine.seed_book("BTCUSDT", bids=[], asks=[("50000.1", "2")]))
        eventually(lambda: not strat.positions, 20, message=lambda: describe(strat))
        eventually(lambda: venue_qty(exchange, "hyperliquid") == 0 and venue_qty(exchange, "bybit") == 0, 10)
        (row,) = rows(db_url)
        assert (row.status, row.exit_reason) == ("closed", "SPREAD_CLOSED")
    finally:
        again.stop()


def test_a_venue_position_changed_while_down_refuses_to_trade(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch)
    seed_books(exchange)
    path = node_yaml(tmp_path, exchange, max_positions=1)
    node = Node(path)
    try:
        strat = node.strategy
        _rich_bybit(exchange, "0.3")
        eventually(
            lambda: any(p.phase == "OPEN" for p in strat.positions.values()),
            20,
            message=lambda: describe(strat),
        )
        eventually(lambda: venue_qty(exchange, "bybit") == -CAP, 10)
    finally:
        node.stop()
    # someone buys back the Bybit short by hand while the node is down
    exchange.call(lambda: exchange.bybit.engine.submit("USER", "BTCUSDT", Side.BUY, "market", CAP))
    sent = len(exchange.received_orders)
    again = Node(path)
    try:
        strat = again.strategy
        touch(exchange)
        eventually(lambda: strat.refusing is not None, 15, message=lambda: describe(strat))
        assert BYBIT_ID in (strat.refusing or "")
        safety = again.safety
        assert safety is not None
        eventually(lambda: safety.gate.safe is not None, 5, message="no SAFE mode")
        assert len(exchange.received_orders) == sent
        assert strat.repository.get_state("perp_spread", "refusing") == strat.refusing
    finally:
        again.stop()
