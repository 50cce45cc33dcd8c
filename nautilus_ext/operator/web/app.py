"""
The web console's FastAPI application (see :mod:`nautilus_ext.operator.web`).

Pages are rendered on the server (:mod:`nautilus_ext.operator.web.pages`); ``/events`` is a
Server-Sent Events stream pushing fresh dashboard fragments when the node's state changes.
Every action is a ``POST /action/<command>`` with the session's CSRF token, allowed to the
``operator`` role only, and sent as the control endpoint's JSON body (with ``actor`` set to
``web:<user>``) through ``commander`` (the node's safety control path), so the gate audits it
with the operator's identity.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from collections.abc import Callable
from typing import Any
from typing import Final
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.responses import PlainTextResponse
from fastapi.responses import RedirectResponse
from fastapi.responses import Response
from fastapi.responses import StreamingResponse

from nautilus_ext.audit.lineage import Lineage
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.operator.web import pages
from nautilus_ext.operator.web.auth import Authenticator
from nautilus_ext.operator.web.auth import Role
from nautilus_ext.operator.web.auth import Session
from nautilus_ext.operator.web.state import ConsoleState
from nautilus_ext.safety.cli import state_lines

logger = logging.getLogger(__name__)

SESSION_COOKIE: Final = "nx_session"
LOGIN_COOKIE: Final = "nx_login"
_MAX_FORM: Final = 16 * 1024
Commander = Callable[[dict[str, Any]], dict[str, Any]]
"""Runs one control command body on the node and returns its reply (never raises)."""
AuditLookup = Callable[[str], Lineage | None]
"""Returns the lineage of an intent, order or fill id (or ``None``)."""

# form fields each action takes (everything else in a form is ignored)
ACTIONS: Final[dict[str, tuple[str, ...]]] = {
    "arm": ("ttl_secs",),
    "disarm": (),
    "confirm": ("intent_hash",),
    "kill": ("strategy_id", "reason"),
    "release": ("strategy_id", "incident_ref"),
    "confirm_limits": ("limits_hash",),
    "reset_risk_baselines": (),
    "resume": ("incident_ref",),
    "cancel_all": ("venue", "strategy_id"),
    "flatten": ("strategy_id",),
}
_SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class _ActionLimiter:
    # per-user sliding window of actions (a stuck key or a script cannot flood the gate)
    def __init__(self, per_minute: int) -> None:
        self._per_minute = per_minute
        self._times: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, user: str) -> bool:
        now = time.monotonic()
        with self._lock:
            times = self._times.setdefault(user, deque())
            while times and now - times[0] >= 60.0:
                times.popleft()
            if len(times) >= self._per_minute:
                return False
            times.append(now)
            return True


def describe_reply(command: str, reply: dict[str, Any]) -> list[str]:
    """Return the flash lines of a command's reply: the outcome, then where the node stands."""
    if reply.get("ok"):
        head = f"{command}: done"
        if command == "confirm":
            head = f"confirm: released {reply.get('operation_id')} ({reply.get('intent_hash')})"
        elif command == "flatten":
            head = f"flatten: {len(reply.get('sent') or [])} closing order(s) sent"
        elif command in ("kill", "cancel_all"):
            head = (
                f"{command}: {len(reply.get('cancelled') or [])} cancel(s) sent, "
                f"{len(reply.get('not_cancelled') or [])} not cancelled"
            )
        elif command == "arm":
            head = f"arm: armed (arm {reply.get('arm_id')})"
    else:
        head = f"{command} refused: {reply.get('error')}: {reply.get('message', '')}"
    state = reply.get("state")
    return [head, *(state_lines(state) if isinstance(state, dict) else [])]


