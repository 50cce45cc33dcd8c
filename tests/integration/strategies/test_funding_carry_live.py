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
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from nautilus_ext.live.config import load_live_config
from nautilus_ext.persistence import Database
from nautilus_ext.persistence.models import FundingPayment
from nautilus_ext.persistence.models import StrategyPosition
from nautilus_ext.safety.cli import send
from nautilus_ext.strategies.funding_carry import FundingCarryStrategy
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange import Side
from nautilus_ext_testkit.node_harness import start_live_node

pytestmark = pytest.mark.slow
TOKEN = "c" * 40
REPO = Path(__file__).resolve().parents[3]
BYBIT_ID, BINANCE_ID = "BTCUSDT-LINEAR.BYBIT", "BTCUSDT-PERP.BINANCE"
STRATEGY_ID = "FundingCarryStrategy-001"
MARK = Decimal(50_000)
RICH, CHEAP = Decimal("0.0003"), Decimal("0.00001")  # per 8 h: short Bybit, long Binance
QTY = Decimal("0.100")  # 5000 USDT cap / 50000


@pytest.fixture
def exchange() -> Iterator[FakeExchange]:
    ex = FakeExchange()
    ex.start_in_thread()

    def seed() -> None:
        for venue, rate in (("bybit", RICH), ("binance", CHEAP)):
            engine = getattr(ex, venue).engine
            engine.funding.configure(
                "BTCUSDT", rate=rate, interval_hours=8, mark_price=MARK, index_price=MARK
            )
            engine.seed_book(
                "BTCUSDT", bids=[(Decimal("49999.9"), Decimal(2))], asks=[(Decimal("50000.1"), Decimal(2))]
            )

    ex.call(seed)
    yield ex
    ex.stop_thread()


def _yaml(tmp_path: Path, ex: FakeExchange, db_url: str) -> Path:
    venue: dict[str, Any] = {
        "adapter": "ccxt",
        "market_types": ["linear"],
        "rest_url_override": ex.base_url,
        "ws_url_override": ex.ws_url,
        "enable_rate_limit": False,
        "timeout_ms": 3000,
        "fill_poll_interval_ms": 300,
        "position_poll_interval_ms": 300,
    }
    data: dict[str, Any] = {
        "mode": "LIVE",
        "allow_live_orders": True,
        "trader_id": "CARRY-001",
        "log_level": "ERROR",
        "venues": [
            {**venue, "venue": "BYBIT", "exchange_id": "bybit", "instrument_ids": [BYBIT_ID]},
            {**venue, "venue": "BINANCE", "exchange_id": "binanceusdm", "instrument_ids": [BINANCE_ID]},
        ],
        "strategies": [
            {
                "strategy_path": "nautilus_ext.strategies.funding_carry:FundingCarryStrategy",
                "config_path": "nautilus_ext.strategies.funding_carry:FundingCarryConfig",
                "config": {
                    "order_id_tag": "001",
                    "instrument_ids": [BYBIT_ID, BINANCE_ID],
                    "book_data": True,
                    "trade_data": False,
                    "db_url": db_url,
                    "interval_secs": 1,
                    "min_net_apr": "0.05",
                    "max_position_usd": "5000",
                    "max_slippage_bps": "10",
                    "stop_loss": "0.05",
                    "quote_usd_prices": {"USDT": "1"},
                },
            }
        ],
        # the shipped carry limits, with their auto-confirm policy `carry`
        "safety": {"config_path": str(REPO / "configs" / "safety" / "funding_carry.yaml"), "control_port": 0},
        "audit": {"root": str(tmp_path / "audit"), "fsync": False},
        "timeout_connection_secs": 20,
    }
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


class Node:
    """One LIVE node of the test: started, healthy, armed with the carry policy."""

    def __init__(self, path: Path, auto_confirm: tuple[str, ...] = ("carry",)) -> None:
        config = load_live_config(path)
        self.h, live_node = start_live_node(config)
        safety = live_node.safety
        assert safety is not None
        assert safety.control is not None
        self.safety = safety
        node = self.h.node
        assert node is not None
        self.strategy: FundingCarryStrategy = self.h.strategy(FundingCarryStrategy)  # type: ignore[assignment]
        eventually(
            lambda: (
                node.is_running()
                and all(node.cache.order_book(i) is not None for i in node.cache.instrument_ids())
                and len(self.strategy.samples) == 2
            ),
            30,
            message="live node did not start",
        )
        eventually(lambda: not safety.gate.oms.feed_problems(), 10, message="feeds never healthy")
        _, armed = send(
            safety.control.url,
            TOKEN,
            {"command": "arm", "ttl_secs": 300, "actor": "alice", "auto_confirm": list(auto_confirm)},
        )
        assert armed["ok"], armed

    def stop(self) -> None:
        self.h.stop()


