"""Fixtures: a fake exchange on a free port and a real TradingNode wired to the ccxt adapter."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from eth_account import Account
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import StrategyConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy

from nautilus_ext.adapters.ccxt import CcxtDataClientConfig
from nautilus_ext.adapters.ccxt import CcxtExecClientConfig
from nautilus_ext.adapters.ccxt import CcxtLiveDataClientFactory
from nautilus_ext.adapters.ccxt import CcxtLiveExecClientFactory
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange.aster_wire import TEST_PRIVATE_KEY as ASTER_KEY
from nautilus_ext_testkit.fake_exchange.backpack_wire import TEST_API_KEY as BACKPACK_KEY
from nautilus_ext_testkit.fake_exchange.backpack_wire import TEST_API_SECRET as BACKPACK_SECRET
from nautilus_ext_testkit.fake_exchange.coinbase_auth import TEST_KEY_NAME as CB_KEY_NAME
from nautilus_ext_testkit.fake_exchange.coinbase_auth import TEST_PRIVATE_KEY_PEM as CB_PRIVATE_KEY
from nautilus_ext_testkit.fake_exchange.grvt_wire import TEST_PRIVATE_KEY as GRVT_KEY
from nautilus_ext_testkit.fake_exchange.grvt_wire import TEST_SUB_ACCOUNT as GRVT_SUB_ACCOUNT
from nautilus_ext_testkit.fake_exchange.hyperliquid import TEST_PRIVATE_KEY
from nautilus_ext_testkit.fake_exchange.hyperliquid import TEST_WALLET
from nautilus_ext_testkit.fake_exchange.paradex import TEST_ETH_PRIVATE_KEY as PARADEX_ETH_KEY
from nautilus_ext_testkit.fake_exchange.paradex import default_paradex_accounts
from nautilus_ext_testkit.node_harness import NodeHarness

# the fake exchange recovers every signer: the wallet is the test key's address
HL_KEY = TEST_PRIVATE_KEY
HL_WALLET = TEST_WALLET

VENUES: dict[str, dict[str, Any]] = {
    "bybit": {
        "venue": "BYBIT",
        "market_types": ("linear",),
        "instrument": "BTCUSDT-LINEAR.BYBIT",
        "symbol": "BTCUSDT",
        "env": {"NAUTILUS_EXT_BYBIT_API_KEY": "fake-key", "NAUTILUS_EXT_BYBIT_API_SECRET": "fake-secret"},
        "bids": [("49999.9", "1"), ("49999.0", "2")],
        "asks": [("50000.1", "1"), ("50001.0", "2")],
        "qty_step": "0.001",
        "owner": "USER",
        "order_path": "/v5/order/create",
    },
    "binanceusdm": {
        # the registry gives NautilusTrader's native ids (BTCUSDT-PERP.BINANCE): the clients
        # must serve venue BINANCE for the data engine to route to them
        "venue": "BINANCE",
        "canonical_venue": "BINANCE-FUTURES",
        "owner": "USER",
        "order_path": "/fapi/v1/order",
        "market_types": ("linear",),
        "instrument": "BTCUSDT-PERP.BINANCE",
        "symbol": "BTCUSDT",
        "env": {
            "NAUTILUS_EXT_BINANCEUSDM_API_KEY": "fake-key",
            "NAUTILUS_EXT_BINANCEUSDM_API_SECRET": "fake-secret",
        },
        "bids": [("49999.9", "1"), ("49999.0", "2")],
        "asks": [("50000.1", "1"), ("50001.0", "2")],
        "qty_step": "0.001",
    },
    "okx": {
        "venue": "OKX",
        "owner": "USER",
        # ccxt places OKX orders through the batch endpoint (its createOrder default)
        "order_path": "/api/v5/trade/batch-orders",
        "market_types": ("swap",),
        "instrument": "BTC-USDT-SWAP.OKX",
        "symbol": "BTC-USDT-SWAP",
        "env": {
            "NAUTILUS_EXT_OKX_API_KEY": "fake-key",
            "NAUTILUS_EXT_OKX_API_SECRET": "fake-secret",
            "NAUTILUS_EXT_OKX_PASSWORD": "fake-passphrase",
        },
        "bids": [("49999.9", "1"), ("49999.0", "2")],
        "asks": [("50000.1", "1"), ("50001.0", "2")],
        # quantities are contracts of 0.01 BTC: a 90-contract order (the suites' "too big"
        # order) needs 4,500 USDT of margin at 10x, so the account starts below that
        "qty_step": "0.01",
        "balance": "4000",
    },
    "hyperliquid": {
        "venue": "HYPERLIQUID",
        "market_types": ("swap",),
        "instrument": "BTC-USD-PERP.HYPERLIQUID",
        "symbol": "BTC",
        "env": {
            "NAUTILUS_EXT_HYPERLIQUID_WALLET_ADDRESS": HL_WALLET,
            "NAUTILUS_EXT_HYPERLIQUID_PRIVATE_KEY": HL_KEY,
        },
        "bids": [("49999", "1"), ("49990", "2")],
        "asks": [("50001", "1"), ("50010", "2")],
        "qty_step": "0.00001",
        "owner": TEST_WALLET,
        "order_path": "/exchange",
    },
    # the linear USDC perpetual (amounts in BTC) runs the shared suites; the inverse
    # BTC-PERPETUAL (amounts in USD) has its own tests in test_deribit_inverse.py
    "deribit": {
        "venue": "DERIBIT",
        "market_types": ("swap",),
        "instrument": "BTC_USDC-PERPETUAL.DERIBIT",
        "symbol": "BTC_USDC-PERPETUAL",
        "env": {"NAUTILUS_EXT_DERIBIT_API_KEY": "fake-key", "NAUTILUS_EXT_DERIBIT_API_SECRET": "fake-secret"},
        "bids": [("49999", "1"), ("49990", "2")],
        "asks": [("50001", "1"), ("50010", "2")],
        "qty_step": "0.0001",
        "owner": "USER:USDC",
        "order_path": "/api/v2/private/buy",
    },
    # Coinbase Advanced Trade: a spot venue. Capability flags: no positions (holdings are
    # wallet balances, checked instead of positions), no derivatives data (mark/funding)
    "coinbase": {
        "venue": "COINBASE",
        "market_types": ("spot",),
        "instrument": "BTC/USD.COINBASE",
        "canonical_kind": "SPOT_PAIR",
        "symbol": "BTC-USD",
        "env": {
            "NAUTILUS_EXT_COINBASE_API_KEY": CB_KEY_NAME,
            "NAUTILUS_EXT_COINBASE_API_SECRET": CB_PRIVATE_KEY,
        },
        "bids": [("49999.99", "1"), ("49999.00", "2")],
        "asks": [("50000.01", "1"), ("50001.00", "2")],
        "qty_step": "0.00000001",
        "owner": "USER",
        "order_path": "/api/v3/brokerage/orders",
        "positions": False,
        "derivatives": False,
        "base": "BTC",
        "quote": "USD",
    },
    # Aster (no NautilusTrader adapter): served under /aster on the fake; the account is the
    # test key's address (EIP-712 signed requests). ccxt 4.5.90 has no editOrder for Aster and
    # its Python private streams always fail, so the client polls REST for orders and fills
    "aster": {
        "venue": "ASTER",
        "market_types": ("swap",),
        "instrument": "BTC/USDT:USDT.ASTER",
        "symbol": "BTCUSDT",
        "env": {"NAUTILUS_EXT_ASTER_PRIVATE_KEY": ASTER_KEY},
        "bids": [("49999.9", "1"), ("49999.0", "2")],
        "asks": [("50000.1", "1"), ("50001.0", "2")],
        "qty_step": "0.001",
        "owner": "USER",
        "order_path": "/aster/fapi/v3/order",
        "url_prefix": "/aster",
        "modify": False,
        "private_stream": False,
    },
    # no NautilusTrader adapter: the registry has no Backpack symbology, so the id is ccxt's
    # unified symbol; ED25519 keys (base64 public key and base64 seed)
    "backpack": {
        "venue": "BACKPACK",
        "market_types": ("swap",),
        "instrument": "BTC/USDC:USDC.BACKPACK",
        "symbol": "BTC_USDC_PERP",
        "env": {
            "NAUTILUS_EXT_BACKPACK_API_KEY": BACKPACK_KEY,
            "NAUTILUS_EXT_BACKPACK_API_SECRET": BACKPACK_SECRET,
        },
        "bids": [("49999.9", "1"), ("49999.0", "2")],
        "asks": [("50000.1", "1"), ("50001.0", "2")],
        "qty_step": "0.0001",
        "owner": "USER",
        "order_path": "/backpack/api/v1/order",
        "url_prefix": "/backpack",
        # ccxt has no editOrder for Backpack: a modify is refused with MODIFY_NOT_SUPPORTED
        "modify": False,
    },
    # StarkNet perp DEX: ccxt derives the STARK account from the Ethereum key; the fake
    # verifies the /auth and order signatures against that account's public key
    "paradex": {
        "venue": "PARADEX",
        "market_types": ("swap",),
        "instrument": "BTC/USD:USDC.PARADEX",
        "symbol": "BTC-USD-PERP",
        "env": {
            "NAUTILUS_EXT_PARADEX_WALLET_ADDRESS": str(Account.from_key(PARADEX_ETH_KEY).address),
            "NAUTILUS_EXT_PARADEX_PRIVATE_KEY": PARADEX_ETH_KEY,
        },
        "bids": [("49999.9", "1"), ("49999.0", "2")],
        "asks": [("50000.1", "1"), ("50001.0", "2")],
        "qty_step": "0.001",
        "owner": hex(int(next(iter(default_paradex_accounts())), 16)),
        "order_path": "/v1/orders",
        # Paradex runs risk checks after answering NEW: a reduce-only order that would flip
        # the position is closed with a cancel_reason, which ccxt reports as canceled
        "reduce_only_overflow_status": "CANCELED",
        # ccxt signs each request with StarkNet typed-data hashes in pure Python (~0.25 s of
        # CPU on the client, as much again for the fake's check): sub-second ack timeouts
        # expire before the first authenticated call completes
        "retry_ack_timeout_secs": 2.0,
    },
    # GRVT (no NautilusTrader adapter): served under /grvt/<host label>/ on the fake; the wallet
    # of the test key signs in (EIP-712 WalletLogin, session cookie) and signs every order for
    # its only sub-account. ccxt 4.5.90 has no editOrder and no fetchFundingRate for GRVT
    "grvt": {
        "venue": "GRVT",
        "market_types": ("swap",),
        "instrument": "BTC/USDT:USDT.GRVT",
        "symbol": "BTC_USDT_Perp",
        "env": {"NAUTILUS_EXT_GRVT_PRIVATE_KEY": GRVT_KEY},
        "bids": [("49999.9", "1"), ("49999.0", "2")],
        "asks": [("50000.1", "1"), ("50001.0", "2")],
        "qty_step": "0.001",
        "owner": GRVT_SUB_ACCOUNT,
        "order_path": "/grvt/trades/full/v1/create_order",
        "url_prefix": "/grvt",
        "modify": False,
        "funding": False,
    },
}


class RecorderConfig(StrategyConfig, frozen=True):
    """Config of :class:`Recorder`."""

    instrument_id: str
    subscribe: bool = True
    subscribe_derivatives: bool = False


class Recorder(Strategy):
    """A strategy that subscribes to market data and records what it receives."""

    def __init__(self, config: RecorderConfig) -> None:
        super().__init__(config)
        self.instrument_id = InstrumentId.from_str(config.instrument_id)
        self.deltas: list[OrderBookDeltas] = []
        self.quotes: list[QuoteTick] = []
        self.trades: list[TradeTick] = []
        self.marks: list[Any] = []
        self.fundings: list[Any] = []
        self.events: list[Any] = []

    def on_start(self) -> None:
        if self.config.subscribe:
            self.subscribe_order_book_deltas(self.instrument_id)
            self.subscribe_quote_ticks(self.instrument_id)
            self.subscribe_trade_ticks(self.instrument_id)
        if self.config.subscribe_derivatives:
            self.subscribe_mark_prices(self.instrument_id)
            self.subscribe_funding_rates(self.instrument_id)

    def on_mark_price(self, mark_price: Any) -> None:
        self.marks.append(mark_price)

    def on_funding_rate(self, funding_rate: Any) -> None:
        self.fundings.append(funding_rate)

    def on_order_book_deltas(self, deltas: OrderBookDeltas) -> None:
        self.deltas.append(deltas)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        self.quotes.append(tick)

    def on_trade_tick(self, tick: TradeTick) -> None:
        self.trades.append(tick)

    def on_event(self, event: Any) -> None:
        self.events.append(event)


def client_key(exchange_id: str) -> str:
    """Return the node's data/exec client key (and ClientId) of a venue in :data:`VENUES`."""
    return str(VENUES[exchange_id]["venue"]).partition("-")[0]


