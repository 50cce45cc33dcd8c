"""Orders-driven backtests: replay pre-generated unified Orders at their ``created_at`` times."""

from __future__ import annotations

from pathlib import Path

from nautilus_ext.backtest.executor import UnifiedExecutionConfig
from nautilus_ext.backtest.executor import UnifiedExecutionStrategy
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.orders.model import Order


class OrderReplayConfig(UnifiedExecutionConfig, frozen=True):
    """
    Configuration of :class:`OrderReplayStrategy`.

    Parameters
    ----------
    orders_path : str
        A JSON-lines file of unified Orders (one per line, each with ``created_at``).
    """

    orders_path: str = ""


def load_orders_jsonl(path: str | Path) -> list[Order]:
    """
    Read unified Orders from a JSON-lines file (exact Decimals).

    Raises
    ------
    InvalidOrder
        If a line is not a valid order (the message names the file and line).
    """
    orders = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            orders.append(Order.from_json(line))
        except InvalidOrder as e:
            raise InvalidOrder(f"{path}:{n}: {e.message}", order_id=e.order_id, details=e.details) from None
    return orders


class OrderReplayStrategy(UnifiedExecutionStrategy):
    """Submit each pre-generated order at its ``created_at`` time (or at start if earlier)."""

    def __init__(self, config: OrderReplayConfig) -> None:
        super().__init__(config)
        self._orders = load_orders_jsonl(config.orders_path) if config.orders_path else []
        missing = [o.operation_id for o in self._orders if o.created_at is None]
        if missing:
            raise InvalidOrder(
                f"orders-driven backtests need created_at on every order; missing on {missing[:5]}"
            )
        self._pending: dict[str, Order] = {}

    def on_start(self) -> None:
        super().on_start()
        now = self.clock.timestamp_ns()
        for order in sorted(self._orders, key=lambda o: (o.created_at, o.operation_id)):
            assert order.created_at is not None  # checked in __init__
            ts = max(int(order.created_at.timestamp() * 1_000_000_000), now + 1)
            name = f"order:{order.operation_id}"
            self._pending[name] = order
            self.clock.set_time_alert_ns(name, ts, self._on_due)

    def _on_due(self, event: object) -> None:
        name = getattr(event, "name", "")
        order = self._pending.pop(name, None)
        if order is not None:
            self.submit_unified(order)

    def on_stop(self) -> None:
        # orders whose time never came (after the end of data) are reported, not lost
        from nautilus_ext.backtest.results import ExecutionResult
        from nautilus_ext.backtest.results import ExecutionStatus

        for order in self._pending.values():
            self.results[order.operation_id] = ExecutionResult(
                operation_id=order.operation_id,
                instrument_key=str(order.instrument_key),
                side=str(order.side),
                requested_quantity=order.amount,
                ts_decision_ns=self.clock.timestamp_ns(),
                strategy_id=order.strategy_id,
                status=ExecutionStatus.REJECTED,
                reason="NO_ROUTE: created_at is after the end of the data",
            )
        self._pending.clear()
        super().on_stop()
