"""
The gRPC side of the intake: authentication, strategy allowlists, rate limits and the servicer.

The servicer never executes anything itself: parsed Orders go to an :class:`IntakeBackend` (the
intake strategy), which runs them on the node's event loop through ``submit_unified``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Protocol

import grpc

from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.intake.config import IntakeSection
from nautilus_ext.intake.events import CursorExpired
from nautilus_ext.intake.events import ResultLog
from nautilus_ext.intake.proto import pb2
from nautilus_ext.intake.proto import pb2_grpc
from nautilus_ext.orders import Order

log = logging.getLogger(__name__)

# trailing metadata key carrying the taxonomy code of a refused call
ERROR_CODE_KEY = "nautilus-ext-error-code"
STREAM_POLL_SECS = 0.25


@dataclass(slots=True)
class Ack:
    """The intake's answer for one submitted entry."""

    operation_id: str
    accepted: bool
    status: str = ""
    code: str = ""
    message: str = ""
    duplicate: bool = False
    cursor: int = 0


@dataclass(slots=True)
class TokenBucket:
    """Orders per second with a burst (monotonic clock injected for tests)."""

    rate: float
    depth: float
    now: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    ts: float = field(init=False)
    lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.tokens = self.depth
        self.ts = self.now()

    def take(self, n: int) -> bool:
        """Take ``n`` tokens at once, or none."""
        with self.lock:
            t = self.now()
            self.tokens = min(self.depth, self.tokens + (t - self.ts) * self.rate)
            self.ts = t
            if self.tokens < n:
                return False
            self.tokens -= n
            return True


@dataclass(frozen=True, slots=True)
class Client:
    """An authenticated client: its name, allowlist and rate limit."""

    name: str
    token_sha256: bytes
    strategy_ids: frozenset[str]
    bucket: TokenBucket


def hash_token(token: str) -> bytes:
    """Return the SHA-256 of a token (the only form the node keeps)."""
    return hashlib.sha256(token.encode()).digest()


def load_clients(section: IntakeSection, environ: dict[str, str] | None = None) -> list[Client]:
    """
    Read each client's token from the environment and keep only its hash.

    Raises
    ------
    InvalidConfig
        If a token variable is unset or shorter than 16 characters.
    """
    env = os.environ if environ is None else environ
    clients = []
    for c in section.clients:
        token = env.get(c.token_env)
        if not token or len(token) < 16:
            raise InvalidConfig(
                f"intake client {c.name}: environment variable {c.token_env} must hold a token of "
                "at least 16 characters"
            )
        clients.append(
            Client(
                name=c.name,
                token_sha256=hash_token(token),
                strategy_ids=frozenset(c.strategy_ids),
                bucket=TokenBucket(section.orders_per_sec, float(section.burst_orders)),
            )
        )
    return clients


class IntakeBackend(Protocol):
    """What the servicer needs from the node side."""

    results_log: ResultLog

    def submit_batch(self, client: str, orders: list[Order], timeout_secs: float) -> list[Ack]:
        """Execute a batch (atomic groups complete) on the node; raise RateLimited when full."""
        ...

    def cancel(self, operation_id: str, allowed: frozenset[str], timeout_secs: float) -> Ack:
        """Cancel the working venue order of ``operation_id``."""
        ...

    def order_summary(
        self, operation_id: str, allowed: frozenset[str], timeout_secs: float
    ) -> tuple[dict[str, Any], bool] | None:
        """Return (summary, final) of the result, None if unknown or not allowed."""
        ...

    def positions(self, strategy_id: str, timeout_secs: float) -> dict[str, str]:
        """Return the net position per instrument key from the strategy's fills."""
        ...


