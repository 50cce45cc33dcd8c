"""Constants of the ccxt adapter: venue names, canonical venue codes and reason codes."""

from __future__ import annotations

from typing import Final

CCXT: Final = "CCXT"

# ccxt exchange id -> Nautilus venue name (also the canonical-key venue, seed 000)
VENUE_BY_EXCHANGE_ID: Final[dict[str, str]] = {
    "bybit": "BYBIT",
    "hyperliquid": "HYPERLIQUID",
    "binance": "BINANCE-SPOT",
    "binanceusdm": "BINANCE-USDM",
    "binancecoinm": "BINANCE-COINM",
    "okx": "OKX",
    "deribit": "DERIBIT",
    "coinbase": "COINBASE",
    "backpack": "BACKPACK",
    "paradex": "PARADEX",
    "aster": "ASTER",
    "grvt": "GRVT",
}

# ccxt options our adapter sets per exchange on top of the caller's options
DEFAULT_EXCHANGE_OPTIONS: Final[dict[str, dict[str, object]]] = {
    # ccxt charges its own builder fee on Hyperliquid orders unless disabled: never by default
    "hyperliquid": {"builderFee": False, "approvedBuilderFee": False},
    # Coinbase: balances from Advanced Trade's brokerage accounts (available + hold), not the
    # retail v2 wallets ccxt reads by default (no holds, so nothing would show as used)
    "coinbase": {"fetchBalance": "v3PrivateGetBrokerageAccounts"},
    # ccxt's Aster adds its builder (0.1% fee) to every perp order and asks the account to
    # approve it at sign-in unless disabled: never by default
    "aster": {"builderFee": False},
    # Paradex: ccxt 4.5.90 asks for SBE binary frames by default; the adapter takes the
    # documented JSON-RPC frames (the shapes the fake exchange verifies ccxt against)
    "paradex": {"sbe": False},
    # ccxt's GRVT signs every order with its builder (0.01% fee) and asks the account to
    # authorize it at sign-in unless disabled: never by default
    # ccxt 4.5.90's GRVT keys a stream subscription by its selector alone: the ticker's default
    # ``<instrument>@500`` equals the order book's, so whichever comes second is never sent.
    # A 1000 ms ticker keeps the two apart (GRVT offers raw, 50 ... 5000 ms)
    "grvt": {"builderFee": False, "watchTickers": {"channel": "v1.ticker.s", "interval": 1000}},
}

# -- Aster (ccxt 4.5.90) ------------------------------------------------------------------
# ccxt exchanges whose account-wide calls (fetchBalance, watchOrders) follow
# options['defaultType'] (spot by default) and whose fetchMarkets ignores the configured types:
# with one configured market type, that type becomes defaultType and only its markets are
# loaded as instruments (Aster: ("swap",) for perpetuals)
MARKET_TYPE_DEFAULT_EXCHANGES: Final = frozenset({"aster"})
# ccxt exchanges that tell swap from spot stream messages by the WebSocket host name
# (Aster: ``fstream`` vs ``sstream``): a local URL keeps the host's first label as the first
# path segment (``ws://127.0.0.1:8080/fstream/stream``)
WS_HOST_LABEL_IN_PATH: Final = frozenset({"aster"}) | {"grvt"}  # GRVT: market-data vs trades
# ccxt exchanges whose private streams cannot work: ccxt 4.5.90's Python Aster raises
# ArgumentsRequired("requires a market type") in every watchOrders/watchMyTrades/watchBalance
# call (the transpiled code tests a variable that is always None). Orders and fills come from
# the REST poll there (fill_poll_interval_ms); a test fails once ccxt fixes it
NO_PRIVATE_STREAM_EXCHANGES: Final = frozenset({"aster"})

# ccxt exchanges whose ``fetchMarkets`` option names the method to use (Coinbase's
# "fetchMarketsV3"): ``market_types`` must not overwrite it, so the instrument provider
# filters the loaded markets by ccxt market type instead
MARKET_TYPES_FILTERED_LOCALLY: Final = frozenset({"coinbase"})

# ccxt sizes spot market buys in quote (amount * a reference price) on these venues unless
# told otherwise; the venue also takes a base size, which fills exactly the ordered quantity:
# the adapter sends the base size in the venue's own order configuration
MARKET_BUY_BASE_SIZE: Final = frozenset({"coinbase"})

# -- GRVT (ccxt 4.5.90) -------------------------------------------------------------------
# ccxt exchanges whose REST hosts all serve from "/" (GRVT: edge, trades, market-data): a local
# URL keeps the host's first label as the first path segment and its trailing slash
# (``http://127.0.0.1:8080/grvt/trades/``), as ccxt appends paths without a leading slash
REST_HOST_LABEL_IN_PATH: Final = frozenset({"grvt"})
# Venues whose create_order answers before the order has an id (GRVT: ``order_id`` "0x00",
# state PENDING): the order is looked up by client id to learn its id
PLACEHOLDER_ORDER_IDS: Final[dict[str, str]] = {"grvt": "0x00"}

