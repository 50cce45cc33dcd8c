"""
Frozen configurations of the ccxt data and execution clients.

msgspec does not check ``Meta`` constraints on direct construction: the factories call
``config.validate()`` (a JSON round trip that does), and ``__post_init__`` raises on
cross-field mistakes at construction.
"""

from __future__ import annotations

from typing import Annotated
from typing import Literal

import msgspec
from nautilus_trader.config import LiveDataClientConfig
from nautilus_trader.config import LiveExecClientConfig

from nautilus_ext.errors import InvalidConfig

PositiveInt = Annotated[int, msgspec.Meta(gt=0)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]


def _check_connection(
    exchange_id: str,
    testnet: bool,
    rest_url_override: str | None,
    ws_url_override: str | None,
    reconnect_delay_initial_ms: int,
    reconnect_delay_max_ms: int,
) -> None:
    if not exchange_id or exchange_id != exchange_id.lower():
        raise InvalidConfig(f"exchange_id must be a lower-case ccxt id, was {exchange_id!r}")
    if testnet and (rest_url_override or ws_url_override):
        # ccxt's set_sandbox_mode() swaps the URLs back: the two cannot be combined
        raise InvalidConfig("testnet cannot be combined with rest_url_override/ws_url_override")
    if (ws_url_override is None) != (rest_url_override is None):
        raise InvalidConfig("set both rest_url_override and ws_url_override, or neither")
    if reconnect_delay_initial_ms > reconnect_delay_max_ms:
        raise InvalidConfig(
            "reconnect_delay_initial_ms must not exceed reconnect_delay_max_ms "
            f"({reconnect_delay_initial_ms} > {reconnect_delay_max_ms})"
        )


class CcxtDataClientConfig(LiveDataClientConfig, frozen=True):
    """
    Configuration of :class:`CcxtDataClient`.

    Parameters
    ----------
    exchange_id : str
        The ccxt exchange id (``bybit``, ``hyperliquid``, ``okx`` ...).
    venue : str, optional
        The Nautilus venue name; defaults to the project's name for the exchange.
    market_types : tuple[str, ...], optional
        ccxt ``fetchMarkets`` types to load (``("linear",)`` on Bybit, ``("swap",)`` on
        Hyperliquid); ``None`` keeps ccxt's default (everything).
    testnet : bool, default False
        Use the exchange's sandbox URLs (ccxt ``set_sandbox_mode``).
    rest_url_override, ws_url_override : str, optional
        Point every REST endpoint at ``rest_url_override`` and every WebSocket at
        ``ws_url_override`` + the original path (a local fake exchange).
    enable_rate_limit : bool, default True
        ccxt's client-side throttle.
    timeout_ms : int, default 10_000
        ccxt's per-request timeout (milliseconds).
    use_websocket : bool, default True
        Stream over ccxt.pro; when ``False`` (or while a stream is down) poll REST.
    poll_interval_ms : int, default 1_000
        REST polling interval (milliseconds) when not streaming.
    stale_after_secs : float, default 10.0
        A subscription with no update for this long is reported stale.
    reconnect_delay_initial_ms, reconnect_delay_max_ms : int
        Exponential backoff bounds (milliseconds) between stream reconnects.
    book_depth : int, default 50
        Order book depth requested from the venue (levels per side).
    exchange_options : dict[str, str | int | float | bool], optional
        Extra ccxt ``options`` (merged over the adapter's defaults).
    """

    exchange_id: str = "bybit"
    venue: str | None = None
    market_types: tuple[str, ...] | None = None
    testnet: bool = False
    rest_url_override: str | None = None
    ws_url_override: str | None = None
    enable_rate_limit: bool = True
    timeout_ms: PositiveInt = 10_000
    use_websocket: bool = True
    poll_interval_ms: PositiveInt = 1_000
    stale_after_secs: PositiveFloat = 10.0
    reconnect_delay_initial_ms: PositiveInt = 250
    reconnect_delay_max_ms: PositiveInt = 10_000
    book_depth: PositiveInt = 50
    exchange_options: dict[str, str | int | float | bool] | None = None

    def __post_init__(self) -> None:
        _check_connection(
            self.exchange_id,
            self.testnet,
            self.rest_url_override,
            self.ws_url_override,
            self.reconnect_delay_initial_ms,
            self.reconnect_delay_max_ms,
        )


