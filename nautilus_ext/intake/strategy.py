"""
:class:`IntakeStrategy`: the node component behind the gRPC intake.

It *is* a :class:`~nautilus_ext.execution.strategy.UnifiedExecutionStrategy`, so an Order arriving
over gRPC takes exactly the in-process path: ``submit_unified`` (or ``submit_group`` for an atomic
group) validates, routes, passes the safety gate (arming, confirmation in LIVE) and audits it. The
gRPC threads never touch Nautilus objects: they queue work (bounded) for the node's event loop and
wait for its answer.
"""

from __future__ import annotations

import asyncio
import json
import queue
import re
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from typing import TypeVar

from nautilus_trader.model.identifiers import ClientOrderId

from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import RateLimited
from nautilus_ext.errors import VenueUnavailable
from nautilus_ext.execution.config import UnifiedExecutionConfig
from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.results import GroupStatus
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.intake.config import IntakeSection
from nautilus_ext.intake.events import ResultLog
from nautilus_ext.intake.service import Ack
from nautilus_ext.intake.service import IntakeServicer
from nautilus_ext.intake.service import load_clients
from nautilus_ext.intake.service import start_server
from nautilus_ext.orders import Order
from nautilus_ext.orders.groups import group_orders

T = TypeVar("T")
_CODE = re.compile(r"^([A-Z][A-Z_]+): ?(.*)$", re.DOTALL)
SCAN_INTERVAL_MS = 250  # safety net for state changes no order event announces (staging, groups)


class IntakeConfig(UnifiedExecutionConfig, frozen=True):
    """
    Configuration of :class:`IntakeStrategy`.

    Parameters
    ----------
    intake_json : str
        The ``intake:`` section of the live YAML (:class:`IntakeSection`) as JSON.
    """

    intake_json: str = ""


@dataclass(slots=True)
class _Track:
    strategy_id: str
    fills_seen: int = 0
    state: tuple[str, str] = ("", "")


@dataclass(slots=True)
class _Work:
    client: str
    orders: list[Order]
    future: Future[list[Ack]]


