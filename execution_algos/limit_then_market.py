"""
Limit-then-market (seed 002 ``OrderExecutor`` ``limit_with_fallback``): post at the maker price,
reprice while waiting, then cross with IOC for the rest.

The maker child is a post-only GTC limit ``ticks_inside`` ticks inside the touch from the far
side (a buy posts at ``best ask - tick``, never below the best bid; a sell at
``best bid + tick``), so it joins or improves the near touch and never takes. Every
``reprice_interval_secs`` the desired price is recomputed; if the touch moved, the maker is
cancelled and reposted (at most ``max_reprices`` times). At ``timeout_secs`` the maker is
cancelled and one IOC child takes the remainder (an IOC limit at the ``max_slippage`` cap when
the order has one). The report splits the filled quantity into maker and taker.

Per-order parameters: ``timeout_secs``, ``reprice_interval_secs``, ``max_reprices``,
``ticks_inside``, ``max_slippage``, ``slippage_action``, ``arrival_price``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from nautilus_trader.common.events import TimeEvent
from nautilus_trader.model.identifiers import ExecAlgorithmId

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.execution_algos.base import Parent
from nautilus_ext.execution_algos.base import SmartExecAlgorithm
from nautilus_ext.execution_algos.base import SmartExecAlgorithmConfig
from nautilus_ext.execution_algos.common import StopReason
from nautilus_ext.execution_algos.common import param_int
from nautilus_ext.execution_algos.common import require_positive

NS_PER_SEC = 1_000_000_000


class LimitThenMarketExecAlgorithmConfig(SmartExecAlgorithmConfig, frozen=True):
    """
    Configuration of :class:`LimitThenMarketExecAlgorithm` (defaults; orders may override).

    Parameters
    ----------
    timeout_secs : int, default 30
        How long the maker child may rest before the IOC cross, in seconds.
    reprice_interval_secs : int, default 5
        How often the maker price is checked against the touch, in seconds.
    max_reprices : int, default 5
        Cancel/repost cycles allowed before waiting out the timeout at the last price.
    ticks_inside : int, default 1
        Ticks inside the far touch for the maker price.
    """

    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("LIMIT_THEN_MARKET")
    timeout_secs: int = 30
    reprice_interval_secs: int = 5
    max_reprices: int = 5
    ticks_inside: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        try:
            check_ltm_params(
                self.timeout_secs, self.reprice_interval_secs, self.max_reprices, self.ticks_inside
            )
        except InvalidOrder as e:
            raise InvalidConfig(e.message) from None


def check_ltm_params(
    timeout_secs: int, reprice_interval_secs: int, max_reprices: int, ticks_inside: int
) -> None:
    """Raise :class:`InvalidOrder` unless the limit-then-market parameters are consistent."""
    require_positive("timeout_secs", timeout_secs)
    require_positive("reprice_interval_secs", reprice_interval_secs)
    require_positive("ticks_inside", ticks_inside)
    if max_reprices < 0:
        raise InvalidOrder(f"max_reprices must be >= 0, got {max_reprices}")


def maker_price(
    best_bid: Decimal, best_ask: Decimal, tick: Decimal, *, buy: bool, ticks_inside: int = 1
) -> Decimal:
    """
    Return the post-only maker price: ``ticks_inside`` ticks inside the far touch.

    A buy posts at ``ask - ticks_inside * tick`` but never below the best bid and never at or
    above the ask; a sell mirrors it. The result never crosses while ``bid < ask``.

    Raises
    ------
    InvalidOrder
        If the book is crossed or locked (``bid >= ask``).
    """
    if best_bid >= best_ask:
        raise InvalidOrder(f"book is crossed or locked (bid {best_bid} >= ask {best_ask})")
    step = tick * ticks_inside
    if buy:
        return min(max(best_ask - step, best_bid), best_ask - tick)
    return max(min(best_bid + step, best_ask), best_bid + tick)


class LimitThenMarketExecAlgorithm(SmartExecAlgorithm):
    """Post inside the touch, reprice, then cross with IOC (see the module docstring)."""

    algorithm_name = "LIMIT_THEN_MARKET"

    def __init__(self, config: LimitThenMarketExecAlgorithmConfig | None = None) -> None:
        config = config or LimitThenMarketExecAlgorithmConfig()
        super().__init__(config)
        self._defaults = config

    def begin(self, parent: Parent, params: dict[str, Any]) -> None:
        d = self._defaults
        timeout = param_int(params, "timeout_secs", d.timeout_secs)
        interval = param_int(params, "reprice_interval_secs", d.reprice_interval_secs)
        reprices = param_int(params, "max_reprices", d.max_reprices)
        ticks = param_int(params, "ticks_inside", d.ticks_inside)
        check_ltm_params(timeout, interval, reprices, ticks)
        parent.state.update(
            phase="MAKER", maker_id=None, maker_price=None, reprices=0, max_reprices=reprices, ticks=ticks
        )
        pid = parent.primary.client_order_id.value
        now = self.clock.timestamp_ns()
        end = now + timeout * NS_PER_SEC
        reprice_name, timeout_name = f"{self.id}:{pid}:reprice", f"{self.id}:{pid}:timeout"
        parent.timers += [reprice_name, timeout_name]
        if interval < timeout:
            self.clock.set_timer_ns(reprice_name, interval * NS_PER_SEC, now, end, self._on_reprice)
        self.clock.set_time_alert_ns(timeout_name, end, self._on_timeout)
        if not self._post(parent):
            self.log.warning(f"{self.algorithm_name} {pid}: no maker posted ({parent.report.detail})")

    def _desired(self, parent: Parent) -> Decimal | None:
        bid, ask = self.touch(parent.primary.instrument_id, buy=parent.buy)
        if bid is None or ask is None or bid >= ask:
            return None
        return maker_price(bid, ask, parent.tick, buy=parent.buy, ticks_inside=parent.state["ticks"])

    def _post(self, parent: Parent) -> bool:
        price = self._desired(parent)
        if price is None:
            parent.report.detail = "no two-sided book to price the maker child"
            return False
        cid = self.send_maker(parent, parent.remaining, price)
        parent.state.update(maker_id=cid, maker_price=price if cid is not None else None)
        return cid is not None

    def _parent_by_timer(self, name: str) -> Parent | None:
        pid = name.rsplit(":", 2)[1]
        for parent in self.parents.values():
            if parent.primary.client_order_id.value == pid and not parent.done:
                return parent
        return None

    def _on_reprice(self, event: TimeEvent) -> None:
        parent = self._parent_by_timer(event.name)
        if parent is None or parent.state["phase"] != "MAKER":
            return
        desired = self._desired(parent)
        if parent.state["maker_id"] is None:
            self._post(parent)  # nothing resting (e.g. paused by the guard): try again
            return
        if desired is None or desired == parent.state["maker_price"]:
            return
        if parent.state["reprices"] >= parent.state["max_reprices"]:
            return
        parent.state["reprices"] += 1
        self.cancel_working(parent)  # reposted from on_child_closed once the cancel lands

    def _on_timeout(self, event: TimeEvent) -> None:
        parent = self._parent_by_timer(event.name)
        if parent is None:
            return
        parent.state["phase"] = "TAKER"
        if parent.working:
            self.cancel_working(parent)  # the cross follows in on_child_closed
        else:
            self._cross(parent)

    def _cross(self, parent: Parent) -> None:
        parent.state["phase"] = "CROSSED"
        if parent.remaining < parent.min_size:
            self.finish(
                parent, StopReason.BELOW_MIN_SIZE, f"{parent.remaining} left is below the minimum size"
            )
        elif not self.send_taker(parent, parent.remaining) and not parent.done:
            self.finish(parent, StopReason.SWEEP_INCOMPLETE, f"IOC cross not sent: {parent.report.detail}")

    def on_child_closed(self, parent: Parent) -> None:
        if parent.working:
            return
        phase = parent.state["phase"]
        parent.state["maker_id"] = None
        if phase == "MAKER":
            self._post(parent)
        elif phase == "TAKER":
            self._cross(parent)
        else:
            self.finish(parent, StopReason.SWEEP_INCOMPLETE, "the book could not fill the IOC cross")