# ccxt exchanges that choose their error table by the request's host name, and the table
# (market family) the exchange id trades: kept in force when the URLs are overridden
URL_ROUTED_ERROR_FAMILY: Final[dict[str, str]] = {
    "binance": "spot",
    "binanceusdm": "linear",
    "binancecoinm": "inverse",
}

# ccxt's fetchTrades on these venues returns the account's own fills, not the public tape:
# public trades come only from the WebSocket there (no REST fallback)
NO_PUBLIC_REST_TRADES: Final = frozenset({"hyperliquid"})

# ccxt's watchOrderBook limit where the configured depth would select a channel the account
# may not have: ccxt maps OKX's limit 50 to books50-l2-tbt (VIP4 and login only); None lets
# ccxt use OKX's public 400-level `books` channel, which the client trims to `book_depth`
WATCH_BOOK_LIMIT: Final[dict[str, int | None]] = {"okx": None}

# Venues whose streamed tickers carry no mark price (OKX's `tickers` channel): mark prices
# come from ccxt's watchMarkPrice / fetchMarkPrice there
MARK_PRICE_STREAM_EXCHANGES: Final = frozenset({"okx"})

# Venues whose ccxt tickers carry no mark price and which have no ccxt mark-price stream
# (Backpack): mark prices come from fetch_funding_rate (Backpack's /api/v1/markPrices)
MARK_PRICE_FROM_FUNDING_RATE: Final = frozenset({"backpack"})

# Venue error codes, as ccxt exception class names, that ccxt's table lacks or classifies in a
# way that misleads the taxonomy (applied over ccxt's table):
# - Aster answers a used or expired nonce with -4225 (retryable with a fresh nonce), a reused
#   client order id, like Binance, with -4116, and an unapproved builder with -2031 (ccxt's
#   Aster table has none of them);
# - Backpack answers RESOURCE_NOT_FOUND for an order that is not (or no longer) open, which
#   ccxt maps to ExchangeNotAvailable (a retryable outage)
EXACT_ERROR_OVERRIDES: Final[dict[str, dict[str, str]]] = {
    "aster": {"-4225": "InvalidNonce", "-4116": "DuplicateOrderId", "-2031": "BadRequest"},
    "backpack": {"RESOURCE_NOT_FOUND": "OrderNotFound"},
    # GRVT's 2012 "Client Order ID overlaps with existing active order" is ccxt's InvalidOrder,
    # but it means our earlier attempt reached the venue: a retried create_order must find it
    "grvt": {"2012": "DuplicateOrderId"},
}

# ccxt amounts of inverse contracts on these venues are already quote value (Deribit's USD
# amounts, in steps of the 10 USD contract size), not a number of contracts: the Nautilus
# multiplier must be 1 or notional and PnL come out contract-size times too large
INVERSE_AMOUNT_IN_QUOTE: Final = frozenset({"deribit"})

# Venue reasons for orders ccxt reports "rejected" after the venue first acknowledged them
# (Paradex answers NEW, then closes the order after its risk checks) -> taxonomy code of
# the OrderRejected reason; unlisted reasons are ORDER_REJECTED
VENUE_REJECT_CODES: Final[dict[str, dict[str, str]]] = {
    "paradex": {"NOT_ENOUGH_MARGIN": "INSUFFICIENT_BALANCE"},
}

# Reason codes for orders the execution client refuses to send (OrderDenied.reason)
UNSUPPORTED_ORDER_TYPE: Final = "UNSUPPORTED_ORDER_TYPE"
UNSUPPORTED_TIME_IN_FORCE: Final = "UNSUPPORTED_TIME_IN_FORCE"
UNKNOWN_INSTRUMENT: Final = "UNKNOWN_INSTRUMENT"
MODIFY_NOT_SUPPORTED: Final = "MODIFY_NOT_SUPPORTED"
ORDER_NOT_FOUND: Final = "ORDER_NOT_FOUND"
# a reduce-only order on a spot market (no position to reduce; ccxt would send Coinbase's
# futures close-position request)
REDUCE_ONLY_NOT_SUPPORTED: Final = "REDUCE_ONLY_NOT_SUPPORTED"

# Message-bus topic prefix for feed status (stale/fresh) events
FEED_STATUS_TOPIC: Final = "nautilus_ext.feed_status"


def venue_for(exchange_id: str) -> str:
    """Return the Nautilus venue name for a ccxt exchange id (upper-cased id if unmapped)."""
    return VENUE_BY_EXCHANGE_ID.get(exchange_id, exchange_id.upper())
