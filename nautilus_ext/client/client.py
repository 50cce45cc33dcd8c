"""The intake client: typed calls over one gRPC channel, errors mapped to the project's taxonomy."""

from __future__ import annotations

import json
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc

from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import RateLimited
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.errors import VenueUnavailable
from nautilus_ext.intake.proto import pb2
from nautilus_ext.intake.proto import pb2_grpc
from nautilus_ext.orders import Order

ERROR_CODE_KEY = "nautilus-ext-error-code"


class IntakeDenied(RiskBlocked):
    """The intake refused the caller: unknown token, or a strategy id it may not act for."""

    def __init__(self, message: str, *, reason: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason  # UNAUTHENTICATED or PERMISSION_DENIED


@dataclass(frozen=True, slots=True)
class SubmitAck:
    """The node's answer for one submitted Order (``code`` is a taxonomy code when refused)."""

    operation_id: str
    accepted: bool
    duplicate: bool
    status: str
    code: str
    message: str
    cursor: int


@dataclass(frozen=True, slots=True)
class ResultEvent:
    """One result event; ``payload`` is the decoded ``payload_json`` (Decimals as strings)."""

    cursor: int
    strategy_id: str
    operation_id: str
    kind: str
    status: str
    code: str
    message: str
    payload: dict[str, Any]
    ts_ns: int
    final: bool


@dataclass(frozen=True, slots=True)
class OrderState:
    """The current result of one Order (``summary`` is ``ExecutionResult.summary()``)."""

    operation_id: str
    summary: dict[str, Any]
    final: bool


class IntakeClient:
    """
    A connection to a node's order intake.

    Parameters
    ----------
    target : str
        ``host:port`` of the intake.
    token : str
        The bearer token the node's ``intake.clients`` entry expects (read it from the
        environment; it is never logged).
    root_cert_path, cert_path, key_path : str, optional
        TLS: the server's CA; with ``cert_path``/``key_path`` the client certificate (mTLS).
    timeout_secs : float
        Deadline of each unary call.
    """

    def __init__(
        self,
        target: str,
        token: str,
        *,
        root_cert_path: str | None = None,
        cert_path: str | None = None,
        key_path: str | None = None,
        timeout_secs: float = 15.0,
    ) -> None:
        if root_cert_path is None:
            self._channel = grpc.insecure_channel(target)
        else:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=Path(root_cert_path).read_bytes(),
                private_key=None if key_path is None else Path(key_path).read_bytes(),
                certificate_chain=None if cert_path is None else Path(cert_path).read_bytes(),
            )
            self._channel = grpc.secure_channel(target, credentials)
        self._stub = pb2_grpc.OrderIntakeStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"),)
        self._timeout = timeout_secs
        self.target = target

    def close(self) -> None:
        """Close the channel (open streams end)."""
        self._channel.close()

    def __enter__(self) -> IntakeClient:
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()

    # -- calls ----------------------------------------------------------------------------------

    def submit(self, orders: Iterable[Order | dict[str, Any] | str]) -> list[SubmitAck]:
        """
        Submit unified Orders (models, dicts or JSON text); return one ack per Order, in order.

        Refused Orders come back with ``accepted=False`` and a taxonomy ``code`` (a malformed one
        with ``INVALID_ORDER``). An Order whose ``operation_id`` the node already holds comes back
        ``duplicate=True`` and is not executed again, so retrying a whole batch is safe.

        Raises
        ------
        RateLimited
            If the node's rate limit or submit queue refused the batch (nothing executed).
        IntakeDenied
            For a bad token, or a strategy id this client may not submit for.
        VenueUnavailable
            If the node cannot be reached.
        """
        texts = [_order_text(o) for o in orders]
        reply = self._call(self._stub.SubmitOrders, pb2.SubmitOrdersRequest(orders_json=texts))
        return [
            SubmitAck(a.operation_id, a.accepted, a.duplicate, a.status, a.code, a.message, int(a.cursor))
            for a in reply.acks
        ]

    def cancel(self, operation_id: str) -> SubmitAck:
        """Cancel the working venue order of ``operation_id``."""
        r = self._call(self._stub.CancelOrder, pb2.OrderRef(operation_id=operation_id))
        return SubmitAck(r.operation_id, r.accepted, False, "", r.code, r.message, 0)

    def get_order(self, operation_id: str) -> OrderState:
        """Return the current result of ``operation_id``."""
        r = self._call(self._stub.GetOrder, pb2.OrderRef(operation_id=operation_id))
        return OrderState(r.operation_id, json.loads(r.result_json), r.final)

    def get_positions(self, strategy_id: str) -> dict[str, Decimal]:
        """Return the strategy's net position per instrument key (from its fills)."""
        r = self._call(self._stub.GetPositions, pb2.PositionsRequest(strategy_id=strategy_id))
        return {p.instrument_key: Decimal(p.quantity) for p in r.positions}

    def stream_results(self, strategy_id: str, after_cursor: int = 0) -> Iterator[ResultEvent]:
        """
        Yield the strategy's result events after ``after_cursor``, then live ones, until closed.

        Resume a broken stream with the ``cursor`` of the last event handled: nothing is lost or
        repeated while the node still retains it (else ``CURSOR_EXPIRED``).
        """
        request = pb2.StreamRequest(strategy_id=strategy_id, after_cursor=after_cursor)
        stream = self._stub.StreamResults(request, metadata=self._metadata)
        try:
            for e in stream:
                yield ResultEvent(
                    int(e.cursor),
                    e.strategy_id,
                    e.operation_id,
                    e.kind,
                    e.status,
                    e.code,
                    e.message,
                    json.loads(e.payload_json) if e.payload_json else {},
                    int(e.ts_ns),
                    e.final,
                )
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.CANCELLED:
                return
            raise _map_error(err) from None
        finally:
            stream.cancel()

    def _call(self, method: Any, request: Any) -> Any:
        try:
            return method(request, metadata=self._metadata, timeout=self._timeout)
        except grpc.RpcError as err:
            raise _map_error(err) from None


def _order_text(order: Order | dict[str, Any] | str) -> str:
    if isinstance(order, Order):
        return order.to_json()
    if isinstance(order, dict):
        return json.dumps(order)
    return order


def _map_error(err: grpc.RpcError) -> NautilusExtError:
    # the node names the taxonomy code in the trailing metadata; the gRPC status is the fallback
    status = err.code()
    details = err.details() or ""
    code = ""
    for key, value in err.trailing_metadata() or ():
        if key == ERROR_CODE_KEY:
            code = str(value)
    if code == ErrorCode.RATE_LIMITED or status == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return RateLimited(details or "intake rate limited", retryable=True)
    if code in ("UNAUTHENTICATED", "PERMISSION_DENIED") or status in (
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
    ):
        return IntakeDenied(details, reason=code or status.name)
    if code == ErrorCode.INVALID_ORDER or status == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidOrder(details)
    if status == grpc.StatusCode.NOT_FOUND:
        return InvalidOrder(details, details={"grpc_status": status.name})
    return VenueUnavailable(
        f"intake {status.name}: {details}", retryable=True, details={"grpc_status": status.name, "code": code}
    )
