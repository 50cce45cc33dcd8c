"""Atomic groups in an orders-driven BacktestNode run: replayed through ATOMIC_LEGS, stored, reported."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.service import run_and_report
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.results import GroupStatus
from nautilus_ext.orders import Order
from nautilus_ext.reports.tca import analyse
from nautilus_ext.reports.tca import inputs_from_results
from nautilus_ext.reports.tca import inputs_from_rows
from nautilus_ext.storage import ClusterStore

from .conftest import START

BIN = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
BYB = "BYBIT:PERPETUAL:BTC-USDT@LIN"


def _leg(op: str, key: str, side: str, amount: str, secs: int, group: str, seq: int, **kw: object) -> Order:
    venue = key.split(":")[0]
    delta = Decimal(amount) if side == "BUY" else -Decimal(amount)
    return Order(
        operation_id=op,
        operation="trade",
        instrument_key=key,
        venue=venue,
        side=side,
        amount=amount,
        created_at=START + timedelta(seconds=secs),
        atomic_group_id=group,
        sequence_in_group=seq,
        expected_deltas={f"{venue}:PERPETUAL:BTC-USDT@LIN": delta},
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.slow
def test_replayed_groups_execute_atomically_and_store_true_positions(
    small_catalog: Path, tmp_path: Path
) -> None:
    orders = [
        # both legs fill: hedged (leg B due a second later: the group goes out then)
        _leg("h-a", BIN, "BUY", "0.300", 30, "hedged", 0),
        _leg("h-b", BYB, "SELL", "0.300", 31, "hedged", 1),
        # Bybit bids hold 2.1 of 3.0: leg B fills 2.1, 0.9 of leg A is sold back
        _leg("p-a", BIN, "BUY", "3.000", 60, "partial", 0, metadata={"depth_check": "false"}),
        _leg("p-b", BYB, "SELL", "3.000", 60, "partial", 1),
        # the same with the pre-flight depth check: nothing is sent
        _leg("d-a", BIN, "BUY", "3.000", 90, "depth", 0),
        _leg("d-b", BYB, "SELL", "3.000", 90, "depth", 1),
        # malformed: two legs with the same sequence
        _leg("m-a", BIN, "BUY", "0.100", 120, "malformed", 0),
        _leg("m-b", BYB, "SELL", "0.100", 120, "malformed", 0),
    ]
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(o.to_json() + "\n" for o in orders), encoding="utf-8")
    spec = BacktestSpec.model_validate(
        {
            "run_id": "groups-run",
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
        }
    )
    outcome, report = run_and_report(spec)
    groups = {g.group_id: g for g in outcome.groups}
    res = {r.operation_id: r for r in outcome.results}
    assert groups["hedged"].status is GroupStatus.HEDGED
    assert res["h-a"].status is res["h-b"].status is ExecutionStatus.FILLED
    assert res["h-a"].ts_decision_ns == int((START + timedelta(seconds=31)).timestamp() * 1e9)
    partial = groups["partial"]
    assert partial.status is GroupStatus.NEUTRALISED
    assert partial.net == {"p-a": Decimal("2.100"), "p-b": Decimal("2.100")}
    assert partial.net_exposure == 0
    assert partial.rollback_cost > 0
    assert res["p-a"].unwound_quantity == Decimal("0.900")
    assert groups["depth"].status is GroupStatus.NOT_EXECUTED
    assert groups["depth"].algo_stop_reason == "INSUFFICIENT_DEPTH"
    assert res["d-a"].filled_quantity == 0
    assert res["m-a"].status is res["m-b"].status is ExecutionStatus.REJECTED
    assert "duplicate sequence_in_group" in res["m-a"].reason

    # stored rows: positions net of the neutralisation, TCA without the neutralising trades
    day = START.date()
    rows = ClusterStore(tmp_path / "store").read_results(day, day)
    positions: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        for key, delta in row.position_deltas.items():
            positions[key] += delta
    assert positions["BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"] == Decimal("0.300") + Decimal("2.100")
    assert positions["BYBIT:PERPETUAL:BTC-USDT@LIN"] == -(Decimal("0.300") + Decimal("2.100"))
    assert sum(1 for r in rows if (r.metadata or {}).get("neutralisation")) >= 1
    assert analyse(inputs_from_rows(rows)) == analyse(inputs_from_results(outcome.results))

    text = report.read_text(encoding="utf-8")
    assert "<h2 id='groups'>Atomic groups</h2>" in text
    assert "NEUTRALISED" in text
