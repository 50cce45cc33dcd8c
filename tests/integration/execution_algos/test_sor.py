"""Multi-venue SOR in a real BacktestEngine with two simulated spot venues."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution_algos import StopReason
from nautilus_ext.execution_algos.sor import SORExecAlgorithm

RunMulti = Callable[..., Any]
BINANCE = "BINANCE-SPOT:SPOT_PAIR:BTC-USDT"
BYBIT = "BYBIT:SPOT_PAIR:BTC-USDT"


def _spot_order(op: str, amount: str, side: str = "BUY", **extra: Any) -> dict[str, Any]:
    return {
        "operation_id": op,
        "operation": "trade",
        "instrument_key": BINANCE,
        "side": side,
        "amount": amount,
        "smart_execution_enabled": True,
        **extra,
    }


def test_a_spot_order_is_split_across_venues_by_their_books(run_multi_venue: RunMulti, market: Any) -> None:
    books = {
        # Binance: asks 60000.50 (0.3), 60001.00 (0.3); Bybit 1 USDT higher with larger levels
        BINANCE: market(seconds=60, half_spread="0.5", level_step="0.5", level_sizes=("0.300", "0.300")),
        BYBIT: market(
            seconds=60, mid="60001.0", half_spread="0.5", level_step="0.5", level_sizes=("0.500", "0.500")
        ),
    }
    run = run_multi_venue([_spot_order("s1", "0.900")], books, [SORExecAlgorithm()])
    result = run.result("s1")
    assert result.algorithm_requested == "SOR_CEFI"
    assert result.algorithm_used == "SOR_CEFI"
    kids = run.children("s1")
    venues = {str(k.instrument_id.venue) for k in kids}
    assert venues == {"BINANCE", "BYBIT"}
    # cheapest first: Binance 60000.5 and 60001.0 (0.6), then Bybit 60001.5 (0.3)
    first_round = {str(k.instrument_id): (k.quantity.as_decimal(), k.price.as_decimal()) for k in kids[:2]}
    assert first_round == {
        "BTCUSDT.BINANCE": (Decimal("0.60000"), Decimal("60001.00")),
        "BTCUSDT-SPOT.BYBIT": (Decimal("0.300000"), Decimal("60001.50")),
    }
    assert result.filled_quantity == Decimal("0.900")
    assert result.status is ExecutionStatus.FILLED
    assert max(f.price for f in result.fills) <= Decimal("60001.50")
    report = run.report("s1")
    assert report.stop_reason is StopReason.COMPLETED
    assert "BTCUSDT.BINANCE 0.6" in report.detail


def test_replans_when_books_refill_and_stops_after_max_rounds(run_multi_venue: RunMulti, market: Any) -> None:
    books = {
        BINANCE: market(seconds=30, level_sizes=("0.100",)),
        BYBIT: market(seconds=30, mid="60001.0", level_sizes=("0.100",)),
    }
    meta = {"algorithm": "SOR_CEFI", "algo_params": {"max_rounds": "3", "replan_interval_secs": "2"}}
    run = run_multi_venue([_spot_order("s2", "1.000", metadata=meta)], books, [SORExecAlgorithm()])
    result = run.result("s2")
    # 0.2 displayed per round across both venues, 3 rounds
    assert result.filled_quantity == Decimal("0.600")
    assert result.reason.startswith("SWEEP_INCOMPLETE")
    assert len(run.children("s2")) == 6
    assert "BTCUSDT.BINANCE 0.3" in result.reason
    assert "BTCUSDT-SPOT.BYBIT 0.3" in result.reason


def test_a_stale_venue_is_skipped(run_multi_venue: RunMulti, market: Any) -> None:
    # Bybit's book stops updating after 5 s: from then on only Binance is used
    books = {
        BINANCE: market(seconds=60, level_sizes=("0.100",)),
        BYBIT: market(seconds=5, mid="60001.0", level_sizes=("0.100",)),
    }
    meta = {"algorithm": "SOR_CEFI", "algo_params": {"max_rounds": "3", "replan_interval_secs": "10"}}
    run = run_multi_venue([_spot_order("s3", "1.000", metadata=meta)], books, [SORExecAlgorithm()])
    kids = run.children("s3")
    late = [
        str(k.instrument_id.venue)
        for k in kids
        if k.ts_init >= 1_709_251_200_000_000_000 + 15 * 1_000_000_000
    ]
    assert late
    assert set(late) == {"BINANCE"}
    assert run.result("s3").filled_quantity <= Decimal("1.000")
