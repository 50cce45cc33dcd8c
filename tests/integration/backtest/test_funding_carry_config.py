"""
The shipped funding-carry backtest (``configs/backtests/funding_carry.yaml``) end to end on the
generated demo data, as ``nautilus-ext carry demo`` runs it: the strategy enters on the
divergence, is funded at 00:00 and 08:00, exits on MAX_HOLD; the carry report's numbers agree
with the settlement module's ledger (funding) and NautilusTrader's own realised PnL (trading PnL
less fees), and the HTML holds the four figures.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.backtest.carry_demo import CARRY_CONFIG
from nautilus_ext.backtest.carry_demo import run_carry_demo
from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.instruments.registry import default_config_dir
from nautilus_ext.persistence import Database
from nautilus_ext.persistence.records import PositionRecords
from nautilus_ext.reports.pnl import realised_trading_pnl

pytestmark = pytest.mark.slow


def test_shipped_carry_backtest_runs_and_reports(tmp_path: Path) -> None:
    shipped = BacktestSpec.from_yaml(default_config_dir() / CARRY_CONFIG)
    assert shipped.store is not None
    assert {"funding_rates", "mark_prices"} <= set(shipped.data)
    # the shipped YAML, with its catalog and outputs moved into the test's folder
    raw = shipped.model_dump(mode="json")
    raw.update(catalog=str(tmp_path / "catalog"), output_dir=str(tmp_path / "out"))
    config = tmp_path / "funding_carry.yaml"
    import yaml

    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    outcome, report = run_carry_demo(config)
    assert report.is_file()
    assert outcome.carry_report == tmp_path / "out" / "funding-carry-carry.html"

    spec = BacktestSpec.from_yaml(config)
    database = Database.open(spec.store_url())
    try:
        history = PositionRecords(database).history(["funding_carry"])
    finally:
        database.close()
    (position,) = history.positions
    assert (position.status, position.exit_reason) == ("closed", "MAX_HOLD")
    assert [f.intent for f in history.fills] == ["ENTRY", "ENTRY", "EXIT", "EXIT"]
    assert {p.payment_time.hour for p in history.funding} == {0, 8}

    # funding: each stored payment is the settlement the simulated venue booked (rounded to USDT)
    ledger = defaultdict(list)
    for p in outcome.funding_payments:
        ledger[p.ts_ns].append(p.amount)
    stored = defaultdict(list)
    for p in history.funding:
        ns = int(p.payment_time.timestamp()) * 1_000_000_000
        stored[ns].append(p.payment_amount.quantize(Decimal("1e-8"), rounding=ROUND_HALF_EVEN))
    assert {k: sorted(v) for k, v in stored.items()} == {k: sorted(v) for k, v in ledger.items()}

    text = outcome.carry_report.read_text(encoding="utf-8")
    data = json.loads(re.search(r"id='carry-data'>(.*?)</script>", text).group(1))  # type: ignore[union-attr]
    (row,) = data["positions"]
    (total,) = data["summary"]
    funding_total = sum((p.amount for p in outcome.funding_payments), Decimal(0))
    assert abs(Decimal(total["funding"]) - funding_total) <= Decimal("1e-8") * len(outcome.funding_payments)
    # trading PnL from the fills, less fees, is what NautilusTrader realised on the two positions
    realised = realised_trading_pnl(outcome.positions_report)["USDT"]
    assert Decimal(total["trading"]) - Decimal(total["fees"]) == realised
    cash = sum((f.quantity * f.price * (1 if f.side == "SELL" else -1) for f in history.fills), Decimal(0))
    assert Decimal(row["trading"]) == cash
    assert Decimal(row["fees"]) == sum((f.fee for f in history.fills), Decimal(0))
    assert Decimal(row["net"]) == Decimal(row["funding"]) + Decimal(row["trading"]) - Decimal(row["fees"])
    for title in ("Carry attribution", "Divergence", "Leg imbalance", "Margin ratio per venue"):
        assert title in text
    assert len(history.marks) > 100
    assert {m.venue for m in history.margins} == {"BINANCE-FUTURES", "BYBIT"}
