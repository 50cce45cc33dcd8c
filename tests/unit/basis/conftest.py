"""Shared set-up of the basis tests: generated data sets cached per session, one run helper."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from nautilus_ext.basis.backtest import BacktestResult
from nautilus_ext.basis.backtest import run_backtest
from nautilus_ext.basis.config import RunRequest
from nautilus_ext.basis.config import resolve
from nautilus_ext.basis.data import Rows
from nautilus_ext.basis.generator import generate

START = "2024-03-01"
END = "2024-03-31"  # 30 days
CAPITAL = {"usdt_stable": Decimal(100000), "eth_directional": Decimal(100)}

RunMode = Callable[..., BacktestResult]


@pytest.fixture(scope="session")
def calm_tables() -> dict[str, Rows]:
    """30 days of generated data without a stress window."""
    return generate(
        datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 31, tzinfo=UTC), seed=11, stress=False
    )


@pytest.fixture(scope="session")
def stress_tables() -> dict[str, Rows]:
    """30 days with the default stress window (rally, funding flip, 9 % weETH depeg)."""
    return generate(datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 31, tzinfo=UTC), seed=11)


@pytest.fixture(scope="session")
def run_mode() -> RunMode:
    """Return ``run(mode, share_class, tables, overrides=None, capital=None)``."""

    def run(
        mode: str,
        share_class: str,
        tables: dict[str, Rows],
        overrides: dict[str, str] | None = None,
        capital: Decimal | None = None,
        start: str = START,
        end: str = END,
    ) -> BacktestResult:
        cfg = resolve(RunRequest(mode, share_class, capital or CAPITAL[share_class], start, end), overrides)
        return run_backtest(cfg, tables)

    return run


def pnl_columns(row: dict[str, Any]) -> list[str]:
    """The P&L columns of an hourly row."""
    return [k for k in row if "pnl" in k or k.startswith(("equity", "cumulative_"))]
