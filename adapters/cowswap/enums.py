"""CoW order-book enums, spelled as the API spells them."""

from __future__ import annotations

from enum import StrEnum
from enum import unique


@unique
class CowOrderKind(StrEnum):
    """Which side of the order is exact."""

    SELL = "sell"  # sellAmount is exact, buyAmount is the minimum
    BUY = "buy"  # buyAmount is exact, sellAmount is the maximum


@unique
class CowSellTokenBalance(StrEnum):
    """Where the sell token is taken from."""

    ERC20 = "erc20"  # the owner's ERC-20 balance, through the vault relayer's allowance
    EXTERNAL = "external"  # ERC-20 through the Balancer Vault's relayer approval
    INTERNAL = "internal"  # the owner's Balancer Vault internal balance


@unique
class CowBuyTokenBalance(StrEnum):
    """Where the buy token is paid to."""

    ERC20 = "erc20"  # the receiver's ERC-20 balance
    INTERNAL = "internal"  # the receiver's Balancer Vault internal balance


@unique
class CowSigningScheme(StrEnum):
    """How the order is authorised."""

    EIP712 = "eip712"  # ECDSA over the EIP-712 typed-data digest
    ETHSIGN = "ethsign"  # ECDSA over the eth_sign-prefixed digest
    EIP1271 = "eip1271"  # smart-contract signature (isValidSignature)
    PRESIGN = "presign"  # setPreSignature on the settlement contract


@unique
class CowOrderStatus(StrEnum):
    """An order's state in the order book."""

    PRESIGNATURE_PENDING = "presignaturePending"  # waiting for setPreSignature
    OPEN = "open"  # in the auction
    FULFILLED = "fulfilled"  # settled in full
    CANCELLED = "cancelled"  # cancelled off-chain or invalidated on-chain
    EXPIRED = "expired"  # validTo passed before it was filled

    @property
    def is_final(self) -> bool:
        """Return whether the order can no longer change."""
        return self in (CowOrderStatus.FULFILLED, CowOrderStatus.CANCELLED, CowOrderStatus.EXPIRED)


@unique
class CowPriceQuality(StrEnum):
    """How hard the order book works on a quote."""

    FAST = "fast"  # first estimate
    OPTIMAL = "optimal"  # best estimate (default)
    VERIFIED = "verified"  # simulated settlement


__all__ = [
    "CowBuyTokenBalance",
    "CowOrderKind",
    "CowOrderStatus",
    "CowPriceQuality",
    "CowSellTokenBalance",
    "CowSigningScheme",
]
