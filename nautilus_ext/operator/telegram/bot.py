"""
The Telegram control plane inside a live ``TradingNode``: an ``Actor`` running a
python-telegram-bot long-polling bot on its own thread.

Messages go to :class:`~nautilus_ext.operator.telegram.control.TelegramControl`; its control
commands reach the safety layer through :class:`~nautilus_ext.operator.bridge.NodeBridge` (the
CLI's path, audited as ``telegram:<user id>``) and ``/intent`` orders reach the named unified
strategy on the node's loop. Alerts (SAFE mode entered, kills, ADL, margin breaches) are pushed to
the alert chats. The token comes from the environment only; ``api_base_url`` points the bot at
another Bot API server (a local stand-in in tests).

A live node gets it from the ``telegram:`` section of its YAML (opt-in).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_trader.common.actor import Actor
from nautilus_trader.common.config import ActorConfig
from nautilus_trader.common.events import TimeEvent
from telegram import Update
from telegram.ext import Application
from telegram.ext import ContextTypes
from telegram.ext import MessageHandler
from telegram.ext import filters

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.execution.operator_intents import OPERATOR_INTENTS_TOPIC
from nautilus_ext.execution.operator_intents import OperatorIntent
from nautilus_ext.messages import HEALTH_FACTOR_TOPIC
from nautilus_ext.messages import HealthFactorUpdate
from nautilus_ext.operator.alerts import PUSHED_KINDS
from nautilus_ext.operator.alerts import Alert
from nautilus_ext.operator.alerts import alert_of
from nautilus_ext.operator.alerts import margin_alert
from nautilus_ext.operator.bridge import NodeBridge
from nautilus_ext.operator.telegram.control import TelegramControl
from nautilus_ext.safety.events import SAFETY_EVENTS_TOPIC
from nautilus_ext.safety.events import SafetyEvent

logger = logging.getLogger(__name__)

TIMER_NAME: Final = "nautilus_ext_telegram"
TOKEN_ENV: Final = "NAUTILUS_EXT_TELEGRAM_TOKEN"


class TelegramBotConfig(ActorConfig, frozen=True):
    """
    Settings of :class:`TelegramBotActor`.

    Parameters
    ----------
    token_env : str
        Environment variable holding the bot token (never a config file).
    allowed_user_ids : tuple[int, ...]
        Telegram user ids allowed to command.
    allowed_chat_ids : tuple[int, ...]
        Chats commands are accepted from (and alerts go to unless ``alert_chat_ids``).
    alert_chat_ids : tuple[int, ...]
        Chats alerts are pushed to (default: ``allowed_chat_ids``).
    api_base_url : str
        Bot API base URL (the token follows it).
    max_commands_per_minute : int
        Commands per user per minute before a lockout.
    lockout_secs : int
        Lockout duration, seconds.
    two_step_secs : int
        Validity of a ``/yes`` code, seconds.
    poll_timeout_secs : int
        Long-poll timeout of ``getUpdates``, seconds.
    command_log : str, optional
        JSON-lines file recording every message (default: ``<audit_root>/telegram/commands.jsonl``
        when the node has an audit root, else none).
    audit_root : str, optional
        The node's audit root.
    refresh_interval_ms : int
        How often queued commands are sent to the safety layer.
    margin_alert_threshold : str
        A health factor below this is pushed as a margin breach.
    """

    token_env: str = TOKEN_ENV
    allowed_user_ids: tuple[int, ...] = ()
    allowed_chat_ids: tuple[int, ...] = ()
    alert_chat_ids: tuple[int, ...] = ()
    api_base_url: str = "https://api.telegram.org/bot"
    max_commands_per_minute: int = 20
    lockout_secs: int = 300
    two_step_secs: int = 60
    poll_timeout_secs: int = 10
    command_log: str | None = None
    audit_root: str | None = None
    refresh_interval_ms: int = 200
    margin_alert_threshold: str = "1.2"

    def __post_init__(self) -> None:
        if not self.allowed_user_ids or not self.allowed_chat_ids:
            raise ValueError("the Telegram bot needs allowed_user_ids and allowed_chat_ids")
        if self.max_commands_per_minute <= 0 or self.refresh_interval_ms <= 0:
            raise ValueError("max_commands_per_minute and refresh_interval_ms must be positive")


class _CommandLog:
    # one JSON line per message, flushed (the bot's own record beside the gate's audit)
    def __init__(self, path: str | None) -> None:
        self._lock = threading.Lock()
        self._file: Any = None
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())

    def __call__(self, record: dict[str, Any]) -> None:
        logger.info("telegram command %s", record)
        if self._file is None:
            return
        with self._lock:
            self._file.write(json.dumps(record, sort_keys=True, default=str) + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class TelegramBotActor(Actor):  # type: ignore[misc]
    """
    Run the Telegram control plane (see the module docstring).

    Raises
    ------
    InvalidConfig
        At construction, if the token variable is unset.
    """

    def __init__(self, config: TelegramBotConfig) -> None:
        super().__init__(config)
        token = os.environ.get(config.token_env)
        if not token:
            raise InvalidConfig(
                f"the Telegram bot needs its token in ${config.token_env} (never in a config file)"
            )
        self._token = token
        self._config = config
        self.bridge = NodeBridge()
        log_path = config.command_log
        if log_path is None and config.audit_root is not None:
            log_path = str(Path(config.audit_root) / "telegram" / "commands.jsonl")
        self._command_log = _CommandLog(log_path)
        self.control = TelegramControl(
            self.bridge.command,
            self._publish_intent,
            set(config.allowed_user_ids),
            set(config.allowed_chat_ids),
            self._command_log,
            max_commands_per_minute=config.max_commands_per_minute,
            lockout_secs=config.lockout_secs,
            two_step_secs=config.two_step_secs,
        )
        self._alert_chats = config.alert_chat_ids or config.allowed_chat_ids
        self._margin_threshold = Decimal(config.margin_alert_threshold)
        self._interval = timedelta(milliseconds=config.refresh_interval_ms)
        self._thread: threading.Thread | None = None
        self._bot_loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._app: Any = None
        self._ready = threading.Event()
        self._breached: set[str] = set()
        self._handlers: list[tuple[str, Any]] = [
            (SAFETY_EVENTS_TOPIC, self._on_safety_event),
            (HEALTH_FACTOR_TOPIC, self._on_health_factor),
        ]

    def on_start(self) -> None:
        loop = None
        with contextlib.suppress(RuntimeError):
            loop = asyncio.get_running_loop()
        self.bridge.attach(self.msgbus, loop)
        for topic, handler in self._handlers:
            self.msgbus.subscribe(topic, handler)
        self.clock.set_timer(TIMER_NAME, self._interval, callback=self._on_timer)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="telegram-bot", daemon=True)
            self._thread.start()
            self._ready.wait(timeout=15)

    def on_stop(self) -> None:
        if TIMER_NAME in self.clock.timer_names:
            self.clock.cancel_timer(TIMER_NAME)
        for topic, handler in self._handlers:
            self.msgbus.unsubscribe(topic, handler)
        self.bridge.fail_pending("the node stopped")
        self._shutdown()

    def on_dispose(self) -> None:
        self._shutdown()
        self._command_log.close()

    def _shutdown(self) -> None:
        loop, stop = self._bot_loop, self._stop_event
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None

    def _on_timer(self, event: TimeEvent) -> None:
        self.bridge.drain()

    def _publish_intent(self, intent: OperatorIntent) -> bool:
        return self.bridge.publish(OPERATOR_INTENTS_TOPIC, intent)

    # -- the bot's thread -----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:  # the bot must never take the node down; say why it stopped
            logger.exception("Telegram bot stopped")
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._bot_loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        timeout = self._config.poll_timeout_secs
        app = (
            Application.builder()
            .token(self._token)
            .base_url(self._config.api_base_url)
            .get_updates_read_timeout(timeout + 10)
            .build()
        )
        app.add_handler(MessageHandler(filters.TEXT, self._on_message))
        self._app = app
        async with app:
            await app.start()
            assert app.updater is not None  # built with the default updater
            await app.updater.start_polling(poll_interval=0.0, timeout=timeout)
            logger.info("Telegram bot polling %s", self._config.api_base_url)
            self._ready.set()
            await self._stop_event.wait()
            await app.updater.stop()
            await app.stop()

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        user = update.effective_user
        chat = update.effective_chat
        if message is None or user is None or chat is None or not message.text:
            return
        reply = await asyncio.to_thread(self.control.handle, chat.id, user.id, message.text)
        if reply:
            await context.bot.send_message(chat_id=chat.id, text=reply)

    # -- alerts -----------------------------------------------------------------------------------

    def _push(self, alert: Alert) -> None:
        loop, app = self._bot_loop, self._app
        if loop is None or app is None or loop.is_closed():
            return
        text = f"ALERT {alert.level} {alert.kind}: {alert.text}"
        for chat in self._alert_chats:
            with contextlib.suppress(RuntimeError):
                asyncio.run_coroutine_threadsafe(app.bot.send_message(chat_id=chat, text=text), loop)

    def _on_safety_event(self, event: SafetyEvent) -> None:
        alert = alert_of(event)
        if alert is not None and alert.kind in PUSHED_KINDS:
            self._push(alert)

    def _on_health_factor(self, update: HealthFactorUpdate) -> None:
        # pushed when an account crosses under the threshold, not on every update under it
        alert = margin_alert(update, self._margin_threshold)
        key = f"{update.protocol}:{update.account}"
        if alert is None:
            self._breached.discard(key)
        elif key not in self._breached:
            self._breached.add(key)
            self._push(alert)


__all__ = ["TOKEN_ENV", "TelegramBotActor", "TelegramBotConfig"]
