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
