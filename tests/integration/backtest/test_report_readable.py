"""The backtest report's tables show readable numbers; its PnL is one currency over time."""

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
from nautilus_ext.orders import Order

from .conftest import START

BIN = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
BYB = "BYBIT:PERPETUAL:BTC-USDT@LIN"


def _table(page: str, div_id: str) -> list[dict[str, str]]:
    block = page.split(f"<div id='{div_id}'>", 1)[1].split("</table>", 1)[0]
    rows = [re.findall(r"<t[hd]>(.*?)</t[hd]>", r, re.S) for r in re.findall(r"<tr>(.*?)</tr>", block, re.S)]
    head = [html.unescape(c) for c in rows[0]]
    return [dict(zip(head, [html.unescape(c) for c in r], strict=True)) for r in rows[1:]]


def _places(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def _significant(text: str) -> int:
    return len(text.replace(".", "").replace("-", "").lstrip("0"))


@pytest.mark.slow
def test_report_tables_round_to_the_instrument_and_pnl_is_marked_to_one_currency(
    small_catalog: Path, tmp_path: Path
) -> None:
    orders = [
        Order(
            operation_id=op,
            operation="trade",
            instrument_key=key,
            venue=key.split(":")[0],
            side=side,
            amount=amount,
            created_at=START + timedelta(seconds=secs),
        )
        for op, key, side, amount, secs in [
            ("walk", BIN, "BUY", "1.000", 20),  # several levels: an average price off the tick
            ("short", BYB, "BUY", "5.000", 35),  # more than the book holds: a partial fill ratio
            ("close", BIN, "SELL", "0.500", 50),
        ]
    ]
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(o.to_json() + "\n" for o in orders), encoding="utf-8")
    spec = BacktestSpec.model_validate(
        {
            "kind": "orders",
            "catalog": str(small_catalog),
            "start": START,
            "end": START + timedelta(minutes=2),
            "instruments": [BIN, BYB],
            "venues": [
                {"venue": "BINANCE-FUTURES", "starting_balances": ["1000000 USDT", "10 BTC"]},
                {"venue": "BYBIT", "starting_balances": ["1000000 USDT"]},
            ],
            "orders": str(path),
            "output_dir": str(tmp_path / "out"),
        }
    )
    outcome, report = run_and_report(spec)
    page = report.read_text(encoding="utf-8")
    visible = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    assert not re.search(r"<td>\s*(nan|NaN|<NA>|None)\s*</td>", visible)

    res = {r.operation_id: r for r in outcome.results}
    info = {r.operation_id: outcome.instruments[str(r.nautilus_instrument_id)] for r in outcome.results}
    assert res["short"].fill_ratio < 1
    orders_table = {row["operation_id"]: row for row in _table(page, "orders")}
    for op, row in orders_table.items():
        i = info[op]
        assert _places(row["avg_fill_price"]) == i.price_precision + 1, row
        assert _places(row["arrival_mid"]) == i.price_precision + 1, row
        assert _places(row["requested_quantity"]) == i.size_precision, row
        assert _places(row["filled_quantity"]) == i.size_precision, row
        assert _significant(row["fill_ratio"]) <= 4, row
        assert Decimal(row["avg_fill_price"]) == round(res[op].avg_fill_price or 0, i.price_precision + 1)
    for row in _table(page, "tca-aggregates"):
        assert _significant(row["fill_ratio"]) <= 4, row
    for row in _table(page, "tca-orders"):
        assert _places(row["avg_fill_price"]) <= 3, row
    positions = _table(page, "positions")
    assert positions
    assert all(_places(p["avg_px_open"]) <= 3 for p in positions)
    assert any(p["avg_px_close"] == "" for p in positions)  # an open position: empty, not nan

    pnl = json.loads(re.search(r"id='pnl-data'>(.*?)</script>", page, re.S).group(1))  # type: ignore[union-attr]
    assert pnl["currency"] == "USDT"
    assert pnl["unmarked"] == []  # the 10 BTC are marked at the BTC-USDT prices the run saw
    assert set(pnl["by_venue"]) == {"BINANCE", "BYBIT"}
    assert Decimal(pnl["total"][0]) == 0
    fees = sum((r.fees for r in outcome.results), Decimal(0))
    assert Decimal(pnl["total"][-1]) < 0  # crossing the spread and paying fees on a flat market
    assert abs(Decimal(pnl["total"][-1])) >= fees
    assert "balance (total)" not in page
