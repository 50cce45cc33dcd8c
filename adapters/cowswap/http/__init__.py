"""HTTP transport to CoW's order-book API."""

from __future__ import annotations

from nautilus_ext.adapters.cowswap.http.client import CowSwapHttpClient

__all__ = ["CowSwapHttpClient"]
