"""
Runtime for algorithms that follow a precomputed schedule (TWAP, VWAP, implementation shortfall).

A schedule is a list of ``(offset_ns, size)`` slices from the parent's arrival. At each slice
the algorithm sends one IOC child for ``cumulative target - filled - working`` (so slices left
unfilled or paused by the slippage guard are caught up by the next one). At the end of the
horizon the final policy applies: ``SWEEP`` sends the remainder as one last IOC child,
``LEAVE`` stops with the remainder unfilled.

On a market with trading hours the offsets count open-market time only
(:meth:`~nautilus_ext.tradfi.sessions.SessionCalendar.advance`): a slice that would fall in the
daily halt, a weekend or a holiday moves, with every later slice and the horizon, to after the
reopen, so the schedule pauses across the closure and resumes where it stopped. A parent that
arrives while the market is closed starts at the next open.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from nautilus_trader.common.events import TimeEvent

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.execution_algos.base import Parent
from nautilus_ext.execution_algos.base import SmartExecAlgorithm
from nautilus_ext.execution_algos.base import SmartExecAlgorithmConfig
from nautilus_ext.execution_algos.common import FinalPolicy
from nautilus_ext.execution_algos.common import StopReason
from nautilus_ext.execution_algos.common import param_str


class ScheduledExecAlgorithmConfig(SmartExecAlgorithmConfig, frozen=True):
    """
    Settings of schedule-following algorithms.

    Parameters
    ----------
    final_policy : str, default "SWEEP"
        ``SWEEP`` (one IOC child for the remainder at the horizon) or ``LEAVE``.
    """

    final_policy: str = "SWEEP"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.final_policy not in FinalPolicy.__members__:
            raise InvalidConfig(f"final_policy must be SWEEP or LEAVE, got {self.final_policy!r}")


def cumulative_targets(slices: Sequence[tuple[int, Decimal]]) -> list[tuple[int, Decimal]]:
    """Turn ``(offset_ns, size)`` slices into ``(offset_ns, cumulative size)`` targets."""
    out: list[tuple[int, Decimal]] = []
    running = Decimal(0)
    for offset, size in slices:
        running += size
        out.append((offset, running))
    return out


class ScheduledExecAlgorithm(SmartExecAlgorithm):
    """Execute a precomputed schedule with catch-up and a final policy (see the module docstring)."""

    def __init__(self, config: ScheduledExecAlgorithmConfig) -> None:
        super().__init__(config)
        self._final_policy = FinalPolicy(config.final_policy)

    def plan(self, parent: Parent, params: dict[str, Any]) -> tuple[list[tuple[int, Decimal]], int]:
        """Return the slices ``[(offset_ns, size)]`` and the horizon in nanoseconds."""
        raise NotImplementedError(f"{type(self).__name__} must implement plan()")

    def begin(self, parent: Parent, params: dict[str, Any]) -> None:
        policy = param_str(params, "final_policy", str(self._final_policy)).upper()
        if policy not in FinalPolicy.__members__:
            raise InvalidOrder(f"final_policy must be SWEEP or LEAVE, got {policy!r}")
        slices, horizon_ns = self.plan(parent, params)
        if sum((s for _, s in slices), Decimal(0)) != parent.total:
            raise InvalidOrder(f"schedule does not sum to the parent quantity {parent.total}")
        now = int(self.clock.timestamp_ns())
        session = self.session_of(parent)

        def at(offset: int) -> int:
            # open-market time: the schedule pauses while the exchange is closed (a time with no
            # known hours keeps wall time: its children are paused at send, see send_taker)
            if session is None:
                return now + offset
            try:
                return session.advance(now, offset)
            except InvalidConfig:
                return now + offset

        pid = parent.primary.client_order_id.value
        parent.state.update(
            targets=cumulative_targets(slices),
            final_policy=FinalPolicy(policy),
            horizon_over=False,
            sweeping=False,
        )
        parent.report.detail = f"{len(slices)} slices over {horizon_ns // 1_000_000_000}s"
        if parent.state.get("profile_used") is False:
            parent.report.detail += " (no profile volume over the horizon: even slices)"
        self.log.info(f"{self.algorithm_name} {pid}: schedule {[str(s) for _, s in slices]}")
        for i, (offset, _) in enumerate(slices):
            when = at(offset)
            if when == now:
                continue
            name = f"{self.id}:{pid}:{i}"
            parent.timers.append(name)
            self.clock.set_time_alert_ns(name, when, self._on_slice)
        end_name = f"{self.id}:{pid}:end"
        parent.timers.append(end_name)
        self.clock.set_time_alert_ns(end_name, at(horizon_ns), self._on_horizon)
        if at(slices[0][0]) == now:
            self._slice(parent, 0)

    def _parent_by_timer(self, name: str) -> tuple[Parent | None, str]:
        _, pid, tail = name.rsplit(":", 2)
        for parent in self.parents.values():
            if parent.primary.client_order_id.value == pid:
                return (None if parent.done else parent), tail
        return None, tail

    def _on_slice(self, event: TimeEvent) -> None:
        parent, tail = self._parent_by_timer(event.name)
        if parent is not None:
            self._slice(parent, int(tail))

    def _slice(self, parent: Parent, index: int) -> None:
        target = parent.state["targets"][index][1]
        working = sum(parent.working.values(), Decimal(0))
        behind = target - parent.filled - working
        if behind > 0:
            self.send_taker(parent, behind)

    def _on_horizon(self, event: TimeEvent) -> None:
        parent, _ = self._parent_by_timer(event.name)
        if parent is None:
            return
        parent.state["horizon_over"] = True
        if parent.state["final_policy"] is FinalPolicy.LEAVE:
            self.cancel_working(parent)
            if not parent.working:
                self.finish(parent, StopReason.LEFT_REMAINING, "horizon over; remainder left unfilled")
            return
        self._sweep(parent)

    def _sweep(self, parent: Parent) -> None:
        if parent.working:
            return  # wait for working children to close, then sweep what is left
        parent.state["sweeping"] = True
        if parent.remaining < parent.min_size:
            self.finish(
                parent, StopReason.BELOW_MIN_SIZE, f"{parent.remaining} left is below the minimum size"
            )
            return
        if not self.send_taker(parent, parent.remaining) and not parent.done:
            self.finish(parent, StopReason.SWEEP_INCOMPLETE, f"final sweep not sent: {parent.report.detail}")

    def on_child_closed(self, parent: Parent) -> None:
        if not parent.state.get("horizon_over") or parent.working:
            return
        if parent.state["final_policy"] is FinalPolicy.LEAVE:
            self.finish(parent, StopReason.LEFT_REMAINING, "horizon over; remainder left unfilled")
        elif parent.state["sweeping"]:
            self.finish(parent, StopReason.SWEEP_INCOMPLETE, "the book could not fill the final sweep")
        else:
            self._sweep(parent)
