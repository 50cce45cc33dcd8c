"""Backtests through NautilusTrader's BacktestNode: orders-driven and strategy-driven."""

from nautilus_ext.backtest.config import BacktestSafetySection
from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.config import LatencySpec
from nautilus_ext.backtest.config import VenueSimSpec
from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.results import FillModelKind

__all__ = [
    "BacktestSafetySection",
    "BacktestSpec",
    "ExecutionResult",
    "ExecutionStatus",
    "FillModelKind",
    "LatencySpec",
    "VenueSimSpec",
]
