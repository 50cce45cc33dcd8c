"""
A small strategy-driven example: fade moves of the mid away from its moving average.

It shows the API every strategy uses: subclass :class:`UnifiedExecutionStrategy`, decide from
Nautilus data, emit a unified :class:`~nautilus_ext.orders.Order` with ``submit_unified``.
The same class runs in a ``BacktestNode`` and a live ``TradingNode``.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC
from datetime import datetime
from decimal import Decimal

from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.events import OrderFilled

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.execution.strategy import UnifiedExecutionConfig
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.instruments import InstrumentKey
from nautilus_ext.orders import Order


class MeanReversionConfig(UnifiedExecutionConfig, frozen=True):
    """
    Parameters
    ----------
    instrument_key : str
        Canonical key traded (a venue-bound perpetual).
    window : int
        Trades in the moving average.
    threshold_bps : str
        Deviation from the average (bps) that triggers an order.
    trade_size : str
        Order amount in base units.
    max_position : str
        Absolute position cap in base units.
    cooldown_secs : int
        Minimum seconds between orders.
    """

    instrument_key: str = ""
    window: int = 60
    threshold_bps: str = "5"
    trade_size: str = "0.010"
    max_position: str = "0.050"
    cooldown_secs: int = 60


class MeanReversionStrategy(UnifiedExecutionStrategy):
    """Sell above the average, buy below it, within a position cap and a cooldown."""

    def __init__(self, config: MeanReversionConfig) -> None:
        super().__init__(config)
        if not config.instrument_key:
            raise InvalidConfig("MeanReversionConfig.instrument_key is required")
        self._key = InstrumentKey.parse(config.instrument_key)
        if not self._key.is_venue_bound:
            raise InvalidConfig(f"{self._key} must be a venue-bound instrument for this example")
        self._prices: deque[Decimal] = deque(maxlen=config.window)
        self._threshold = Decimal(config.threshold_bps) / Decimal(10_000)
        self._size = Decimal(config.trade_size)
        self._cap = Decimal(config.max_position)
        self._cooldown_ns = config.cooldown_secs * 1_000_000_000
        self._position = Decimal(0)
        self._last_ns = 0
        self._n = 0

    def on_trade_tick(self, tick: TradeTick) -> None:
        price = tick.price.as_decimal()
        self._prices.append(price)
        if (
            len(self._prices) < (self._prices.maxlen or 1)
            or tick.ts_event - self._last_ns < self._cooldown_ns
        ):
            return
        mean = sum(self._prices, Decimal(0)) / len(self._prices)
        deviation = (price - mean) / mean
        side = "SELL" if deviation > self._threshold else "BUY" if deviation < -self._threshold else None
        if side is None:
            return
        signed = self._size if side == "BUY" else -self._size
        if abs(self._position + signed) > self._cap:
            return
        self._n += 1
        self._last_ns = tick.ts_event
        self.submit_unified(
            Order(
                operation_id=f"{self.id}-{self._n}",
                operation="trade",
                instrument_key=self._key,
                venue=self._key.venue,
                side=side,
                amount=self._size,
                strategy_id=str(self.id),
                strategy_intent="mean_revert",
                created_at=datetime.fromtimestamp(tick.ts_event / 1e9, tz=UTC),
            ),
            rationale=f"trade {price} is {deviation * 10_000:.2f} bps off the {len(self._prices)}-trade mean",
            inputs={
                "trade_id": tick.trade_id.value,
                "price": price,
                "mean": mean,
                "threshold_bps": self.config.threshold_bps,
                "position": self._position,
            },
        )

    def on_order_filled(self, event: OrderFilled) -> None:
        super().on_order_filled(event)
        self._position = sum(
            (r.filled_quantity * (1 if r.side == "BUY" else -1) for r in self.results.values()), Decimal(0)
        )
