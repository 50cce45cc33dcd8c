"""
The web console's application against a real SafetyGate (no node): logins, roles, CSRF,
lockout, two-step confirmation, every action through ``run_command`` and audited as
``web:<user>``, no secret in any page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from nautilus_trader.common.component import TestClock

from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.audit.schemas import CommandOutcome
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.operator.web.app import create_app
from nautilus_ext.operator.web.auth import Authenticator
from nautilus_ext.operator.web.auth import Role
from nautilus_ext.operator.web.auth import parse_users
from nautilus_ext.operator.web.auth import users_from_env
from nautilus_ext.operator.web.server import ConsoleServer
from nautilus_ext.operator.web.state import ConsoleState
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyEvent
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.control import run_command
from tests.unit.safety.conftest import T0
from tests.unit.safety.conftest import config_dict
from tests.unit.safety.conftest import make_order

OPERATOR_SECRET = "op-secret-0123456789abcdef"
VIEWER_SECRET = "view-secret-0123456789abcd"
USERS = f"alice:operator:{OPERATOR_SECRET},victor:viewer:{VIEWER_SECRET}"


class Node:
    """A gate on a test clock, the console state fed from it, and the recorded safety events."""

    def __init__(self) -> None:
        self.clock = TestClock()
        self.clock.set_time(T0)
        self.events: list[SafetyEvent] = []
        self.gate = SafetyGate(SafetyConfig.parse(config_dict("LIVE")), self.clock, sink=self.events.append)
        self.state = ConsoleState()
        self.bodies: list[dict[str, Any]] = []
        self.sync()

    def command(self, body: dict[str, Any]) -> dict[str, Any]:
        self.bodies.append(body)
        reply = run_command(self.gate, body)
        self.sync()
        return reply

    def sync(self) -> None:
        self.state.set_status(self.gate.status())


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def node() -> Node:
    return Node()


class Client(requests.Session):
    """A browser-like session against a real console server on 127.0.0.1."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", 10)
        return super().request(method, self.base + str(url), *args, **kwargs)


@pytest.fixture
def serve() -> Iterator[Callable[..., Client]]:
    servers: list[ConsoleServer] = []

    def start(node: Node, clock: Clock | None = None, actions_per_minute: int = 30) -> Client:
        auth = Authenticator(parse_users(USERS), clock=clock or Clock())
        server = ConsoleServer(
            create_app(node.state, auth, node.command, actions_per_minute=actions_per_minute), "127.0.0.1", 0
        )
        server.start()
        servers.append(server)
        return Client(server.url)

    yield start
    for server in servers:
        server.stop()


def _login(client: Client, user: str, secret: str) -> Any:
    page = client.get("/login")
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert nonce is not None
    return client.post(
        "/login", data={"nonce": nonce.group(1), "user": user, "secret": secret}, allow_redirects=False
    )


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_users_come_hashed_from_the_environment() -> None:
    users = users_from_env("WEB_USERS", {"WEB_USERS": USERS})
    assert users["alice"].role is Role.OPERATOR
    assert users["victor"].role is Role.VIEWER
    assert OPERATOR_SECRET.encode() not in users["alice"].digest
    for spec, problem in [
        ("", "at least one user"),
        ("alice:admin:" + "x" * 20, "role must be viewer or operator"),
        ("alice:operator:short", "16+ characters"),
        ("alice:operator", "not name:role:secret"),
        (f"a:viewer:{'x' * 16},a:viewer:{'y' * 16}", "listed twice"),
    ]:
        with pytest.raises(InvalidConfig) as info:
            parse_users(spec)
        assert problem in info.value.message
        assert "x" * 16 not in info.value.message  # a secret is never echoed
    with pytest.raises(InvalidConfig, match=r"\$WEB_USERS"):
        users_from_env("WEB_USERS", {})


