"""
The covered call through the normal backtest path (``run_backtest``, the safety gate judging
every order): on the real Databento CME sample (ESM4 + ESM4 options, calls derived from the real
puts by parity) and on the seeded synthetic Deribit chain with the data's Greeks.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.backtest.config import BacktestSafetySection
from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.covered_call_data import build_cme_catalog
from nautilus_ext.backtest.covered_call_data import build_deribit_catalog
from nautilus_ext.backtest.runner import BacktestOutcome
from nautilus_ext.backtest.runner import run_backtest
from nautilus_ext.errors import read_yaml_file
from nautilus_ext.instruments.enums import OptionKind
from nautilus_ext.instruments.registry import default_config_dir
from nautilus_ext.tradfi import black76

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
C5230 = "CME:OPTION:SP500-USD-240621-5230-CALL@LIN"
C5250 = "CME:OPTION:SP500-USD-240621-5250-CALL@LIN"
D = Decimal


def _run(
    name: str, catalog: Path, out: Path, safety: BacktestSafetySection | None = None, **overrides: Any
) -> tuple[BacktestOutcome, dict[str, Any]]:
    spec = BacktestSpec.from_yaml(REPO / "configs" / "backtests" / f"covered_call_{name}.yaml")
    assert spec.strategy is not None
    report = out / "report.json"
    config = {**spec.strategy.config, "report_path": str(report), **overrides}
    if "options_chain_csv" in config:
        config["options_chain_csv"] = str(catalog / "options_chain.csv")
    update: dict[str, Any] = {
        "catalog": str(catalog),
        "output_dir": str(out),
        "strategy": spec.strategy.model_copy(update={"config": config}),
    }
    if safety is not None:
        update["safety"] = safety
    outcome = run_backtest(spec.model_copy(update=update))
    return outcome, json.loads(report.read_text())


@pytest.fixture(scope="module")
def cme_catalog(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = shared_data / "nautilus_trader/tests/test_data/databento/options_catalog/databento"
    built = build_cme_catalog(src, tmp_path_factory.mktemp("cme") / "catalog")
    assert built.derived == [
        "ESM4 C5230.GLBX: 10 quotes by put-call parity from ESM4 P5230.GLBX",
        "ESM4 C5250.GLBX: 10 quotes by put-call parity from ESM4 P5250.GLBX",
    ]
    return built.path


def _first_quote(catalog: Path, iid: str) -> Any:
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    return ParquetDataCatalog(str(catalog)).quote_ticks(instrument_ids=[iid])[0]


def test_derived_calls_satisfy_parity_with_the_real_quotes(cme_catalog: Path) -> None:
    put, fut = _first_quote(cme_catalog, "ESM4 P5230.GLBX"), _first_quote(cme_catalog, "ESM4.GLBX")
    call = _first_quote(cme_catalog, "ESM4 C5230.GLBX")
    assert call.ts_event == put.ts_event == fut.ts_event
    # 9 May 2024 09:55 UTC: P5230 97.50/98.25, ESM4 5199.00/5199.25 (the vendor's records)
    assert (put.bid_price.as_decimal(), put.ask_price.as_decimal()) == (D("97.50"), D("98.25"))
    assert call.bid_price.as_decimal() == D("97.50") + D("5199.00") - 5230
    assert call.ask_price.as_decimal() == D("98.25") + D("5199.25") - 5230


def test_cme_covered_call_on_real_databento_data(cme_catalog: Path, tmp_path: Path) -> None:
    outcome, report = _run("cme", cme_catalog, tmp_path)
    results = {r.operation_id: r for r in outcome.results}
    enter, sell = results["cc-enter-underlying"], results["cc-sell-1"]
    assert (enter.instrument_key, str(enter.status), enter.filled_quantity) == (
        "CME:FUTURE:SP500-USD-240621@LIN",
        "FILLED",
        1,
    )
    assert enter.avg_fill_price == D("5199.25")  # bought at ESM4's real 09:55 ask
    # a unified trade order on the call's canonical OPTION key, sold after the future filled
    assert (sell.instrument_key, sell.side, str(sell.status)) == (C5230, "SELL", "FILLED")
    assert sell.ts_decision_ns >= enter.fills[0].ts_ns  # the call is written once the future is held
    assert set(results) == {"cc-enter-underlying", "cc-sell-1"}  # one short call, held
    assert outcome.gate is not None
    assert outcome.gate.allowed >= 2
    assert not outcome.gate.denials
    (pos,) = report["positions"]
    assert (pos["key"], pos["outcome"], pos["greeks_source"]) == (C5230, "OPEN", "black76")
    # the Greeks: Black-76 at the IV solved from the call's mid and ESM4's mid at the sale
    call, fut = _first_quote(cme_catalog, "ESM4 C5230.GLBX"), _first_quote(cme_catalog, "ESM4.GLBX")
    fwd = float((fut.bid_price.as_decimal() + fut.ask_price.as_decimal()) / 2)
    mid = float((call.bid_price.as_decimal() + call.ask_price.as_decimal()) / 2)
    years = black76.years_between(call.ts_init, 1718976600 * 10**9)  # 21 Jun 2024 13:30 UTC
    iv = black76.implied_vol(OptionKind.CALL, mid, fwd, 5230, years)
    assert pos["iv_at_sale"] == pytest.approx(iv, rel=1e-9)
    assert pos["delta_at_sale"] == pytest.approx(black76.greeks(OptionKind.CALL, fwd, 5230, years, iv).delta)
    assert 0.05 < iv < 0.3
    assert 0.3 < pos["delta_at_sale"] < 0.5
    assert D(pos["premium"]) == D(pos["sell_price"]) * 50 == sell.avg_fill_price * 50  # type: ignore[operator]
    assert D(pos["total_pnl_usd"]) == D(pos["option_pnl_usd"]) + D(pos["underlying_pnl_usd"])
    totals = report["totals"]
    assert totals["calls_sold"] == 1
    assert D(totals["premium_collected_usd"]) == D(pos["premium"])
    assert report["errors"] == []


def test_calls_the_gate_refuses_are_not_sold_and_not_retried_forever(
    cme_catalog: Path, tmp_path: Path
) -> None:
    raw = read_yaml_file(default_config_dir() / "safety" / "backtest_default.yaml")
    raw.pop("mode", None)
    raw["risk"]["max_position_by_asset"] = {C5230: "0.5", C5250: "0.5"}
    outcome, report = _run("cme", cme_catalog, tmp_path, BacktestSafetySection(config=raw))
    results = {r.operation_id: r for r in outcome.results}
    assert str(results["cc-enter-underlying"].status) == "FILLED"  # the future is held
    sells = [r for op, r in results.items() if op.startswith("cc-sell")]
    assert len(sells) == 3  # MAX_SELL_ATTEMPTS, then no more offers
    assert all(str(r.status) == "REJECTED" and "RISK_BLOCKED" in r.reason for r in sells)
    assert [p["outcome"] for p in report["positions"]] == ["NOT_SOLD"] * 3
    assert report["totals"]["calls_sold"] == 0
    assert outcome.gate is not None
    assert {rule for _, rule in outcome.gate.denials} == {"max_position"}


@pytest.fixture(scope="module")
def deribit_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_deribit_catalog(tmp_path_factory.mktemp("deribit") / "catalog").path


def _csv_delta(catalog: Path, symbol: str, ts_ns: int) -> float:
    import csv

    with (catalog / "options_chain.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            if row["symbol"] == symbol and int(row["timestamp"]) * 1000 == ts_ns:
                return float(row["delta"])
    raise AssertionError(f"no Greeks row for {symbol} at {ts_ns}")


def test_deribit_covered_call_expires_rolls_when_deep_itm_and_reports(
    deribit_catalog: Path, tmp_path: Path
) -> None:
    outcome, report = _run("deribit", deribit_catalog, tmp_path)
    positions = report["positions"]
    assert [(p["key"], p["outcome"]) for p in positions] == [
        ("DERIBIT:OPTION:BTC-USD-200612-10000-CALL@INV", "EXPIRED"),
        ("DERIBIT:OPTION:BTC-USD-200619-10000-CALL@INV", "BOUGHT_BACK_ITM"),
        ("DERIBIT:OPTION:BTC-USD-200626-11000-CALL@INV", "BOUGHT_BACK_ITM"),
    ]
    for p in positions:
        # the data's delta (the options_chain rows), not a computed one
        assert p["greeks_source"] == "data"
        assert p["delta_at_sale"] == _csv_delta(
            deribit_catalog, p["instrument_id"].split(".")[0], p["sold_at_ns"]
        )
        assert abs(p["delta_at_sale"] - 0.25) < 0.15
        assert D(p["total_pnl_usd"]) == D(p["option_pnl_usd"]) + D(p["underlying_pnl_usd"])
    expired, itm = positions[0], positions[1]
    assert D(expired["close_price"]) == 0
    assert D(expired["option_pnl"]) == D(expired["premium"])
    assert D(expired["underlying_mid_at_close"]) < 10000  # out of the money at expiry
    assert itm["notes"][0].startswith("delta 0.7")
    assert "itm_delta 0.7" in itm["notes"][0]
    results = {r.operation_id: r for r in outcome.results}
    buy_back = results["cc-sell-2-close"]
    assert (buy_back.side, str(buy_back.status)) == ("BUY", "FILLED")
    assert D(itm["close_price"]) == buy_back.avg_fill_price
    assert D(itm["option_pnl"]) == (D(itm["sell_price"]) - buy_back.avg_fill_price) * 1  # type: ignore[operator]
    # the Deribit premium is in BTC, valued in USD at the underlying's mid at the sale
    assert D(itm["premium_usd"]) == D(itm["premium"]) * D(itm["underlying_mid_at_sale"])
    assert report["totals"]["calls_sold"] == 3
    # the holding's own P&L: 980 x 10 USD of inverse perpetual from its fill to the last mid
    entry, last = D(report["underlying_entry_price"]), D(report["underlying_last_mid"])
    expected = 980 * 10 * (1 / entry - 1 / last) * last
    assert D(report["totals"]["underlying_pnl_usd_since_entry"]) == pytest.approx(expected, abs=D("1e-6"))
    assert outcome.gate is not None
    assert not outcome.gate.denials


def test_deribit_call_held_to_expiry_in_the_money_is_assigned(deribit_catalog: Path, tmp_path: Path) -> None:
    # itm_delta None: never bought back; the same path leaves two calls in the money at expiry
    _, report = _run("deribit", deribit_catalog, tmp_path, itm_delta=None)
    assert [p["outcome"] for p in report["positions"]] == ["EXPIRED", "ASSIGNED", "ASSIGNED"]
    assigned = [p for p in report["positions"] if p["outcome"] == "ASSIGNED"]
    for p in assigned:
        mid, strike = D(p["underlying_mid_at_close"]), D(p["strike"])
        assert mid > strike
        # settled at intrinsic value, in BTC per option for an inverse option
        assert D(p["close_price"]) == pytest.approx((mid - strike) / mid, abs=D("1e-8"))
        assert D(p["option_pnl"]) == D(p["sell_price"]) - D(p["close_price"])


def test_deribit_call_rolled_a_day_before_expiry(deribit_catalog: Path, tmp_path: Path) -> None:
    outcome, report = _run(
        "deribit", deribit_catalog, tmp_path, itm_delta=None, roll_before_expiry_secs=86_400
    )
    positions = report["positions"]
    assert [p["outcome"] for p in positions] == ["EXPIRED", "ROLLED_BEFORE_EXPIRY", "EXPIRED"]
    rolled = positions[1]
    expiry_ns = int(datetime.fromisoformat(rolled["expiry"]).timestamp()) * 10**9
    # bought back within the last day before expiry (the first hourly quote inside it)
    assert expiry_ns - 86_400 * 10**9 <= rolled["closed_at_ns"] < expiry_ns
    assert positions[2]["expiry"] > rolled["expiry"]  # the next week's call replaced it
    # the gate refused the other buy-backs (no fresh quote for a far out-of-the-money call; the
    # spread of a cheap one beyond the slippage limit): three attempts each, then held to expiry
    for p, why in ((positions[0], "MARKET_DATA_STALE"), (positions[2], "RISK_BLOCKED")):
        refused = [n for n in p["notes"] if n.startswith("buy-back")]
        assert len(refused) == 3
        assert all(why in n for n in refused)
        assert p["buy_back_attempts"] == 3
        assert "held to expiry after 3 refused buy-backs" in p["notes"]
    ops = {r.operation_id for r in outcome.results}
    assert {"cc-sell-1-close", "cc-sell-1-close2", "cc-sell-1-close3"} <= ops
    assert "cc-sell-1-close4" not in ops
