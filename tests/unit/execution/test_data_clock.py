"""The data clock times decisions by the market data being handled (REPLAY of a DRY_RUN)."""

from __future__ import annotations

import pytest

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.execution.config import DataClock
from nautilus_ext.execution.strategy import UnifiedExecutionConfig
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy


class _Fixed:
    def __init__(self, ns: int) -> None:
        self.ns = ns

    def timestamp_ns(self) -> int:
        return self.ns


def test_data_clock_reads_the_newest_data_and_never_moves_back() -> None:
    fallback = _Fixed(999)
    clock = DataClock(fallback)
    assert clock.timestamp_ns() == 999  # before any data: the node clock
    clock.observe(10)
    clock.observe(30)
    clock.observe(20)  # an older item (another instrument's late data) does not rewind it
    fallback.ns = 5_000
    assert clock.timestamp_ns() == 30


def test_unknown_decision_clock_is_refused() -> None:
    with pytest.raises(InvalidConfig, match="decision_clock"):
        UnifiedExecutionStrategy(UnifiedExecutionConfig(decision_clock="wall"))


def _after_data(strategy: UnifiedExecutionStrategy, ts: int) -> None:
    # what each data dispatcher does around the strategy's handler
    strategy._observe(ts)
    strategy._run_due_cycles()


def test_a_cycle_timer_under_the_data_clock_fires_after_the_data_that_reaches_its_due_time() -> None:
    strategy = UnifiedExecutionStrategy(UnifiedExecutionConfig(decision_clock="data"))
    fired: list[tuple[str, int]] = []
    strategy.set_cycle_timer("cycle", 100, lambda e: fired.append((e.name, e.ts_event)))
    _after_data(strategy, 1_000)  # the first data item sets the first due time (1_100)
    _after_data(strategy, 1_050)
    assert fired == []
    _after_data(strategy, 1_100)
    _after_data(strategy, 1_150)  # next due: 1_200
    _after_data(strategy, 1_450)  # one cycle after a gap, never a burst of missed ones
    _after_data(strategy, 1_500)
    assert fired == [("cycle", 1_100), ("cycle", 1_450)]
    strategy._cycle_timers.clear()  # what on_stop does
    _after_data(strategy, 9_999)
    assert len(fired) == 2
    with pytest.raises(InvalidConfig, match="interval"):
        strategy.set_cycle_timer("bad", 0, lambda e: None)
