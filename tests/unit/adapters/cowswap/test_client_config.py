"""The CoW HTTP client's error boundary, its configuration, and the package's public surface."""

from __future__ import annotations

import asyncio
import socket

import msgspec
import pytest
from aiohttp import web

import nautilus_ext.adapters.cowswap as cowswap
from nautilus_ext.adapters.cowswap import CowSwapConfig
from nautilus_ext.adapters.cowswap import CowSwapHttpClient
from nautilus_ext.adapters.cowswap.errors import CowOrderRejected
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError

SETTLEMENT = "0x9008D19f58AAbD9eD0D60971565AA8510560ab41"
RELAYER = "0xC92E8bdf79f0507f65a392b0ab4667716BFE0110"


def _config(**kw: object) -> CowSwapConfig:
    fields: dict[str, object] = {
        "base_url": "https://api.cow.fi/mainnet",
        "chain_id": 1,
        "settlement": SETTLEMENT,
        "vault_relayer": RELAYER,
    }
    fields.update(kw)
    return CowSwapConfig(**fields)  # type: ignore[arg-type]


def test_config_round_trips_through_json_and_validates() -> None:
    config = _config()
    assert msgspec.json.decode(msgspec.json.encode(config), type=CowSwapConfig) == config
    config.validate()
    with pytest.raises(InvalidConfig, match="base_url"):
        _config(base_url="ftp://x")
    with pytest.raises(InvalidConfig, match="settlement"):
        _config(settlement="0x12")


def test_public_surface_is_pinned() -> None:
    assert sorted(cowswap.__all__) == sorted(
        [
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
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_order_book_is_venue_unavailable() -> None:
    async def go() -> NautilusExtError:
        client = CowSwapHttpClient(f"http://127.0.0.1:{_free_port()}", 2.0)
        try:
            await client.get_order("0x00")
        except NautilusExtError as e:
            return e
        finally:
            await client.close()
        raise AssertionError("no error")

    error = asyncio.run(go())
    assert error.code is ErrorCode.VENUE_UNAVAILABLE
    assert error.retryable


@pytest.mark.parametrize(
    ("status", "body", "code", "error_type"),
    [
        (
            404,
            b'{"errorType":"OrderNotFound","description":"no order"}',
            ErrorCode.ORDER_REJECTED,
            "OrderNotFound",
        ),
        (400, b"not json", ErrorCode.ORDER_REJECTED, "Unknown"),
        (429, b'{"errorType":"TooManyRequests","description":"slow"}', ErrorCode.RATE_LIMITED, None),
        (500, b"oops", ErrorCode.VENUE_UNAVAILABLE, None),
        (200, b'{"uid": 1}', ErrorCode.VENUE_UNAVAILABLE, None),  # malformed success body
    ],
)
def test_answers_become_typed_errors(
    status: int, body: bytes, code: ErrorCode, error_type: str | None
) -> None:
    async def go() -> NautilusExtError:
        async def handler(_: web.Request) -> web.Response:
            return web.Response(status=status, body=body, content_type="application/json")

        app = web.Application()
        app.router.add_get("/api/v1/orders/{uid}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        client = CowSwapHttpClient(f"http://127.0.0.1:{port}", 2.0)
        try:
            await client.get_order("0xabc")
        except NautilusExtError as e:
            return e
        finally:
            await client.close()
            await runner.cleanup()
        raise AssertionError("no error")

    error = asyncio.run(go())
    assert error.code is code
    if error_type is not None:
        assert isinstance(error, CowOrderRejected)
        assert error.error_type == error_type