class IntakeStrategy(UnifiedExecutionStrategy):
    """
    Execute unified Orders submitted over gRPC and publish their results.

    ``operation_id`` is the idempotency key: an Order whose id this strategy already holds is
    answered ``duplicate`` with its current state and never executed again.
    """

    def __init__(self, config: IntakeConfig, safety_gate: Any = None) -> None:
        super().__init__(config, safety_gate)
        try:
            self.intake = IntakeSection.model_validate_json(config.intake_json)
        except ValueError as e:
            raise InvalidConfig(f"intake: {e}") from None
        self.results_log = ResultLog(self.intake.result_retention)
        self._clients = load_clients(self.intake)  # tokens read (and hashed) before anything runs
        self._pending: queue.Queue[_Work] = queue.Queue(maxsize=self.intake.max_pending_batches)
        self._tracked: dict[str, _Track] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Any = None
        self.intake_port: int | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def on_start(self) -> None:
        super().on_start()
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            raise InvalidConfig("intake: needs a live node (a running event loop)") from None
        self.msgbus.subscribe(topic=f"events.order.{self.id}", handler=self._on_any_order_event)
        self.clock.set_timer("intake-scan", _ms(SCAN_INTERVAL_MS), callback=lambda _e: self._scan_all())
        servicer = IntakeServicer(self.intake, self._clients, self)
        self._server, self.intake_port = start_server(servicer, self.intake)
        self.log.info(f"Order intake on {self.intake.host}:{self.intake_port}")

    def on_stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=1.0)
            self._server = None
        self.msgbus.unsubscribe(topic=f"events.order.{self.id}", handler=self._on_any_order_event)
        super().on_stop()
        self._scan_all()

    # -- called from gRPC threads -------------------------------------------------------------

    def submit_batch(self, client: str, orders: list[Order], timeout_secs: float) -> list[Ack]:
        """
        Queue a batch for the event loop and wait for its acknowledgements.

        Raises
        ------
        RateLimited
            If ``max_pending_batches`` are already waiting (backpressure, nothing queued).
        VenueUnavailable
            If the node is not running or did not take the batch in time (retrying with the same
            ``operation_id`` values is safe).
        """
        loop = self._loop
        if loop is None or loop.is_closed():
            raise VenueUnavailable("intake: the node is not running")
        work = _Work(client, orders, Future())
        try:
            self._pending.put_nowait(work)
        except queue.Full:
            raise RateLimited(
                f"intake: {self.intake.max_pending_batches} batches already waiting for the node",
                retryable=True,
            ) from None
        loop.call_soon_threadsafe(self._drain)
        try:
            return work.future.result(timeout_secs)
        except FutureTimeout:
            raise VenueUnavailable(
                f"intake: the node did not take the batch within {timeout_secs:g}s; "
                "resubmitting the same operation_ids is safe",
                retryable=True,
            ) from None

    def cancel(self, operation_id: str, allowed: frozenset[str], timeout_secs: float) -> Ack:
        """Cancel the working venue order of ``operation_id`` (on the event loop)."""
        return self._on_loop(lambda: self._cancel(operation_id, allowed), timeout_secs)

    def order_summary(
        self, operation_id: str, allowed: frozenset[str], timeout_secs: float
    ) -> tuple[dict[str, Any], bool] | None:
        """Return the result summary of ``operation_id`` and whether it is final."""

        def read() -> tuple[dict[str, Any], bool] | None:
            result = self.results.get(operation_id)
            if result is None or result.strategy_id not in allowed:
                return None
            return result.summary(), self._is_final(result)

        return self._on_loop(read, timeout_secs)

    def positions(self, strategy_id: str, timeout_secs: float) -> dict[str, str]:
        """Return the net position per instrument key made by ``strategy_id``'s fills."""

        def read() -> dict[str, str]:
            total: dict[str, Decimal] = {}
            for result in list(self.results.values()):
                if result.strategy_id != strategy_id or "#dup@" in result.operation_id:
                    continue
                for key, delta in result.actual_deltas.items():
                    total[key] = total.get(key, Decimal(0)) + delta
            return {k: format(v, "f") for k, v in total.items() if v != 0}

        return self._on_loop(read, timeout_secs)

    def _on_loop(self, fn: Callable[[], T], timeout_secs: float) -> T:
        loop = self._loop
        if loop is None or loop.is_closed():
            raise VenueUnavailable("intake: the node is not running")
        future: Future[T] = Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except Exception as e:  # handed to the gRPC thread, which reports it
                future.set_exception(e)

        loop.call_soon_threadsafe(run)
        try:
            return future.result(timeout_secs)
        except FutureTimeout:
            raise VenueUnavailable(f"intake: the node did not answer within {timeout_secs:g}s") from None

    # -- on the event loop --------------------------------------------------------------------

    def _drain(self) -> None:
        while True:
            try:
                work = self._pending.get_nowait()
            except queue.Empty:
                return
            try:
                work.future.set_result(self._execute_batch(work.client, work.orders))
            except Exception as e:  # the client gets an error reply; the loop keeps draining
                work.future.set_exception(e)

    def _execute_batch(self, client: str, orders: list[Order]) -> list[Ack]:
        rationale = f"order intake: client {client}"
        try:
            singles, groups = group_orders(orders)
        except NautilusExtError as e:
            return [
                Ack(
                    o.operation_id, accepted=False, code=str(e.code), message=e.message, cursor=self._cursor()
                )
                for o in orders
            ]
        done: dict[str, Ack] = {}  # first ack per operation_id; later copies are duplicates
        for group in groups:
            ops = [o.operation_id for o in group]
            if any(op in self.results for op in ops):
                for op in ops:
                    done[op] = self._duplicate(op)
                continue
            cursor = self._cursor()
            self.submit_group(group)
            for leg in group:
                done[leg.operation_id] = self._accepted(leg, cursor)
        for order in singles:
            op = order.operation_id
            if op in done or op in self.results:
                continue
            cursor = self._cursor()
            self.submit_unified(order, rationale=rationale)
            done[op] = self._accepted(order, cursor)
        acks: list[Ack] = []
        answered: set[str] = set()
        for o in orders:
            op = o.operation_id
            fresh = op in done and op not in answered
            acks.append(done[op] if fresh else self._duplicate(op))
            answered.add(op)
        return acks

    def _cursor(self) -> int:
        return self.results_log.cursor

    def _duplicate(self, operation_id: str) -> Ack:
        result = self.results.get(operation_id)
        status = "" if result is None else str(result.status)
        return Ack(
            operation_id,
            accepted=True,
            duplicate=True,
            status=status,
            message="operation_id already submitted: not executed again",
            cursor=self._cursor(),
        )

    def _accepted(self, order: Order, cursor: int) -> Ack:
        result = self.results.get(order.operation_id)
        if result is None:  # a group refused before its legs were recorded (a reused group id)
            group = self.groups.get(order.atomic_group_id or "")
            reason = group.reason if group is not None and group.reason else "INVALID_ORDER: refused"
            code, message = _split_reason(reason)
            return Ack(order.operation_id, accepted=False, status="REJECTED", code=code, message=message)
        code, message = _split_reason(result.reason)
        strategy_id = order.strategy_id or ""
        self._tracked[order.operation_id] = _Track(strategy_id)
        rejected = result.status is ExecutionStatus.REJECTED
        if not rejected:  # a rejection is published by the scan, with its taxonomy code
            self.results_log.append(
                strategy_id,
                order.operation_id,
                "ACCEPTED",
                status=str(result.status),
                message=result.reason,
                ts_ns=int(self.clock.timestamp_ns()),
            )
        self._scan(order.operation_id)
        return Ack(
            order.operation_id,
            accepted=not rejected,
            status=code if code == "AWAITING_CONFIRMATION" else str(result.status),
            code=code if rejected else "",
            message=message,
            cursor=cursor,
        )

    def _cancel(self, operation_id: str, allowed: frozenset[str]) -> Ack:
        result = self.results.get(operation_id)
        if result is None or result.strategy_id not in allowed:
            return Ack(operation_id, False, code=str(ErrorCode.INVALID_ORDER), message="unknown operation_id")
        order = (
            None
            if result.client_order_id is None
            else self.cache.order(ClientOrderId(result.client_order_id))
        )
        if order is None or order.is_closed:
            return Ack(
                operation_id,
                False,
                code=str(ErrorCode.INVALID_ORDER),
                message=f"no working venue order (status {result.status})",
            )
        self.cancel_order(order)
        return Ack(operation_id, True, status=str(result.status))

    def _on_any_order_event(self, _event: Any) -> None:
        # after every handler of this event (the strategy's own updates the result first)
        loop = self._loop
        if loop is not None:
            loop.call_soon(self._scan_all)

    def _scan_all(self) -> None:
        for op in list(self._tracked):
            self._scan(op)

    def _scan(self, operation_id: str) -> None:
        track = self._tracked.get(operation_id)
        result = self.results.get(operation_id)
        if track is None or result is None:
            return
        now = int(self.clock.timestamp_ns())
        for fill in result.fills[track.fills_seen :]:
            payload = {
                "price": format(fill.price, "f"),
                "quantity": format(fill.quantity, "f"),
                "fee": format(fill.fee, "f"),
                "fee_currency": fill.fee_currency,
                "trade_id": fill.trade_id,
                "liquidity": fill.liquidity,
                "venue": fill.venue or result.venue,
                "instrument_id": fill.instrument_id or result.nautilus_instrument_id,
                "ts_ns": fill.ts_ns,
            }
            status = str(result.status)
            self.results_log.append(
                track.strategy_id,
                operation_id,
                "FILL",
                status=status,
                payload_json=json.dumps(payload),
                ts_ns=now,
            )
            deltas = {k: format(v, "f") for k, v in fill.deltas.items()}
            self.results_log.append(
                track.strategy_id,
                operation_id,
                "POSITION_DELTA",
                status=status,
                payload_json=json.dumps(deltas),
                ts_ns=now,
            )
        track.fills_seen = len(result.fills)
        final = self._is_final(result)
        state = (str(result.status), result.reason + ("#final" if final else ""))
        if state != track.state:
            first = track.state == ("", "")
            track.state = state
            code, message = _split_reason(result.reason)
            rejected = result.status is ExecutionStatus.REJECTED
            if not first or final:
                self.results_log.append(
                    track.strategy_id,
                    operation_id,
                    "REJECTED" if rejected else "STATE",
                    status=str(result.status),
                    code=code if rejected else "",
                    message=message,
                    ts_ns=now,
                    final=final,
                )
        if final:
            del self._tracked[operation_id]

    def _is_final(self, result: ExecutionResult) -> bool:
        if result.status in (ExecutionStatus.REJECTED, ExecutionStatus.FILLED):
            return True
        if result.atomic_group_id is not None:  # a leg ends with its group
            group = self.groups.get(result.atomic_group_id)
            return group is not None and group.status is not GroupStatus.WORKING
        if result.client_order_id is None:
            return False
        order = self.cache.order(ClientOrderId(result.client_order_id))
        return order is not None and bool(order.is_closed)


def _split_reason(reason: str) -> tuple[str, str]:
    match = _CODE.match(reason or "")
    return (match.group(1), match.group(2)) if match else ("", reason or "")


def _ms(ms: int) -> Any:
    import pandas as pd

    return pd.Timedelta(milliseconds=ms)
