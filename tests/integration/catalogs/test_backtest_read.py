"""``BacktestNode`` reads the day-chunked catalog built from synthetic Tardis data."""

from __future__ import annotations

from pathlib import Path

import pytest

from nautilus_ext.catalogs.synthetic import build_demo_catalog


@pytest.mark.slow
def test_backtest_node_streams_every_row(tmp_path: Path) -> None:
    from nautilus_trader.backtest.node import BacktestNode
    from nautilus_trader.config import BacktestDataConfig
    from nautilus_trader.config import BacktestEngineConfig
    from nautilus_trader.config import BacktestRunConfig
    from nautilus_trader.config import BacktestVenueConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.data import OrderBookDelta
    from nautilus_trader.model.data import TradeTick
    from nautilus_trader.model.identifiers import InstrumentId

    summary = build_demo_catalog(
        tmp_path / "cat", tmp_path / "work", hours=0.1, levels=5, book_updates_per_sec=1.0
    )
    ids = sorted(summary.instruments)
    data = [
        BacktestDataConfig(
            catalog_path=str(tmp_path / "cat"), data_cls=cls, instrument_id=InstrumentId.from_str(iid)
        )
        for iid in ids
        for cls in (OrderBookDelta, TradeTick)
    ]
    venues = [
        BacktestVenueConfig(
            name=venue,
            oms_type="NETTING",
            account_type="MARGIN",
            starting_balances=["1000000 USDT"],
            book_type="L2_MBP",
        )
        for venue in ("BINANCE", "BYBIT")
    ]
    config = BacktestRunConfig(
        engine=BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR")),
        venues=venues,
        data=data,
    )
    node = BacktestNode(configs=[config])
    try:
        results = node.run()
        # the perps' derivative_ticker rows are custom data the node is not asked to stream here
        ticker_rows = summary.rows.pop("custom_tardis_derivative_ticker")
        assert ticker_rows > 0
        assert results[0].iterations == summary.total_rows
        engine = node.get_engine(config.id)
        assert engine is not None
        assert sorted(i.id.value for i in engine.cache.instruments()) == ids
    finally:
        node.dispose()
