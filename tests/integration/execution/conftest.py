"""The execution service in real BacktestEngines: the algorithm tests' venues and market data."""

from __future__ import annotations

from tests.integration.execution_algos.conftest import make_order
from tests.integration.execution_algos.conftest import market
from tests.integration.execution_algos.conftest import run_algo
from tests.integration.execution_algos.conftest import run_multi_venue

__all__ = ["make_order", "market", "run_algo", "run_multi_venue"]
