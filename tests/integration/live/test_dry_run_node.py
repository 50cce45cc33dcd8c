"""DRY_RUN end to end: live data from the fake exchange, simulated fills, nothing sent."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Quantity
from typer.testing import CliRunner

from nautilus_ext.live.cli import app
from nautilus_ext.live.config import load_live_config
from nautilus_ext.live.node import build_trading_node
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.node_harness import NodeHarness
from tests.integration.adapters.ccxt.conftest import Recorder
from tests.integration.adapters.ccxt.conftest import RecorderConfig

pytestmark = pytest.mark.slow
IID = InstrumentId.from_str("BTCUSDT-LINEAR.BYBIT")


@pytest.fixture
def exchange() -> Iterator[FakeExchange]:
    ex = FakeExchange()
    ex.start_in_thread()
    ex.call(
        lambda: ex.bybit.engine.seed_book(
            "BTCUSDT", bids=[(Decimal("49999.9"), Decimal(1))], asks=[(Decimal("50000.1"), Decimal(1))]
        )
    )
    yield ex
    ex.stop_thread()


def _yaml(tmp_path: Path, ex: FakeExchange) -> Path:
    data = {
        "mode": "DRY_RUN",
        "trader_id": "DRYRUN-001",
        "log_level": "ERROR",
        "venues": [
            {
                "venue": "BYBIT",
                "adapter": "ccxt",
                "exchange_id": "bybit",
                "market_types": ["linear"],
                "rest_url_override": ex.base_url,
                "ws_url_override": ex.ws_url,
                "enable_rate_limit": False,
                "timeout_ms": 3000,
            }
        ],
        "dry_run": {"starting_balances": ["100000 USDT"], "default_leverage": "10"},
        "timeout_connection_secs": 20,
    }
    path = tmp_path / "dry.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_dry_run_fills_in_simulation_and_sends_nothing(tmp_path: Path, exchange: FakeExchange) -> None:
    config = load_live_config(_yaml(tmp_path, exchange))

    def factory(loop: asyncio.AbstractEventLoop) -> TradingNode:
        node = build_trading_node(config, loop)
        node.trader.add_strategy(Recorder(RecorderConfig(instrument_id=str(IID))))
        return node

    h = NodeHarness(factory)
    h.start()
    try:
        strat = h.strategy(Recorder)
        eventually(
            lambda: (
                h.node is not None
                and h.node.is_running()
                and h.node.cache.account_for_venue(IID.venue)
                and strat.is_running
                and strat.quotes
            ),
            20,
            message="dry-run node did not start",
        )

        def submit() -> object:
            order = strat.order_factory.market(IID, OrderSide.BUY, Quantity.from_str("0.500"))
            strat.submit_order(order)
            return order.client_order_id

        coid = h.call(submit)
        eventually(lambda: h.node.cache.order(coid).status is OrderStatus.FILLED, 10)
        order = h.node.cache.order(coid)
        assert order.avg_px == pytest.approx(50000.1)
        assert exchange.received_orders == []  # nothing reached the venue
        assert exchange.call(lambda: exchange.bybit.engine.fills) == []
    finally:
        h.stop()


def test_cli_check_builds_the_node(tmp_path: Path, exchange: FakeExchange) -> None:
    result = CliRunner().invoke(app, ["live", str(_yaml(tmp_path, exchange)), "--check"])
    assert result.exit_code == 0, result.output
    assert "mode=DRY_RUN" in result.output
    assert "configuration OK" in result.output