def node_factory(
    exchange: FakeExchange,
    exchange_id: str,
    *,
    subscribe: bool = True,
    subscribe_derivatives: bool = False,
    exec_overrides: dict[str, Any] | None = None,
    data_overrides: dict[str, Any] | None = None,
) -> Callable[[asyncio.AbstractEventLoop], TradingNode]:
    """Return a builder of a TradingNode with ccxt data+exec clients on the fake exchange."""
    spec = VENUES[exchange_id]
    common = {
        "exchange_id": exchange_id,
        "venue": spec["venue"],
        "market_types": spec["market_types"],
        # a venue served under a path prefix (Aster) gets it on both URLs
        "rest_url_override": exchange.base_url + spec.get("url_prefix", ""),
        "ws_url_override": exchange.ws_url + spec.get("url_prefix", ""),
        "enable_rate_limit": False,
        "timeout_ms": 3_000,
    }
    exec_kwargs: dict[str, Any] = {
        **common,
        "fill_poll_interval_ms": 500,
        "ack_timeout_secs": 5.0,
        "retry_delay_initial_ms": 50,
        "reconnect_delay_initial_ms": 50,
        "reconnect_delay_max_ms": 500,
        **(exec_overrides or {}),
    }

    def build(loop: asyncio.AbstractEventLoop) -> TradingNode:
        # Nautilus reads a client key (and an account id's issuer) up to the first "-"
        venue = client_key(exchange_id)
        config = TradingNodeConfig(
            trader_id="TESTER-001",
            logging=LoggingConfig(log_level="ERROR"),
            exec_engine=LiveExecEngineConfig(reconciliation=True, reconciliation_lookback_mins=60),
            data_clients={
                venue: CcxtDataClientConfig(
                    **common,
                    **{
                        "stale_after_secs": 2.0,
                        "reconnect_delay_initial_ms": 50,
                        "reconnect_delay_max_ms": 500,
                        **(data_overrides or {}),
                    },
                )
            },
            exec_clients={venue: CcxtExecClientConfig(**exec_kwargs)},
            timeout_connection=20.0,
            timeout_reconciliation=10.0,
            timeout_portfolio=5.0,
            timeout_disconnection=5.0,
            timeout_post_stop=0.5,
        )
        node = TradingNode(config=config, loop=loop)
        node.add_data_client_factory(venue, CcxtLiveDataClientFactory)
        node.add_exec_client_factory(venue, CcxtLiveExecClientFactory)
        node.trader.add_strategy(
            Recorder(
                RecorderConfig(
                    instrument_id=spec["instrument"],
                    subscribe=subscribe,
                    subscribe_derivatives=subscribe_derivatives,
                )
            )
        )
        node.build()
        return node

    return build


