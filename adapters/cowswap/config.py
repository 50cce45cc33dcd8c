"""Frozen configuration of the CoW order-book client and the intent executor."""

from __future__ import annotations

from typing import Annotated

import msgspec
from nautilus_trader.config import NautilusConfig

from nautilus_ext.errors import InvalidConfig

PositiveInt = Annotated[int, msgspec.Meta(gt=0)]
PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]


class CowSwapConfig(NautilusConfig, frozen=True):
    """
    Configuration of :class:`~nautilus_ext.adapters.cowswap.http.client.CowSwapHttpClient`
    and :class:`~nautilus_ext.adapters.cowswap.execution.CowSwapExecution`.

    Parameters
    ----------
    base_url : str
        The order book's root (``https://api.cow.fi/mainnet`` in production).
    chain_id : int
        EIP-712 ``chainId`` of the GPv2 domain (1 on Ethereum).
    settlement : str
        ``GPv2Settlement`` address: the domain's ``verifyingContract``.
    vault_relayer : str
        ``GPv2VaultRelayer`` address: what the owner approves for the sell token.
    valid_for_secs : int, default 1800
        ``validTo`` = chain time + this, for orders this client builds.
    poll_interval_secs : float, default 0.2
        Seconds between status polls.
    timeout_secs : float, default 10.0
        Timeout of each HTTP request.
    max_slippage_bps : int, default 50
        Default slippage below the quoted buy amount when the Order gives none (bps).
    """

    base_url: str
    chain_id: PositiveInt
    settlement: str
    vault_relayer: str
    valid_for_secs: PositiveInt = 1800
    poll_interval_secs: PositiveFloat = 0.2
    timeout_secs: PositiveFloat = 10.0
    max_slippage_bps: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 50

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise InvalidConfig(f"base_url must be an http(s) URL, was {self.base_url!r}")
        for name in ("settlement", "vault_relayer"):
            value = getattr(self, name)
            if not (value.startswith("0x") and len(value) == 42):
                raise InvalidConfig(f"{name} must be a 20-byte 0x address, was {value!r}")


__all__ = ["CowSwapConfig"]
