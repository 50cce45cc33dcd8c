"""Execution results report the position deltas the fills made, per venue that filled."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.runner import run_backtest
from nautilus_ext.execution.results import to_storage_rows
from nautilus_ext.orders import Order
from tests.integration.backtest.conftest import START
from tests.integration.backtest.conftest import write_catalog

BOOKS = {
    "BINANCE-SPOT:SPOT_PAIR:BTC-USDT": ("60000.00", "0.50", "0.50", ["1.00000", "1.00000", "1.00000"]),
    "BYBIT:SPOT_PAIR:BTC-USDT": ("59990.00", "0.50", "0.50", ["1.000000", "1.000000", "1.000000"]),
}


def test_a_spot_pair_filled_on_bybit_reports_bybit_deltas_from_its_fills(tmp_path: Path) -> None:
    # the strategy expects Binance-spot deltas at its own USDT estimate; the cheaper book is
    # Bybit's, so the order fills there at 59990.50: the result must say what really happened
    catalog = tmp_path / "spot"
    write_catalog(catalog, minutes=1, books=BOOKS)
    order = Order(
        operation_id="sor",
        operation="trade",
        instrument_key="BINANCE-SPOT:SPOT_PAIR:BTC-USDT",
        side="BUY",
        amount="0.5",
        created_at=START + timedelta(seconds=10),
        expected_deltas={
            "BINANCE-SPOT:SPOT_ASSET:BTC": "0.5",
            "BINANCE-SPOT:SPOT_ASSET:USDT": "-30000",
        },
    )
    orders = tmp_path / "orders.jsonl"
    orders.write_text(json.dumps(json.loads(order.to_json())) + "\n", encoding="utf-8")
    spec = BacktestSpec.model_validate(
        {
            "kind": "orders",
            "catalog": str(catalog),
            "start": START,
            "end": START + timedelta(minutes=1),
            "instruments": list(BOOKS),
            "venues": [
                {"venue": "BINANCE-SPOT", "starting_balances": ["1000000 USDT", "10 BTC"]},
                {"venue": "BYBIT", "starting_balances": ["1000000 USDT", "10 BTC"]},
            ],
            "orders": str(orders),
            "output_dir": str(tmp_path / "out"),
        }
    )
    (result,) = run_backtest(spec).results
    assert result.venue == "BYBIT"
    assert result.avg_fill_price == Decimal("59990.50")
    fee = result.fees
    assert fee > 0
    fee_ccy = result.fee_currency
    paid = Decimal("59990.50") * Decimal("0.5")
    expected = {"BYBIT:SPOT_ASSET:BTC": Decimal("0.5"), "BYBIT:SPOT_ASSET:USDT": -paid}
    expected[f"BYBIT:SPOT_ASSET:{fee_ccy}"] -= fee
    assert result.actual_deltas == expected
    # the strategy's estimate stays on record, apart from what happened
    assert result.expected_deltas == {
        "BINANCE-SPOT:SPOT_ASSET:BTC": Decimal("0.5"),
        "BINANCE-SPOT:SPOT_ASSET:USDT": Decimal("-30000"),
    }
    # stored rows carry the same true deltas
    stored: dict[str, Decimal] = {}
    for row in to_storage_rows(result, "run"):
        for key, delta in (row.position_deltas or {}).items():
            stored[key] = stored.get(key, Decimal(0)) + delta
    assert stored == expected


def test_an_order_split_across_venues_reports_deltas_on_each_venue_that_filled(
    run_multi_venue: Any, market: Any
) -> None:
    # SOR_CEFI fills 0.6 on Binance and 0.3 on Bybit: each venue's assets move by its own fills
    from nautilus_ext.execution_algos.sor import SORExecAlgorithm

    binance, bybit = "BINANCE-SPOT:SPOT_PAIR:BTC-USDT", "BYBIT:SPOT_PAIR:BTC-USDT"
    books = {
        binance: market(seconds=60, half_spread="0.5", level_step="0.5", level_sizes=("0.300", "0.300")),
        bybit: market(
            seconds=60, mid="60001.0", half_spread="0.5", level_step="0.5", level_sizes=("0.500", "0.500")
        ),
    }
    order = {
        "operation_id": "split",
        "operation": "trade",
        "instrument_key": binance,
        "side": "BUY",
        "amount": "0.900",
        "smart_execution_enabled": True,
        "expected_deltas": {"BINANCE-SPOT:SPOT_ASSET:BTC": "0.9"},
    }
    run = run_multi_venue([order], books, [SORExecAlgorithm()])
    result = run.result("split")
    assert result.filled_quantity == Decimal("0.900")
    expected: dict[str, Decimal] = {}
    for fill in result.fills:
        venue = "BINANCE-SPOT" if fill.instrument_id == "BTCUSDT.BINANCE" else "BYBIT"
        assert fill.venue == venue
        for asset, delta in (("BTC", fill.quantity), ("USDT", -fill.quantity * fill.price)):
            key = f"{venue}:SPOT_ASSET:{asset}"
            expected[key] = expected.get(key, Decimal(0)) + delta
        fee_key = f"{venue}:SPOT_ASSET:{fill.fee_currency}"
        expected[fee_key] = expected.get(fee_key, Decimal(0)) - fill.fee
    assert result.actual_deltas == expected
    btc = {k: v for k, v in result.actual_deltas.items() if k.endswith(":BTC")}
    fees_in_btc = sum((f.fee for f in result.fills if f.fee_currency == "BTC"), Decimal(0))
    assert sum(btc.values(), Decimal(0)) == Decimal("0.900") - fees_in_btc
    assert btc["BYBIT:SPOT_ASSET:BTC"] > 0  # the part the strategy's estimate put on Binance