@pytest.fixture
def fake_exchange() -> Iterator[FakeExchange]:
    """A fake exchange on a free port (own thread and loop), with seeded BTC books."""
    exchange = FakeExchange(balances={k: Decimal(v["balance"]) for k, v in VENUES.items() if "balance" in v})
    exchange.start_in_thread()
    for exchange_id, spec in VENUES.items():
        engine = getattr(exchange, exchange_id).engine
        exchange.call(
            lambda e=engine, s=spec: e.seed_book(
                s["symbol"],
                bids=[(Decimal(p), Decimal(q)) for p, q in s["bids"]],
                asks=[(Decimal(p), Decimal(q)) for p, q in s["asks"]],
            )
        )
    yield exchange
    exchange.stop_thread()


@pytest.fixture(params=list(VENUES))
def exchange_id(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each first-class venue, with its dummy credentials in the environment."""
    for name, value in VENUES[request.param]["env"].items():
        monkeypatch.setenv(name, value)
    return str(request.param)


@pytest.fixture
def start_node(fake_exchange: FakeExchange) -> Iterator[Callable[..., NodeHarness]]:
    """Start nodes on demand; every node started is stopped at teardown."""
    harnesses: list[NodeHarness] = []

    def start(exchange_id: str, **kwargs: Any) -> NodeHarness:
        harness = NodeHarness(node_factory(fake_exchange, exchange_id, **kwargs))
        harness.start()
        harnesses.append(harness)
        return harness

    yield start
    for harness in reversed(harnesses):
        harness.stop()
