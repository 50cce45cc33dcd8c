"""Algorithms over the real Tardis Binance Futures BTCUSDT book snapshots (shared sample data)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution_algos import StopReason
from nautilus_ext.execution_algos.limit_then_market import LimitThenMarketExecAlgorithm
from nautilus_ext.execution_algos.twap import TWAPExecAlgorithm

RunAlgo = Callable[..., Any]  # the run_algo fixture (conftest.run_orders)
MakeOrder = Callable[..., dict[str, Any]]  # the make_order fixture
Market = Any  # the conftest Market dataclass (fixture ``market``)


SNAPSHOTS = "nautilus_trader/tests/test_data/tardis/binance-futures_book_snapshot_5_BTCUSDT.csv"
SUBMIT_NS = 1_598_918_403_900_000_000  # after the first snapshot (local 2020-09-01T00:00:03.81Z)


@pytest.fixture(scope="module")
def tardis(shared_data: Path) -> tuple[Any, list[Any]]:
    """The real snapshots and a BTCUSDT-PERP.BINANCE instrument on their 0.01 tick grid (2020)."""
    from nautilus_trader.adapters.tardis.loaders import TardisCSVDataLoader
    from nautilus_trader.model.instruments import CryptoPerpetual

    from nautilus_ext.adapters.symbology import build_instrument
    from nautilus_ext.instruments.registry import InstrumentRegistry

    registry = InstrumentRegistry.default()
    current = build_instrument(registry.get("BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"), registry)
    raw = CryptoPerpetual.to_dict(current)
    raw.update(price_precision=2, price_increment="0.01")
    inst = CryptoPerpetual.from_dict(raw)
    data = TardisCSVDataLoader(price_precision=2, size_precision=3, instrument_id=inst.id).load_depth10(
        shared_data / SNAPSHOTS, levels=5
    )
    assert len(data) == 10
    return inst, _as_deltas(data)


def _as_deltas(snapshots: list[Any]) -> list[Any]:
    """Each real depth snapshot as a clear plus one ADD per level (the book the strategy subscribes to)."""
    from nautilus_trader.model.data import OrderBookDelta
    from nautilus_trader.model.enums import BookAction
    from nautilus_trader.model.enums import RecordFlag

    out: list[Any] = []
    for snap in snapshots:
        out.append(OrderBookDelta.clear(snap.instrument_id, 0, snap.ts_event, snap.ts_init))
        levels = [o for o in [*snap.bids, *snap.asks] if o.size.as_decimal() > 0]
        for i, order in enumerate(levels):
            flags = RecordFlag.F_LAST if i == len(levels) - 1 else 0
            out.append(
                OrderBookDelta(
                    snap.instrument_id, BookAction.ADD, order, flags, 0, snap.ts_event, snap.ts_init
                )
            )
    return out


def test_twap_on_real_snapshots_fills_at_the_real_ask_and_reports_end_of_data(
    tardis: tuple[Any, list[Any]], run_algo: RunAlgo, make_order: MakeOrder
) -> None:
    inst, data = tardis
    meta = {"algorithm": "TWAP", "algo_params": {"horizon_secs": "60", "interval_secs": "10"}}
    run = run_algo(
        [make_order("r1", "1.000", metadata=meta)],
        algorithms=[TWAPExecAlgorithm()],
        data=data,
        instrument=inst,
        submit_at_ns=SUBMIT_NS,
    )
    result = run.result("r1")
    assert result.algorithm_used == "TWAP"
    # the first child (0.167) takes the real best ask of 11657.08 (1.476 shown at that time)
    assert [(f.price, f.quantity) for f in result.fills] == [(Decimal("11657.08"), Decimal("0.167"))]
    assert result.status is ExecutionStatus.PARTIAL
    assert run.report("r1").stop_reason is StopReason.END_OF_DATA


def test_max_slippage_on_real_depth_stops_at_the_first_level(
    tardis: tuple[Any, list[Any]], run_algo: RunAlgo, make_order: MakeOrder
) -> None:
    inst, data = tardis
    meta = {"algorithm": "TWAP", "algo_params": {"horizon_secs": "1", "interval_secs": "1"}}
    # 0.1 bp over the mid (11657.075) allows 11657.19: only the 11657.08 level, not 11657.54
    order = make_order("r2", "3.000", max_slippage="0.00001", metadata=meta)
    run = run_algo(
        [order], algorithms=[TWAPExecAlgorithm()], data=data, instrument=inst, submit_at_ns=SUBMIT_NS
    )
    result = run.result("r2")
    report = run.report("r2")
    assert report.cap_price == Decimal("11657.19")
    assert {f.price for f in result.fills} == {Decimal("11657.08")}
    assert result.filled_quantity == Decimal("1.476")  # the real size shown at 11657.08 at 03.894


def test_limit_then_market_rests_a_maker_inside_the_real_spread(
    tardis: tuple[Any, list[Any]], run_algo: RunAlgo, make_order: MakeOrder
) -> None:
    inst, data = tardis
    order = make_order("r3", "0.500", urgency="high")
    run = run_algo(
        [order],
        algorithms=[LimitThenMarketExecAlgorithm()],
        data=data,
        instrument=inst,
        submit_at_ns=SUBMIT_NS,
    )
    maker = run.children("r3")[0]
    # real touch 11657.07 / 11657.08 (one tick): the buy joins the bid, post-only, never crossing
    assert maker.price.as_decimal() == Decimal("11657.07")
    assert maker.is_post_only
    assert run.report("r3").stop_reason is StopReason.END_OF_DATA
