"""
What the web console shows, kept up to date from the node's bus (thread-safe).

The console actor writes (on the node's threads); the web server reads snapshots (on its own
thread). Every write bumps :attr:`ConsoleState.version`, which the server's event stream
watches to push fresh fragments.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Any

from nautilus_ext.operator.alerts import Alert


@dataclass(frozen=True, slots=True)
class FillRow:
    """One fill in the live tradebook."""

    ts_ns: int
    strategy_id: str
    instrument_id: str
    side: str
    qty: str
    price: str
    client_order_id: str
    venue_order_id: str
    trade_id: str


@dataclass(frozen=True, slots=True)
class OrderRow:
    """One working order."""

    client_order_id: str
    strategy_id: str
    instrument_id: str
    side: str
    order_type: str
    qty: str
    filled: str
    price: str
    status: str


@dataclass(frozen=True, slots=True)
class PnlRow:
    """One strategy's PnL in one currency."""

    strategy_id: str
    currency: str
    realized: str
    unrealized: str


@dataclass(frozen=True, slots=True)
class VenueFigure:
    """The venue's last reported position for an asset and whether it matched the running sum."""

    quantity: str
    matched: bool
    ts_ns: int


@dataclass(slots=True)
class Snapshot:
    """A consistent copy of everything the console shows."""

    version: int = 0
    status: dict[str, Any] = field(default_factory=dict)
    fills: list[FillRow] = field(default_factory=list)
    orders: list[OrderRow] = field(default_factory=list)
    pnl: list[PnlRow] = field(default_factory=list)
    venue_figures: dict[str, VenueFigure] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    health_factors: dict[str, str] = field(default_factory=dict)
    margin_ratios: dict[str, str] = field(default_factory=dict)
    strategies: list[str] = field(default_factory=list)
    venues: list[str] = field(default_factory=list)


class ConsoleState:
    """
    The console's view of one node (see the module docstring).

    Parameters
    ----------
    max_fills : int
        Fills kept in the tradebook.
    max_alerts : int
        Alerts kept.
    """

    def __init__(self, max_fills: int = 200, max_alerts: int = 200) -> None:
        self._lock = threading.Lock()
        self._version = 0
        self._status: dict[str, Any] = {}
        self._fills: deque[FillRow] = deque(maxlen=max_fills)
        self._alerts: deque[Alert] = deque(maxlen=max_alerts)
        self._orders: list[OrderRow] = []
        self._pnl: list[PnlRow] = []
        self._venue: dict[str, VenueFigure] = {}
        self._health: dict[str, str] = {}
        self._margin: dict[str, str] = {}
        self._strategies: list[str] = []
        self._venues: list[str] = []

    @property
    def version(self) -> int:
        """Return a counter bumped on every change."""
        return self._version

    def snapshot(self) -> Snapshot:
        """Return a consistent copy (newest fills and alerts first)."""
        with self._lock:
            return Snapshot(
                version=self._version,
                status=dict(self._status),
                fills=list(reversed(self._fills)),
                orders=list(self._orders),
                pnl=list(self._pnl),
                venue_figures=dict(self._venue),
                alerts=list(reversed(self._alerts)),
                health_factors=dict(self._health),
                margin_ratios=dict(self._margin),
                strategies=list(self._strategies),
                venues=list(self._venues),
            )

    def _bump(self) -> None:
        self._version += 1

    def set_status(self, status: dict[str, Any]) -> None:
        """Adopt the gate's latest ``status()``."""
        with self._lock:
            if status != self._status:
                self._status = status
                self._bump()

    def add_fill(self, row: FillRow) -> None:
        """Append a fill to the tradebook."""
        with self._lock:
            self._fills.append(row)
            self._bump()

    def add_alert(self, alert: Alert) -> None:
        """Append an alert."""
        with self._lock:
            self._alerts.append(alert)
            self._bump()

    def set_venue_figure(self, asset: str, quantity: str, matched: bool, ts_ns: int) -> None:
        """Record the venue's latest figure for ``asset``."""
        with self._lock:
            old = self._venue.get(asset)
            new = VenueFigure(quantity, matched, ts_ns)
            self._venue[asset] = new
            if old is None or replace(old, ts_ns=ts_ns) != new:
                self._bump()

    def set_health_factor(self, account: str, value: str) -> None:
        """Record a lending account's health factor."""
        with self._lock:
            if self._health.get(account) != value:
                self._health[account] = value
                self._bump()

    def set_book(
        self,
        orders: list[OrderRow],
        pnl: list[PnlRow],
        strategies: list[str],
        venues: list[str],
        margin_ratios: dict[str, str] | None = None,
    ) -> None:
        """Adopt the cache's working orders, PnL, strategies, venues and margin ratios."""
        with self._lock:
            if margin_ratios is not None and margin_ratios != self._margin:
                self._margin = margin_ratios
                self._bump()
            if (orders, pnl, strategies, venues) != (self._orders, self._pnl, self._strategies, self._venues):
                self._orders, self._pnl = orders, pnl
                self._strategies, self._venues = strategies, venues
                self._bump()


__all__ = ["ConsoleState", "FillRow", "OrderRow", "PnlRow", "Snapshot", "VenueFigure"]
