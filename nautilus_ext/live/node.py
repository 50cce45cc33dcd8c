"""Build a ``TradingNode`` from a validated :class:`LiveNodeConfig` (LIVE or DRY_RUN)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from nautilus_trader.common.config import resolve_config_path
from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode

from nautilus_ext.adapters.ccxt.config import CcxtDataClientConfig
from nautilus_ext.adapters.ccxt.config import CcxtExecClientConfig
from nautilus_ext.adapters.ccxt.factories import CcxtLiveDataClientFactory
from nautilus_ext.adapters.ccxt.factories import CcxtLiveExecClientFactory
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.execution_algos import importable_exec_algorithm_configs
from nautilus_ext.live.config import LiveNodeConfig
from nautilus_ext.live.config import VenueConfig
from nautilus_ext.live.dry_run import DryRunExecClientConfig
from nautilus_ext.live.dry_run import DryRunExecClientFactory
from nautilus_ext.mode import Mode
from nautilus_ext.safety.actor import NodeSafety


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


def _native_binance(venue: VenueConfig) -> tuple[Any, Any, Any, Any]:
    # native BINANCE is USD-M futures with HMAC keys (BINANCE_API_KEY/_SECRET): orders over
    # REST, user data over a REST listenKey. A ws_url_override is the server root: market
    # streams at <root>/public (combined), user data at <root>/private/ws?listenKey=, and the
    # WS API (session.logon, used only with Ed25519 keys) at <root>/ws-fapi/v1.
    from nautilus_trader.adapters.binance import BinanceAccountType
    from nautilus_trader.adapters.binance import BinanceDataClientConfig
    from nautilus_trader.adapters.binance import BinanceExecClientConfig
    from nautilus_trader.adapters.binance import BinanceLiveDataClientFactory
    from nautilus_trader.adapters.binance import BinanceLiveExecClientFactory

    ws = venue.ws_url_override.rstrip("/") if venue.ws_url_override else None
    urls: dict[str, Any] = {"base_url_http": venue.rest_url_override}
    account = BinanceAccountType.USDT_FUTURES
    return (
        BinanceDataClientConfig(
            account_type=account,
            base_url_ws=f"{ws}/public" if ws else None,
            instrument_provider=_provider(venue),
            **urls,
        ),
        BinanceExecClientConfig(
            account_type=account,
            base_url_ws=f"{ws}/ws-fapi/v1" if ws else None,
            base_url_ws_stream=f"{ws}/private" if ws else None,
            instrument_provider=_provider(venue),
            **urls,
        ),
        BinanceLiveDataClientFactory,
        BinanceLiveExecClientFactory,
    )


def _native_okx(venue: VenueConfig) -> tuple[Any, Any, Any, Any]:
    from nautilus_trader.adapters.okx import OKXDataClientConfig
    from nautilus_trader.adapters.okx import OKXExecClientConfig
    from nautilus_trader.adapters.okx import OKXLiveDataClientFactory
    from nautilus_trader.adapters.okx import OKXLiveExecClientFactory
    from nautilus_trader.core.nautilus_pyo3 import OKXInstrumentType

    kinds = {
        "spot": OKXInstrumentType.SPOT,
        "margin": OKXInstrumentType.MARGIN,
        "swap": OKXInstrumentType.SWAP,
        "future": OKXInstrumentType.FUTURES,
        "option": OKXInstrumentType.OPTION,
    }
    common: dict[str, Any] = {"instrument_provider": _provider(venue)}
    if venue.market_types:
        unknown = sorted(set(venue.market_types) - set(kinds))
        if unknown:
            raise InvalidConfig(f"venue OKX: native market_types {unknown} not in {sorted(kinds)}")
        common["instrument_types"] = tuple(kinds[t] for t in venue.market_types)
    data_urls: dict[str, Any] = {}
    exec_urls: dict[str, Any] = {}
    if venue.rest_url_override and venue.ws_url_override:
        # base_url_ws is the full public (data) or private (exec) URL; the adapter derives
        # the business URL from it by replacing the last path segment
        ws = venue.ws_url_override.rstrip("/") + "/ws/v5"
        data_urls = {"base_url_http": venue.rest_url_override, "base_url_ws": ws + "/public"}
        exec_urls = {"base_url_http": venue.rest_url_override, "base_url_ws": ws + "/private"}
    return (
        OKXDataClientConfig(**common, **data_urls),
        OKXExecClientConfig(**common, **exec_urls),
        OKXLiveDataClientFactory,
        OKXLiveExecClientFactory,
    )


def _native_betfair(venue: VenueConfig) -> tuple[Any, Any, Any, Any]:
    # NautilusTrader's Betfair clients through nautilus_ext.adapters.betfair: URLs and stream address
    # configurable, credentials from the variables the YAML names, venue positions reported
    from nautilus_trader.adapters.betfair.providers import BetfairInstrumentProviderConfig

    from nautilus_ext.adapters.betfair import BetfairUrlDataClientConfig
    from nautilus_ext.adapters.betfair import BetfairUrlExecClientConfig
    from nautilus_ext.adapters.betfair import BetfairUrlLiveDataClientFactory
    from nautilus_ext.adapters.betfair import BetfairUrlLiveExecClientFactory

    section = venue.betfair
    assert section is not None  # enforced by VenueConfig
    provider = BetfairInstrumentProviderConfig(
        account_currency=section.account_currency,
        market_ids=section.market_ids,
        event_type_ids=section.event_type_ids,
        country_codes=section.country_codes,
        market_types=section.market_types,
    )
    common: dict[str, Any] = {
        "account_currency": section.account_currency,
        "instrument_config": provider,
        "base_url_http": venue.rest_url_override,
        "stream_url": venue.ws_url_override,
        "username_env": section.username_env,
        "password_env": section.password_env,
        "app_key_env": section.app_key_env,
        "certs_dir_env": section.certs_dir_env,
    }
    return (
        BetfairUrlDataClientConfig(**common),
        BetfairUrlExecClientConfig(
            **common,
            request_account_state_secs=section.request_account_state_secs,
            stream_market_ids_filter=section.market_ids,
        ),
        BetfairUrlLiveDataClientFactory,
        BetfairUrlLiveExecClientFactory,
    )


def _native(venue: VenueConfig) -> tuple[Any, Any, Any, Any]:
    # imported lazily: each native adapter pulls in its Rust bindings
    if venue.venue == "BETFAIR":
        return _native_betfair(venue)
    if venue.venue == "BINANCE":
        return _native_binance(venue)
    if venue.venue == "OKX":
        return _native_okx(venue)
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

    from nautilus_ext.adapters.deribit import DeribitUrlLiveExecClientFactory

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
                **_ccxt_common(venue),
                fill_poll_interval_ms=venue.fill_poll_interval_ms,
                position_poll_interval_ms=venue.position_poll_interval_ms,
                key_scope=venue.key_scope,
            )
            data_factory: Any = CcxtLiveDataClientFactory
            exec_factory: Any = CcxtLiveExecClientFactory
        else:
            data_cfg, exec_cfg, data_factory, exec_factory = _native(venue)
        if config.mode is Mode.DRY_RUN:
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
        exec_engine=LiveExecEngineConfig(reconciliation=config.mode is Mode.LIVE),
        data_clients=data_clients,
        exec_clients=exec_clients,
        strategies=[
            ImportableStrategyConfig(
                strategy_path=s.strategy_path,
                config_path=s.config_path,
                config=_strategy_settings(config, i, s.config_path, s.config),
            )
            for i, s in enumerate(config.strategies)
        ],
        exec_algorithms=(
            importable_exec_algorithm_configs(config.exec_algorithms.overrides)
            if config.exec_algorithms.enabled
            else []
        ),
        timeout_connection=config.timeout_connection_secs,
        timeout_reconciliation=config.timeout_reconciliation_secs,
        timeout_portfolio=5.0,
        timeout_disconnection=5.0,
        timeout_post_stop=1.0,
    )
    return node_config, factories


def _strategy_settings(
    config: LiveNodeConfig, index: int, config_path: str, settings: dict[str, Any]
) -> dict[str, Any]:
    # unified strategies learn the node's mode and audit log unless their config says otherwise;
    # each log has one writer: strategy n writes <root>/strategies/<n>, the gate <root>/safety
    from nautilus_ext.execution.strategy import UnifiedExecutionConfig

    config_class = resolve_config_path(config_path)
    if not (isinstance(config_class, type) and issubclass(config_class, UnifiedExecutionConfig)):
        return settings
    merged = dict(settings)
    merged.setdefault("mode", str(config.mode))
    if config.record is not None:
        # a recorded session times decisions by its data, the only clock a replay can reproduce
        merged["decision_clock"] = "data"
    if config.audit is not None:
        merged.setdefault("audit_root", audit_path(config.audit.root, "strategies", str(index)))
        merged.setdefault("audit_fsync", config.audit.fsync)
    return merged


def audit_path(root: str, *parts: str) -> str:
    """Return ``root/part/...`` for a local path or a ``gs://`` URL."""
    return "/".join([root.rstrip("/"), *parts])


