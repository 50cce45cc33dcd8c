"""
A local, authenticated control endpoint for a running node's :class:`SafetyGate`.

The endpoint listens on a loopback address only and accepts ``POST /command`` with a JSON body
``{"command": ..., ...}`` and the header ``Authorization: Bearer <token>``; the token is
compared in constant time and never logged. Commands: ``arm`` (``ttl_secs``, ``actor``,
``auto_confirm``), ``confirm`` (``intent_hash``, ``actor``), ``disarm`` (``actor``), ``kill``
(``actor``, ``strategy_id``, ``reason``), ``confirm_limits`` (``actor``, ``limits_hash``: a
recovery check), ``reset_risk_baselines`` (``actor``: count losses afresh), ``resume``
(``actor``, ``incident_ref``), ``status``.

The gate is not thread-safe and belongs to the node's thread: the HTTP thread only queues a
command; the owner runs :meth:`ControlEndpoint.process_pending` (from a Nautilus timer, say)
and the HTTP thread returns the result or a timeout. Every command reaches the audit log
through the gate's own sink; refused authentication is reported to the same sink.
"""

from __future__ import annotations

import hmac
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any
from typing import Final

from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.safety.gate import SafetyGate

logger = logging.getLogger(__name__)

MIN_TOKEN_LENGTH: Final = 32
"""Shortest accepted control token (characters)."""

_LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})
_MAX_BODY: Final = 64 * 1024

_KINDS: Final = {
    "arm": CommandKind.ARM,
    "confirm": CommandKind.CONFIRM,
    "disarm": CommandKind.DISARM,
    "kill": CommandKind.KILL,
    "resume": CommandKind.RESUME,
    "confirm_limits": CommandKind.RESUME,
    "reset_risk_baselines": CommandKind.RESUME,
}
_Job = tuple[Callable[[], dict[str, Any]], "Future[dict[str, Any]]"]


class ControlEndpoint:
    """
    Serve operator commands for ``gate`` on ``host:port`` (see the module docstring).

    Parameters
    ----------
    gate : SafetyGate
        The gate to command.
    token : str
        The shared secret (at least 32 characters; from the environment, never a config file).
    host : str
        A loopback address.
    port : int
        TCP port (0 picks a free one; see :attr:`port`).
    reply_timeout_secs : float
        How long a request waits for the owner thread to process it.
    max_auth_failures : int
        Failed authentications tolerated before a lockout (seed 001, section 20).
    lockout_secs : float
        How long every request is refused after too many failures, seconds (monotonic time:
        a network-facing guard, not part of what a REPLAY reproduces).
    """

    def __init__(
        self,
        gate: SafetyGate,
        token: str,
        host: str = "127.0.0.1",
        port: int = 0,
        reply_timeout_secs: float = 5.0,
        max_auth_failures: int = 5,
        lockout_secs: float = 300.0,
    ) -> None:
        if len(token) < MIN_TOKEN_LENGTH:
            raise InvalidConfig(f"the control token must have at least {MIN_TOKEN_LENGTH} characters")
        if host not in _LOOPBACK:
            raise InvalidConfig(f"the control endpoint listens on loopback only, not {host!r}")
        self._gate = gate
        self._token = token.encode("utf-8")
        self._timeout = reply_timeout_secs
        self._jobs: queue.Queue[_Job] = queue.Queue()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._thread: threading.Thread | None = None
        self._max_failures = max_auth_failures
        self._lockout_secs = lockout_secs
        self._failures = 0
        self._locked_until = 0.0
        self._auth_lock = threading.Lock()
        self._listeners: list[Callable[[dict[str, Any], dict[str, Any]], object]] = []

    @property
    def port(self) -> int:
        """Return the bound TCP port."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Return the base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Serve requests on a daemon thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="safety-control", daemon=True)
        self._thread.start()
        logger.info("Safety control endpoint listening on %s", self.url)

    def stop(self) -> None:
        """Stop serving and fail queued commands."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        while not self._jobs.empty():
            _, future = self._jobs.get_nowait()
            if future.set_running_or_notify_cancel():
                future.set_exception(RuntimeError("control endpoint stopped"))

    def process_pending(self, max_items: int = 100) -> int:
        """Run queued commands on the calling (gate-owning) thread; return how many ran."""
        done = 0
        while done < max_items:
            try:
                job, future = self._jobs.get_nowait()
            except queue.Empty:
                break
            if future.set_running_or_notify_cancel():
                future.set_result(job())
            done += 1
        return done

    def add_listener(self, listener: Callable[[dict[str, Any], dict[str, Any]], object]) -> None:
        """Call ``listener(body, reply)`` after each command runs (a recorded session's log)."""
        self._listeners.append(listener)

    def execute(self, body: dict[str, Any]) -> dict[str, Any]:
        """Run one command on the gate and return a JSON-friendly reply (never raises)."""
        reply = run_command(self._gate, body)
        for listener in self._listeners:
            listener(body, reply)
        return reply

    # -- HTTP ---------------------------------------------------------------------------------

    def _authorized(self, header: str | None) -> bool | None:
        # True: good token; False: refused; None: locked out (even a good token waits)
        with self._auth_lock:
            now = time.monotonic()
            if now < self._locked_until:
                return None
            ok = (
                header is not None
                and header.startswith("Bearer ")
                and hmac.compare_digest(header.removeprefix("Bearer ").encode("utf-8"), self._token)
            )
            if ok:
                self._failures = 0
                return True
            self._failures += 1
            if self._failures > self._max_failures:
                self._failures = 0
                self._locked_until = now + self._lockout_secs
                logger.warning(
                    "Safety control endpoint locked for %ss after failed authentications", self._lockout_secs
                )
            return False

    def _refuse_auth(self, body: dict[str, Any]) -> None:
        # recorded on the owner thread like any command; nobody waits for it
        kind = _KINDS.get(str(body.get("command")), CommandKind.SET_MODE)

        def record() -> dict[str, Any]:
            self._gate.refuse_command(
                kind, "unauthenticated", "control request with a missing or wrong token"
            )
            return {"ok": False}

        self._jobs.put((record, Future()))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("control %s", format % args)

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if self.path != "/command" or not 0 < length <= _MAX_BODY:
                    self._reply(
                        400, {"ok": False, "error": "INVALID_ORDER", "message": "POST /command with JSON"}
                    )
                    return
                try:
                    body = json.loads(self.rfile.read(length))
                except json.JSONDecodeError:
                    body = None
                if not isinstance(body, dict):
                    self._reply(
                        400, {"ok": False, "error": "INVALID_ORDER", "message": "body must be an object"}
                    )
                    return
                authorized = endpoint._authorized(self.headers.get("Authorization"))
                if authorized is None:
                    self._reply(
                        429, {"ok": False, "error": "LOCKED_OUT", "message": "too many failed attempts"}
                    )
                    return
                if not authorized:
                    endpoint._refuse_auth(body)
                    self._reply(
                        401, {"ok": False, "error": "UNAUTHORIZED", "message": "missing or wrong token"}
                    )
                    return
                future: Future[dict[str, Any]] = Future()
                endpoint._jobs.put((lambda: endpoint.execute(body), future))
                try:
                    result = future.result(timeout=endpoint._timeout)
                except FutureTimeout:
                    future.cancel()
                    self._reply(504, {"ok": False, "error": "TIMEOUT", "message": "the node did not answer"})
                    return
                self._reply(200 if result.get("ok") else 409, result)

        return Handler


