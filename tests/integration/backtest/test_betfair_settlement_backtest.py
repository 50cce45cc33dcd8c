"""
A two-runner MATCH_WINNER backtest over a real Betfair stream file settles to hand-computed P&L.

The file is NautilusTrader's ``1-166811431.bz2``: NBA, Cleveland Cavaliers @ Minnesota
Timberwolves (MATCH_ODDS, 5% base rate), which closed with Cleveland (the away side, listed
first after "@") the WINNER and Minnesota the LOSER. We BACK the away side and LAY the home side
of the same market: the runner loads both runners and the selection picks each.
"""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.service import run_and_report
from nautilus_ext.catalogs.build import build_catalog
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.orders import Order
from nautilus_ext.storage import ClusterStore

KEY = "BASKETBALL:BETFAIR:MATCH_WINNER:GB-BASKETBALL:20191229T0110:CLEVELAND-CAVALIERS-MINNESOTA-TIMBERWOLVES"
T0 = datetime(2019, 12, 28, 10, 0, tzinfo=UTC)
CLEVELAND, MINNESOTA = "1-166811431-60424-None.BETFAIR", "1-166811431-237478-None.BETFAIR"


def _bet(op: str, side: str, selection: str, odds: str, secs: int) -> Order:
    return Order(
        operation_id=op,
        operation="bet",
        instrument_key=KEY,
        venue="BETFAIR",
        side=side,
        amount="10",
        odds=odds,
        selection=selection,
        created_at=T0 + timedelta(seconds=secs),
    )


@pytest.mark.slow
def test_back_and_lay_on_two_runners_settle_to_hand_computed_pnl(tmp_path: Path, shared_data: Path) -> None:
    stream = shared_data / "nautilus_trader/tests/test_data/betfair/1-166811431.bz2"
    build_catalog("betfair", [stream], tmp_path / "cat", progress=False)
    orders = [
        _bet("back-away", "BACK", "AWAY", "3.0", 0),  # marketable: matches the best back price
        _bet("lay-home", "LAY", "HOME", "1.6", 1),
    ]
    (tmp_path / "orders.jsonl").write_text("".join(o.to_json() + "\n" for o in orders), encoding="utf-8")
    spec = BacktestSpec.model_validate(
        {
            "run_id": "bf-two-runners",
            "kind": "orders",
            "catalog": str(tmp_path / "cat"),
            "start": datetime(2019, 12, 28, tzinfo=UTC),
            "end": datetime(2019, 12, 29, 4, tzinfo=UTC),  # after the market closed
            "instruments": [KEY],
            "venues": [{"venue": "BETFAIR", "starting_balances": ["1000 GBP"], "account_type": "BETTING"}],
            "orders": str(tmp_path / "orders.jsonl"),
            "output_dir": str(tmp_path / "out"),
            "results_root": str(tmp_path / "store"),
        }
    )
    outcome, report = run_and_report(spec)
    res = {r.operation_id: r for r in outcome.results}
    assert res["back-away"].status is ExecutionStatus.FILLED
    assert res["back-away"].nautilus_instrument_id == CLEVELAND
    assert res["lay-home"].status is ExecutionStatus.FILLED
    assert res["lay-home"].nautilus_instrument_id == MINNESOTA
    back_fills = [(f.price, f.quantity) for f in res["back-away"].fills]
    lay_fills = [(f.price, f.quantity) for f in res["lay-home"].fills]
    assert back_fills == [(Decimal("3.15"), Decimal(10))]  # the best back price at 10:00
    assert {p for p, _ in lay_fills} == {Decimal("1.6")}
    assert sum(q for _, q in lay_fills) == Decimal(10)

    # by hand: BACK 10 @ 3.15 on the winner wins 10 x 2.15 = 21.50; LAY 10 @ 1.6 on the loser
    # keeps the backer's 10; gross 31.50; 5% commission on net winnings 1.575; net 29.925
    [market] = outcome.betting
    assert market.market_id == "1.166811431"
    assert market.settled
    assert market.gross_pnl == Decimal("31.50")
    assert market.commission == Decimal("1.5750")
    assert market.net_pnl == Decimal("29.9250")
    by_sel = {s.selection: s for s in market.selections}
    assert by_sel["AWAY"].result == "WINNER"
    assert by_sel["AWAY"].runner_name == "Cleveland Cavaliers"
    assert by_sel["AWAY"].pnl == Decimal("21.50")
    assert by_sel["HOME"].result == "LOSER"
    assert by_sel["HOME"].pnl == Decimal(10)
    assert by_sel["HOME"].lay_stake == Decimal(10)
    assert outcome.realised_betting_pnl == Decimal("29.9250")  # the sum of settlements

    # the results store and the report show the same figures
    rows = ClusterStore(str(tmp_path / "store")).read_betting_pnl(date(2019, 12, 29), date(2019, 12, 29))
    market_row = next(r for r in rows if r["level"] == "MARKET")
    assert (market_row["net_pnl"], market_row["commission"]) == ("29.9250", "1.5750")
    assert {r["selection"]: r["gross_pnl"] for r in rows if r["level"] == "SELECTION"} == {
        "AWAY": "21.50",
        "HOME": "10.00",  # three partial fills: 1.93 + 1.93 + 6.14
    }
    text = report.read_text(encoding="utf-8")
    assert "Betting P&amp;L by market" in text
    assert "29.93 GBP" in text