@dataclass
class LiveNode:
    """A built node and its safety layer (``None`` only in a DRY_RUN without one)."""

    node: TradingNode
    safety: NodeSafety | None


def build_live_node(
    config: LiveNodeConfig,
    loop: asyncio.AbstractEventLoop | None = None,
) -> LiveNode:
    """
    Return a built (not yet running) node with its safety layer installed.

    Raises
    ------
    InvalidConfig
        If any check of :func:`~nautilus_ext.live.validation.check_live_config` fails (the
        same checks ``live-validate`` runs), before anything is built.
    """
    from nautilus_ext.live.validation import check_live_config
    from nautilus_ext.safety.actor import attach_safety

    safety_config = check_live_config(config).safety  # validate before anything is built
    node_config, factories = build_trading_node_config(config)
    node = TradingNode(config=node_config, loop=loop)
    for name, (data_factory, exec_factory) in factories.items():
        node.add_data_client_factory(name, data_factory)
        node.add_exec_client_factory(name, exec_factory)
    node.build()
    recorder = None
    if config.record is not None:
        try:
            recorder = _attach_recorder(node, config, node_config)
        except Exception:
            node.dispose()
            raise
    safety = None
    if safety_config is not None:
        section = config.safety
        assert section is not None
        try:
            safety = attach_safety(
                node,
                safety_config,
                control_port=section.control_port,
                control_token_env=section.control_token_env,
                tick_interval_ms=section.tick_interval_ms,
                audit_root=None if config.audit is None else audit_path(config.audit.root, "safety"),
                audit_fsync=True if config.audit is None else config.audit.fsync,
                exec_forward=(
                    _synchronous_exec_handler(node)
                    if recorder is not None and config.mode is Mode.DRY_RUN
                    else None
                ),
            )
        except Exception:
            node.dispose()
            raise
        if recorder is not None and safety.control is not None:
            # a recorded session keeps its operator commands: a REPLAY runs them at their times
            safety.control.add_listener(recorder.record_command)
    return LiveNode(node=node, safety=safety)


