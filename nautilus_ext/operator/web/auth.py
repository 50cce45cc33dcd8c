"""
Who may use the web console: users from the environment, sessions, CSRF tokens, login lockout.

Users come from one environment variable (never a config file), ``name:role:secret`` entries
separated by commas, ``role`` being ``viewer`` (may look) or ``operator`` (may also act). The
secrets are hashed (PBKDF2-HMAC-SHA256 with a random salt) when the console starts and only the
hashes are kept; a login hashes the offered secret the same way and compares in constant time
(an unknown name costs the same hash, so timing does not tell names apart).

A session is a random cookie value with an absolute expiry and its own CSRF token, which every
state-changing request must echo. Failed logins are counted per client address: past
``max_failures`` the address is locked out for ``lockout_secs``; every login attempt is also
rate limited per address. Times are monotonic (a network guard, not part of a REPLAY).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from enum import StrEnum
from enum import unique
from typing import Final

from nautilus_ext.errors import InvalidConfig

PBKDF2_ITERATIONS: Final = 120_000
MIN_SECRET_LENGTH: Final = 16
"""Shortest accepted console secret (characters)."""
_MAX_TRACKED: Final = 1024


@unique
class Role(StrEnum):
    """What a console user may do."""

    VIEWER = "viewer"  # sees every page, runs no command
    OPERATOR = "operator"  # also runs commands (arm, confirm, kill, resume, cancel-all...)


@dataclass(frozen=True, slots=True)
class User:
    """A console user: name (the audited identity), role and the salted hash of the secret."""

    name: str
    role: Role
    salt: bytes
    digest: bytes


@dataclass(slots=True)
class Session:
    """A logged-in user's session (``expires_at``: monotonic seconds)."""

    sid: str
    user: str
    role: Role
    csrf: str
    expires_at: float
    flash: list[str] = field(default_factory=list)


def _hash(secret: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8"), salt, PBKDF2_ITERATIONS)


def parse_users(spec: str) -> dict[str, User]:
    """
    Parse ``name:role:secret[,name:role:secret...]`` into hashed users.

    Raises
    ------
    InvalidConfig
        On an empty list, a malformed entry, an unknown role, a duplicate name or a secret
        shorter than :data:`MIN_SECRET_LENGTH` (the message never contains a secret).
    """
    users: dict[str, User] = {}
    for index, entry in enumerate(e for e in spec.split(",") if e.strip()):
        parts = entry.strip().split(":", 2)
        if len(parts) != 3 or not parts[0]:
            raise InvalidConfig(f"console user entry {index + 1} is not name:role:secret")
        name, role, secret = parts
        if role not in {r.value for r in Role}:
            raise InvalidConfig(f"console user {name!r}: role must be viewer or operator, not {role!r}")
        if len(secret) < MIN_SECRET_LENGTH:
            raise InvalidConfig(f"console user {name!r}: the secret needs {MIN_SECRET_LENGTH}+ characters")
        if name in users:
            raise InvalidConfig(f"console user {name!r} is listed twice")
        salt = secrets.token_bytes(16)
        users[name] = User(name=name, role=Role(role), salt=salt, digest=_hash(secret, salt))
    if not users:
        raise InvalidConfig("the web console needs at least one user (name:role:secret)")
    return users


def users_from_env(variable: str, environ: Mapping[str, str]) -> dict[str, User]:
    """Return the users in ``environ[variable]`` (see :func:`parse_users`)."""
    spec = environ.get(variable)
    if not spec:
        raise InvalidConfig(
            f"the web console needs its users in ${variable} (name:role:secret, comma separated; "
            "never put secrets in a config file)"
        )
    return parse_users(spec)


@dataclass(slots=True)
class _Attempts:
    failures: int = 0
    locked_until: float = 0.0
    recent: list[float] = field(default_factory=list)


class Authenticator:
    """
    Check logins, hold sessions, check CSRF tokens and lock out abusive clients.

    Parameters
    ----------
    users : dict[str, User]
        From :func:`users_from_env`.
    session_ttl_secs : float
        Absolute lifetime of a session.
    max_failures : int
        Failed logins tolerated per client address before a lockout.
    lockout_secs : float
        How long a locked-out address is refused.
    logins_per_minute : int
        Login attempts accepted per address per minute (successful or not).
    clock : callable
        Monotonic seconds (injected in tests).
    """

    def __init__(
        self,
        users: dict[str, User],
        *,
        session_ttl_secs: float = 3600.0,
        max_failures: int = 5,
        lockout_secs: float = 300.0,
        logins_per_minute: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._users = users
        self._ttl = session_ttl_secs
        self._max_failures = max_failures
        self._lockout = lockout_secs
        self._per_minute = logins_per_minute
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._attempts: dict[str, _Attempts] = {}
        self._lock = threading.Lock()
        self._dummy_salt = secrets.token_bytes(16)
        self._dummy = _hash(secrets.token_urlsafe(24), self._dummy_salt)

    def seconds_left(self, session: Session) -> int:
        """Seconds until ``session`` expires on this authenticator's own clock (never below 0)."""
        return max(0, int(session.expires_at - self._clock()))

    def login(self, client: str, name: str, secret: str) -> tuple[Session | None, str]:
        """
        Return a new session, or ``None`` and why (``"locked_out"``, ``"rate_limited"``,
        ``"wrong_credentials"``); never says which of name or secret was wrong.
        """
        now = self._clock()
        with self._lock:
            state = self._attempts.get(client)
            if state is None:
                if len(self._attempts) >= _MAX_TRACKED:
                    self._forget(now)
                state = self._attempts[client] = _Attempts()
            if now < state.locked_until:
                return None, "locked_out"
            state.recent = [t for t in state.recent if now - t < 60.0]
            if len(state.recent) >= self._per_minute:
                return None, "rate_limited"
            state.recent.append(now)
        user = self._users.get(name)
        offered = _hash(secret, user.salt if user is not None else self._dummy_salt)
        valid = hmac.compare_digest(offered, user.digest if user is not None else self._dummy)
        with self._lock:
            if not valid or user is None:
                state.failures += 1
                if state.failures >= self._max_failures:
                    state.failures = 0
                    state.locked_until = now + self._lockout
                    return None, "locked_out"
                return None, "wrong_credentials"
            state.failures = 0
            session = Session(
                sid=secrets.token_urlsafe(32),
                user=user.name,
                role=user.role,
                csrf=secrets.token_urlsafe(32),
                expires_at=now + self._ttl,
            )
            self._sessions[session.sid] = session
            return session, "ok"

    def session(self, sid: str | None) -> Session | None:
        """Return the live session for cookie value ``sid`` (expired ones are dropped)."""
        if not sid:
            return None
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None
            if self._clock() >= session.expires_at:
                del self._sessions[sid]
                return None
            return session

    def logout(self, sid: str) -> None:
        """End a session."""
        with self._lock:
            self._sessions.pop(sid, None)

    @staticmethod
    def csrf_ok(session: Session, token: str | None) -> bool:
        """Whether ``token`` is the session's CSRF token (constant-time compare)."""
        return token is not None and hmac.compare_digest(token.encode(), session.csrf.encode())

    def _forget(self, now: float) -> None:
        for key in [k for k, v in self._attempts.items() if v.locked_until <= now]:
            del self._attempts[key]
        while len(self._attempts) >= _MAX_TRACKED:
            del self._attempts[next(iter(self._attempts))]


__all__ = [
    "MIN_SECRET_LENGTH",
    "Authenticator",
    "Role",
    "Session",
    "User",
    "parse_users",
    "users_from_env",
]