def create_app(
    state: ConsoleState,
    auth: Authenticator,
    commander: Commander,
    audit_lookup: AuditLookup | None = None,
    *,
    secure_cookies: bool = False,
    actions_per_minute: int = 30,
    stream_interval_secs: float = 0.25,
) -> FastAPI:
    """
    Build the console application.

    Parameters
    ----------
    state : ConsoleState
        What the pages show.
    auth : Authenticator
        Users, sessions, CSRF and lockout.
    commander : Commander
        The node's control path.
    audit_lookup : AuditLookup, optional
        Lineage queries (``None``: the node keeps no audit log).
    secure_cookies : bool
        Mark cookies ``Secure`` (behind TLS).
    actions_per_minute : int
        Actions one user may send per minute.
    stream_interval_secs : float
        How often the event stream looks for changes.
    """
    app = FastAPI(title="nautilus-ext console", docs_url=None, redoc_url=None, openapi_url=None)
    limiter = _ActionLimiter(actions_per_minute)

    @app.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        response: Response = await call_next(request)
        for key, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    def current(request: Request) -> Session | None:
        return auth.session(request.cookies.get(SESSION_COOKIE))

    def to_login() -> RedirectResponse:
        return RedirectResponse("/login", status_code=303)

    def pop_flash(session: Session) -> list[str]:
        flash, session.flash = session.flash, []
        return flash

    async def form_of(request: Request) -> dict[str, str] | None:
        raw = await request.body()
        if len(raw) > _MAX_FORM:
            return None
        try:
            parsed = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=32)
        except (UnicodeDecodeError, ValueError):
            return None
        return {k: v[0] for k, v in parsed.items()}

    def client_of(request: Request) -> str:
        return request.client.host if request.client is not None else "unknown"

    @app.get("/static/console.js")
    async def console_js() -> Response:
        return Response(pages.CONSOLE_JS, media_type="text/javascript")

    @app.get("/healthz")
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/login")
    async def login_form() -> HTMLResponse:
        nonce = secrets.token_urlsafe(24)
        response = HTMLResponse(pages.login_page(nonce))
        response.set_cookie(
            LOGIN_COOKIE, nonce, httponly=True, samesite="strict", secure=secure_cookies, max_age=600
        )
        return response

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await form_of(request) or {}
        nonce = request.cookies.get(LOGIN_COOKIE)
        if not nonce or not secrets.compare_digest(nonce, form.get("nonce", "")):
            return HTMLResponse(
                pages.login_page(secrets.token_urlsafe(24), "stale login form"), status_code=403
            )
        session, why = await asyncio.to_thread(
            auth.login, client_of(request), form.get("user", ""), form.get("secret", "")
        )
        if session is None:
            messages = {
                "locked_out": (429, "too many failed logins from this address: locked out for a while"),
                "rate_limited": (429, "too many login attempts: wait a minute"),
                "wrong_credentials": (401, "wrong name or secret"),
            }
            status, message = messages[why]
            logger.warning("Console login refused from %s: %s", client_of(request), why)
            fresh = secrets.token_urlsafe(24)
            refused = HTMLResponse(pages.login_page(fresh, message), status_code=status)
            refused.set_cookie(LOGIN_COOKIE, fresh, httponly=True, samesite="strict", secure=secure_cookies)
            return refused
        logger.info("Console login: %s (%s) from %s", session.user, session.role, client_of(request))
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            session.sid,
            httponly=True,
            samesite="strict",
            secure=secure_cookies,
            # on the session's own clock (an injected clock in tests is not time.monotonic)
            max_age=auth.seconds_left(session),
        )
        response.delete_cookie(LOGIN_COOKIE)
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        session = current(request)
        form = await form_of(request) or {}
        if session is not None and auth.csrf_ok(session, form.get("csrf")):
            auth.logout(session.sid)
        response = to_login()
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/")
    async def dashboard(request: Request) -> Response:
        session = current(request)
        if session is None:
            return to_login()
        return HTMLResponse(pages.dashboard(state.snapshot(), session, pop_flash(session)))

    @app.get("/events")
    async def events(request: Request) -> Response:
        session = current(request)
        if session is None:
            return PlainTextResponse("log in first", status_code=401)

        async def stream() -> AsyncIterator[str]:
            seen = -1
            last_sent = 0.0
            while not await request.is_disconnected() and auth.session(session.sid) is not None:
                now = time.monotonic()
                if state.version != seen or now - last_sent >= 5.0:  # 5 s: the arm TTL ticks down
                    snap = state.snapshot()
                    seen, last_sent = snap.version, now
                    parts: dict[str, str | int] = dict(pages.fragments(snap, session))
                    parts["__version"] = snap.version
                    yield f"event: update\ndata: {json.dumps(parts)}\n\n"
                await asyncio.sleep(stream_interval_secs)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
        )

    @app.get("/confirm/{intent_hash}")
    async def confirm_page(request: Request, intent_hash: str) -> Response:
        session = current(request)
        if session is None:
            return to_login()
        staged = state.snapshot().status.get("staged") or []
        intent = next((i for i in staged if i["intent_hash"] == intent_hash), None)
        return HTMLResponse(pages.confirm_page(intent, intent_hash, session, pop_flash(session)))

    @app.get("/recovery")
    async def recovery(request: Request) -> Response:
        session = current(request)
        if session is None:
            return to_login()
        return HTMLResponse(pages.recovery_page(state.snapshot(), session, pop_flash(session)))

    @app.get("/audit")
    async def audit(request: Request, id: str = "") -> Response:
        session = current(request)
        if session is None:
            return to_login()
        query = id.strip()[:200]
        if not query:
            return HTMLResponse(pages.audit_page("", None, session))
        if audit_lookup is None:
            return HTMLResponse(pages.audit_page(query, None, session, "this node keeps no audit log"))
        try:
            lineage = await asyncio.to_thread(audit_lookup, query)
        except NautilusExtError as e:
            return HTMLResponse(pages.audit_page(query, None, session, e.message))
        return HTMLResponse(pages.audit_page(query, lineage, session))

    @app.post("/action/{command}")
    async def action(request: Request, command: str) -> Response:
        session = current(request)
        if session is None:
            return PlainTextResponse("log in first", status_code=401)
        form = await form_of(request)
        if form is None or not auth.csrf_ok(session, form.get("csrf")):
            logger.warning("Console action %s by %s refused: bad CSRF token", command, session.user)
            return PlainTextResponse("missing or wrong CSRF token", status_code=403)
        if session.role is not Role.OPERATOR:
            logger.warning("Console action %s by viewer %s refused", command, session.user)
            return PlainTextResponse("viewers cannot act", status_code=403)
        if command not in ACTIONS:
            return PlainTextResponse(f"unknown action {command!r}", status_code=404)
        if not limiter.allow(session.user):
            return PlainTextResponse("too many actions: wait a minute", status_code=429)
        body: dict[str, Any] = {"command": command, "actor": f"web:{session.user}"}
        for name in ACTIONS[command]:
            value = form.get(name, "").strip()
            if value:
                body[name] = value
        if command == "kill" and "strategy_id" in form and "strategy_id" not in body:
            # a per-strategy kill form sent without a name must not become a global kill
            session.flash.append("kill refused: name the strategy to kill")
            return RedirectResponse(_back(request), status_code=303)
        if command == "kill" and "reason" not in body:
            body["reason"] = "web console kill"
        reply = await asyncio.to_thread(commander, body)
        session.flash.extend(describe_reply(command, reply))
        return RedirectResponse(_back(request), status_code=303)

    return app


def _back(request: Request) -> str:
    # back to the page the form was on (same origin only), else the dashboard
    referer = request.headers.get("referer") or ""
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc != request.headers.get("host"):
        return "/"
    path = parts.path or "/"
    if path.startswith("/confirm/"):
        return "/"  # a confirmed intent is gone: back to the dashboard
    return path if path.startswith("/") and not path.startswith("//") else "/"


__all__ = ["ACTIONS", "AuditLookup", "Commander", "create_app", "describe_reply"]
