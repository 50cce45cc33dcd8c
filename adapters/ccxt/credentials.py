"""
Credentials for ccxt exchanges, read from environment variables only.

Variables are ``NAUTILUS_EXT_<EXCHANGE>_<FIELD>`` with ``<EXCHANGE>`` the upper-cased ccxt id,
for example ``NAUTILUS_EXT_BYBIT_API_KEY``, ``NAUTILUS_EXT_BYBIT_API_SECRET``,
``NAUTILUS_EXT_OKX_PASSWORD``, ``NAUTILUS_EXT_HYPERLIQUID_WALLET_ADDRESS`` and
``NAUTILUS_EXT_HYPERLIQUID_PRIVATE_KEY``. Values are never logged: :class:`CcxtCredentials`
redacts them in ``repr``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Final

ENV_PREFIX: Final = "NAUTILUS_EXT_"

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

    def __repr__(self) -> str:
        return f"CcxtCredentials({self.exchange_id!r}, fields={sorted(self.values)})"

    @property
    def is_empty(self) -> bool:
        """Return whether no secret is set."""
        return not self.values

    def as_ccxt_config(self) -> dict[str, str]:
        """Return the fields to pass to the ccxt constructor."""
        return dict(self.values)


def env_var(exchange_id: str, ccxt_field: str) -> str:
    """Return the environment variable holding ``ccxt_field`` for ``exchange_id``."""
    return f"{ENV_PREFIX}{exchange_id.upper()}_{_FIELDS[ccxt_field]}"


def load_credentials(
    exchange_id: str,
    environ: Mapping[str, str] | None = None,
) -> CcxtCredentials:
    """Read the credentials of ``exchange_id`` from the environment (``os.environ`` default)."""
    env = os.environ if environ is None else environ
    values = {
        ccxt_field: env[env_var(exchange_id, ccxt_field)]
        for ccxt_field in _FIELDS
        if env.get(env_var(exchange_id, ccxt_field))
    }
    return CcxtCredentials(exchange_id, values)
