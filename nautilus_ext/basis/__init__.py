"""
The basis and yield strategy of seed 003: six modes, two share classes, one hourly engine.

- :mod:`~nautilus_ext.basis.config`: mode and share-class YAML (``configs/modes``,
  ``configs/share_classes``), validation (fail fast on contradictions, correct derivable
  settings with a warning), CLI overrides and the effective configuration.
- :mod:`~nautilus_ext.basis.data`: the hourly market inputs, their day-chunked Parquet format,
  loaders from CSV exports and Tardis ``derivative_ticker`` files.
- :mod:`~nautilus_ext.basis.generator`: seeded realistic data with a stress window.
- :mod:`~nautilus_ext.basis.ledger`: holdings valued in the share-class currency with an exact
  P&L attribution per component.
- :mod:`~nautilus_ext.basis.engine`: the event-driven engine (entry flows, funding, rewards,
  rebalancing, liquidation) over the pure on-chain calculators.
- :mod:`~nautilus_ext.basis.outputs`: summary, CSVs, Plotly plots and the combined report.
"""

from nautilus_ext.basis.backtest import BacktestResult
from nautilus_ext.basis.backtest import load_tables
from nautilus_ext.basis.backtest import run_backtest
from nautilus_ext.basis.config import MODE_NAMES
from nautilus_ext.basis.config import EffectiveConfig
from nautilus_ext.basis.config import RunRequest
from nautilus_ext.basis.config import resolve
from nautilus_ext.basis.engine import BasisEngine
from nautilus_ext.basis.model import BasisEvent
from nautilus_ext.basis.model import Snapshot
from nautilus_ext.basis.model import snapshots

__all__ = [
    "MODE_NAMES",
    "BacktestResult",
    "BasisEngine",
    "BasisEvent",
    "EffectiveConfig",
    "RunRequest",
    "Snapshot",
    "load_tables",
    "resolve",
    "run_backtest",
    "snapshots",
]