class IntakeServicer(pb2_grpc.OrderIntakeServicer):  # type: ignore[misc]
    """The ``OrderIntake`` service (see ``nautilus_ext_intake.proto``)."""

    def __init__(self, section: IntakeSection, clients: list[Client], backend: IntakeBackend) -> None:
        self._section = section
        self._clients = clients
        self._backend = backend

    # -- auth ---------------------------------------------------------------------------------

    def _client(self, context: grpc.ServicerContext) -> Client:
        token = ""
        for key, value in context.invocation_metadata():
            if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
                token = value[len("Bearer ") :]
        digest = hash_token(token)
        found = None
        for client in self._clients:  # compare against every client: time does not tell which
            if hmac.compare_digest(digest, client.token_sha256):
                found = client
        if found is None:
            _abort(context, grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED", "unknown or missing token")
        assert found is not None
        return found

    def _allow(self, context: grpc.ServicerContext, client: Client, strategy_id: str | None) -> None:
        if strategy_id not in client.strategy_ids:
            _abort(
                context,
                grpc.StatusCode.PERMISSION_DENIED,
                "PERMISSION_DENIED",
                f"client {client.name} may not act for strategy_id {strategy_id!r}",
            )

    # -- RPCs ---------------------------------------------------------------------------------

    def SubmitOrders(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        client = self._client(context)
        if len(request.orders_json) > self._section.max_batch_orders:
            _abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                str(ErrorCode.INVALID_ORDER),
                f"{len(request.orders_json)} orders in one batch; at most {self._section.max_batch_orders}",
            )
        acks: list[Ack | None] = []
        orders: list[Order] = []
        for text in request.orders_json:
            try:
                order = Order.from_json(text)
            except NautilusExtError as e:
                acks.append(
                    Ack(operation_id=e.order_id or "", accepted=False, code=str(e.code), message=e.message)
                )
                continue
            if order.strategy_id is None:
                acks.append(
                    Ack(
                        operation_id=order.operation_id,
                        accepted=False,
                        code=str(ErrorCode.INVALID_ORDER),
                        message="strategy_id: required on orders submitted through the intake",
                    )
                )
                continue
            self._allow(context, client, order.strategy_id)
            acks.append(None)
            orders.append(order)
        if orders and not client.bucket.take(len(orders)):
            _abort(
                context,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                str(ErrorCode.RATE_LIMITED),
                f"client {client.name}: more than {self._section.orders_per_sec:g} orders/s "
                f"(burst {self._section.burst_orders}); retry later",
            )
        done: list[Ack] = []
        if orders:
            try:
                done = self._backend.submit_batch(client.name, orders, self._section.submit_timeout_secs)
            except NautilusExtError as e:
                status = (
                    grpc.StatusCode.RESOURCE_EXHAUSTED
                    if e.code is ErrorCode.RATE_LIMITED
                    else grpc.StatusCode.UNAVAILABLE
                )
                _abort(context, status, str(e.code), e.message)
        it = iter(done)
        reply = [a if a is not None else next(it) for a in acks]
        return pb2.SubmitOrdersReply(acks=[_ack_message(a) for a in reply])

    def CancelOrder(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        client = self._client(context)
        ack = self._backend.cancel(
            request.operation_id, client.strategy_ids, self._section.submit_timeout_secs
        )
        return pb2.CancelReply(
            operation_id=ack.operation_id, accepted=ack.accepted, code=ack.code, message=ack.message
        )

    def GetOrder(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        client = self._client(context)
        found = self._backend.order_summary(
            request.operation_id, client.strategy_ids, self._section.submit_timeout_secs
        )
        if found is None:
            _abort(context, grpc.StatusCode.NOT_FOUND, "NOT_FOUND", f"no order {request.operation_id!r}")
        assert found is not None
        summary, final = found
        return pb2.OrderReply(operation_id=request.operation_id, result_json=json.dumps(summary), final=final)

    def GetPositions(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        client = self._client(context)
        self._allow(context, client, request.strategy_id)
        positions = self._backend.positions(request.strategy_id, self._section.submit_timeout_secs)
        return pb2.PositionsReply(
            strategy_id=request.strategy_id,
            positions=[pb2.Position(instrument_key=k, quantity=v) for k, v in sorted(positions.items())],
        )

    def StreamResults(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:  # noqa: N802
        client = self._client(context)
        self._allow(context, client, request.strategy_id)
        after = int(request.after_cursor)
        results = self._backend.results_log
        while context.is_active():
            try:
                events = results.read(request.strategy_id, after, STREAM_POLL_SECS)
            except CursorExpired as e:
                _abort(context, grpc.StatusCode.OUT_OF_RANGE, "CURSOR_EXPIRED", str(e))
            for ev in events:
                yield pb2.ResultEvent(
                    cursor=ev.cursor,
                    strategy_id=ev.strategy_id,
                    operation_id=ev.operation_id,
                    kind=ev.kind,
                    status=ev.status,
                    code=ev.code,
                    message=ev.message,
                    payload_json=ev.payload_json,
                    ts_ns=ev.ts_ns,
                    final=ev.final,
                )
                after = ev.cursor


def _ack_message(a: Ack) -> Any:
    return pb2.SubmitAck(
        operation_id=a.operation_id,
        accepted=a.accepted,
        duplicate=a.duplicate,
        status=a.status,
        code=a.code,
        message=a.message,
        cursor=a.cursor,
    )


def _abort(context: grpc.ServicerContext, status: grpc.StatusCode, code: str, message: str) -> None:
    context.set_trailing_metadata(((ERROR_CODE_KEY, code),))
    context.abort(status, f"{code}: {message}")


def start_server(servicer: IntakeServicer, section: IntakeSection) -> tuple[grpc.Server, int]:
    """
    Start the gRPC server on ``section.host:section.port``; return it and the bound port.

    Raises
    ------
    InvalidConfig
        If the address cannot be bound or the TLS files cannot be read.
    """
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=section.max_workers, thread_name_prefix="intake"),
        # one more concurrent RPC than threads is refused by gRPC (RESOURCE_EXHAUSTED), never queued
        maximum_concurrent_rpcs=section.max_workers,
    )
    pb2_grpc.add_OrderIntakeServicer_to_server(servicer, server)
    address = f"{section.host}:{section.port}"
    try:
        if section.tls is None:
            port = server.add_insecure_port(address)
        else:
            tls = section.tls
            ca = None if tls.client_ca_path is None else Path(tls.client_ca_path).read_bytes()
            credentials = grpc.ssl_server_credentials(
                [(Path(tls.key_path).read_bytes(), Path(tls.cert_path).read_bytes())],
                root_certificates=ca,
                require_client_auth=ca is not None,
            )
            port = server.add_secure_port(address, credentials)
    except (OSError, RuntimeError) as e:
        raise InvalidConfig(f"intake: cannot listen on {address}: {e}") from e
    server.start()
    log.info("Order intake listening on %s:%d (tls=%s)", section.host, port, section.tls is not None)
    return server, port
