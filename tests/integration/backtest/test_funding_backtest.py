"""A funding-aware backtest through the runner: a perp held over three 8 h funding periods."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.funding import read_catalog_funding_events
from nautilus_ext.backtest.service import run_and_report
from nautilus_ext.catalogs.build import build_catalog
from nautilus_ext.catalogs.synthetic import DEFAULT_START
from nautilus_ext.catalogs.synthetic import SyntheticVenue
from nautilus_ext.catalogs.synthetic import write_synthetic_tardis
from nautilus_ext.orders import Order

PERP = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
IID = "BTCUSDT-PERP.BINANCE"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("funding-bt")
    venue = SyntheticVenue("binance-futures", "BTCUSDT", funding_interval_hours=8, funding_bps=1.0)
    files = write_synthetic_tardis(
        root / "raw", venues=(venue,), hours=25, book_updates_per_sec=0.02, trades_per_sec=0.01, levels=5
    )
    build_catalog("tardis", list(files["binance-futures_BTCUSDT"].values()), root / "catalog")
    return root


def _spec(root: Path, side: str, settle: bool = True) -> BacktestSpec:
    orders = root / f"orders-{side}.jsonl"
    order = Order(
        operation_id=f"hold-{side.lower()}",
        operation="trade",
        instrument_key=PERP,
        venue="BINANCE-FUTURES",
        side=side,
        amount="0.500",
        created_at=DEFAULT_START + timedelta(minutes=30),
        strategy_id="hold",
    )
    orders.write_text(order.to_json() + "\n", encoding="utf-8")
    return BacktestSpec(
        run_id=f"hold-{side.lower()}-{settle}",
        kind="orders",
        catalog=str(root / "catalog"),
        start=DEFAULT_START,
        end=DEFAULT_START + timedelta(hours=25),
        instruments=[PERP],
        venues=[{"venue": "BINANCE-FUTURES", "starting_balances": ["1000000 USDT", "10 BTC"]}],
        orders=str(orders),
        output_dir=str(root / "out"),
        settle_funding=settle,
    )


@pytest.mark.slow
@pytest.mark.parametrize(("side", "sign"), [("BUY", 1), ("SELL", -1)])
def test_held_perp_pays_three_fundings(catalog: Path, side: str, sign: int) -> None:
    spec = _spec(catalog, side)
    start_ns = int(spec.start.timestamp()) * 10**9
    events, _ = read_catalog_funding_events(
        str(catalog / "catalog"), [IID], start_ns, start_ns + 25 * 3600 * 10**9
    )
    hours = [(e.ts_ns - start_ns) // (3600 * 10**9) for e in events]
    assert hours == [8, 16, 24]
    outcome, report = run_and_report(spec)
    assert outcome.results[0].fill_ratio == 1
    size = sign * Decimal("0.500")
    # explicit rounding: ccxt sets the thread's decimal context to ROUND_HALF_UP when it formats
    # a number, so an earlier test in the same process would change a context-rounded expectation
    expected = [
        (-(size * e.mark * e.rate)).quantize(Decimal("0.00000001"), rounding=ROUND_HALF_EVEN) for e in events
    ]
    assert [p.amount for p in outcome.funding_payments] == expected
    assert [p.ts_ns for p in outcome.funding_payments] == [e.ts_ns for e in events]
    assert all(p.currency == "USDT" and p.size == size for p in outcome.funding_payments)
    html = report.read_text(encoding="utf-8")
    assert "Funding payments (3)" in html
    total = sum(expected, Decimal(0))
    assert f"<td>{total}</td>" in html  # the funding PnL cell of the breakdown
    for amount in expected:
        assert f"{amount} USDT" in html


@pytest.mark.slow
def test_settle_funding_off(catalog: Path) -> None:
    outcome, report = run_and_report(_spec(catalog, "BUY", settle=False))
    assert outcome.funding_payments == []
    assert "Funding payments (0)" in report.read_text(encoding="utf-8")
