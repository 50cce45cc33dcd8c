"""
The execution service: the one place that turns a unified Order into Nautilus commands.

- :mod:`~nautilus_ext.execution.strategy`: ``UnifiedExecutionStrategy``, the strategy base that
  emits unified Orders (routing, venue choice, the safety gate, ExecAlgorithm hand-off).
- :mod:`~nautilus_ext.execution.group_execution` and :mod:`~nautilus_ext.execution.atomic_groups`:
  atomic groups (legs judged and executed all-or-nothing, imbalance neutralised).
- :mod:`~nautilus_ext.execution.results`: per-order and per-group execution results.
- :mod:`~nautilus_ext.execution.audit_hook`: decisions, intents, orders and fills to the audit log.

BACKTEST, DRY_RUN, LIVE and REPLAY all use it; node assembly lives in ``backtest/`` and ``live/``.
"""
