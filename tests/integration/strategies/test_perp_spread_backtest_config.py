"""
The shipped perp/perp backtest configs (configs/backtests/perp_spread*.yaml) through the backtest
runner and the CLI, the way the README runs them, over a small catalog of two venues' books:
Bybit trades 100 USD above Binance USD-M for two minutes, then both books meet.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.cli import app
from nautilus_ext.persistence import Database
from nautilus_ext.persistence.models import StrategyPosition
from nautilus_ext.strategies.perp_spread import PerpSpreadConfig
from nautilus_ext.strategies.perp_spread import PerpSpreadStrategy
from tests.integration.execution_algos.conftest import SECOND
from tests.integration.execution_algos.conftest import START_NS
from tests.integration.execution_algos.conftest import Market
from tests.integration.execution_algos.conftest import build_data

REPO = Path(__file__).resolve().parents[3]
KEYS = ("BYBIT:PERPETUAL:BTC-USDT@LIN", "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN")
SECONDS = 240


def _write_catalog(path: Path) -> None:
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    from nautilus_ext.adapters.symbology import build_instrument
    from nautilus_ext.instruments.registry import InstrumentRegistry

    registry = InstrumentRegistry.default()
    catalog = ParquetDataCatalog(str(path))
    bybit, binance = (build_instrument(registry.get(k), registry) for k in KEYS)
    catalog.write_data([bybit, binance])
    sizes = ("1.000", "2.000")
    rich = [
        d
        for d in build_data(bybit, Market(seconds=SECONDS, mid="60100.0", level_sizes=sizes))
        if d.ts_init < START_NS + 120 * SECOND
    ]
    flat = [
        d
        for d in build_data(bybit, Market(seconds=SECONDS, mid="60000.0", level_sizes=sizes))
        if d.ts_init >= START_NS + 120 * SECOND
    ]
    for data in (rich + flat, build_data(binance, Market(seconds=SECONDS, mid="60000.0", level_sizes=sizes))):
        # the books are cleared only when their prices change (0 s, and Bybit's at 120 s): an
        # order in flight across a clear would meet an empty book in the simulated venue
        kept = [
            d
            for d in data
            if type(d).__name__ == "OrderBookDelta"
            and (d.action.name != "CLEAR" or d.ts_init in (START_NS, START_NS + 120 * SECOND))
        ]
        catalog.write_data(kept)
        catalog.write_data([d for d in data if type(d).__name__ == "TradeTick"])


@pytest.fixture(scope="module")
def gap_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gap_catalog")
    _write_catalog(path)
    return path


def _yaml(tmp_path: Path, catalog: Path, name: str) -> tuple[Path, str]:
    raw: dict[str, Any] = yaml.safe_load((REPO / "configs" / "backtests" / name).read_text())
    db_url = f"sqlite:///{tmp_path / 'spread.db'}"
    raw.update(
        catalog=str(catalog),
        output_dir=str(tmp_path / "reports"),
        start="2024-03-01T00:00:00Z",
        end="2024-03-01T00:04:00Z",
    )
    raw["strategy"]["config"]["db_url"] = db_url
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path, db_url


def _rows(db_url: str) -> list[StrategyPosition]:
    database = Database.open(db_url)
    try:
        with database.session() as session:
            rows = list(session.execute(select(StrategyPosition)).scalars())
            session.expunge_all()
        return rows
    finally:
        database.close()


@pytest.mark.parametrize("name", ["perp_spread.yaml", "perp_spread_taker.yaml"])
def test_the_shipped_backtest_configs_validate_and_build_the_strategy(name: str, tmp_path: Path) -> None:
    spec = BacktestSpec.from_yaml(REPO / "configs" / "backtests" / name)
    assert spec.strategy is not None
    assert spec.instruments == list(KEYS)
    config = PerpSpreadConfig(
        instrument_ids=("BTCUSDT-LINEAR.BYBIT", "BTCUSDT-PERP.BINANCE"), **spec.strategy.config
    )
    strategy = PerpSpreadStrategy(config)
    assert strategy.config.execution == ("MAKER" if name == "perp_spread.yaml" else "TAKER")


@pytest.mark.slow
def test_the_taker_backtest_from_the_cli_trades_the_gap_and_unwinds(
    gap_catalog: Path, tmp_path: Path
) -> None:
    path, db_url = _yaml(tmp_path, gap_catalog, "perp_spread_taker.yaml")
    result = CliRunner().invoke(app, ["backtest", str(path)])
    assert result.exit_code == 0, result.output
    assert "denied" in result.output
    report = Path(result.output.strip().splitlines()[-1].removeprefix("report: "))
    assert report.is_file()
    rows = _rows(db_url)
    # three positions of 0.166 BTC (the 10000 USD cap at 60000.5, on the 0.001 lot): the
    # max_positions and max_total_usd caps stop the fourth; all unwound when the books met
    assert len(rows) == 3, [(r.status, r.exit_reason, r.size_usd) for r in rows]
    for row in rows:
        assert (row.long_venue, row.short_venue) == ("BINANCE-FUTURES", "BYBIT")  # long the cheap book
        assert (row.status, row.exit_reason) == ("closed", "SPREAD_CLOSED")
        assert row.size_usd == Decimal("0.166") * Decimal("60000.5")
        assert row.closed_at is not None
        assert row.opened_at.timestamp() * 1e9 < START_NS + 120 * SECOND
        assert row.closed_at.timestamp() * 1e9 >= START_NS + 120 * SECOND  # after the books met
        assert row.total_fees_paid > 0
