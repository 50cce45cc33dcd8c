"""Plotly HTML reports: backtest tearsheets and transaction-cost analysis."""

from nautilus_ext.reports.backtest_report import summarise
from nautilus_ext.reports.backtest_report import write_report

__all__ = ["summarise", "write_report"]
