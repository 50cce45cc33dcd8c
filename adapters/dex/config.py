"""
Configuration of the DEX adapter (pydantic, ``extra="forbid"``): chain, tokens, protocol
contracts, and the swap execution bounds that change money (slippage, oracle deviation,
deadline, approvals, the EIP-1559 fee cap), none of them silently defaulted where it matters.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated
from typing import Self

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import field_validator
from pydantic import model_validator

from nautilus_ext.adapters.dex.constants import ApprovalMode

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_POOL_ID = re.compile(r"0x[0-9a-fA-F]{64}")
Fraction = Annotated[Decimal, Field(gt=0, lt=1, allow_inf_nan=False)]


def _address(value: str | None) -> str | None:
    if value is not None and not _ADDRESS.fullmatch(value):
        raise ValueError(f"{value!r} is not a 0x-prefixed 20-byte address")
    return value


class DexToken(BaseModel):
    """
    One ERC-20 the adapter trades.

    Parameters
    ----------
    symbol : str
        Asset code used in instrument keys (upper case, ``[A-Z0-9]+``).
    address : str
        Contract address.
    decimals : int
        Token decimals (base units per whole token = ``10**decimals``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: Annotated[str, Field(pattern=r"^[A-Z0-9]+$")]
    address: str
    decimals: Annotated[int, Field(ge=0, le=36)]

    @field_validator("address")
    @classmethod
    def _check_address(cls, value: str) -> str:
        _address(value)
        return value


class DexConfig(BaseModel):
    """
    The DEX adapter's configuration.

    Parameters
    ----------
    chain : str
        Chain name of the instrument keys (``ETHEREUM``).
    chain_id : int
        EVM chain id the node must report.
    wallet_venue : str
        Venue of the wallet's ``SPOT_ASSET`` position keys (``WALLET-ETH:SPOT_ASSET:USDT@ETHEREUM``).
    tokens : list[DexToken]
        Tokens the adapter knows (discovery pairs them; swaps name them by symbol).
    gas_symbol : str
        Symbol of the native gas asset (``ETH``): fills carry gas in it.
    uniswap_v2_factory, uniswap_v2_router : str, optional
        Uniswap V2 factory and Router02.
    uniswap_v3_factory, uniswap_v3_router : str, optional
        Uniswap V3 factory and SwapRouter.
    balancer_vault : str, optional
        Balancer V2 Vault.
    balancer_pool_ids : list[str]
        Balancer pools (32-byte ids) to read.
    v3_fee_tiers : list[int]
        Fee tiers discovery asks the V3 factory for (hundredths of a bip).
    v3_tick_words : int
        Tick-bitmap words read on each side of the current price (default 2): quotes that need
        ticks beyond them are refused, never priced without them.
    stale_after_blocks : int
        A pool state older than this many blocks is stale (default 3).
    max_slippage : Decimal
        Default slippage bound (fraction, default 0.005): ``amountOutMinimum = quote × (1 − it)``;
        an order's ``max_slippage`` replaces it.
    max_oracle_deviation : Decimal
        Largest shortfall of ``amountOutMinimum`` below the oracle's value of the input
        (fraction): beyond it the pool is treated as manipulated and the swap is refused.
    deadline_secs : int
        Swap deadline after the latest block's timestamp.
    approval : ApprovalMode
        ``EXACT`` (default): approve exactly the input per swap; ``UNLIMITED`` only if set here.
    max_fee_per_gas_wei : int
        EIP-1559 ``maxFeePerGas`` cap (wei); a node gas price above it refuses the swap.
    receipt_timeout_secs : float
        Wait bound for a receipt.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    chain: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")] = "ETHEREUM"
    chain_id: Annotated[int, Field(gt=0)]
    wallet_venue: Annotated[str, Field(pattern=r"^[A-Z0-9](?:[A-Z0-9_-]*[A-Z0-9])?$")] = "WALLET-ETH"
    tokens: tuple[DexToken, ...]
    gas_symbol: str = "ETH"
    uniswap_v2_factory: str | None = None
    uniswap_v2_router: str | None = None
    uniswap_v3_factory: str | None = None
    uniswap_v3_router: str | None = None
    balancer_vault: str | None = None
    balancer_pool_ids: tuple[str, ...] = ()
    v3_fee_tiers: tuple[int, ...] = (500, 3000, 10000)
    v3_tick_words: Annotated[int, Field(ge=1, le=64)] = 2
    stale_after_blocks: Annotated[int, Field(ge=0)] = 3
    max_slippage: Fraction = Decimal("0.005")
    max_oracle_deviation: Fraction = Decimal("0.02")
    deadline_secs: Annotated[int, Field(gt=0, le=86_400)] = 120
    approval: ApprovalMode = ApprovalMode.EXACT
    max_fee_per_gas_wei: Annotated[int, Field(gt=0)]
    receipt_timeout_secs: Annotated[float, Field(gt=0)] = 60.0

    @field_validator(
        "uniswap_v2_factory", "uniswap_v2_router", "uniswap_v3_factory", "uniswap_v3_router", "balancer_vault"
    )
    @classmethod
    def _addresses(cls, value: str | None) -> str | None:
        return _address(value)

    @field_validator("balancer_pool_ids")
    @classmethod
    def _pool_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pid in value:
            if not _POOL_ID.fullmatch(pid):
                raise ValueError(f"balancer pool id {pid!r} is not 0x + 32 bytes")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        symbols = [t.symbol for t in self.tokens]
        if len(set(symbols)) != len(symbols):
            raise ValueError(f"token symbols repeat: {sorted(symbols)}")
        addresses = [t.address.lower() for t in self.tokens]
        if len(set(addresses)) != len(addresses):
            raise ValueError("two tokens share an address")
        if self.balancer_pool_ids and self.balancer_vault is None:
            raise ValueError("balancer_pool_ids need balancer_vault")
        return self

    def token(self, symbol: str) -> DexToken:
        """Return the token ``symbol`` (``KeyError`` naming it when unknown)."""
        for t in self.tokens:
            if t.symbol == symbol:
                return t
        raise KeyError(
            f"token {symbol!r} is not configured (known: {', '.join(t.symbol for t in self.tokens)})"
        )

    def token_by_address(self, address: str) -> DexToken | None:
        """Return the configured token at ``address``, or ``None``."""
        low = address.lower()
        return next((t for t in self.tokens if t.address.lower() == low), None)

    def spot_asset_key(self, symbol: str) -> str:
        """Return the wallet's position key of ``symbol`` (``WALLET-ETH:SPOT_ASSET:USDT@ETHEREUM``)."""
        return f"{self.wallet_venue}:SPOT_ASSET:{symbol}@{self.chain}"


__all__ = ["DexConfig", "DexToken"]
