"""
Helpers of the funding carry's LIVE tests: two fake venues (Bybit and Binance USD-M through the
ccxt adapter), a node YAML, a started and armed node, venue and store views.
"""

from __future__ import annotations

import json
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
from nautilus_ext_testkit.node_harness import start_live_node

TOKEN = "c" * 40
REPO = Path(__file__).resolve().parents[2]
BYBIT_ID, BINANCE_ID = "BTCUSDT-LINEAR.BYBIT", "BTCUSDT-PERP.BINANCE"
STRATEGY_ID = "FundingCarryStrategy-001"
MARK = Decimal(50_000)
RICH, CHEAP = Decimal("0.0003"), Decimal("0.00001")  # per 8 h: short Bybit, long Binance
QTY = Decimal("0.100")  # 5000 USDT cap / 50000


def fake_venues() -> Iterator[FakeExchange]:
    """Start the fakes with Bybit's funding rich and Binance's cheap, books seeded (a fixture body)."""
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


def node_yaml(
    tmp_path: Path,
    ex: FakeExchange,
    db_url: str,
    venue_overrides: dict[str, Any] | None = None,
    **overrides: Any,
) -> Path:
    """Write the LIVE node YAML (``overrides``: carry config fields) and return its path."""
    venue: dict[str, Any] = {
        "adapter": "ccxt",
        "market_types": ["linear"],
        "rest_url_override": ex.base_url,
        "ws_url_override": ex.ws_url,
        "enable_rate_limit": False,
        "timeout_ms": 3000,
        "fill_poll_interval_ms": 300,
        "position_poll_interval_ms": 300,
        **(venue_overrides or {}),
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
                    **overrides,
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

    def __init__(self, path: Path, auto_confirm: tuple[str, ...] = ("carry",), *, arm: bool = True) -> None:
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
        if arm:
            self.arm(auto_confirm)

    def arm(self, auto_confirm: tuple[str, ...] = ("carry",)) -> None:
        """Arm LIVE execution with the carry's auto-confirm policy (as an operator would)."""
        assert self.safety.control is not None
        _, armed = send(
            self.safety.control.url,
            TOKEN,
            {"command": "arm", "ttl_secs": 300, "actor": "alice", "auto_confirm": list(auto_confirm)},
        )
        assert armed["ok"], armed

    def stop(self) -> None:
        self.h.stop()


def audit_events(tmp_path: Path) -> list[dict[str, Any]]:
    """Return every audit event written so far (the JSONL segments under ``tmp_path/audit``)."""
    events: list[dict[str, Any]] = []
    for path in sorted((tmp_path / "audit").rglob("*.jsonl")):
        events += [json.loads(line)["event"] for line in path.read_text().splitlines() if line.strip()]
    return events


def touch_books(ex: FakeExchange, size: str) -> None:
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


def venue_qty(ex: FakeExchange, venue: str) -> Decimal:
    engine = getattr(ex, venue).engine
    return ex.call(lambda: engine.position("USER", "BTCUSDT").qty)  # type: ignore[no-any-return]


def store_rows(db_url: str) -> tuple[list[StrategyPosition], list[FundingPayment]]:
    database = Database.open(db_url)
    try:
        with database.session() as session:
            positions = list(session.execute(select(StrategyPosition)).scalars())
            payments = list(session.execute(select(FundingPayment).order_by(FundingPayment.venue)).scalars())
            session.expunge_all()
        return positions, payments
    finally:
        database.close()


def set_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BYBIT", "BINANCEUSDM"):
        monkeypatch.setenv(f"NAUTILUS_EXT_{name}_API_KEY", "fake-key")
        monkeypatch.setenv(f"NAUTILUS_EXT_{name}_API_SECRET", "fake-secret")
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)


def open_carry(node: Node, ex: FakeExchange) -> Any:
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
    eventually(lambda: venue_qty(ex, "binance") == QTY and venue_qty(ex, "bybit") == -QTY, 10)
    return position
