"""Build a ``TradingNode`` from a validated :class:`LiveNodeConfig` (LIVE or DRY_RUN)."""

from __future__ import annotations

import asyncio
from typing import Any

from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode

from adapters.ccxt.config import CcxtDataClientConfig
from adapters.ccxt.config import CcxtExecClientConfig
from adapters.ccxt.factories import CcxtLiveDataClientFactory
from adapters.ccxt.factories import CcxtLiveExecClientFactory
from nautilus_ext.live.config import LiveMode
from nautilus_ext.live.config import LiveNodeConfig
from nautilus_ext.live.config import VenueConfig
from nautilus_ext.live.dry_run import DryRunExecClientConfig
from nautilus_ext.live.dry_run import DryRunExecClientFactory


def _provider(venue: VenueConfig) -> InstrumentProviderConfig:
    if venue.instrument_ids:
        return InstrumentProviderConfig(load_ids=frozenset(venue.instrument_ids))
    return InstrumentProviderConfig(load_all=True)


def _ccxt_common(venue: VenueConfig) -> dict[str, Any]:
    return {
        "exchange_id": venue.exchange_id,
        "venue": venue.venue,
        "market_types": tuple(venue.market_types) if venue.market_types else None,
        "testnet": venue.testnet,
        "rest_url_override": venue.rest_url_override,
        "ws_url_override": venue.ws_url_override,
        "enable_rate_limit": venue.enable_rate_limit,
        "timeout_ms": venue.timeout_ms,
        "instrument_provider": _provider(venue),
    }


def _native(venue: VenueConfig) -> tuple[Any, Any, Any, Any]:
    # imported lazily: each native adapter pulls in its Rust bindings
    if venue.venue == "BYBIT":
        from nautilus_trader.adapters.bybit import BybitDataClientConfig
        from nautilus_trader.adapters.bybit import BybitExecClientConfig
        from nautilus_trader.adapters.bybit import BybitLiveDataClientFactory
        from nautilus_trader.adapters.bybit import BybitLiveExecClientFactory

        return (
            BybitDataClientConfig(instrument_provider=_provider(venue)),
            BybitExecClientConfig(instrument_provider=_provider(venue)),
            BybitLiveDataClientFactory,
            BybitLiveExecClientFactory,
        )
    if venue.venue == "DERIBIT":
        return _native_deribit(venue)
    from nautilus_trader.adapters.hyperliquid import HyperliquidDataClientConfig
    from nautilus_trader.adapters.hyperliquid import HyperliquidExecClientConfig
    from nautilus_trader.adapters.hyperliquid import HyperliquidLiveDataClientFactory
    from nautilus_trader.adapters.hyperliquid import HyperliquidLiveExecClientFactory

    return (
        HyperliquidDataClientConfig(instrument_provider=_provider(venue)),
        HyperliquidExecClientConfig(instrument_provider=_provider(venue)),
        HyperliquidLiveDataClientFactory,
        HyperliquidLiveExecClientFactory,
    )


def _native_deribit(venue: VenueConfig) -> tuple[Any, Any, Any, Any]:
    from nautilus_trader.adapters.deribit import DeribitDataClientConfig
    from nautilus_trader.adapters.deribit import DeribitExecClientConfig
    from nautilus_trader.adapters.deribit import DeribitLiveDataClientFactory
    from nautilus_trader.core.nautilus_pyo3 import DeribitEnvironment

    from adapters.deribit import DeribitUrlLiveExecClientFactory

    # the overrides are the server's base URL; Deribit's paths are /api/v2 and /ws/api/v2
    common: dict[str, Any] = {
        "environment": DeribitEnvironment.TESTNET if venue.testnet else DeribitEnvironment.MAINNET,
        "instrument_provider": _provider(venue),
    }
    if venue.rest_url_override is not None and venue.ws_url_override is not None:
        common["base_url_http"] = venue.rest_url_override.rstrip("/") + "/api/v2"
        common["base_url_ws"] = venue.ws_url_override.rstrip("/") + "/ws/api/v2"
    return (
        DeribitDataClientConfig(**common),
        DeribitExecClientConfig(**common),
        DeribitLiveDataClientFactory,
        DeribitUrlLiveExecClientFactory,
    )


def build_trading_node_config(config: LiveNodeConfig) -> tuple[TradingNodeConfig, dict[str, Any]]:
    """
    Return the ``TradingNodeConfig`` and the client factories per venue.

    In DRY_RUN every venue's execution client is the simulated one: no live execution
    client is even constructed, so no credentials are read and no order can be sent.
    """
    data_clients: dict[str, Any] = {}
    exec_clients: dict[str, Any] = {}
    factories: dict[str, Any] = {}
    for venue in config.venues:
        if venue.adapter == "ccxt":
            data_cfg: Any = CcxtDataClientConfig(**_ccxt_common(venue))
            exec_cfg: Any = CcxtExecClientConfig(
                **_ccxt_common(venue), fill_poll_interval_ms=venue.fill_poll_interval_ms
            )
            data_factory: Any = CcxtLiveDataClientFactory
            exec_factory: Any = CcxtLiveExecClientFactory
        else:
            data_cfg, exec_cfg, data_factory, exec_factory = _native(venue)
        if config.mode is LiveMode.DRY_RUN:
            dry = config.dry_run
            assert dry is not None  # enforced by LiveNodeConfig
            exec_cfg = DryRunExecClientConfig(
                venue=venue.venue,
                starting_balances=list(dry.starting_balances),
                default_leverage=dry.default_leverage,
                prob_fill_on_limit=dry.fill_model.prob_fill_on_limit,
                prob_slippage=dry.fill_model.prob_slippage,
                random_seed=dry.fill_model.random_seed,
                latency_ms=dry.latency_ms,
                instruments_timeout_secs=dry.instruments_timeout_secs,
            )
            exec_factory = DryRunExecClientFactory
        data_clients[venue.venue] = data_cfg
        exec_clients[venue.venue] = exec_cfg
        factories[venue.venue] = (data_factory, exec_factory)
    node_config = TradingNodeConfig(
        trader_id=config.trader_id,
        logging=LoggingConfig(log_level=config.log_level),
        exec_engine=LiveExecEngineConfig(reconciliation=config.mode is LiveMode.LIVE),
        data_clients=data_clients,
        exec_clients=exec_clients,
        strategies=[
            ImportableStrategyConfig(
                strategy_path=s.strategy_path, config_path=s.config_path, config=s.config
            )
            for s in config.strategies
        ],
        timeout_connection=config.timeout_connection_secs,
        timeout_reconciliation=config.timeout_reconciliation_secs,
        timeout_portfolio=5.0,
        timeout_disconnection=5.0,
        timeout_post_stop=1.0,
    )
    return node_config, factories


def build_trading_node(
    config: LiveNodeConfig,
    loop: asyncio.AbstractEventLoop | None = None,
) -> TradingNode:
    """Return a built (not yet running) ``TradingNode`` for ``config``."""
    node_config, factories = build_trading_node_config(config)
    node = TradingNode(config=node_config, loop=loop)
    for name, (data_factory, exec_factory) in factories.items():
        node.add_data_client_factory(name, data_factory)
        node.add_exec_client_factory(name, exec_factory)
    node.build()
    return node
