"""
Orders-driven backtests: replay pre-generated unified Orders at their ``created_at`` times.

Orders sharing an ``atomic_group_id`` are submitted together through ``submit_group`` when
the last of them is due; a malformed group is reported REJECTED on each of its orders.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.execution.strategy import UnifiedExecutionConfig
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.orders.groups import AtomicGroup
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
        self._pending: dict[str, list[Order]] = {}

    def audit_settings(self) -> dict[str, Any]:
        """
        Hash the orders' content, not the file's path.

        A storage root is exported to a temporary file for each run, and a user's file may
        move: what the run computes depends on the orders alone.
        """
        settings = super().audit_settings()
        path = settings.pop("orders_path", "")
        settings["orders_sha256"] = hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else None
        return settings

    def on_start(self) -> None:
        super().on_start()
        now = self.clock.timestamp_ns()
        batches: dict[str, list[Order]] = {}
        for order in sorted(self._orders, key=lambda o: (o.created_at, o.operation_id)):
            if order.atomic_group_id is None:
                batches[f"order:{order.operation_id}"] = [order]
            else:
                batches.setdefault(f"group:{order.atomic_group_id}", []).append(order)
        for name, orders in batches.items():
            # a group goes out when its last leg is due (all legs known, as in live)
            due = max(_ns(o) for o in orders)
            self._pending[name] = orders
            self.clock.set_time_alert_ns(name, max(due, now + 1), self._on_due)

    def _on_due(self, event: object) -> None:
        name = getattr(event, "name", "")
        orders = self._pending.pop(name, None)
        if orders is None:
            return
        if not name.startswith("group:"):
            self.submit_unified(orders[0])
            return
        try:
            group = AtomicGroup.from_orders(orders)
        except InvalidOrder as e:
            self._reject_all(orders, f"{e.code}: {e.message}")
            return
        self.submit_group(group)

    def _reject_all(self, orders: list[Order], reason: str) -> None:
        from nautilus_ext.execution.results import ExecutionResult
        from nautilus_ext.execution.results import ExecutionStatus

        for order in orders:
            key = (
                order.operation_id if order.operation_id not in self.results else f"{order.operation_id}#dup"
            )
            self.results[key] = ExecutionResult(
                operation_id=order.operation_id,
                instrument_key=str(order.instrument_key),
                side=str(order.side),
                requested_quantity=order.amount,
                ts_decision_ns=self.clock.timestamp_ns(),
                strategy_id=order.strategy_id,
                atomic_group_id=order.atomic_group_id,
                status=ExecutionStatus.REJECTED,
                reason=reason,
            )

    def on_stop(self) -> None:
        # orders whose time never came (after the end of data) are reported, not lost
        from nautilus_ext.execution.results import ExecutionResult
        from nautilus_ext.execution.results import ExecutionStatus

        for orders in self._pending.values():
            for order in orders:
                self.results[order.operation_id] = ExecutionResult(
                    operation_id=order.operation_id,
                    instrument_key=str(order.instrument_key),
                    side=str(order.side),
                    requested_quantity=order.amount,
                    ts_decision_ns=self.clock.timestamp_ns(),
                    strategy_id=order.strategy_id,
                    atomic_group_id=order.atomic_group_id,
                    status=ExecutionStatus.REJECTED,
                    reason="NO_ROUTE: created_at is after the end of the data",
                )
        self._pending.clear()
        super().on_stop()


def _ns(order: Order) -> int:
    assert order.created_at is not None  # checked in OrderReplayStrategy.__init__
    return int(order.created_at.timestamp() * 1_000_000_000)