class CcxtExecClientConfig(LiveExecClientConfig, frozen=True):
    """
    Configuration of :class:`CcxtExecutionClient`.

    Parameters
    ----------
    exchange_id : str
        The ccxt exchange id.
    venue : str, optional
        The Nautilus venue name; defaults to the project's name for the exchange.
    market_types : tuple[str, ...], optional
        ccxt ``fetchMarkets`` types to load.
    testnet : bool, default False
        Use the exchange's sandbox URLs.
    rest_url_override, ws_url_override : str, optional
        Point every REST endpoint / WebSocket at a local server.
    enable_rate_limit : bool, default True
        ccxt's client-side throttle.
    timeout_ms : int, default 10_000
        ccxt's per-request timeout (milliseconds).
    use_websocket : bool, default True
        Stream order and fill updates over ccxt.pro (REST polling always backs it up).
    fill_poll_interval_ms : int, default 2_000
        Interval (milliseconds) of the REST poll of recent fills and open orders that
        recovers anything a dropped stream missed (fills are deduplicated by trade id).
    position_poll_interval_ms : int, default 2_000
        Interval (milliseconds) of the REST poll of the venue's own positions, published as
        :class:`~nautilus_ext.messages.VenuePositionSnapshot` on
        ``nautilus_ext.venue_positions.<VENUE>``: what confirms fills and detects positions
        changed behind the system's back in the safety layer (0 turns it off).
    margin_poll_interval_ms : int, default 5_000
        At most this often (milliseconds), the position poll also reads the account's margin
        balance and maintenance margin and publishes them as
        :class:`~nautilus_ext.messages.VenueMargin` on ``nautilus_ext.venue_margin.<VENUE>``
        (what strategies' margin guards watch; 0 turns it off).
    funding_poll_interval_ms : int, default 60_000
        Interval (milliseconds) of the REST poll of the account's funding history (ccxt
        ``fetch_funding_history``), each payment published once as
        :class:`~nautilus_ext.messages.FundingPaymentReport` on
        ``nautilus_ext.funding_payments.<VENUE>`` (what backfills payments received while a
        node was down; 0 turns it off).
    max_retries : int, default 2
        Retries of a retryable failure (rate limit, timeout) of an order request; retries
        reuse the client order id, so a request that did reach the venue is not doubled.
    retry_delay_initial_ms, retry_delay_max_ms : int
        Exponential backoff bounds (milliseconds) between retries.
    reconnect_delay_initial_ms, reconnect_delay_max_ms : int
        Exponential backoff bounds (milliseconds) between stream reconnects.
    ack_timeout_secs : float, default 10.0
        Upper bound on waiting for any single venue request.
    exchange_options : dict[str, str | int | float | bool], optional
        Extra ccxt ``options``.
    key_scope : {"trade", "read"}, default "trade"
        Which key the client loads (:mod:`nautilus_ext.adapters.ccxt.credentials`): ``read``
        for a data/status-only node (the safety gate denies orders to such a venue).
    """

    exchange_id: str = "bybit"
    venue: str | None = None
    market_types: tuple[str, ...] | None = None
    testnet: bool = False
    rest_url_override: str | None = None
    ws_url_override: str | None = None
    enable_rate_limit: bool = True
    timeout_ms: PositiveInt = 10_000
    use_websocket: bool = True
    fill_poll_interval_ms: NonNegativeInt = 2_000
    position_poll_interval_ms: NonNegativeInt = 2_000
    margin_poll_interval_ms: NonNegativeInt = 5_000
    funding_poll_interval_ms: NonNegativeInt = 60_000
    max_retries: NonNegativeInt = 2
    retry_delay_initial_ms: PositiveInt = 100
    retry_delay_max_ms: PositiveInt = 2_000
    reconnect_delay_initial_ms: PositiveInt = 250
    reconnect_delay_max_ms: PositiveInt = 10_000
    ack_timeout_secs: PositiveFloat = 10.0
    exchange_options: dict[str, str | int | float | bool] | None = None
    key_scope: Literal["trade", "read"] = "trade"

    def __post_init__(self) -> None:
        _check_connection(
            self.exchange_id,
            self.testnet,
            self.rest_url_override,
            self.ws_url_override,
            self.reconnect_delay_initial_ms,
            self.reconnect_delay_max_ms,
        )
        if self.retry_delay_initial_ms > self.retry_delay_max_ms:
            raise InvalidConfig("retry_delay_initial_ms must not exceed retry_delay_max_ms")
