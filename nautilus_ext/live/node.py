"""Build a ``TradingNode`` from a validated :class:`LiveNodeConfig` (LIVE or DRY_RUN)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from nautilus_trader.common.config import resolve_config_path
from nautilus_trader.config import ImportableActorConfig
from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode

from nautilus_ext.adapters.registry import build_clients
from nautilus_ext.execution_algos import importable_exec_algorithm_configs
from nautilus_ext.live.config import LiveNodeConfig
from nautilus_ext.live.dry_run import DryRunExecClientConfig
from nautilus_ext.live.dry_run import DryRunExecClientFactory
from nautilus_ext.mode import Mode
from nautilus_ext.safety.actor import NodeSafety


def build_trading_node_config(config: LiveNodeConfig) -> tuple[TradingNodeConfig, dict[str, Any]]:
    """
    Return the ``TradingNodeConfig`` and the client factories per venue.

    Each venue's clients come from the venue family registered for it
    (:func:`nautilus_ext.adapters.registry.build_clients`). In DRY_RUN every venue's execution
    client is the simulated one: no live execution client is even constructed, so no
    credentials are read and no order can be sent.

    Raises
    ------
    UnknownVenue
        If no registered venue family serves a venue (the error lists the registered ones).
    InvalidConfig
        If a venue family refuses its venue's settings.
    """
    data_clients: dict[str, Any] = {}
    exec_clients: dict[str, Any] = {}
    factories: dict[str, Any] = {}
    for venue in config.venues:
        # each venue family builds its own clients (nautilus_ext.adapters.registry)
        clients = build_clients(venue)
        data_cfg, exec_cfg = clients.data_config, clients.exec_config
        data_factory, exec_factory = clients.data_factory, clients.exec_factory
        if config.mode is Mode.DRY_RUN:
            dry = config.dry_run
            assert dry is not None  # enforced by LiveNodeConfig
            # Betfair streams full ladders and no quotes: its simulated venue matches on the L2
            # book (the sandbox's default L1 book would stay empty) with a betting account
            betfair = getattr(venue, "betfair", None) is not None
            exec_cfg = DryRunExecClientConfig(
                venue=clients.simulated_venue or venue.venue,
                starting_balances=list(dry.starting_balances),
                book_type="L2_MBP" if betfair else "L1_MBP",
                account_type="BETTING" if betfair else "MARGIN",
                default_leverage=dry.default_leverage,
                prob_fill_on_limit=dry.fill_model.prob_fill_on_limit,
                prob_slippage=dry.fill_model.prob_slippage,
                random_seed=dry.fill_model.random_seed,
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
        actors=_metrics_actors(config) + _web_actors(config) + _telegram_actors(config),
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


# the operator layer sits beside live (neither imports the other): the node loads the exporter by
# its import path, as it loads strategies
METRICS_ACTOR_PATH = "nautilus_ext.operator.actor:PrometheusMetricsActor"
METRICS_CONFIG_PATH = "nautilus_ext.operator.actor:PrometheusMetricsConfig"


def _metrics_actors(config: LiveNodeConfig) -> list[ImportableActorConfig]:
    metrics = config.metrics
    if metrics is None:
        return []
    return [
        ImportableActorConfig(
            actor_path=METRICS_ACTOR_PATH,
            config_path=METRICS_CONFIG_PATH,
            config={
                "component_id": "PrometheusMetrics",
                "host": metrics.host,
                "port": metrics.port,
                "allow_remote": metrics.allow_remote,
                "refresh_interval_ms": metrics.refresh_interval_ms,
            },
        )
    ]


WEB_ACTOR_PATH = "nautilus_ext.operator.web.actor:WebConsoleActor"
WEB_CONFIG_PATH = "nautilus_ext.operator.web.actor:WebConsoleConfig"


def _web_actors(config: LiveNodeConfig) -> list[ImportableActorConfig]:
    web = config.web
    if web is None:
        return []
    settings: dict[str, Any] = web.model_dump()
    settings["component_id"] = "WebConsole"
    if config.audit is not None:
        settings["audit_root"] = config.audit.root
    return [ImportableActorConfig(actor_path=WEB_ACTOR_PATH, config_path=WEB_CONFIG_PATH, config=settings)]


TELEGRAM_ACTOR_PATH = "nautilus_ext.operator.telegram.bot:TelegramBotActor"
TELEGRAM_CONFIG_PATH = "nautilus_ext.operator.telegram.bot:TelegramBotConfig"


def _telegram_actors(config: LiveNodeConfig) -> list[ImportableActorConfig]:
    telegram = config.telegram
    if telegram is None:
        return []
    settings: dict[str, Any] = telegram.model_dump()
    for key in ("allowed_user_ids", "allowed_chat_ids", "alert_chat_ids"):
        settings[key] = tuple(settings[key])
    settings["component_id"] = "TelegramBot"
    if config.audit is not None:
        settings["audit_root"] = config.audit.root
    return [
        ImportableActorConfig(
            actor_path=TELEGRAM_ACTOR_PATH, config_path=TELEGRAM_CONFIG_PATH, config=settings
        )
    ]


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
