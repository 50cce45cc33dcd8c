"""
The Telegram control plane (seed 001, section 20).

- :mod:`~nautilus_ext.operator.telegram.control`: :class:`TelegramControl`, the commands with
  their allowlists, rate limit and lockout, two-step confirmations and intent-hash check;
- :mod:`~nautilus_ext.operator.telegram.bot`: :class:`TelegramBotActor`, python-telegram-bot
  polling on its own thread inside a live node, pushing alerts to the allowed chats.
"""

from nautilus_ext.operator.telegram.bot import TelegramBotActor
from nautilus_ext.operator.telegram.bot import TelegramBotConfig
from nautilus_ext.operator.telegram.control import TelegramControl

__all__ = ["TelegramBotActor", "TelegramBotConfig", "TelegramControl"]
