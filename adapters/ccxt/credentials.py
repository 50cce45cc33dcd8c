"""
Credentials for ccxt exchanges, read from environment variables only.

Variables are ``NAUTILUS_EXT_<EXCHANGE>_<FIELD>`` with ``<EXCHANGE>`` the upper-cased ccxt id,
for example ``NAUTILUS_EXT_BYBIT_API_KEY``, ``NAUTILUS_EXT_BYBIT_API_SECRET``,
``NAUTILUS_EXT_OKX_PASSWORD``, ``NAUTILUS_EXT_HYPERLIQUID_WALLET_ADDRESS`` and
``NAUTILUS_EXT_HYPERLIQUID_PRIVATE_KEY``. Values are never logged: :class:`CcxtCredentials`
redacts them in ``repr``.

Key scopes (seed 001, section 15, "separate read-only and trade keys"): a venue configured with
``key_scope: read`` (a data/status-only node) reads ``NAUTILUS_EXT_<EXCHANGE>_READ_<FIELD>``
(``NAUTILUS_EXT_BYBIT_READ_API_KEY`` ...) and never the trade variables; a read key equal to the
exchange's trade key is refused (a trade key where only read is configured), and the safety gate
denies every order to a read-only venue before anything is sent. ``key_scope: trade`` (the
default) reads the variables above.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from enum import StrEnum
from enum import unique
from typing import Final

from nautilus_ext.errors import InvalidConfig

ENV_PREFIX: Final = "NAUTILUS_EXT_"
READ_INFIX: Final = "READ_"


@unique
class KeyScope(StrEnum):
    """What a venue's API key may do."""

    READ = "read"  # market data, balances, positions, orders: never place, amend or cancel
    TRADE = "trade"  # everything, orders included


# ccxt constructor field -> environment variable suffix
_FIELDS: Final[dict[str, str]] = {
    "apiKey": "API_KEY",
    "secret": "API_SECRET",
    "password": "PASSWORD",
    "uid": "UID",
    "walletAddress": "WALLET_ADDRESS",
    "privateKey": "PRIVATE_KEY",
}


@dataclass(frozen=True)
class CcxtCredentials:
    """
    Secrets for one ccxt exchange (each ``None`` when unset).

    Parameters
    ----------
    exchange_id : str
        The ccxt exchange id.
    values : dict[str, str]
        ccxt constructor fields (``apiKey``, ``secret``, ...) to their values.
    """

    exchange_id: str
    values: dict[str, str] = field(default_factory=dict, repr=False)
    scope: KeyScope = KeyScope.TRADE

    def __repr__(self) -> str:
        return f"CcxtCredentials({self.exchange_id!r}, scope={self.scope}, fields={sorted(self.values)})"

    @property
    def is_empty(self) -> bool:
        """Return whether no secret is set."""
        return not self.values

    def as_ccxt_config(self) -> dict[str, str]:
        """Return the fields to pass to the ccxt constructor."""
        return dict(self.values)


def env_var(exchange_id: str, ccxt_field: str, scope: KeyScope | str = KeyScope.TRADE) -> str:
    """Return the environment variable holding ``ccxt_field`` of a ``scope`` key for ``exchange_id``."""
    infix = READ_INFIX if KeyScope(scope) is KeyScope.READ else ""
    return f"{ENV_PREFIX}{exchange_id.upper()}_{infix}{_FIELDS[ccxt_field]}"


def load_credentials(
    exchange_id: str,
    environ: Mapping[str, str] | None = None,
    scope: KeyScope | str = KeyScope.TRADE,
) -> CcxtCredentials:
    """
    Read the ``scope`` credentials of ``exchange_id`` from the environment (``os.environ`` default).

    Raises
    ------
    InvalidConfig
        If ``scope`` is read and a read variable holds the same value as the trade one (a
        trade key where only read is configured).
    """
    env = os.environ if environ is None else environ
    key_scope = KeyScope(scope)
    values = {
        ccxt_field: env[env_var(exchange_id, ccxt_field, key_scope)]
        for ccxt_field in _FIELDS
        if env.get(env_var(exchange_id, ccxt_field, key_scope))
    }
    if key_scope is KeyScope.READ:
        reused = [
            env_var(exchange_id, f, key_scope)
            for f in ("apiKey", "privateKey", "walletAddress")
            if f in values and values[f] == env.get(env_var(exchange_id, f))
        ]
        # a wallet address is public: only its pairing with the trade private key matters
        if reused and reused != [env_var(exchange_id, "walletAddress", key_scope)]:
            raise InvalidConfig(
                f"{', '.join(reused)} holds the trade key of {exchange_id} "
                f"({env_var(exchange_id, 'apiKey')}): this venue is configured read-only, "
                "give it a read-only key",
                venue=exchange_id,
            )
    return CcxtCredentials(exchange_id, values, key_scope)


def check_credentials(
    exchange_id: str,
    scope: KeyScope | str = KeyScope.TRADE,
    environ: Mapping[str, str] | None = None,
) -> CcxtCredentials:
    """
    Return the ``scope`` credentials of ``exchange_id``, refusing missing required fields.

    The required fields are ccxt's ``requiredCredentials`` of the exchange.

    Raises
    ------
    InvalidConfig
        Naming every unset variable (never a value), or a trade key given as a read key.
    """
    import ccxt

    credentials = load_credentials(exchange_id, environ, scope)
    klass = getattr(ccxt, exchange_id, None)
    required = [] if klass is None else [f for f, need in klass().requiredCredentials.items() if need]
    missing = [
        env_var(exchange_id, f, scope) for f in required if f in _FIELDS and f not in credentials.values
    ]
    if missing or credentials.is_empty:
        names = missing or [env_var(exchange_id, "apiKey", scope), env_var(exchange_id, "secret", scope)]
        raise InvalidConfig(
            f"no {KeyScope(scope)} credentials for {exchange_id}: set {', '.join(names)}",
            venue=exchange_id,
        )
    return credentials
