"""
The order-book REST client (aiohttp): quote, post, get, cancel, trades.

Every request has a timeout; every failure leaves through
:func:`~nautilus_ext.adapters.cowswap.errors.map_api_error` or
:func:`~nautilus_ext.adapters.cowswap.errors.transport_error`. Decoders are built once.
"""

from __future__ import annotations

from typing import Any
from typing import Final

import aiohttp
import msgspec

from nautilus_ext.adapters.cowswap.constants import PATH_ORDERS
from nautilus_ext.adapters.cowswap.constants import PATH_QUOTE
from nautilus_ext.adapters.cowswap.constants import PATH_TRADES
from nautilus_ext.adapters.cowswap.errors import map_api_error
from nautilus_ext.adapters.cowswap.errors import transport_error
from nautilus_ext.adapters.cowswap.schemas import CowApiError
from nautilus_ext.adapters.cowswap.schemas import CowOrder
from nautilus_ext.adapters.cowswap.schemas import CowOrderCancellations
from nautilus_ext.adapters.cowswap.schemas import CowOrderCreation
from nautilus_ext.adapters.cowswap.schemas import CowQuoteRequest
from nautilus_ext.adapters.cowswap.schemas import CowQuoteResponse
from nautilus_ext.adapters.cowswap.schemas import CowTrade

_QUOTE: Final = msgspec.json.Decoder(CowQuoteResponse)
_ORDER: Final = msgspec.json.Decoder(CowOrder)
_TRADES: Final = msgspec.json.Decoder(list[CowTrade])
_UID: Final = msgspec.json.Decoder(str)
_ERROR: Final = msgspec.json.Decoder(CowApiError)
_ENCODER: Final = msgspec.json.Encoder()


class CowSwapHttpClient:
    """
    One aiohttp session to the order book.

    Parameters
    ----------
    base_url : str
        The API root (``https://api.cow.fi/mainnet``; a local stand-in in tests).
    timeout_secs : float
        Timeout of each request.
    """

    def __init__(self, base_url: str, timeout_secs: float = 10.0) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_secs)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Close the session (idempotent)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None, *, what: str
    ) -> bytes:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        data = None if body is None else _ENCODER.encode(body)
        headers = {"Content-Type": "application/json"} if data is not None else None
        try:
            async with self._session.request(
                method, self._base + path, data=data, params=params, headers=headers
            ) as response:
                raw = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as e:
            raise transport_error(e, what) from e
        if status >= 400:
            try:
                err = _ERROR.decode(raw)
                error_type, description = err.error_type, err.description
            except msgspec.DecodeError:
                error_type, description = None, raw[:200].decode(errors="replace")
            raise map_api_error(status, error_type, description)
        return raw

    def _decode[T](self, decoder: msgspec.json.Decoder[T], raw: bytes, what: str) -> T:
        try:
            return decoder.decode(raw)
        except msgspec.DecodeError as e:
            raise map_api_error(502, "MalformedResponse", f"{what}: {e}") from e

    async def quote(self, request: CowQuoteRequest) -> CowQuoteResponse:
        """``POST /api/v1/quote``."""
        raw = await self._request("POST", PATH_QUOTE, request, what="quote")
        return self._decode(_QUOTE, raw, "quote")

    async def post_order(self, order: CowOrderCreation) -> str:
        """``POST /api/v1/orders``; returns the order UID."""
        raw = await self._request("POST", PATH_ORDERS, order, what="post order")
        return self._decode(_UID, raw, "post order")

    async def get_order(self, uid: str) -> CowOrder:
        """``GET /api/v1/orders/{UID}``."""
        raw = await self._request("GET", f"{PATH_ORDERS}/{uid}", what="get order")
        return self._decode(_ORDER, raw, "get order")

    async def cancel_orders(self, cancellations: CowOrderCancellations) -> None:
        """``DELETE /api/v1/orders`` with a signed ``OrderCancellations``."""
        await self._request("DELETE", PATH_ORDERS, cancellations, what="cancel orders")

    async def get_trades(self, *, owner: str | None = None, order_uid: str | None = None) -> list[CowTrade]:
        """``GET /api/v1/trades?owner=...`` or ``?orderUid=...`` (exactly one)."""
        if (owner is None) == (order_uid is None):
            raise ValueError("get_trades needs exactly one of owner and order_uid")
        params = {"owner": owner} if owner is not None else {"orderUid": str(order_uid)}
        raw = await self._request("GET", PATH_TRADES, params=params, what="get trades")
        return self._decode(_TRADES, raw, "get trades")


__all__ = ["CowSwapHttpClient"]
