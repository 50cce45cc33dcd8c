"""
Audit trail of the execution service: Decision -> Intent -> Order -> Fill events for every
unified order.

Every mode writes the same events (seed 001, 8.1), timed by the node's clock, so two runs of
the same backtest produce logs that :func:`nautilus_ext.replay.compare_logs` finds identical,
and a changed parameter shows up as the first divergence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from nautilus_ext.audit import AuditContext
from nautilus_ext.audit import AuditStore
from nautilus_ext.audit import DecisionEvent
from nautilus_ext.audit import FillEvent
from nautilus_ext.audit import IntentEvent
from nautilus_ext.audit import OrderEvent
from nautilus_ext.audit import OrderStatus
from nautilus_ext.audit import OrderType
from nautilus_ext.audit import TimeInForce
from nautilus_ext.audit import WallClock
from nautilus_ext.audit.store import AuditStoreConfig
from nautilus_ext.mode import Mode
from nautilus_ext.orders.model import Order
from nautilus_ext.orders.model import Side
from nautilus_ext.orders.model import exact_json_dumps

DecisionInput = str | int | bool | Decimal | None
"""One input of a decision (floats are refused: use Decimal or str)."""

_AUDIT_SIDES = {Side.BUY: "BUY", Side.LAY: "BUY", Side.SELL: "SELL", Side.BACK: "SELL"}


class ExecutionAuditor:
    """
    Write Intent, Order and Fill events of one strategy to an :class:`AuditStore`.

    Parameters
    ----------
    root : str
        Audit storage root (local path or ``gs://``).
    mode : Mode
        BACKTEST, DRY_RUN, LIVE or REPLAY.
    strategy_id : str
        The strategy's id.
    version_hash, config_hash : str
        Strategy code hash and run config hash (hex).
    clock : object
        Anything with ``timestamp_ns()`` (the Nautilus clock): gives ``ts_event``.
    fsync : bool
        Group-commit with fsync (the durable default).
    """

    def __init__(
        self,
        root: str,
        *,
        mode: Mode,
        strategy_id: str,
        version_hash: str,
        config_hash: str,
        clock: Any,
        fsync: bool = True,
    ) -> None:
        self._store = AuditStore(AuditStoreConfig(root=root, fsync=fsync))
        self._ctx = AuditContext(
            mode=Mode(mode),
            strategy_id=strategy_id,
            version_hash=version_hash,
            config_hash=config_hash,
            clock=clock,
            wall_clock=WallClock(),
        )

    def decision(
        self,
        order: Order,
        rationale: str | None = None,
        inputs: Mapping[str, DecisionInput] | None = None,
    ) -> str | None:
        """
        Record why the strategy emitted ``order``; return the decision id (``None`` if not audited).

        ``inputs`` (what the strategy looked at: scalar values by name) are stored in the event's
        ``details`` and addressed by content: ``inputs_ref`` is ``sha256:`` of their canonical
        JSON, so two decisions made from the same inputs carry the same reference.
        """
        if _AUDIT_SIDES.get(order.side) is None:
            return None  # protocol operations are audited by the on-chain module
        details = dict(inputs or {})
        inputs_ref = None
        if details:
            canonical = exact_json_dumps(details, sort_keys=True)
            inputs_ref = "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        decision_id = f"decision:{order.operation_id}"
        self._store.append(
            self._ctx.event(
                DecisionEvent,
                id=decision_id,
                inputs_ref=inputs_ref,
                rationale=rationale or order.strategy_intent or str(order.operation),
                tags=sorted({str(order.operation), order.strategy_intent or str(order.operation)}),
                details=details,
            )
        )
        return decision_id

    def intent(
        self, order: Order, decision_id: str | None = None, *, reference_price: Decimal | None = None
    ) -> None:
        """
        Record a unified order as the strategy's intent (linked to its decision).

        ``reference_price`` is what the order's fills are judged against (slippage in the daily
        summary): the decision price, else the arrival mid.
        """
        side = _AUDIT_SIDES.get(order.side)
        if side is None:  # protocol operations are audited by the on-chain module
            return
        self._store.append(
            self._ctx.event(
                IntentEvent,
                id=f"intent:{order.operation_id}",
                decision_id=decision_id,
                asset=str(order.instrument_key),
                side=side,
                qty=order.amount,
                order_type=OrderType.LIMIT if order.price is not None else OrderType.MARKET,
                limit_price=order.price,
                tif=TimeInForce.GTC if order.price is not None else TimeInForce.IOC,
                urgency=None if order.urgency is None else str(order.urgency),
                reference_price=reference_price,
            )
        )

    def order(
        self,
        *,
        operation_id: str,
        client_order_id: str,
        venue: str,
        asset: str,
        side: str,
        qty: Decimal,
        limit_price: Decimal | None,
        tif: str,
        status: OrderStatus,
        reason: str | None = None,
    ) -> None:
        """Record a venue order (submitted, or denied before it left)."""
        self._store.append(
            self._ctx.event(
                OrderEvent,
                id=f"order:{client_order_id}:{status}",
                venue=venue,
                asset=asset,
                side=side,
                qty=qty,
                order_type=OrderType.LIMIT if limit_price is not None else OrderType.MARKET,
                limit_price=limit_price,
                tif=TimeInForce(tif),
                status=status,
                intent_id=f"intent:{operation_id}",
                correlation_id=client_order_id,
                reason=reason,
            )
        )

    def fill(
        self,
        *,
        operation_id: str,
        client_order_id: str,
        venue: str,
        asset: str,
        side: str,
        qty: Decimal,
        price: Decimal,
        fees: Decimal,
        fee_currency: str,
        trade_id: str,
        ts_event: int,
        seq: int,
    ) -> None:
        """Record one fill."""
        self._store.append(
            self._ctx.event(
                FillEvent,
                id=f"fill:{trade_id}",
                ts_event=ts_event,
                venue=venue,
                asset=asset,
                side=side,
                qty=qty,
                price=price,
                fees=fees,
                fee_currency=fee_currency,
                order_id=f"order:{client_order_id}:SUBMITTED",
                intent_id=f"intent:{operation_id}",
                seq=seq,
            )
        )

    def close(self) -> None:
        """Flush everything acknowledged to storage and close the store."""
        self._store.close()
