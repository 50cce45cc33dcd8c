"""
POV (percentage of volume): child sizes track a target fraction of the traded volume.

The algorithm subscribes to the instrument's trade ticks and counts the volume printed since
the parent arrived. Every ``interval_secs`` it sends one IOC child for
``participation * observed volume - filled - working``, clipped to ``max_child`` and to what
remains, and skipped when below ``min_child`` (so a zero-volume period sends nothing and the
next active period catches up). At ``max_duration_secs`` the final policy applies (default
``LEAVE``: a POV order does not dump its remainder).

Observed volume is the market's printed volume. In a backtest our own fills do not print; on a
live venue they do, so the live participation is of the total volume including ours.

Per-order parameters: ``participation``, ``interval_secs``, ``min_child``, ``max_child``,
``max_duration_secs``, ``final_policy``, ``max_slippage``, ``slippage_action``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from nautilus_trader.common.events import TimeEvent
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.execution_algos.base import Parent
from nautilus_ext.execution_algos.base import SmartExecAlgorithm
from nautilus_ext.execution_algos.base import SmartExecAlgorithmConfig
from nautilus_ext.execution_algos.common import FinalPolicy
from nautilus_ext.execution_algos.common import StopReason
from nautilus_ext.execution_algos.common import param_decimal
from nautilus_ext.execution_algos.common import param_int
from nautilus_ext.execution_algos.common import param_str
from nautilus_ext.execution_algos.common import require_positive
from nautilus_ext.execution_algos.common import round_to_lot

NS_PER_SEC = 1_000_000_000


class POVExecAlgorithmConfig(SmartExecAlgorithmConfig, frozen=True):
    """
    Configuration of :class:`POVExecAlgorithm` (defaults; orders may override).

    Parameters
    ----------
    participation : str, default "0.1"
        Target fraction of the observed traded volume (0 < p <= 1).
    interval_secs : int, default 10
        Time between child decisions, in seconds.
    min_child : str, optional
        Smallest child, in base units (default: the instrument's minimum size).
    max_child : str, optional
        Largest child, in base units (default: no cap beyond what remains).
    max_duration_secs : int, default 600
        When the final policy applies, in seconds from arrival.
    final_policy : str, default "LEAVE"
        ``LEAVE`` or ``SWEEP`` the remainder at ``max_duration_secs``.
    """

    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("POV")
    participation: str = "0.1"
    interval_secs: int = 10
    min_child: str | None = None
    max_child: str | None = None
    max_duration_secs: int = 600
    final_policy: str = "LEAVE"

    def __post_init__(self) -> None:
        super().__post_init__()
        try:
            check_pov_params(
                Decimal(self.participation),
                self.interval_secs,
                None if self.min_child is None else Decimal(self.min_child),
                None if self.max_child is None else Decimal(self.max_child),
                self.max_duration_secs,
            )
        except InvalidOrder as e:
            raise InvalidConfig(e.message) from None
        if self.final_policy not in FinalPolicy.__members__:
            raise InvalidConfig(f"final_policy must be SWEEP or LEAVE, got {self.final_policy!r}")


def check_pov_params(
    participation: Decimal,
    interval_secs: int,
    min_child: Decimal | None,
    max_child: Decimal | None,
    max_duration_secs: int,
) -> None:
    """Raise :class:`InvalidOrder` unless the POV parameters are consistent."""
    if not Decimal(0) < participation <= 1:
        raise InvalidOrder(f"participation must be within (0, 1], got {participation}")
    require_positive("interval_secs", interval_secs)
    require_positive("max_duration_secs", max_duration_secs)
    if min_child is not None:
        require_positive("min_child", min_child)
    if max_child is not None:
        require_positive("max_child", max_child)
    if min_child is not None and max_child is not None and max_child < min_child:
        raise InvalidOrder(f"max_child {max_child} is below min_child {min_child}")


def pov_child_size(
    *,
    observed_volume: Decimal,
    participation: Decimal,
    filled: Decimal,
    working: Decimal,
    remaining: Decimal,
    lot: Decimal,
    min_child: Decimal,
    max_child: Decimal | None,
) -> Decimal:
    """
    Return the next child size (0 when none should be sent).

    ``participation * observed_volume - filled - working``, clipped to ``max_child`` and
    ``remaining``, rounded down to the lot; 0 when the result is below ``min_child``.
    """
    want = observed_volume * participation - filled - working
    if max_child is not None:
        want = min(want, max_child)
    size = round_to_lot(min(want, remaining), lot)
    return size if size >= min_child and size > 0 else Decimal(0)


class POVExecAlgorithm(SmartExecAlgorithm):
    """Participate in a fraction of traded volume (see the module docstring)."""

    algorithm_name = "POV"

    def __init__(self, config: POVExecAlgorithmConfig | None = None) -> None:
        config = config or POVExecAlgorithmConfig()
        super().__init__(config)
        self._defaults = config
        self._subscribed: set[InstrumentId] = set()

    def begin(self, parent: Parent, params: dict[str, Any]) -> None:
        d = self._defaults
        participation = param_decimal(params, "participation", Decimal(d.participation)) or Decimal(0)
        interval = param_int(params, "interval_secs", d.interval_secs)
        default_min = None if d.min_child is None else Decimal(d.min_child)
        default_max = None if d.max_child is None else Decimal(d.max_child)
        min_child = param_decimal(params, "min_child", default_min)
        max_child = param_decimal(params, "max_child", default_max)
        duration = param_int(params, "max_duration_secs", d.max_duration_secs)
        check_pov_params(participation, interval, min_child, max_child, duration)
        policy = param_str(params, "final_policy", d.final_policy).upper()
        if policy not in FinalPolicy.__members__:
            raise InvalidOrder(f"final_policy must be SWEEP or LEAVE, got {policy!r}")
        now = self.clock.timestamp_ns()
        parent.state.update(
            participation=participation,
            min_child=max(min_child or parent.min_size, parent.min_size),
            max_child=max_child,
            observed=Decimal(0),
            since_ns=now,
            final_policy=FinalPolicy(policy),
            ended=False,
        )
        iid = parent.primary.instrument_id
        if iid not in self._subscribed:
            self.subscribe_trade_ticks(iid)
            self._subscribed.add(iid)
        pid = parent.primary.client_order_id.value
        tick_name, end_name = f"{self.id}:{pid}:tick", f"{self.id}:{pid}:end"
        parent.timers += [tick_name, end_name]
        end = now + duration * NS_PER_SEC
        self.clock.set_timer_ns(tick_name, interval * NS_PER_SEC, now, end, self._on_tick)
        self.clock.set_time_alert_ns(end_name, end, self._on_end)
        parent.report.detail = f"participation {participation} every {interval}s for up to {duration}s"

    def on_trade_tick(self, tick: TradeTick) -> None:
        size = tick.size.as_decimal()
        for parent in self.parents.values():
            if (
                not parent.done
                and parent.primary.instrument_id == tick.instrument_id
                and tick.ts_event > parent.state.get("since_ns", tick.ts_event)
            ):
                parent.state["observed"] += size

    def _parent_by_timer(self, name: str) -> Parent | None:
        pid = name.rsplit(":", 2)[1]
        for parent in self.parents.values():
            if parent.primary.client_order_id.value == pid and not parent.done:
                return parent
        return None

    def _on_tick(self, event: TimeEvent) -> None:
        parent = self._parent_by_timer(event.name)
        if parent is None or parent.state["ended"]:
            return
        s = parent.state
        size = pov_child_size(
            observed_volume=s["observed"],
            participation=s["participation"],
            filled=parent.filled,
            working=sum(parent.working.values(), Decimal(0)),
            remaining=parent.remaining,
            lot=parent.lot,
            min_child=s["min_child"],
            max_child=s["max_child"],
        )
        if size > 0:
            self.send_taker(parent, size)

    def _on_end(self, event: TimeEvent) -> None:
        parent = self._parent_by_timer(event.name)
        if parent is None:
            return
        parent.state["ended"] = True
        self.cancel_working(parent)
        if not parent.working:
            self._final(parent)

    def _final(self, parent: Parent) -> None:
        if parent.state["final_policy"] is FinalPolicy.LEAVE or parent.state.get("swept"):
            reason = (
                StopReason.LEFT_REMAINING if not parent.state.get("swept") else StopReason.SWEEP_INCOMPLETE
            )
            self.finish(parent, reason, f"max duration reached; observed volume {parent.state['observed']}")
            return
        parent.state["swept"] = True
        if not self.send_taker(parent, parent.remaining) and not parent.done:
            self.finish(parent, StopReason.SWEEP_INCOMPLETE, f"final sweep not sent: {parent.report.detail}")

    def on_child_closed(self, parent: Parent) -> None:
        if parent.state.get("ended") and not parent.working:
            self._final(parent)
