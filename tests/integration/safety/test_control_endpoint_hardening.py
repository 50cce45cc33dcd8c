"""
The control endpoint under abuse and bad input, over real sockets (issue 13, items 3 and 14).

A client that floods wrong tokens is locked out alone, and never keeps the operator from
``kill`` or ``disarm`` with the valid token; refused requests are audited with their reason and
never with the token. A malformed or short request gets a JSON error (no server traceback, no
handler thread held); ``status --url`` at something that is not the endpoint is a typed error.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from nautilus_trader.common.component import TestClock
from typer.testing import CliRunner

from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.audit.schemas import CommandOutcome
from nautilus_ext.audit.schemas import Mode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.cli import app
from nautilus_ext.safety.control import ControlEndpoint
from nautilus_ext.testing import eventually

from .test_control_cli import TOKEN
from .test_control_cli import Node
from .test_executor_gate import _config

ATTACKER = "127.0.0.2"  # another loopback source address: another client
OPERATOR = "127.0.0.1"


@pytest.fixture
def node() -> Iterator[Node]:
    with Node() as n:
        yield n


def _post(
    node: Node, body: dict[str, Any], token: str = TOKEN, source: str = OPERATOR
) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", node.endpoint.port, timeout=10, source_address=(source, 0))
    try:
        conn.request(
            "POST",
            "/command",
            body=json.dumps(body),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def _raw(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def _json_reply(raw: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def test_wrong_tokens_lock_out_one_client_but_never_the_kill_switch(node: Node) -> None:
    wrong = "w" * 40
    statuses = [_post(node, {"command": "status"}, token=wrong, source=ATTACKER)[0] for _ in range(6)]
    assert statuses == [401] * 6
    assert _post(node, {"command": "status"}, token=wrong, source=ATTACKER)[0] == 429
    # the locked-out client stays locked for every other command, even with the right token
    status, reply = _post(node, {"command": "status"}, source=ATTACKER)
    assert (status, reply["error"]) == (429, "LOCKED_OUT")
    assert _post(node, {"command": "arm", "ttl_secs": 60, "actor": "mallory"}, source=ATTACKER)[0] == 429
    assert not node.gate.arming.is_armed()
    # another client is not affected
    assert _post(node, {"command": "status"}, source=OPERATOR)[0] == 200
    # kill and disarm with the valid token always pass, from the locked-out address too
    status, reply = _post(node, {"command": "disarm", "actor": "alice"}, source=ATTACKER)
    assert status == 200, reply
    status, reply = _post(node, {"command": "kill", "actor": "alice", "reason": "drill"}, source=ATTACKER)
    assert status == 200, reply
    assert node.gate.safe is not None
    # and it stays locked for the rest
    assert _post(node, {"command": "status"}, source=ATTACKER)[0] == 429

    def settled() -> bool:
        return any(e.command is CommandKind.KILL for e in node.events)

    eventually(settled, timeout_secs=5)
    commands = [e for e in node.events if e.command is not None]
    assert any(
        e.command is CommandKind.KILL and e.outcome is CommandOutcome.ACCEPTED and e.actor == "alice"
        for e in commands
    )
    eventually(lambda: len([e for e in node.events if e.actor == "unauthenticated"]) >= 10, timeout_secs=5)
    refused = [e for e in node.events if e.actor == "unauthenticated"]
    assert all(e.outcome is CommandOutcome.REJECTED for e in refused)
    reasons = [str(e.message) for e in refused]
    assert sum("(wrong_token)" in r for r in reasons) == 6
    assert sum("(locked_out)" in r for r in reasons) == 4
    assert any(e.command is CommandKind.ARM for e in refused)
    everything = repr(node.events)
    assert TOKEN not in everything
    assert wrong not in everything


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", ""])
def test_bad_content_length_is_a_json_400_without_server_traceback(
    node: Node, length: str, capfd: pytest.CaptureFixture[str]
) -> None:
    header = f"Content-Length: {length}\r\n" if length else ""
    raw = _raw(
        node.endpoint.port, f"POST /command HTTP/1.1\r\nHost: x\r\n{header}Connection: close\r\n\r\n".encode()
    )
    status, reply = _json_reply(raw)
    assert status == 400
    assert reply["ok"] is False
    assert reply["error"] == "INVALID_ORDER"
    assert "Traceback" not in capfd.readouterr().err
    assert _post(node, {"command": "status"})[0] == 200  # still serving


def test_garbage_request_line_is_a_json_error(node: Node) -> None:
    for request in (b"\x16\x03\x01 / HTTP/1.1\r\n\r\n", b"POST /command HTTP/7.0\r\n\r\n"):
        raw = _raw(node.endpoint.port, request)
        # before a request line parses, http.server answers HTTP/0.9 style: the body alone
        reply = _json_reply(raw)[1] if raw.startswith(b"HTTP/") else json.loads(raw)
        assert reply["ok"] is False
        assert reply["error"] == "INVALID_ORDER"


def test_short_body_times_out_instead_of_holding_a_handler_thread(capfd: pytest.CaptureFixture[str]) -> None:
    node = Node()
    node.endpoint.stop()
    node.endpoint = ControlEndpoint(node.gate, TOKEN, read_timeout_secs=0.3)
    with node:
        before = threading.active_count()
        request = b"POST /command HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b'{"command"'
        with socket.create_connection(("127.0.0.1", node.endpoint.port), timeout=5) as sock:
            sock.sendall(request)  # and keep the connection open without sending the rest
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
            data = b"".join(chunks)
        status, reply = _json_reply(data)
        assert status == 408
        assert reply["error"] == "INVALID_ORDER"
        eventually(lambda: threading.active_count() <= before, timeout_secs=5)
    assert "Traceback" not in capfd.readouterr().err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_port_refuses_connections_until_serving() -> None:
    port = _free_port()
    clock = TestClock()
    clock.set_time(1_709_251_200 * 1_000_000_000)
    gate = SafetyGate(_config(Mode.LIVE), clock, sink=lambda event: None)
    endpoint = ControlEndpoint(gate, TOKEN, port=port)
    try:
        assert endpoint.port == port
        with pytest.raises(ConnectionRefusedError):  # built, not started: refused, never a hang
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        endpoint.start()
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        with pytest.raises(InvalidConfig, match="Address already in use"):  # the port is taken
            ControlEndpoint(gate, TOKEN, port=port)
    finally:
        endpoint.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


class _HtmlHandler(BaseHTTPRequestHandler):
    status = 200

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        data = b"<html><body>It works!</body></html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Html404(_HtmlHandler):
    status = 404


@pytest.mark.parametrize("handler", [_HtmlHandler, _Html404])
def test_status_at_a_non_endpoint_is_a_typed_error(handler: type[BaseHTTPRequestHandler]) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = CliRunner().invoke(app, ["status", "--url", url], env={"NAUTILUS_EXT_CONTROL_TOKEN": TOKEN})
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 1
    assert "INVALID_CONFIG" in result.output
    assert "not a nautilus-ext control endpoint" in result.output
    assert "Traceback" not in result.output
    assert "JSONDecodeError" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_status_at_a_closed_port_is_a_typed_error() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    result = CliRunner().invoke(app, ["status", "--url", url], env={"NAUTILUS_EXT_CONTROL_TOKEN": TOKEN})
    assert result.exit_code == 1
    assert "VENUE_UNAVAILABLE" in result.output
    result = CliRunner().invoke(
        app, ["status", "--url", "nonsense"], env={"NAUTILUS_EXT_CONTROL_TOKEN": TOKEN}
    )
    assert result.exit_code == 1
    assert "VENUE_UNAVAILABLE" in result.output
