"""Orders-driven backtests through a real BacktestNode over a real Parquet catalog."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.runner import run_backtest
from nautilus_ext.backtest.service import run_and_report
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.results import FillModelKind
from nautilus_ext.orders import Order
from nautilus_ext.storage import ClusterStore

from .conftest import BOOKS
from .conftest import START

BIN = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
BYB = "BYBIT:PERPETUAL:BTC-USDT@LIN"


def _order(op: str, key: str, side: str, amount: str, secs: int, price: str | None = None) -> Order:
    return Order(
        operation_id=op,
        operation="trade",
        instrument_key=key,
        venue=key.split(":")[0],
        side=side,
        amount=amount,
        price=price,
        created_at=START + timedelta(seconds=secs),
        expected_deltas={f"{key.split(':')[0]}:SPOT_ASSET:BTC": amount if side == "BUY" else f"-{amount}"},
    )


def _spec(catalog: Path, orders: str, tmp_path: Path, **kw: object) -> BacktestSpec:
    venues = kw.pop(
        "venues",
        [
            {"venue": "BINANCE-FUTURES", "starting_balances": ["1000000 USDT"]},
            {"venue": "BYBIT", "starting_balances": ["1000000 USDT"]},
        ],
    )
    return BacktestSpec.model_validate(
        {
            "kind": "orders",
            "catalog": str(catalog),
            "start": START,
            "end": START + timedelta(minutes=10),
            "instruments": [BIN, BYB],
            "venues": venues,
            "orders": orders,
            "output_dir": str(tmp_path / "out"),
            **kw,
        }
    )


def _write(tmp_path: Path, orders: list[Order]) -> str:
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(o.to_json() + "\n" for o in orders), encoding="utf-8")
    return str(path)


@pytest.mark.slow
def test_market_orders_walk_the_book_and_partial_fill_when_depth_is_short(
    small_catalog: Path, tmp_path: Path
) -> None:
    orders = [
        _order("walk", BIN, "BUY", "1.000", 30),  # touch holds 0.5+wiggle: must take a second level
        _order("short", BYB, "SELL", "5.000", 60),  # bids hold 0.3+0.6+1.2 = 2.1 only
    ]
    outcome = run_backtest(_spec(small_catalog, _write(tmp_path, orders), tmp_path))
    res = {r.operation_id: r for r in outcome.results}

    walk = res["walk"]
    assert walk.status is ExecutionStatus.FILLED
    assert walk.filled_quantity == Decimal("1.000")
    prices = sorted({f.price for f in walk.fills})
    assert len(prices) == 2, "a 1.0 buy must fill on two ask levels"
    assert prices[0] == Decimal("60000.5")
    assert prices[1] == Decimal("60001.0")
    assert walk.arrival_mid == Decimal("60000.0")
    assert walk.slippage_bps is not None
    assert walk.slippage_bps > 0
    assert walk.fill_model is FillModelKind.L2_BOOK_WALK
    # taker fee 5 bps on the notional, to the cent
    notional = sum(f.price * f.quantity for f in walk.fills)
    assert walk.fees == pytest.approx(notional * Decimal("0.0005"), abs=Decimal("0.0001"))

    short = res["short"]
    assert short.status is ExecutionStatus.PARTIAL
    assert short.filled_quantity == Decimal("2.100")
    assert short.fill_ratio == Decimal("0.42")
    assert "remainder cancelled" in short.reason
    assert [f.price for f in short.fills] == [Decimal("60000.5"), Decimal("59999.5"), Decimal("59998.5")]


@pytest.mark.slow
def test_limits_rejections_latency_and_results_storage(small_catalog: Path, tmp_path: Path) -> None:
    orders = [
        _order("passive", BIN, "BUY", "0.100", 30, price="59000.0"),  # never reached
        _order("through", BIN, "BUY", "0.100", 40, price="60001.0"),  # marketable
        _order("lot", BIN, "BUY", "0.0005", 50),  # below the 0.001 lot size
        _order("tick", BIN, "BUY", "0.100", 50, price="60000.55"),  # off the 0.1 tick grid
        _order("late", BIN, "BUY", "0.100", 3600),  # after the end of data
    ]
    spec = _spec(
        small_catalog,
        _write(tmp_path, orders),
        tmp_path,
        venues=[
            {"venue": "BINANCE-FUTURES", "starting_balances": ["1000000 USDT"], "latency": {"base_ms": 200}},
            {"venue": "BYBIT", "starting_balances": ["1000000 USDT"]},
        ],
        results_root=str(tmp_path / "store"),
    )
    outcome, report = run_and_report(spec)
    res = {r.operation_id: r for r in outcome.results}
    assert res["passive"].status is ExecutionStatus.UNFILLED
    assert "end of data" in res["passive"].reason
    assert res["through"].status is ExecutionStatus.FILLED
    assert res["through"].avg_fill_price == Decimal("60000.5")
    # 200 ms latency: the book updates once a second, so the fill lands at the next update
    assert res["through"].fills[0].ts_ns - res["through"].ts_decision_ns >= 200_000_000
    assert res["lot"].status is ExecutionStatus.REJECTED
    assert res["lot"].reason.startswith("INVALID_ORDER")
    assert res["tick"].status is ExecutionStatus.REJECTED
    assert "tick grid" in res["tick"].reason
    assert res["late"].status is ExecutionStatus.REJECTED
    assert "after the end of the data" in res["late"].reason

    html = report.read_text(encoding="utf-8")
    assert "plotly" in html.lower()
    for op in ("passive", "through", "lot", "tick", "late"):
        assert op in html
    rows = ClusterStore(tmp_path / "store").read_results(START.date(), START.date())
    fills = [r for r in rows if r.kind == "FILL"]
    assert {r.operation_id for r in fills} == {"through"}
    # the deltas the fill made (the perpetual, and its fee in USDT), not the order's estimate
    assert res["through"].fee_currency == "USDT"
    assert fills[0].position_deltas == {
        "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN": Decimal("0.100"),
        "BINANCE-FUTURES:SPOT_ASSET:USDT": -res["through"].fees,
    }
    assert {r.operation_id for r in rows if r.kind == "REJECTED"} == {"lot", "tick", "late"}


@pytest.mark.slow
def test_a_spot_pair_is_routed_to_the_cheaper_venue(tmp_path: Path) -> None:
    # Binance and Bybit spot books where Bybit's asks are cheaper: a BUY goes to Bybit
    from .conftest import write_catalog

    books = {
        "BINANCE-SPOT:SPOT_PAIR:BTC-USDT": ("60000.00", "0.50", "0.50", ["1.00000", "1.00000", "1.00000"]),
        "BYBIT:SPOT_PAIR:BTC-USDT": ("59990.00", "0.50", "0.50", ["1.000000", "1.000000", "1.000000"]),
    }
    catalog = tmp_path / "spot"
    write_catalog(catalog, minutes=2, books=books)
    order = Order(
        operation_id="sor",
        operation="trade",
        instrument_key="BINANCE-SPOT:SPOT_PAIR:BTC-USDT",
        side="BUY",
        amount="0.5",
        created_at=START + timedelta(seconds=10),
    )
    spec = BacktestSpec.model_validate(
        {
            "kind": "orders",
            "catalog": str(catalog),
            "start": START,
            "end": START + timedelta(minutes=2),
            "instruments": list(books),
            "venues": [
                {"venue": "BINANCE-SPOT", "starting_balances": ["1000000 USDT", "10 BTC"]},
                {"venue": "BYBIT", "starting_balances": ["1000000 USDT", "10 BTC"]},
            ],
            "orders": _write(tmp_path, [order]),
            "output_dir": str(tmp_path / "out"),
        }
    )
    (result,) = run_backtest(spec).results
    assert result.venue == "BYBIT"
    assert result.algorithm_used == "BEST_VENUE"
    assert result.avg_fill_price == Decimal("59990.50")
    assert BOOKS  # the default two-perp books stay untouched by this test


@pytest.mark.slow
def test_max_slippage_bounds_a_market_order_and_reports_the_rest(small_catalog: Path, tmp_path: Path) -> None:
    guarded = Order(
        operation_id="guarded",
        operation="trade",
        instrument_key=BIN,
        venue="BINANCE-FUTURES",
        side="BUY",
        amount="3.000",
        max_slippage="0.00001",  # 0.1 bp of 60000 = 0.6: only the 60000.5 level is inside
        created_at=START + timedelta(seconds=30),
    )
    outcome = run_backtest(_spec(small_catalog, _write(tmp_path, [guarded]), tmp_path))
    (r,) = outcome.results
    assert r.order_type == "MARKET_PROTECTED"
    assert r.limit_price == Decimal("60000.6")
    assert r.status is ExecutionStatus.PARTIAL
    assert {f.price for f in r.fills} == {Decimal("60000.5")}
    assert r.slippage_bps is not None
    assert r.slippage_bps <= Decimal("0.1")


def test_protective_limit_rounds_inside_the_bound() -> None:
    from nautilus_ext.execution.order_builder import protective_limit

    assert protective_limit(Decimal("100"), Decimal("0.001"), Decimal("0.03"), buy=True) == Decimal("100.08")
    assert protective_limit(Decimal("100"), Decimal("0.001"), Decimal("0.03"), buy=False) == Decimal("99.90")
    assert protective_limit(Decimal("100"), Decimal("0.001"), Decimal("0.07"), buy=False) == Decimal("99.96")
