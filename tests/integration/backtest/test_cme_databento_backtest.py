"""Golden backtest on real CME data: Databento GLBX.MDP3 ESU4 quotes and trades (L1)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.runner import run_backtest
from nautilus_ext.catalogs.build import build_catalog
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.results import FillModelKind
from nautilus_ext.orders import Order

KEY = "CME:FUTURE:SP500-USD-240920@LIN"


@pytest.mark.slow
def test_market_order_on_real_esu4_quotes_fills_at_the_touch(shared_data: Path, tmp_path: Path) -> None:
    from nautilus_trader.model.data import QuoteTick
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    src = shared_data / "nautilus_trader/tests/test_data/databento/historical_bars_catalog/databento"
    files = sorted(str(p) for p in src.glob("*.dbn.zst") if "ohlcv" not in p.name)
    catalog = tmp_path / "catalog"
    summary = build_catalog("databento", files, catalog, progress=False)
    assert summary.instruments["ESU4.GLBX"] == KEY

    when = datetime(2024, 7, 2, 0, 0, 30, tzinfo=UTC)
    buy = Order(
        operation_id="es-buy",
        operation="trade",
        instrument_key=KEY,
        venue="CME",
        side="BUY",
        amount="2",
        created_at=when,
        expected_deltas={KEY: "2"},
    )
    sell_limit = Order(
        operation_id="es-sell-far",
        operation="trade",
        instrument_key=KEY,
        venue="CME",
        side="SELL",
        amount="1",
        price="9000.00",
        created_at=when,
    )
    orders = tmp_path / "orders.jsonl"
    orders.write_text(buy.to_json() + "\n" + sell_limit.to_json() + "\n", encoding="utf-8")
    spec = BacktestSpec.model_validate(
        {
            "kind": "orders",
            "catalog": str(catalog),
            "start": "2024-07-01T23:58:00Z",
            "end": "2024-07-02T00:02:00Z",
            "instruments": [KEY],
            "data": ["quote_ticks", "trade_ticks"],
            "venues": [
                {"venue": "CME", "starting_balances": ["1000000 USD"], "book_type": "L1_MBP"},
            ],
            "orders": str(orders),
            "output_dir": str(tmp_path / "out"),
        }
    )
    outcome = run_backtest(spec)
    res = {r.operation_id: r for r in outcome.results}
    es = res["es-buy"]
    assert es.nautilus_instrument_id == "ESU4.GLBX"
    assert es.status is ExecutionStatus.FILLED
    assert es.fill_model is FillModelKind.L1_TOP_OF_BOOK

    # independently: the last quote at or before the decision time gives the ask we must pay
    quotes = ParquetDataCatalog(str(catalog)).query(QuoteTick, identifiers=["ESU4.GLBX"])
    decision_ns = int(when.timestamp() * 1_000_000_000)
    last = [q for q in quotes if q.ts_event <= decision_ns][-1]
    assert es.arrival_mid == (last.bid_price.as_decimal() + last.ask_price.as_decimal()) / 2
    assert es.avg_fill_price == last.ask_price.as_decimal()
    assert es.slippage_bps is not None
    assert es.slippage_bps > 0  # paying half the spread
    assert es.filled_quantity == Decimal("2")
    assert res["es-sell-far"].status is ExecutionStatus.UNFILLED