def _touch_books(ex: FakeExchange, size: str) -> None:
    # the fakes' books are quiet unless changed, and the gate refuses orders on data older than
    # market_data_max_age_ms: a real venue's books move all the time, these are moved by hand
    def seed() -> None:
        for venue in ("bybit", "binance"):
            getattr(ex, venue).engine.seed_book(
                "BTCUSDT",
                bids=[(Decimal("49999.9"), Decimal(size))],
                asks=[(Decimal("50000.1"), Decimal(size))],
            )

    ex.call(seed)


def _venue_qty(ex: FakeExchange, venue: str) -> Decimal:
    engine = getattr(ex, venue).engine
    return ex.call(lambda: engine.position("USER", "BTCUSDT").qty)  # type: ignore[no-any-return]


def _rows(db_url: str) -> tuple[list[StrategyPosition], list[FundingPayment]]:
    database = Database.open(db_url)
    try:
        with database.session() as session:
            positions = list(session.execute(select(StrategyPosition)).scalars())
            payments = list(session.execute(select(FundingPayment).order_by(FundingPayment.venue)).scalars())
            session.expunge_all()
        return positions, payments
    finally:
        database.close()


def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BYBIT", "BINANCEUSDM"):
        monkeypatch.setenv(f"NAUTILUS_EXT_{name}_API_KEY", "fake-key")
        monkeypatch.setenv(f"NAUTILUS_EXT_{name}_API_SECRET", "fake-secret")
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)


def _open_carry(node: Node, ex: FakeExchange) -> Any:
    strat = node.strategy
    eventually(
        lambda: any(p.phase == "OPEN" for p in strat.positions.values()),
        30,
        message=lambda: f"no carry position opened: {strat.groups} {strat.last_scan} {strat.samples}",
    )
    (position,) = strat.positions.values()
    assert position.long.instrument_id == BINANCE_ID
    assert position.short.instrument_id == BYBIT_ID
    assert (position.long.signed, position.short.signed) == (QTY, -QTY)
    eventually(lambda: _venue_qty(ex, "binance") == QTY and _venue_qty(ex, "bybit") == -QTY, 10)
    return position


def test_carry_opens_collects_funding_and_exits_on_a_flip(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    node = Node(_yaml(tmp_path, exchange, db_url))
    try:
        strat = node.strategy
        position = _open_carry(node, exchange)
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
        eventually(lambda: len(_rows(db_url)[1]) == 2, 15, message="funding payments never recorded")
        _, payments = _rows(db_url)
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
        _touch_books(exchange, "3")
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
        eventually(lambda: _venue_qty(exchange, "binance") == 0 and _venue_qty(exchange, "bybit") == 0, 10)
        positions, _ = _rows(db_url)
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
    _env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    node = Node(_yaml(tmp_path, exchange, db_url))
    try:
        strat = node.strategy
        eventually(lambda: bool(strat.groups) and not strat.positions, 30, message=str(strat.groups))
        (group,) = strat.groups.values()
        assert group.status.value == "NEUTRALISED", group
        # the Bybit short filled and was bought back by the algorithm
        assert [f.side for f in group.neutralisation_fills] == ["BUY"]
        assert strat.results[group.legs[0]].status.value == "REJECTED"
        eventually(lambda: _venue_qty(exchange, "bybit") == 0, 10)
        assert _venue_qty(exchange, "binance") == 0
        assert abs(group.net_exposure) == 0
        (row,) = _rows(db_url)[0]
        assert row.status == "closed"
        assert row.exit_reason == f"ENTRY_{group.status.value}"
        # the pair waits entry_retry_secs before another try: one group only
        assert len(strat.groups) == 1
    finally:
        node.stop()


def test_a_restart_rebuilds_the_open_carry_and_opens_nothing(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    path = _yaml(tmp_path, exchange, db_url)
    node = Node(path)
    try:
        before = _open_carry(node, exchange)
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
        assert (_venue_qty(exchange, "binance"), _venue_qty(exchange, "bybit")) == (QTY, -QTY)
    finally:
        again.stop()


def test_a_venue_position_changed_while_down_refuses_to_trade(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    path = _yaml(tmp_path, exchange, db_url)
    node = Node(path)
    try:
        _open_carry(node, exchange)
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
    _env(monkeypatch)
    db_url = f"sqlite:///{tmp_path / 'carry.db'}"
    node = Node(_yaml(tmp_path, exchange, db_url), auto_confirm=())
    try:
        strat = node.strategy
        eventually(lambda: strat.last_scan is not None and strat.last_scan.opportunities, 10)
        t0 = strat.clock.timestamp_ns()
        eventually(lambda: strat.clock.timestamp_ns() > t0 + 2_500_000_000, 10)
        assert strat.groups == {}
        assert strat.positions == {}
        assert exchange.received_orders == []
        assert _rows(db_url) == ([], [])
    finally:
        node.stop()
