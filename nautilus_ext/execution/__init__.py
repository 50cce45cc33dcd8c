"""
The execution service: the one place that turns a unified Order into Nautilus commands.

- :mod:`~nautilus_ext.execution.strategy`: ``UnifiedExecutionStrategy``, the strategy base that
  emits unified Orders (routing, venue choice, the safety gate, ExecAlgorithm hand-off, results);
  its configuration in :mod:`~nautilus_ext.execution.config`.
- :mod:`~nautilus_ext.execution.order_builder`: a routed Order to a Nautilus order (pure).
- :mod:`~nautilus_ext.execution.venue_choice`: which candidate venue, over the cost model's
  ``BookView`` seam (implemented over the Nautilus cache).
- :mod:`~nautilus_ext.execution.group_execution` and :mod:`~nautilus_ext.execution.atomic_groups`:
  atomic groups (legs judged and executed all-or-nothing, imbalance neutralised), through an
  explicit ``GroupContext``.
- :mod:`~nautilus_ext.execution.results` and :mod:`~nautilus_ext.execution.deltas`: per-order and
  per-group execution results, with the position deltas the fills made.
- :mod:`~nautilus_ext.execution.audit_hook`: decisions, intents, orders and fills to the audit log.

BACKTEST, DRY_RUN, LIVE and REPLAY all use it; node assembly lives in ``backtest/`` and ``live/``.
``UnifiedExecutionStrategy`` and ``UnifiedExecutionConfig`` import from here (loaded on first
use, so importing the results alone does not load the strategy and the safety gate).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from nautilus_ext.execution.config import UnifiedExecutionConfig
    from nautilus_ext.execution.strategy import UnifiedExecutionStrategy

__all__ = ["UnifiedExecutionConfig", "UnifiedExecutionStrategy"]


def __getattr__(name: str) -> Any:
    if name == "UnifiedExecutionConfig":
        from nautilus_ext.execution.config import UnifiedExecutionConfig

        return UnifiedExecutionConfig
    if name == "UnifiedExecutionStrategy":
        from nautilus_ext.execution.strategy import UnifiedExecutionStrategy

        return UnifiedExecutionStrategy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