def test_login_lockout_rate_limit_and_session_expiry() -> None:
    clock = Clock()
    auth = Authenticator(
        parse_users(USERS),
        clock=clock,
        max_failures=3,
        lockout_secs=60,
        logins_per_minute=100,
        session_ttl_secs=30,
    )
    for _ in range(2):
        assert auth.login("10.0.0.1", "alice", "wrong-secret-xxxxxxx") == (None, "wrong_credentials")
    assert auth.login("10.0.0.1", "nobody", "wrong-secret-xxxxxxx") == (None, "locked_out")
    # locked out even with the right secret; another address is not affected
    assert auth.login("10.0.0.1", "alice", OPERATOR_SECRET) == (None, "locked_out")
    session, why = auth.login("10.0.0.2", "alice", OPERATOR_SECRET)
    assert session is not None
    assert why == "ok"
    clock.now += 61
    session, _ = auth.login("10.0.0.1", "alice", OPERATOR_SECRET)
    assert session is not None
    assert auth.session(session.sid) is session
    assert auth.csrf_ok(session, session.csrf)
    assert not auth.csrf_ok(session, session.csrf[:-1] + "x")
    assert not auth.csrf_ok(session, None)
    clock.now += 31
    assert auth.session(session.sid) is None
    limited = Authenticator(parse_users(USERS), clock=clock, logins_per_minute=2)
    assert limited.login("h", "alice", OPERATOR_SECRET)[1] == "ok"
    assert limited.login("h", "alice", OPERATOR_SECRET)[1] == "ok"
    assert limited.login("h", "alice", OPERATOR_SECRET) == (None, "rate_limited")


