"""
A local, authenticated control endpoint for a running node's :class:`SafetyGate`.

The endpoint listens on a loopback address only and accepts ``POST /command`` with a JSON body
``{"command": ..., ...}`` and the header ``Authorization: Bearer <token>``; the token is
compared in constant time and never logged (nor audited). Commands: ``arm`` (``ttl_secs``, ``actor``,
``auto_confirm``), ``confirm`` (``intent_hash``, ``actor``), ``disarm`` (``actor``), ``kill``
(``actor``, ``strategy_id``, ``reason``: replies with what it ``cancelled`` and what it
``not_cancelled``), ``release`` (``actor``, ``strategy_id``, ``incident_ref``: lift a
per-strategy kill), ``confirm_limits`` (``actor``, ``limits_hash``: a recovery check),
``reset_risk_baselines`` (``actor``: count losses afresh), ``resume`` (``actor``,
``incident_ref``), ``cancel_all`` (``actor``, optional ``venue`` and ``strategy_id``: cancel
working orders without a halt), ``flatten`` (``actor``, ``strategy_id``: close the strategy's
open positions with reduce-only orders through the gate), ``status`` (:data:`COMMANDS` lists
them). Every reply but ``status`` carries
``state``: the node's state after the command (SAFE or not and why, armed or not, killed
strategies, what still blocks a resume), so a client says exactly where the node stands.
:func:`run_command` is the one control path: the CLI, and any other operator surface, send the
same bodies.

The gate is not thread-safe and belongs to the node's thread: the HTTP thread only queues a
command; the owner runs :meth:`ControlEndpoint.process_pending` (from a Nautilus timer, say)
and the HTTP thread returns the result or a timeout. Every command reaches the audit log
through the gate's own sink; a refused request (wrong token, lockout) is reported to the same
sink with its reason, never with the token.

Lockout (seed 001, section 20, "lockout on abuse") is per client address: a client that sends
more than ``max_auth_failures`` wrong tokens is refused (``429 LOCKED_OUT``) for ``lockout_secs``,
other clients are not affected, and ``kill`` and ``disarm`` carrying the valid token are never
refused, so a flood of bad requests cannot lock the operator out of the kill switch.

The constructor reserves the port (binds it) but only :meth:`ControlEndpoint.start` listens: a
node that never starts (a venue refused its keys, say) has a port that refuses connections at
once, never one that accepts them and never answers. Requests are read with a socket timeout
(a short body cannot hold a handler thread) and a malformed request gets a ``400`` JSON error.
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
_MAX_TRACKED_CLIENTS: Final = 1024
_ALWAYS_ALLOWED: Final = frozenset({"kill", "disarm"})
"""Commands a valid token may always send, even from a locked-out client."""

COMMANDS: Final = (
    "arm",
    "confirm",
    "disarm",
    "kill",
    "release",
    "confirm_limits",
    "reset_risk_baselines",
    "resume",
    "cancel_all",
    "flatten",
    "status",
)
"""Every command :func:`run_command` runs (the CLI has one subcommand each, ``_`` as ``-``)."""

_KINDS: Final = {
    "arm": CommandKind.ARM,
    "release": CommandKind.RESUME,
    "confirm": CommandKind.CONFIRM,
    "disarm": CommandKind.DISARM,
    "kill": CommandKind.KILL,
    "resume": CommandKind.RESUME,
    "confirm_limits": CommandKind.RESUME,
    "reset_risk_baselines": CommandKind.RESUME,
    "cancel_all": CommandKind.KILL,
    "flatten": CommandKind.KILL,
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
        Failed authentications tolerated per client address before a lockout (seed 001,
        section 20).
    lockout_secs : float
        How long a locked-out client's requests are refused (except ``kill`` and ``disarm``
        with the valid token), seconds (monotonic time: a network-facing guard, not part of
        what a REPLAY reproduces).
    read_timeout_secs : float
        Socket timeout while reading a request, seconds.
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
        read_timeout_secs: float = 5.0,
    ) -> None:
        if len(token) < MIN_TOKEN_LENGTH:
            raise InvalidConfig(f"the control token must have at least {MIN_TOKEN_LENGTH} characters")
        if host not in _LOOPBACK:
            raise InvalidConfig(f"the control endpoint listens on loopback only, not {host!r}")
        self._gate = gate
        self._token = token.encode("utf-8")
        self._timeout = reply_timeout_secs
        self._jobs: queue.Queue[_Job] = queue.Queue()
        self._read_timeout = read_timeout_secs
        # the port is reserved (bound) here but listens only from start(): until the node
        # serves, a connection is refused at once instead of waiting in a backlog forever
        self._server = _Server((host, port), self._handler_class(), bind_and_activate=False)
        try:
            self._server.server_bind()
        except OSError as e:
            self._server.server_close()
            raise InvalidConfig(
                f"the control endpoint cannot use {host}:{port}: {e.strerror or type(e).__name__}"
            ) from None
        self._serving = False
        self._thread: threading.Thread | None = None
        self._max_failures = max_auth_failures
        self._lockout_secs = lockout_secs
        self._clients: dict[str, _ClientAuth] = {}
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
        """
        Listen and serve requests on a daemon thread (connections are refused before).

        Raises
        ------
        InvalidConfig
            If another socket already listens on the port.
        """
        if self._serving:
            return
        try:
            self._server.server_activate()
        except OSError as e:  # another process listens there (SO_REUSEADDR let both bind)
            raise InvalidConfig(
                f"the control endpoint cannot listen on {self.url}: {e.strerror or type(e).__name__}"
            ) from None
        self._serving = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="safety-control", daemon=True)
        self._thread.start()
        logger.info("Safety control endpoint listening on %s", self.url)

    def stop(self) -> None:
        """Stop serving, release the port and fail queued commands (also if never started)."""
        if self._serving:
            self._server.shutdown()
            self._serving = False
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

    def _authorized(self, client: str, header: str | None, command: str) -> str | None:
        # None: accepted; otherwise the refusal reason ("wrong_token" or "locked_out")
        valid = (
            header is not None
            and header.startswith("Bearer ")
            and hmac.compare_digest(header.removeprefix("Bearer ").encode("utf-8"), self._token)
        )
        with self._auth_lock:
            now = time.monotonic()
            state = self._clients.get(client)
            locked = state is not None and now < state.locked_until
            if valid and (not locked or command in _ALWAYS_ALLOWED):
                if not locked:
                    self._clients.pop(client, None)
                return None
            if locked:
                return "locked_out"
            if state is None:
                if len(self._clients) >= _MAX_TRACKED_CLIENTS:
                    self._forget_oldest(now)
                state = self._clients[client] = _ClientAuth()
            state.failures += 1
            if state.failures > self._max_failures:
                state.failures = 0
                state.locked_until = now + self._lockout_secs
                logger.warning(
                    "Safety control endpoint locks out client %s for %ss after failed authentications",
                    client,
                    self._lockout_secs,
                )
            return "wrong_token"

    def _forget_oldest(self, now: float) -> None:
        # keep locked-out clients; drop expired entries first, then the oldest
        for key in [k for k, v in self._clients.items() if v.locked_until <= now]:
            del self._clients[key]
        while len(self._clients) >= _MAX_TRACKED_CLIENTS:
            del self._clients[next(iter(self._clients))]

    def _refuse(self, command: str, client: str, reason: str) -> None:
        # recorded on the owner thread like any command; nobody waits for it (never the token)
        kind = _KINDS.get(command, CommandKind.SET_MODE)
        messages = {
            "wrong_token": "control request with a missing or wrong token",
            "locked_out": "control request from a client locked out after failed authentications",
        }
        message = f"{command or 'unknown'} refused ({reason}) from {client}: {messages[reason]}"

        def record() -> dict[str, Any]:
            self._gate.refuse_command(kind, "unauthenticated", message)
            return {"ok": False}

        self._jobs.put((record, Future()))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("control %s", format % args)

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError as e:  # the client went away: nothing to tell it
                    self.close_connection = True
                    logger.debug("control reply not delivered: %r", e)

            def setup(self) -> None:
                super().setup()
                self.connection.settimeout(endpoint._read_timeout)  # a short body cannot hang us

            def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
                # http.server's own refusals (bad request line, headers): JSON like the rest
                self.close_connection = True
                self._reply(code, _error("INVALID_ORDER", message or "malformed HTTP request"))

            def do_GET(self) -> None:
                self._reply(405, _error("INVALID_ORDER", "use POST /command with a JSON body"))

            def do_POST(self) -> None:
                try:
                    length = int(self.headers.get("Content-Length") or "")
                except ValueError:
                    length = -1
                if self.path != "/command" or not 0 < length <= _MAX_BODY:
                    self.close_connection = True  # the unread body must not parse as a request
                    self._reply(
                        400,
                        _error(
                            "INVALID_ORDER",
                            f"POST /command with a JSON body and a Content-Length of 1..{_MAX_BODY} bytes",
                        ),
                    )
                    return
                try:
                    raw = self.rfile.read(length)
                except TimeoutError:
                    self.close_connection = True
                    self._reply(408, _error("INVALID_ORDER", "the request body did not arrive in time"))
                    return
                if len(raw) < length:
                    self.close_connection = True
                    self._reply(
                        400, _error("INVALID_ORDER", "the request body is shorter than Content-Length")
                    )
                    return
                try:
                    body = json.loads(raw)
                except (ValueError, RecursionError):
                    body = None
                if not isinstance(body, dict):
                    self._reply(400, _error("INVALID_ORDER", "body must be a JSON object"))
                    return
                command = str(body.get("command") or "")
                client = str(self.client_address[0])
                refused = endpoint._authorized(client, self.headers.get("Authorization"), command)
                if refused is not None:
                    endpoint._refuse(command, client, refused)
                    if refused == "locked_out":
                        self._reply(429, _error("LOCKED_OUT", "too many failed attempts from this client"))
                    else:
                        self._reply(401, _error("UNAUTHORIZED", "missing or wrong token"))
                    return
                future: Future[dict[str, Any]] = Future()
                endpoint._jobs.put((lambda: endpoint.execute(body), future))
                try:
                    result = future.result(timeout=endpoint._timeout)
                except FutureTimeout:
                    future.cancel()
                    self._reply(504, _error("TIMEOUT", "the node did not answer"))
                    return
                self._reply(200 if result.get("ok") else 409, result)

        return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a broken connection is the client's problem: log it, print no traceback
        logger.debug("control connection from %s failed", client_address[0], exc_info=True)


class _ClientAuth:
    # failed authentications of one client address and its lockout deadline (monotonic)
    __slots__ = ("failures", "locked_until")

    def __init__(self) -> None:
        self.failures = 0
        self.locked_until = 0.0


def _error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": code, "message": message}


def node_state(gate: SafetyGate) -> dict[str, Any]:
    """
    Return the operator's view of ``gate`` right now (JSON-friendly).

    ``safe`` (bool) and ``safe_reason``, ``armed`` and ``arm_expires_at_ns``,
    ``killed_strategies``, and ``recovery_problems``: what still prevents a ``resume`` besides
    the incident reference (empty when not SAFE).
    """
    safe = gate.safe
    arm = gate.arming.arm_state
    return {
        "mode": str(gate.mode),
        "safe": safe is not None,
        "safe_reason": None if safe is None else f"{safe.message} ({safe.code}/{safe.rule})",
        "armed": arm is not None,
        "arm_expires_at_ns": None if arm is None else arm.expires_at_ns,
        "killed_strategies": sorted(gate.halts.killed_strategies),
        "recovery_problems": gate.recovery_problems(None),
    }


def run_command(gate: SafetyGate, body: dict[str, Any]) -> dict[str, Any]:
    """
    Run one operator command (the control endpoint's JSON body) on ``gate``; never raises.

    Returns the JSON-friendly reply; every reply but ``status`` carries the node's ``state``
    after the command (:func:`node_state`). A REPLAY runs a session's recorded commands through
    this same function at their recorded times.
    """
    reply = _run(gate, body)
    if body.get("command") != "status":
        reply["state"] = node_state(gate)
    return reply


def _run(gate: SafetyGate, body: dict[str, Any]) -> dict[str, Any]:
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
            report = gate.kill_and_cancel(
                actor, None if strategy is None else str(strategy), str(body.get("reason") or "")
            )
            return {
                "ok": True,
                "code": str(report.halt.code),
                "rule": str(report.halt.rule),
                "cancelled": list(report.cancelled),
                "not_cancelled": list(report.not_cancelled),
            }
        if command == "release":
            strategy_id = str(body["strategy_id"])
            incident = str(body.get("incident_ref") or "")
            problems = gate.release_problems(strategy_id, incident)
            if problems:
                message = f"cannot release strategy {strategy_id}: {'; '.join(problems)}"
                gate.refuse_command(CommandKind.RESUME, actor, message)
                return {
                    "ok": False,
                    "error": "RISK_BLOCKED",
                    "message": message,
                    "details": {"problems": problems},
                }
            gate.release_strategy(actor, strategy_id, incident)
            return {"ok": True, "strategy_id": strategy_id}
        if command == "cancel_all":
            venue = body.get("venue")
            strategy = body.get("strategy_id")
            done, failed = gate.cancel_all(
                actor, None if not venue else str(venue), None if not strategy else str(strategy)
            )
            return {"ok": True, "cancelled": done, "not_cancelled": failed}
        if command == "flatten":
            sent, failed = gate.flatten(actor, str(body["strategy_id"]))
            return {"ok": not failed, "sent": sent, "not_sent": failed} | (
                {} if not failed else {"error": "RISK_BLOCKED", "message": "; ".join(failed)}
            )
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
            if not gate.resume(actor, str(body.get("incident_ref") or "")):
                return {
                    "ok": False,
                    "error": "INVALID_ORDER",
                    "message": "not in SAFE mode: nothing to resume",
                }
            return {"ok": True}
    except NautilusExtError as e:
        return {"ok": False, "error": str(e.code), "message": e.message, "details": _jsonable(e.details)}
    except (KeyError, TypeError, ValueError) as e:
        return {"ok": False, "error": "INVALID_ORDER", "message": f"bad {command} command: {e!r}"}
    return {"ok": False, "error": "INVALID_ORDER", "message": f"unknown command {command!r}"}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


__all__ = ["COMMANDS", "MIN_TOKEN_LENGTH", "ControlEndpoint", "node_state", "run_command"]
