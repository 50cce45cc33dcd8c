"""
The CoW signing key, read from the environment only (``NAUTILUS_EXT_COWSWAP_PRIVATE_KEY``).

The key signs orders and cancellations locally (EIP-712) and, for an on-chain
``invalidateOrder``, the transaction. It is never logged: :class:`CowSwapCredentials` redacts it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Final

from nautilus_ext.errors import InvalidConfig

ENV_PRIVATE_KEY: Final[str] = "NAUTILUS_EXT_COWSWAP_PRIVATE_KEY"


@dataclass(frozen=True)
class CowSwapCredentials:
    """The owner's signing key (``0x`` + 64 hex); ``repr`` never shows it."""

    private_key: str = field(repr=False)

    @property
    def owner(self) -> str:
        """The checksummed address the key controls (the orders' owner)."""
        from nautilus_ext.adapters.cowswap.signing import address_of

        return address_of(self.private_key)

    def __repr__(self) -> str:
        return "CowSwapCredentials(private_key=<redacted>)"


def load_credentials(environ: Mapping[str, str] | None = None) -> CowSwapCredentials:
    """
    Read the signing key from the environment.

    Raises
    ------
    InvalidConfig
        The variable is unset or not a 32-byte hex key (its value is never echoed).
    """
    env = os.environ if environ is None else environ
    raw = env.get(ENV_PRIVATE_KEY)
    if not raw:
        raise InvalidConfig(f"{ENV_PRIVATE_KEY} is not set: CoW orders need the owner's signing key")
    text = raw.strip().removeprefix("0x")
    try:
        ok = len(bytes.fromhex(text)) == 32
    except ValueError:
        ok = False
    if not ok:
        raise InvalidConfig(f"{ENV_PRIVATE_KEY} is not a 32-byte hex private key")
    return CowSwapCredentials(private_key="0x" + text)


__all__ = ["ENV_PRIVATE_KEY", "CowSwapCredentials", "load_credentials"]
