"""Transaction-cost analysis: hand-computed figures per order, aggregates, stored rows, report."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.execution.results import FillRecord
from nautilus_ext.execution.results import to_storage_rows
from nautilus_ext.reports import write_report
from nautilus_ext.reports.tca import TcaFill
from nautilus_ext.reports.tca import TcaInput
from nautilus_ext.reports.tca import Weighting
from nautilus_ext.reports.tca import analyse
from nautilus_ext.reports.tca import inputs_from_results
from nautilus_ext.reports.tca import inputs_from_rows
from nautilus_ext.reports.tca import order_tca
from nautilus_ext.storage import ClusterStore

D = Decimal
T0 = 1_709_251_200_000_000_000  # 2024-03-01T00:00:00Z
SEC = 1_000_000_000
BTC_BYBIT = "BYBIT:PERPETUAL:BTC-USDT@LIN"
BTC_BINANCE = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
ETH_BYBIT = "BYBIT:PERPETUAL:ETH-USDT@LIN"


def _fill(px: str, qty: str, fee: str, ccy: str = "USDT") -> TcaFill:
    return TcaFill(D(px), D(qty), D(fee), ccy)


def _input(op: str, side: str, requested: str, fills: tuple[TcaFill, ...], **kw: object) -> TcaInput:
    base: dict[str, object] = {
        "instrument_key": BTC_BYBIT,
        "venue": "BYBIT",
        "ts_decision_ns": T0 + 10 * SEC,
        "arrival_mid": D("100"),
        "quote_currency": "USDT",
    }
    base.update(kw)
    return TcaInput(operation_id=op, side=side, requested_quantity=D(requested), fills=fills, **base)  # type: ignore[arg-type]


# buy 2 at 100.5 and 101.5 (avg 101), arrival 100, decided at 101, fees 0.202 USDT, estimate 40 bps
BUY = _input(
    "buy",
    "BUY",
    "2",
    (_fill("100.5", "1", "0.101"), _fill("101.5", "1", "0.101")),
    decision_price=D("101"),
    estimated_cost_bps=D("40"),
    end_mid=D("102"),
)
# sell 4, only 2 fill at 99 and 98 (avg 98.5), arrival = decision = 100, ended at 96, estimate 50
SELL = _input(
    "sell",
    "SELL",
    "4",
    (_fill("99", "1", "0.0495"), _fill("98", "1", "0.049")),
    instrument_key=BTC_BINANCE,
    venue="BINANCE-FUTURES",
    ts_decision_ns=T0 + 1800 * SEC,
    estimated_cost_bps=D("50"),
    end_mid=D("96"),
)
# buy 1 ETH, nothing fills, the mid goes from 100 to 103 meanwhile
ZERO = _input(
    "zero", "BUY", "1", (), instrument_key=ETH_BYBIT, ts_decision_ns=T0 + 3660 * SEC, end_mid=D("103")
)


def test_full_buy_slippage_fees_and_shortfall_against_the_decision_price() -> None:
    t = order_tca(BUY)
    assert t.avg_fill_price == D("101")
    assert t.slippage_bps == D("100")  # (101 - 100) / 100
    assert t.fee_bps == D("10")  # 0.202 / 202
    assert t.realised_cost_bps == D("110")
    assert t.cost_error_bps == D("70")  # 110 - 40
    assert t.execution_bps == D("0")  # filled at the decision price on average
    assert t.opportunity_bps == D("0")  # all filled
    assert t.shortfall_bps == D("10")  # the fees: 0.202 / (2 * 101)
    assert t.fees_in_shortfall is True
    assert t.fill_ratio == D("1")


def test_partial_sell_includes_the_opportunity_cost_of_the_unfilled_half() -> None:
    t = order_tca(SELL)
    assert t.avg_fill_price == D("98.5")
    assert t.slippage_bps == D("150")  # sold 1.5 below the 100 mid
    assert t.fee_bps == D("5")  # 0.0985 / 197
    assert t.realised_cost_bps == D("155")
    assert t.cost_error_bps == D("105")
    assert t.decision_price == D("100")  # no decision price given: the arrival mid
    assert t.execution_bps == D("75")  # -(197 - 2 * 100) / 400
    assert t.opportunity_bps == D("200")  # -(2 * (96 - 100)) / 400: the unsold 2 lost 4 each
    assert t.shortfall_bps == D("277.4625")  # + 0.0985 / 400
    assert t.fill_ratio == D("0.5")


def test_zero_fill_is_pure_opportunity_cost_and_needs_the_end_mid() -> None:
    t = order_tca(ZERO)
    assert t.filled_quantity == 0
    assert t.avg_fill_price is None
    assert t.slippage_bps is None
    assert t.fee_bps is None
    assert t.realised_cost_bps is None
    assert t.execution_bps == D("0")
    assert t.opportunity_bps == D("300")  # 1 * (103 - 100) / 100
    assert t.shortfall_bps == D("300")
    unknown_end = _input("z2", "BUY", "1", ())
    assert order_tca(unknown_end).shortfall_bps is None  # never a guessed valuation
    # an unfilled sell costs when the price falls after the decision, and gains when it rises
    assert order_tca(_input("z3", "SELL", "1", (), end_mid=D("97"))).shortfall_bps == D("300")
    assert order_tca(_input("z4", "SELL", "1", (), end_mid=D("103"))).shortfall_bps == D("-300")


def test_fees_in_another_currency_stay_out_of_bps_and_are_flagged() -> None:
    t = order_tca(_input("bnb", "BUY", "1", (_fill("101", "1", "0.001", "BNB"),)))
    assert t.slippage_bps == D("100")
    assert t.fee_bps is None
    assert t.realised_cost_bps is None
    assert t.shortfall_bps == D("100")
    assert t.fees_in_shortfall is False


def test_betting_sides_follow_nautilus_lay_buys_back_sells() -> None:
    lay = order_tca(_input("lay", "LAY", "1", (_fill("2.02", "1", "0"),), arrival_mid=D("2")))
    back = order_tca(_input("back", "BACK", "1", (_fill("2.02", "1", "0"),), arrival_mid=D("2")))
    assert lay.slippage_bps == D("100")  # laid at higher odds: worse
    assert back.slippage_bps == D("-100")  # backed at higher odds: better


def test_aggregates_are_quantity_weighted_by_venue_asset_and_bucket() -> None:
    report = analyse([ZERO, SELL, BUY], bucket_secs=3600)
    assert [o.operation_id for o in report.orders] == ["buy", "sell", "zero"]
    total = report.total
    assert (total.orders, total.filled_orders) == (3, 2)
    assert total.requested_quantity == D("7")
    assert total.filled_quantity == D("4")
    assert total.slippage_bps == D("125")  # (100 * 2 + 150 * 2) / 4
    assert total.fee_bps == D("7.5")
    assert total.estimated_cost_bps == D("45")
    assert total.realised_cost_bps == D("132.5")
    assert total.shortfall_bps == (D("10") * 2 + D("277.4625") * 4 + D("300") * 1) / 7
    venues = {a.key: a for a in report.by_venue}
    assert sorted(venues) == ["BINANCE-FUTURES", "BYBIT"]
    assert venues["BYBIT"].slippage_bps == D("100")  # the zero fill adds no realised figure
    assert venues["BYBIT"].shortfall_bps == (D("10") * 2 + D("300")) / 3
    assets = {a.key: a for a in report.by_asset}
    assert assets[ETH_BYBIT].shortfall_bps == D("300")
    assert assets[ETH_BYBIT].fill_ratio == 0
    buckets = {a.key: a for a in report.by_bucket}
    assert sorted(buckets) == ["2024-03-01T00:00:00Z", "2024-03-01T01:00:00Z"]
    assert buckets["2024-03-01T00:00:00Z"].shortfall_bps == (D("10") * 2 + D("277.4625") * 4) / 6
    assert buckets["2024-03-01T01:00:00Z"].orders == 1
    # 30-minute buckets split the buy and the sell
    assert len(analyse([ZERO, SELL, BUY], bucket_secs=1800).by_bucket) == 3


def test_notional_weighting_weights_by_the_reference_price() -> None:
    report = analyse([ZERO, SELL, BUY], weighting=Weighting.NOTIONAL)
    # shortfall weights Q * D: 2 * 101, 4 * 100, 1 * 100
    assert report.total.shortfall_bps == (D("10") * 202 + D("277.4625") * 400 + D("300") * 100) / 702
    assert report.total.slippage_bps == D("125")  # both arrivals are 100


def test_bad_inputs_raise_typed_errors() -> None:
    with pytest.raises(InvalidConfig, match="bucket_secs"):
        analyse([BUY], bucket_secs=0)
    with pytest.raises(InvalidOrder, match="requested_quantity"):
        _input("x", "BUY", "0", ())
    with pytest.raises(InvalidOrder, match="side"):
        _input("x", "HOLD", "1", ())
    with pytest.raises(InvalidOrder, match="positive price and quantity"):
        _input("x", "BUY", "1", (_fill("100", "-1", "0"),))
    with pytest.raises(InvalidOrder, match="arrival_mid"):
        _input("x", "BUY", "1", (), arrival_mid=D("0"))


def _result(inp: TcaInput) -> ExecutionResult:
    r = ExecutionResult(
        operation_id=inp.operation_id,
        instrument_key=inp.instrument_key,
        side=inp.side,
        requested_quantity=inp.requested_quantity,
        ts_decision_ns=inp.ts_decision_ns,
        venue=inp.venue,
        arrival_mid=inp.arrival_mid,
        decision_price=inp.decision_price or inp.arrival_mid,
        estimated_cost_bps=inp.estimated_cost_bps,
        end_mid=inp.end_mid,
        quote_currency=inp.quote_currency,
    )
    for n, f in enumerate(inp.fills):
        r.fills.append(
            FillRecord(
                inp.ts_decision_ns + (n + 1) * SEC, f.price, f.quantity, f.fee, "USDT", f"t{n}", "TAKER"
            )
        )
    r.finalise()
    return r


def test_stored_rows_give_the_same_analysis_as_the_results(tmp_path: Path) -> None:
    results = [_result(i) for i in (BUY, SELL, ZERO)]
    store = ClusterStore(tmp_path)
    store.write_results([row for r in results for row in to_storage_rows(r, "run-1")], part="run-1")
    rows = store.read_results(date(2024, 3, 1), date(2024, 3, 1))
    from_rows = analyse(inputs_from_rows(rows))
    assert from_rows == analyse(inputs_from_results(results))
    assert from_rows.total.shortfall_bps == (D("10") * 2 + D("277.4625") * 4 + D("300") * 1) / 7


def test_rows_written_before_tca_context_still_read() -> None:
    # a FILLED order's rows as stored before the order context was added: fills only
    old = to_storage_rows(_result(BUY), "old")
    legacy = [r.model_copy(update={"metadata": {"trade_id": "t"}}) for r in old]
    (inp,) = inputs_from_rows(legacy)
    assert inp.requested_quantity == D("2")  # no terminal row: it filled completely
    assert inp.arrival_mid is None
    t = order_tca(inp)
    assert t.avg_fill_price == D("101")
    assert t.slippage_bps is None
    assert t.shortfall_bps is None


def test_report_has_the_tca_section_with_the_exact_analysis(tmp_path: Path) -> None:
    results = [_result(i) for i in (BUY, SELL, ZERO)]
    out = write_report(tmp_path / "r.html", title="t", results=results, tca_bucket_secs=1800)
    text = out.read_text(encoding="utf-8")
    assert "<h2 id='tca'>Transaction-cost analysis</h2>" in text
    m = re.search(r"<script type='application/json' id='tca-data'>(.*?)</script>", text, re.S)
    assert m is not None
    data = json.loads(m.group(1))
    assert data == analyse(inputs_from_results(results), bucket_secs=1800).to_dict()
    assert data["total"]["shortfall_bps"].startswith("204.26428571428")
    assert "<td>277.4625</td>" in text  # the sell's shortfall in the per-order table