def run_command(gate: SafetyGate, body: dict[str, Any]) -> dict[str, Any]:
    """
    Run one operator command (the control endpoint's JSON body) on ``gate``; never raises.

    Returns the JSON-friendly reply. A REPLAY runs a session's recorded commands through this
    same function at their recorded times.
    """
    command = body.get("command")
    actor = str(body.get("actor") or "")
    try:
        if command == "status":
            return {"ok": True, "status": gate.status()}
        if not actor:
            return {"ok": False, "error": "INVALID_ORDER", "message": "an actor is required"}
        if command == "arm":
            arm = gate.arm(int(body["ttl_secs"]), actor, list(body.get("auto_confirm") or []))
            return {"ok": True, "arm_id": arm.arm_id, "expires_at_ns": arm.expires_at_ns}
        if command == "confirm":
            intent = gate.confirm(str(body["intent_hash"]), actor)
            return {
                "ok": True,
                "intent_hash": intent.intent_hash,
                "operation_id": intent.order.operation_id,
            }
        if command == "disarm":
            return {"ok": True, "was_armed": gate.disarm(actor)}
        if command == "kill":
            strategy = body.get("strategy_id")
            halt = gate.kill(
                actor, None if strategy is None else str(strategy), str(body.get("reason") or "")
            )
            return {"ok": True, "code": str(halt.code), "rule": str(halt.rule)}
        if command == "confirm_limits":
            ok = gate.confirm_limits(actor, str(body["limits_hash"]))
            if not ok:
                return {
                    "ok": False,
                    "error": "INVALID_CONFIG",
                    "message": "limits hash does not match the limits in force",
                }
            return {"ok": True, "limits_hash": gate.config.limits_hash()}
        if command == "reset_risk_baselines":
            gate.reset_risk_baselines(actor)
            return {"ok": True}
        if command == "resume":
            gate.resume(actor, str(body.get("incident_ref") or ""))
            return {"ok": True}
    except NautilusExtError as e:
        return {"ok": False, "error": str(e.code), "message": e.message, "details": _jsonable(e.details)}
    except (KeyError, TypeError, ValueError) as e:
        return {"ok": False, "error": "INVALID_ORDER", "message": f"bad {command} command: {e!r}"}
    return {"ok": False, "error": "INVALID_ORDER", "message": f"unknown command {command!r}"}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


__all__ = ["MIN_TOKEN_LENGTH", "ControlEndpoint", "run_command"]
