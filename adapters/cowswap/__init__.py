"""
CoW Protocol (CowSwap) intents: quote, EIP-712 order signing with the GPv2 domain, post,
status polling, off-chain and on-chain cancellation, expiry, fills from settlement ``Trade``
events. Venue knowledge only; the safety gate wraps it in :mod:`nautilus_ext.onchain.cowswap`.
"""

from __future__ import annotations

from nautilus_ext.adapters.cowswap.config import CowSwapConfig
from nautilus_ext.adapters.cowswap.constants import COWSWAP_VENUE
from nautilus_ext.adapters.cowswap.credentials import CowSwapCredentials
from nautilus_ext.adapters.cowswap.credentials import load_credentials
from nautilus_ext.adapters.cowswap.enums import CowOrderKind
from nautilus_ext.adapters.cowswap.enums import CowOrderStatus
from nautilus_ext.adapters.cowswap.errors import CowOrderCancelled
from nautilus_ext.adapters.cowswap.errors import CowOrderExpired
from nautilus_ext.adapters.cowswap.errors import CowOrderRejected
from nautilus_ext.adapters.cowswap.execution import CowFill
from nautilus_ext.adapters.cowswap.execution import CowOrderOutcome
from nautilus_ext.adapters.cowswap.execution import CowSwapExecution
from nautilus_ext.adapters.cowswap.http.client import CowSwapHttpClient
from nautilus_ext.adapters.cowswap.settlement import CowSettlementChain
from nautilus_ext.adapters.cowswap.signing import CowOrderData

__all__ = [
    "COWSWAP_VENUE",
    "CowFill",
    "CowOrderCancelled",
    "CowOrderData",
    "CowOrderExpired",
    "CowOrderKind",
    "CowOrderOutcome",
    "CowOrderRejected",
    "CowOrderStatus",
    "CowSettlementChain",
    "CowSwapConfig",
    "CowSwapCredentials",
    "CowSwapExecution",
    "CowSwapHttpClient",
    "load_credentials",
]
