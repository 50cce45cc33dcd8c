"""VWAP in a real BacktestEngine with its profile learned from a real ParquetDataCatalog."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution_algos import StopReason
from nautilus_ext.execution_algos.vwap import VWAPExecAlgorithm
from nautilus_ext.execution_algos.vwap import VWAPExecAlgorithmConfig
from nautilus_ext.execution_algos.vwap import load_profile

RunAlgo = Callable[..., Any]  # the run_algo fixture (conftest.run_orders)
MakeOrder = Callable[..., dict[str, Any]]  # the make_order fixture
Market = Any  # the conftest Market dataclass (fixture ``market``)


SECOND = 1_000_000_000
START_NS = 1_709_251_200_000_000_000


def _profile_catalog(path: Path) -> None:
    """A catalog day before the run: minute 0 trades 1 lot/s, minute 1 nothing, minute 2 3 lots/s."""
    from nautilus_trader.model.data import TradeTick
    from nautilus_trader.model.enums import AggressorSide
    from nautilus_trader.model.identifiers import TradeId
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    from nautilus_ext.adapters.symbology import build_instrument
    from nautilus_ext.instruments.registry import InstrumentRegistry

    registry = InstrumentRegistry.default()
    inst = build_instrument(registry.get("BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"), registry)
    catalog = ParquetDataCatalog(str(path))
    catalog.write_data([inst])
    day_before = START_NS - 86_400 * SECOND
    ticks = []
    for s in range(180):
        size = {0: "0.001", 1: None, 2: "0.003"}[s // 60]
        if size is None:
            continue
        ts = day_before + s * SECOND
        ticks.append(
            TradeTick(
                inst.id,
                Price(Decimal("60000.0"), inst.price_precision),
                Quantity(Decimal(size), inst.size_precision),
                AggressorSide.BUYER,
                TradeId(f"P-{s}"),
                ts,
                ts,
            )
        )
    catalog.write_data(ticks)


def test_vwap_follows_the_catalog_profile_and_skips_zero_volume_buckets(
    tmp_path: Path, run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    _profile_catalog(tmp_path)
    from nautilus_trader.model.identifiers import InstrumentId

    profile = load_profile(str(tmp_path), InstrumentId.from_str("BTCUSDT-PERP.BINANCE"), 60)
    assert profile == {0: Decimal("0.060"), 2: Decimal("0.180")}
    algo = VWAPExecAlgorithm(VWAPExecAlgorithmConfig(profile_catalog_path=str(tmp_path)))
    meta = {"algorithm": "VWAP", "algo_params": {"horizon_secs": "180"}}
    order = make_order("v1", "0.400", metadata=meta)
    run = run_algo([order], market(seconds=300), [algo], submit_at_secs=0)
    kids = run.children("v1")
    assert [k.quantity.as_decimal() for k in kids] == [Decimal("0.100"), Decimal("0.300")]
    assert [(k.ts_init - START_NS) // SECOND for k in kids] == [0, 120]
    result = run.result("v1")
    assert result.algorithm_used == "VWAP"
    assert result.filled_quantity == Decimal("0.400")
    assert result.status is ExecutionStatus.FILLED
    assert run.report("v1").stop_reason is StopReason.COMPLETED


def test_vwap_without_profile_volume_falls_back_to_even_slices_and_says_so(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    meta = {"algorithm": "VWAP", "algo_params": {"horizon_secs": "180"}}
    order = make_order("v2", "0.300", metadata=meta)
    run = run_algo([order], market(seconds=300), [VWAPExecAlgorithm()], submit_at_secs=0)
    kids = run.children("v2")
    assert [k.quantity.as_decimal() for k in kids] == [Decimal("0.100")] * 3
    assert "even slices" in run.report("v2").detail
    assert run.result("v2").filled_quantity == Decimal("0.300")
