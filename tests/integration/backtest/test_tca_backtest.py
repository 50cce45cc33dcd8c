"""TCA end to end: a real BacktestNode run, its stored fills, and the report's TCA section."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.service import run_and_report
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.orders import Order
from nautilus_ext.reports.backtest_report import TCA_AGGREGATE_COLUMNS
from nautilus_ext.reports.backtest_report import TCA_ORDER_COLUMNS
from nautilus_ext.reports.backtest_report import tca_display
from nautilus_ext.reports.tca import analyse
from nautilus_ext.reports.tca import inputs_from_rows
from nautilus_ext.storage import ClusterStore

from .conftest import START

BIN = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
BYB = "BYBIT:PERPETUAL:BTC-USDT@LIN"


def _order(op: str, key: str, side: str, amount: str, secs: int, **kw: object) -> Order:
    return Order(
        operation_id=op,
        operation="trade",
        instrument_key=key,
        venue=key.split(":")[0],
        side=side,
        amount=amount,
        created_at=START + timedelta(seconds=secs),
        **kw,  # type: ignore[arg-type]
    )


def _table_rows(section: str) -> list[list[str]]:
    body = section.split("<tbody>", 1)[1]
    return [
        [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body)
    ]


@pytest.mark.slow
def test_report_tca_equals_tca_from_the_stored_fills(small_catalog: Path, tmp_path: Path) -> None:
    orders = [
        # walks two ask levels; the strategy decided at 59990
        _order("walk", BIN, "BUY", "1.000", 30, metadata={"decision_price": "59990.0"}),
        # bids hold 2.1 only: a partial fill, the rest valued at the end mid
        _order("short", BYB, "SELL", "5.000", 60),
        # a passive bid that never fills: pure opportunity cost
        _order("passive", BIN, "BUY", "0.100", 400, price="59000.0"),
        _order("bad", BIN, "BUY", "0.100", 410, metadata={"decision_price": "-1"}),
    ]
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(o.to_json() + "\n" for o in orders), encoding="utf-8")
    spec = BacktestSpec.model_validate(
        {
            "run_id": "tca-run",
            "kind": "orders",
            "catalog": str(small_catalog),
            "start": START,
            "end": START + timedelta(minutes=10),
            "instruments": [BIN, BYB],
            "venues": [
                {"venue": "BINANCE-FUTURES", "starting_balances": ["1000000 USDT"]},
                {"venue": "BYBIT", "starting_balances": ["1000000 USDT"]},
            ],
            "orders": str(path),
            "output_dir": str(tmp_path / "out"),
            "results_root": str(tmp_path / "store"),
            "tca_bucket_secs": 300,
        }
    )
    outcome, report = run_and_report(spec)
    res = {r.operation_id: r for r in outcome.results}
    assert res["walk"].decision_price == Decimal("59990.0")
    assert res["walk"].quote_currency == "USDT"
    assert res["short"].status is ExecutionStatus.PARTIAL
    assert res["short"].decision_price == res["short"].arrival_mid
    assert res["short"].end_mid is not None
    assert res["passive"].status is ExecutionStatus.UNFILLED
    assert res["passive"].end_mid is not None
    assert res["bad"].status is ExecutionStatus.REJECTED
    assert "decision_price" in res["bad"].reason

    start = START.date()
    rows = ClusterStore(tmp_path / "store").read_results(start, start)
    stored = analyse(inputs_from_rows(rows), bucket_secs=300)
    text = report.read_text(encoding="utf-8")
    assert "<h2 id='tca'>Transaction-cost analysis</h2>" in text
    # the exact analysis embedded in the report is the one computed from the stored fills
    m = re.search(r"<script type='application/json' id='tca-data'>(.*?)</script>", text, re.S)
    assert m is not None
    assert json.loads(m.group(1)) == stored.to_dict()
    # and so are the tables a reader sees
    section = text.split("<h2 id='tca'>", 1)[1]
    agg_html = section.split("<div id='tca-aggregates'>", 1)[1].split("</div>", 1)[0]
    order_html = section.split("<div id='tca-orders'>", 1)[1].split("</div>", 1)[0]
    aggregates = [stored.total, *stored.by_venue, *stored.by_asset, *stored.by_bucket]

    def cells(row: dict[str, object], columns: list[str]) -> list[str]:
        shown = tca_display(row, outcome.instruments)  # rounded to each instrument, as the report shows
        return ["" if shown.get(c) is None else str(shown.get(c)) for c in columns]

    assert _table_rows(agg_html) == [cells(a.as_row(), TCA_AGGREGATE_COLUMNS) for a in aggregates]
    assert _table_rows(order_html) == [cells(o.as_row(), TCA_ORDER_COLUMNS) for o in stored.orders]

    by_op = {o.operation_id: o for o in stored.orders}
    walk = by_op["walk"]
    assert walk.slippage_bps is not None
    assert walk.slippage_bps > 0
    assert walk.estimated_cost_bps is not None
    assert walk.realised_cost_bps is not None
    # the buy paid above the 59990 decision price: shortfall exceeds the slippage versus arrival
    assert walk.shortfall_bps is not None
    assert walk.shortfall_bps > walk.realised_cost_bps
    short = by_op["short"]
    assert short.fill_ratio == Decimal("0.42")
    assert short.opportunity_bps is not None
    passive = by_op["passive"]
    assert passive.filled_quantity == 0
    assert passive.shortfall_bps == passive.opportunity_bps
    assert {b.key for b in stored.by_bucket} == {"2024-03-01T00:00:00Z", "2024-03-01T00:05:00Z"}
    assert {v.key for v in stored.by_venue} == {"BINANCE-FUTURES", "BYBIT"}
