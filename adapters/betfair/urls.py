"""
Where NautilusTrader's Betfair clients connect: pure URL functions, no I/O.

NautilusTrader 1.231's ``BetfairHttpClient`` takes every URL from ``betfair_parser``'s global
``ENDPOINTS`` (``https://identitysso.betfair.com/api/...``, ``https://api.betfair.com/exchange/...``)
and its stream clients default to ``stream-api.betfair.com:443`` with TLS forced on; none of it
is configurable. :func:`rewrite_url` moves a Betfair URL onto another origin keeping its path,
and :func:`parse_stream_url` reads the stream address the adapter's configs take instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from nautilus_ext.errors import InvalidConfig

BETFAIR_STREAM_HOST: Final = "stream-api.betfair.com"
BETFAIR_STREAM_PORT: Final = 443
STREAM_SCHEMES: Final = {"tls": True, "tcp": False}
"""Stream URL schemes and whether each uses TLS (``tcp`` only for a local stand-in)."""


@dataclass(frozen=True)
class StreamAddress:
    """The Exchange Stream API endpoint: host, port, and whether to use TLS."""

    host: str
    port: int
    ssl: bool


def rewrite_url(url: str, base_url: str | None) -> str:
    """
    Return ``url`` on the origin of ``base_url`` (path and query kept); ``url`` when ``None``.

    ``https://api.betfair.com/exchange/betting/json-rpc/v1/SportsAPING/v1.0/placeOrders`` with
    base ``http://127.0.0.1:8080`` becomes ``http://127.0.0.1:8080/exchange/betting/...``; the
    identity host's ``/api/login`` becomes ``<base>/api/login``. Betfair's paths do not
    collide across its hosts, so one server can answer all of them.
    """
    if base_url is None:
        return url
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return base_url.rstrip("/") + path


def parse_stream_url(url: str | None) -> StreamAddress:
    """
    Return the stream address of ``tls://host:port`` or ``tcp://host:port`` (Betfair's own without one).

    Raises
    ------
    InvalidConfig
        If the scheme is not ``tls``/``tcp`` or the host or port is missing.
    """
    if url is None:
        return StreamAddress(BETFAIR_STREAM_HOST, BETFAIR_STREAM_PORT, ssl=True)
    parts = urlsplit(url)
    if parts.scheme not in STREAM_SCHEMES:
        raise InvalidConfig(
            f"Betfair stream URL {url!r}: scheme must be one of {sorted(STREAM_SCHEMES)} "
            "(the Exchange Stream API is CRLF-delimited JSON over a TCP socket, not a WebSocket)"
        )
    try:
        port = parts.port
    except ValueError as e:
        raise InvalidConfig(f"Betfair stream URL {url!r}: bad port") from e
    if not parts.hostname or port is None:
        raise InvalidConfig(f"Betfair stream URL {url!r}: needs host and port")
    if parts.path not in ("", "/"):
        raise InvalidConfig(f"Betfair stream URL {url!r}: takes no path")
    return StreamAddress(parts.hostname, port, ssl=STREAM_SCHEMES[parts.scheme])