@pytest.mark.slow
def test_a_run_ending_before_the_close_leaves_the_market_open(tmp_path: Path, shared_data: Path) -> None:
    stream = shared_data / "nautilus_trader/tests/test_data/betfair/1-166811431.bz2"
    build_catalog("betfair", [stream], tmp_path / "cat", progress=False)
    (tmp_path / "orders.jsonl").write_text(
        _bet("back-away", "BACK", "AWAY", "3.0", 0).to_json() + "\n", encoding="utf-8"
    )
    spec = BacktestSpec.model_validate(
        {
            "kind": "orders",
            "catalog": str(tmp_path / "cat"),
            "start": datetime(2019, 12, 28, 9, tzinfo=UTC),
            "end": datetime(2019, 12, 28, 11, tzinfo=UTC),
            "instruments": [KEY],
            "venues": [{"venue": "BETFAIR", "starting_balances": ["1000 GBP"], "account_type": "BETTING"}],
            "orders": str(tmp_path / "orders.jsonl"),
            "output_dir": str(tmp_path / "out"),
            "betfair_commission": {"rate": "0.02"},
        }
    )
    outcome, _ = run_and_report(spec)
    [market] = outcome.betting
    assert not market.settled
    assert market.net_pnl == 0
    assert market.selections[0].back_stake == Decimal(10)
    assert market.selections[0].result == "OPEN"
    assert outcome.realised_betting_pnl == 0


@pytest.mark.slow
def test_in_play_bets_wait_for_betfairs_bet_delay(tmp_path: Path, shared_data: Path) -> None:
    # the market turned in play at 2019-12-29 01:10:23 with a 5 s bet delay
    stream = shared_data / "nautilus_trader/tests/test_data/betfair/1-166811431.bz2"
    build_catalog("betfair", [stream], tmp_path / "cat", progress=False)
    in_play = datetime(2019, 12, 29, 1, 12, tzinfo=UTC)
    orders = [
        _bet("pre-play", "BACK", "AWAY", "1.01", 0),  # any back price matches: fills at once
        Order(
            operation_id="in-play",
            operation="bet",
            instrument_key=KEY,
            venue="BETFAIR",
            side="BACK",
            amount="2",
            odds="1.01",
            selection="AWAY",
            created_at=in_play,
        ),
    ]
    (tmp_path / "orders.jsonl").write_text("".join(o.to_json() + "\n" for o in orders), encoding="utf-8")
    spec = BacktestSpec.model_validate(
        {
            "kind": "orders",
            "catalog": str(tmp_path / "cat"),
            "start": datetime(2019, 12, 28, tzinfo=UTC),
            "end": datetime(2019, 12, 29, 1, 20, tzinfo=UTC),
            "instruments": [KEY],
            "venues": [{"venue": "BETFAIR", "starting_balances": ["1000 GBP"], "account_type": "BETTING"}],
            "orders": str(tmp_path / "orders.jsonl"),
            "output_dir": str(tmp_path / "out"),
        }
    )
    outcome, _ = run_and_report(spec)
    res = {r.operation_id: r for r in outcome.results}
    pre, live = res["pre-play"], res["in-play"]
    assert pre.status is ExecutionStatus.FILLED
    assert pre.fills[0].ts_ns == pre.ts_decision_ns
    assert live.status is ExecutionStatus.FILLED, live.reason
    assert live.fills[0].ts_ns - live.ts_decision_ns >= 5_000_000_000


@pytest.mark.slow
def test_racing_keeps_its_key_and_trades_by_selection_id(tmp_path: Path, shared_data: Path) -> None:
    # a real racing WIN market image (seven nameless runners): no canonical selection names,
    # so the Order names the runner by its Betfair selection id
    stream = (
        shared_data / "nautilus_trader/crates/adapters/betfair/test_data/stream/market_definition_racing.json"
    )
    summary = build_catalog("betfair", [stream], tmp_path / "cat", progress=False)
    key = "HORSE_RACING:BETFAIR:WIN:GB-HORSE_RACING:20210319T0207:UNKNOWN"
    assert set(summary.instruments.values()) == {key}
    at = datetime.fromtimestamp((summary.ts_min or 0) / 1e9, tz=UTC) + timedelta(seconds=1)
    order = Order(
        operation_id="win-bet",
        operation="bet",
        instrument_key=key,
        venue="BETFAIR",
        side="BACK",
        amount="2",
        odds="5.8",
        selection="3601619",  # the fourth runner: 5.8 to back, 3.44 available
        created_at=at,
    )
    (tmp_path / "orders.jsonl").write_text(order.to_json() + "\n", encoding="utf-8")
    spec = BacktestSpec.model_validate(
        {
            "kind": "orders",
            "catalog": str(tmp_path / "cat"),
            "start": at - timedelta(minutes=1),
            "end": at + timedelta(minutes=1),
            "instruments": [key],
            "venues": [{"venue": "BETFAIR", "starting_balances": ["1000 GBP"], "account_type": "BETTING"}],
            "orders": str(tmp_path / "orders.jsonl"),
            "output_dir": str(tmp_path / "out"),
        }
    )
    outcome, _ = run_and_report(spec)
    (result,) = outcome.results
    assert result.status is ExecutionStatus.FILLED, result.reason
    assert result.nautilus_instrument_id == "1-180737206-3601619-None.BETFAIR"
    assert result.fills[0].price == Decimal("5.8")
    [market] = outcome.betting
    assert not market.settled  # the file ends before the race
    assert market.selections[0].selection == "3601619"