def _synchronous_exec_handler(node: TradingNode) -> Any:
    # a recorded DRY_RUN runs its execution engine synchronously: the chokepoint forwards to the
    # handler the ExecEngine.execute endpoint now points at, not to the queued one
    from nautilus_ext.live.dry_run import SYNC_ENDPOINTS

    for endpoint, engine_name, _queued, direct in SYNC_ENDPOINTS:
        if endpoint == "ExecEngine.execute":
            engine = getattr(node.kernel, engine_name)
            return getattr(engine, direct)
    return None


def _attach_recorder(node: TradingNode, config: LiveNodeConfig, node_config: TradingNodeConfig) -> Any:
    from pathlib import Path

    from nautilus_ext.live.dry_run import make_execution_synchronous
    from nautilus_ext.live.recording import session_manifest
    from nautilus_ext.replay.recorder import MarketDataRecorder
    from nautilus_ext.replay.recorder import MarketDataRecorderConfig
    from nautilus_ext.replay.recorder import check_record_root

    record = config.record
    assert record is not None
    check_record_root(Path(record.root))
    if config.mode is Mode.DRY_RUN:
        # only a simulated venue may run inside a data handler (see make_execution_synchronous)
        make_execution_synchronous(node)
    manifest = session_manifest(config, node_config)
    recorder = MarketDataRecorder(
        MarketDataRecorderConfig(
            component_id="MarketDataRecorder",
            root=record.root,
            venues=tuple(v.venue for v in config.venues),
            manifest_json=manifest,
            flush_every=record.flush_every,
        )
    )
    node.trader.add_actor(recorder)
    recorder.watch(node.trader.strategies())
    return recorder


def build_trading_node(
    config: LiveNodeConfig,
    loop: asyncio.AbstractEventLoop | None = None,
) -> TradingNode:
    """Return a built (not yet running) ``TradingNode`` for ``config`` (safety installed)."""
    return build_live_node(config, loop).node
