"""
The Telegram control plane's commands (seed 001, section 20), independent of the bot library.

:class:`TelegramControl` turns one message from a chat into at most one reply:

* only allowlisted users in allowlisted chats are answered (others are logged and ignored);
* commands are rate limited per user: past ``max_commands_per_minute`` the user is locked out
  for ``lockout_secs`` (so are three intent-hash mismatches in a row); ``/kill`` and
  ``/disarm`` are never refused to an allowlisted user;
* ``/arm`` in LIVE and ``/confirm`` always take two steps: the bot answers with what would
  happen and a one-time code, and only ``/yes <code>`` from the same user within
  ``two_step_secs`` does it;
* ``/confirm <intent_id> <hash>`` checks the hash against the staged intent before asking;
* every message is written to the command log (user, chat, command, outcome), and everything
  that reaches the gate is audited by the gate as ``telegram:<user id>``.

Commands: ``/status``, ``/arm <ttl_secs>``, ``/disarm``, ``/intent <strategy> <BUY|SELL>
<amount> <instrument_key> [price]`` (stage only), ``/confirm <intent_id> <hash>``, ``/yes
<code>``, ``/kill [strategy]``, ``/positions``, ``/help``.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any
from typing import Final

from nautilus_ext.errors import NautilusExtError
from nautilus_ext.execution.operator_intents import OperatorIntent
from nautilus_ext.orders import Order

logger = logging.getLogger(__name__)

Commander = Callable[[dict[str, Any]], dict[str, Any]]
IntentPublisher = Callable[[OperatorIntent], bool]
CommandLog = Callable[[dict[str, Any]], object]
_ALWAYS: Final = frozenset({"/kill", "/disarm"})
_MAX_HASH_MISMATCHES: Final = 3
HELP: Final = (
    "/status  /positions\n"
    "/arm <ttl_secs>  /disarm  /kill [strategy]\n"
    "/intent <strategy> <BUY|SELL> <amount> <instrument_key> [price]  (stage only)\n"
    "/confirm <intent_id> <hash>  then  /yes <code>"
)


@dataclass(slots=True)
class _Pending:
    code: str
    body: dict[str, Any]
    summary: str
    expires_at: float


@dataclass(slots=True)
class _UserState:
    times: deque[float]
    locked_until: float = 0.0
    mismatches: int = 0


class TelegramControl:
    """
    Answer one chat message at a time (see the module docstring).

    Parameters
    ----------
    commander : Commander
        Runs a control command body on the node (:class:`~nautilus_ext.operator.bridge.NodeBridge`).
    publish_intent : IntentPublisher
        Hands an :class:`OperatorIntent` to the node's unified strategy.
    allowed_users, allowed_chats : set[int]
        The allowlists (both must match).
    log : CommandLog
        Receives one record per message.
    max_commands_per_minute : int
        Commands per user per minute before a lockout.
    lockout_secs : float
        Lockout duration.
    two_step_secs : float
        How long a ``/yes`` code stays valid.
    intent_timeout_secs : float
        How long ``/intent`` waits for the strategy to stage the order.
    clock : callable
        Monotonic seconds.
    """

    def __init__(
        self,
        commander: Commander,
        publish_intent: IntentPublisher,
        allowed_users: set[int],
        allowed_chats: set[int],
        log: CommandLog,
        *,
        max_commands_per_minute: int = 20,
        lockout_secs: float = 300.0,
        two_step_secs: float = 60.0,
        intent_timeout_secs: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._commander = commander
        self._publish = publish_intent
        self._users = allowed_users
        self._chats = allowed_chats
        self._log = log
        self._per_minute = max_commands_per_minute
        self._lockout = lockout_secs
        self._two_step = two_step_secs
        self._intent_timeout = intent_timeout_secs
        self._clock = clock
        self._state: dict[int, _UserState] = {}
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)

    def handle(self, chat_id: int, user_id: int, text: str) -> str | None:
        """Return the reply to ``text`` from ``user_id`` in ``chat_id`` (``None``: stay silent)."""
        words = text.strip().split()
        command = words[0].split("@", 1)[0].lower() if words else ""
        args = words[1:]
        record: dict[str, Any] = {
            "ts_wall_ns": time.time_ns(),
            "chat_id": chat_id,
            "user_id": user_id,
            "command": command,
            "args": args,
        }
        if user_id not in self._users or chat_id not in self._chats:
            logger.warning(
                "Telegram command %s from user %s in chat %s ignored: not allowlisted",
                command,
                user_id,
                chat_id,
            )
            self._log({**record, "outcome": "REFUSED", "reason": "not allowlisted"})
            return None
        refusal = self._throttle(user_id, command)
        if refusal is not None:
            self._log({**record, "outcome": "REFUSED", "reason": refusal})
            return refusal if refusal.startswith("locked out for") else None
        try:
            reply, outcome = self._dispatch(user_id, command, args)
        except NautilusExtError as e:
            reply, outcome = f"refused: {e.message}", "REFUSED"
        self._log({**record, "outcome": outcome, "reply": reply.splitlines()[0] if reply else ""})
        return reply

    # -- guards ---------------------------------------------------------------------------------

    def _throttle(self, user_id: int, command: str) -> str | None:
        now = self._clock()
        state = self._state.setdefault(user_id, _UserState(times=deque()))
        if now < state.locked_until and command not in _ALWAYS:
            return "locked"  # silent: a locked-out user gets no echo
        while state.times and now - state.times[0] >= 60.0:
            state.times.popleft()
        state.times.append(now)
        if len(state.times) > self._per_minute and command not in _ALWAYS:
            state.locked_until = now + self._lockout
            state.times.clear()
            logger.warning("Telegram user %s locked out for %ss: command rate", user_id, self._lockout)
            return f"locked out for {int(self._lockout)}s: more than {self._per_minute} commands a minute"
        return None

    def _strike(self, user_id: int) -> str:
        state = self._state.setdefault(user_id, _UserState(times=deque()))
        state.mismatches += 1
        if state.mismatches >= _MAX_HASH_MISMATCHES:
            state.mismatches = 0
            state.locked_until = self._clock() + self._lockout
            logger.warning(
                "Telegram user %s locked out for %ss: intent hash mismatches", user_id, self._lockout
            )
            return f"; locked out for {int(self._lockout)}s after {_MAX_HASH_MISMATCHES} mismatches"
        return ""

    # -- commands ---------------------------------------------------------------------------------

    def _dispatch(self, user_id: int, command: str, args: list[str]) -> tuple[str, str]:
        actor = f"telegram:{user_id}"
        if command in ("/help", "/start"):
            return HELP, "OK"
        if command == "/status":
            return self._status(), "OK"
        if command == "/positions":
            return self._positions(), "OK"
        if command == "/disarm":
            return self._run({"command": "disarm", "actor": actor}, "disarmed")
        if command == "/kill":
            body: dict[str, Any] = {"command": "kill", "actor": actor, "reason": "telegram kill"}
            if args:
                body["strategy_id"] = args[0]
            return self._run(body, "killed " + (f"strategy {args[0]}" if args else "everything: SAFE mode"))
        if command == "/arm":
            if len(args) != 1 or not args[0].isdigit() or int(args[0]) <= 0:
                return "usage: /arm <ttl_secs>", "REFUSED"
            body = {"command": "arm", "actor": actor, "ttl_secs": int(args[0])}
            if self._status_dict().get("mode") == "LIVE":
                return self._ask(user_id, body, f"arm LIVE for {args[0]}s"), "PENDING"
            return self._run(body, f"armed for {args[0]}s")
        if command == "/intent":
            return self._intent(actor, args)
        if command == "/confirm":
            return self._confirm(user_id, args)
        if command == "/yes":
            return self._yes(user_id, args)
        return f"unknown command {command or '(empty)'}\n{HELP}", "REFUSED"

    def _run(self, body: dict[str, Any], done: str) -> tuple[str, str]:
        reply = self._commander(body)
        state = reply.get("state") or {}
        where = "SAFE mode" if state.get("safe") else "not in SAFE mode"
        armed = "armed" if state.get("armed") else "NOT armed"
        if not reply.get("ok"):
            why = reply.get("message", reply.get("error"))
            return f"{body['command']} refused: {why}\nnode: {where}, {armed}", "REFUSED"
        return f"{done}\nnode: {where}, {armed}", "OK"

    def _ask(self, user_id: int, body: dict[str, Any], summary: str) -> str:
        code = f"{secrets.randbelow(10**6):06d}"
        self._pending[user_id] = _Pending(code, body, summary, self._clock() + self._two_step)
        return f"to {summary}, reply /yes {code} within {int(self._two_step)}s"

    def _yes(self, user_id: int, args: list[str]) -> tuple[str, str]:
        pending = self._pending.pop(user_id, None)
        if pending is None or self._clock() >= pending.expires_at:
            return "nothing to confirm (or the code expired)", "REFUSED"
        if len(args) != 1 or not secrets.compare_digest(args[0], pending.code):
            return "wrong code: start again", "REFUSED"
        return self._run(pending.body, f"done: {pending.summary}")

    def _status_dict(self) -> dict[str, Any]:
        reply = self._commander({"command": "status"})
        status = reply.get("status")
        return status if isinstance(status, dict) else {}

    def _status(self) -> str:
        st = self._status_dict()
        if not st:
            return "the node did not answer"
        lines = [f"mode {st.get('mode')}"]
        safe = st.get("safe")
        lines.append(f"SAFE mode: {safe['message']}" if safe else "not in SAFE mode")
        lines.append("armed" if st.get("armed") else "NOT armed")
        if st.get("killed_strategies"):
            lines.append("killed: " + ", ".join(st["killed_strategies"]))
        staged = st.get("staged") or []
        for i in staged:
            order = f"{i['side']} {i['amount']} {i['instrument_key']}"
            lines.append(f"staged {i['operation_id']}: {order} hash {i['intent_hash']}")
        if st.get("recovery_problems"):
            lines += [f"before resume: {p}" for p in st["recovery_problems"]]
        return "\n".join(lines)

    def _positions(self) -> str:
        st = self._status_dict()
        positions = st.get("positions") or {}
        dirty = set(st.get("dirty") or [])
        if not positions:
            return "no positions"
        return "\n".join(f"{a}: {q}{' (DIRTY)' if a in dirty else ''}" for a, q in positions.items())

    def _intent(self, actor: str, args: list[str]) -> tuple[str, str]:
        usage = "usage: /intent <strategy> <BUY|SELL> <amount> <instrument_key> [price]"
        if len(args) not in (4, 5):
            return usage, "REFUSED"
        strategy, side, amount, key = args[:4]
        try:
            price = Decimal(args[4]) if len(args) == 5 else None
            order = Order(
                operation_id=f"tg-{next(self._ids)}-{time.time_ns() // 1_000_000}",
                operation="trade",
                instrument_key=key,
                venue=key.split(":", 1)[0],
                side=side.upper(),
                amount=Decimal(amount),
                price=price,
                strategy_id=strategy,
            )
        except (InvalidOperation, NautilusExtError) as e:
            message = e.message if isinstance(e, NautilusExtError) else "amount and price must be numbers"
            return f"bad intent: {message}\n{usage}", "REFUSED"
        intent = OperatorIntent(strategy_id=strategy, order=order, actor=actor)
        if not self._publish(intent):
            return "the node is not running", "REFUSED"
        try:
            outcome = intent.reply.result(timeout=self._intent_timeout)
        except FutureTimeout:
            return f"no strategy {strategy} answered (is it a unified strategy of this node?)", "REFUSED"
        staged = [
            i for i in self._status_dict().get("staged") or [] if i["operation_id"] == order.operation_id
        ]
        if not staged:
            return f"intent {order.operation_id} not staged: {outcome}", "REFUSED"
        i = staged[0]
        return (
            f"staged {i['operation_id']}: {i['side']} {i['amount']} {i['instrument_key']}"
            f"{' @ ' + i['price'] if i.get('price') else ''}\nhash {i['intent_hash']}\n"
            f"confirm with /confirm {i['operation_id']} {i['intent_hash']}",
            "STAGED",
        )

    def _confirm(self, user_id: int, args: list[str]) -> tuple[str, str]:
        if len(args) != 2:
            return "usage: /confirm <intent_id> <hash>", "REFUSED"
        intent_id, digest = args
        staged = [i for i in self._status_dict().get("staged") or [] if i["operation_id"] == intent_id]
        if not staged:
            return f"no staged intent {intent_id} (confirmed, expired or never staged)", "REFUSED"
        intent = staged[0]
        if not secrets.compare_digest(digest.lower(), str(intent["intent_hash"])):
            return (
                f"hash does not match staged intent {intent_id}: not confirmed{self._strike(user_id)}",
                "REFUSED",
            )
        body = {"command": "confirm", "actor": f"telegram:{user_id}", "intent_hash": intent["intent_hash"]}
        summary = (
            f"confirm {intent_id}: {intent['side']} {intent['amount']} {intent['instrument_key']}"
            f"{' @ ' + intent['price'] if intent.get('price') else ''} (LIVE)"
        )
        return self._ask(user_id, body, summary), "PENDING"


__all__ = ["HELP", "TelegramControl"]