def test_pages_need_a_login_and_carry_security_headers(node: Node, serve: Callable[..., Client]) -> None:
    client = serve(node)
    for path in ("/", "/recovery", "/audit", "/confirm/abc"):
        response = client.get(path, allow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
    assert client.post("/action/arm", data={"ttl_secs": "60"}).status_code == 401
    assert client.get("/events").status_code == 401
    login = client.get("/login")
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
    assert login.headers["x-frame-options"] == "DENY"
    # a login without the form's nonce (cross-site login) is refused
    refused = client.post("/login", data={"user": "alice", "secret": OPERATOR_SECRET}, allow_redirects=False)
    assert refused.status_code == 403
    wrong = _login(client, "alice", "not-the-secret-at-all")
    assert wrong.status_code == 401
    assert "wrong name or secret" in wrong.text
    ok = _login(client, "alice", OPERATOR_SECRET)
    assert ok.status_code == 303
    cookie = ok.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    page = client.get("/")
    assert page.status_code == 200
    assert OPERATOR_SECRET not in page.text
    assert VIEWER_SECRET not in page.text
    assert "alice (operator)" in page.text


def test_every_action_needs_the_csrf_token_and_the_operator_role(
    node: Node, serve: Callable[..., Client]
) -> None:
    viewer = serve(node)
    _login(viewer, "victor", VIEWER_SECRET)
    page = viewer.get("/")
    assert 'action="/action/arm"' not in page.text  # viewers get no action forms
    refused = viewer.post("/action/arm", data={"ttl_secs": "60", "csrf": _csrf(page.text)})
    assert refused.status_code == 403
    operator = serve(node)
    _login(operator, "alice", OPERATOR_SECRET)
    page = operator.get("/")
    assert operator.post("/action/arm", data={"ttl_secs": "60"}).status_code == 403
    assert operator.post("/action/arm", data={"ttl_secs": "60", "csrf": "forged"}).status_code == 403
    assert operator.post("/action/shutdown", data={"csrf": _csrf(page.text)}).status_code == 404
    assert node.bodies == []
    assert not node.gate.arming.is_armed()


def test_arm_and_two_step_confirm_are_audited_as_the_web_user(
    node: Node, serve: Callable[..., Client]
) -> None:
    client = serve(node)
    _login(client, "alice", OPERATOR_SECRET)
    csrf = _csrf(client.get("/").text)
    armed = client.post(
        "/action/arm", data={"ttl_secs": "120", "csrf": csrf}, headers={"referer": client.base + "/"}
    )
    assert armed.status_code == 200  # followed the redirect back to the dashboard
    assert "arm: armed" in armed.text
    assert 'id="armed">ARMED' in armed.text
    assert node.gate.arming.is_armed()
    staged = node.gate.stage(make_order("op-9", amount="0.5"))
    node.sync()
    dashboard = client.get("/")
    assert f"/confirm/{staged.intent_hash}" in dashboard.text
    # step one shows what the hash covers; step two confirms exactly that hash
    step = client.get(f"/confirm/{staged.intent_hash}")
    assert staged.intent_hash in step.text
    assert "op-9" in step.text
    assert "BUY" in step.text
    assert "0.5" in step.text
    done = client.post("/action/confirm", data={"intent_hash": staged.intent_hash, "csrf": csrf})
    assert f"confirm: released op-9 ({staged.intent_hash})" in done.text
    again = client.get(f"/confirm/{staged.intent_hash}").text
    assert "already confirmed by web:alice" in again
    assert 'action="/action/confirm"' not in again
    wrong = client.post("/action/confirm", data={"intent_hash": "0" * 64, "csrf": csrf})
    assert "confirm refused" in wrong.text
    commands = [(e.command, e.outcome, e.actor) for e in node.events if e.command is not None]
    assert (CommandKind.ARM, CommandOutcome.ACCEPTED, "web:alice") in commands
    assert (CommandKind.CONFIRM, CommandOutcome.ACCEPTED, "web:alice") in commands


def test_kill_recovery_checklist_and_cancel_all(node: Node, serve: Callable[..., Client]) -> None:
    client = serve(node)
    _login(client, "alice", OPERATOR_SECRET)
    csrf = _csrf(client.get("/").text)
    killed = client.post("/action/kill", data={"reason": "drill", "csrf": csrf})
    assert "node: SAFE mode" in killed.text
    assert node.gate.safe is not None
    checklist = client.get("/recovery")
    limits_hash = node.gate.config.limits_hash()
    assert limits_hash in checklist.text
    assert "node is in SAFE mode" in checklist.text
    assert "risk limits not confirmed" in checklist.text
    back = {"referer": client.base + "/recovery"}
    confirmed = client.post(
        "/action/confirm_limits", data={"limits_hash": limits_hash, "csrf": csrf}, headers=back
    )
    assert "confirm_limits: done" in confirmed.text
    assert "Resume checklist" in confirmed.text
    assert "risk limits not confirmed" not in confirmed.text
    refused = client.post("/action/resume", data={"incident_ref": "INC-7", "csrf": csrf}, headers=back)
    assert "resume refused" in refused.text  # no fresh data on this bare gate
    cancelled = client.post("/action/cancel_all", data={"venue": "BYBIT", "csrf": csrf})
    assert "cancel_all: 0 cancel(s) sent" in cancelled.text
    assert node.bodies[-1] == {"command": "cancel_all", "actor": "web:alice", "venue": "BYBIT"}
    flattened = client.post("/action/flatten", data={"strategy_id": "S-1", "csrf": csrf})
    assert "flatten: 0 closing order(s) sent" in flattened.text  # a bare gate holds no positions
    blank = client.post("/action/kill", data={"strategy_id": " ", "csrf": csrf})
    assert "kill refused: name the strategy to kill" in blank.text
    rules = [e.rule for e in node.events if e.command is CommandKind.KILL]
    assert "cancel_all" in rules
    assert "flatten" in rules


def test_actions_are_rate_limited_per_user(node: Node, serve: Callable[..., Client]) -> None:
    client = serve(node, actions_per_minute=2)
    _login(client, "alice", OPERATOR_SECRET)
    csrf = _csrf(client.get("/").text)
    codes = [client.post("/action/disarm", data={"csrf": csrf}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
