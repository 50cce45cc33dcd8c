"""
Run a backtest through NautilusTrader's ``BacktestNode`` and collect honest results.

The node reads the catalog (local path or ``gs://``), simulates every venue with its L2 book,
maker/taker fees from the instruments and the configured latency model, and runs either the
order replayer (orders-driven) or a user strategy (strategy-driven). Both execute through
:class:`~nautilus_ext.execution.strategy.UnifiedExecutionStrategy`.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from pathlib import Path
from typing import Any

from nautilus_ext.adapters.symbology import to_instrument_id
from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.config import VenueSimSpec
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.execution.results import GroupExecutionResult
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.registry import InstrumentRegistry

log = logging.getLogger(__name__)

_DATA_CLASSES = {
    "order_book_deltas": "nautilus_trader.model.data:OrderBookDelta",
    "trade_ticks": "nautilus_trader.model.data:TradeTick",
    "quote_ticks": "nautilus_trader.model.data:QuoteTick",
}
_NS_PER_MS = Decimal(1_000_000)


@dataclass(slots=True)
class BacktestOutcome:
    """Everything a report needs from one run."""

    spec: BacktestSpec
    results: list[ExecutionResult]
    account_reports: dict[str, Any] = field(default_factory=dict)
    positions_report: Any = None
    fills_report: Any = None
    groups: list[GroupExecutionResult] = field(default_factory=list)
    events_processed: int = 0
    elapsed_secs: float = 0.0


def _catalog_fs(catalog: str) -> tuple[str, str | None]:
    if catalog.startswith("gs://"):
        return catalog, "gcs"
    return catalog, None


def build_run_config(
    spec: BacktestSpec,
    registry: InstrumentRegistry,
    orders_file: str | None,
    exec_algorithms: list[Any] | None = None,
) -> Any:
    """
    Build the Nautilus ``BacktestRunConfig`` for a spec.

    Raises
    ------
    InvalidConfig
        If an instrument or venue of the spec is unknown to the registry.
    """
    from nautilus_trader.backtest.config import BacktestDataConfig
    from nautilus_trader.backtest.config import BacktestEngineConfig
    from nautilus_trader.backtest.config import BacktestRunConfig
    from nautilus_trader.config import ImportableStrategyConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.identifiers import InstrumentId

    try:
        in_catalog = catalog_instrument_ids(spec.catalog, registry)
        instrument_ids = [in_catalog.get(k) or str(to_instrument_id(k, registry)) for k in spec.instruments]
        venue_specs = {v.venue: registry.venue(v.venue) for v in spec.venues}
    except Exception as e:  # InvalidInstrumentKey from the registry: a config problem here
        raise InvalidConfig(f"backtest {spec.run_id}: {e}") from None
    nautilus_venues: dict[str, Any] = {}
    # the simulated venues are the Nautilus venues the data uses (GLBX for Databento's CME data)
    data_venues: dict[str, set[str]] = {}
    for key_text, iid_text in zip(spec.instruments, instrument_ids, strict=True):
        data_venues.setdefault(InstrumentKey.parse(key_text).venue, set()).add(iid_text.rsplit(".", 1)[1])
    for sim in spec.venues:
        vs = venue_specs[sim.venue]
        if vs.nautilus_venue is None:
            raise InvalidConfig(
                f"backtest {spec.run_id}: venue {sim.venue} is not simulated by NautilusTrader"
            )
        for name in sorted(data_venues.get(sim.venue) or {vs.nautilus_venue}):
            if name in nautilus_venues:
                continue  # e.g. BINANCE-SPOT and BINANCE-FUTURES share one simulated BINANCE venue
            nautilus_venues[name] = _venue_config(name, sim)
    catalog, protocol = _catalog_fs(spec.catalog)
    # one data config per instrument and kind: the node checks book data per venue this way
    data = [
        BacktestDataConfig(
            catalog_path=catalog,
            catalog_fs_protocol=protocol,
            data_cls=_DATA_CLASSES[kind],
            instrument_id=InstrumentId.from_str(iid),
            start_time=spec.start.isoformat(),
            end_time=spec.end.isoformat(),
        )
        for iid in instrument_ids
        for kind in spec.data
    ]
    base_config: dict[str, Any] = {
        "registry_dir": spec.registry_dir,
        "instrument_ids": instrument_ids,
        "book_data": "order_book_deltas" in spec.data,
        "trade_data": "trade_ticks" in spec.data,
        "quote_data": "quote_ticks" in spec.data,
        "audit_root": spec.audit_root,
        "mode": spec.mode,
    }
    if spec.kind == "orders":
        strategy = ImportableStrategyConfig(
            strategy_path="nautilus_ext.backtest.replayer:OrderReplayStrategy",
            config_path="nautilus_ext.backtest.replayer:OrderReplayConfig",
            config={**base_config, "orders_path": orders_file},
        )
    else:
        assert spec.strategy is not None  # validated by the spec
        strategy = ImportableStrategyConfig(
            strategy_path=spec.strategy.strategy_path,
            config_path=spec.strategy.config_path,
            config={**base_config, **spec.strategy.config},
        )
    from nautilus_ext.execution_algos import importable_exec_algorithm_configs

    return BacktestRunConfig(
        engine=BacktestEngineConfig(
            strategies=[strategy],
            exec_algorithms=importable_exec_algorithm_configs()
            if exec_algorithms is None
            else exec_algorithms,
            logging=LoggingConfig(log_level=spec.log_level, bypass_logging=spec.log_level == "ERROR"),
        ),
        venues=list(nautilus_venues.values()),
        data=data,
        start=spec.start.isoformat(),
        end=spec.end.isoformat(),
        raise_exception=True,
        dispose_on_completion=False,
    )


def _venue_config(name: str, sim: VenueSimSpec) -> Any:
    from nautilus_trader.backtest.config import BacktestVenueConfig
    from nautilus_trader.backtest.config import ImportableFeeModelConfig
    from nautilus_trader.backtest.config import ImportableLatencyModelConfig

    lat = sim.latency
    latency = ImportableLatencyModelConfig(
        latency_model_path="nautilus_trader.backtest.models:LatencyModel",
        config_path="nautilus_trader.backtest.config:LatencyModelConfig",
        config={
            "base_latency_nanos": int(lat.base_ms * _NS_PER_MS),
            "insert_latency_nanos": int(lat.insert_ms * _NS_PER_MS),
            "update_latency_nanos": int(lat.update_ms * _NS_PER_MS),
            "cancel_latency_nanos": int(lat.cancel_ms * _NS_PER_MS),
        },
    )
    return BacktestVenueConfig(
        name=name,
        oms_type=sim.oms_type,
        account_type=sim.account_type,
        starting_balances=sim.starting_balances,
        book_type=sim.book_type,
        latency_model=latency,
        fee_model=ImportableFeeModelConfig(
            fee_model_path="nautilus_trader.backtest.models:MakerTakerFeeModel",
            config_path="nautilus_trader.backtest.config:MakerTakerFeeModelConfig",
            config={},
        ),
        liquidity_consumption=True,
        trade_execution=True,
        use_market_order_acks=True,
    )


def catalog_instrument_ids(catalog: str, registry: InstrumentRegistry) -> dict[str, str]:
    """
    Return canonical key -> Nautilus instrument id for the instruments a local catalog holds.

    Data vendors name instruments their own way (Databento: ``ESU4.GLBX``); the canonical key
    links them to the registry. Remote catalogs are mirrored before the run, so only local paths
    are read here.
    """
    if "://" in catalog or not Path(catalog).is_dir():
        return {}
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    from nautilus_ext.adapters.symbology import key_for_instrument
    from nautilus_ext.errors import NautilusExtError

    found: dict[str, str] = {}
    for inst in ParquetDataCatalog(catalog).instruments():
        try:
            found.setdefault(str(key_for_instrument(inst, registry)), str(inst.id))
        except NautilusExtError:
            continue
    return found


def _orders_file(spec: BacktestSpec, workdir: Path) -> str | None:
    """Return a JSON-lines orders file: the spec's own, or one exported from the storage root."""
    if spec.kind != "orders" or spec.orders is None:
        return None
    source = spec.orders
    if source.endswith((".jsonl", ".json")):
        if "://" not in source and not Path(source).is_file():
            raise InvalidConfig(f"backtest {spec.run_id}: orders file {source} does not exist")
        return source
    from nautilus_ext.storage import ClusterStore

    orders = ClusterStore(source).read_orders(spec.start.date(), spec.end.date())
    out = workdir / "orders.jsonl"
    out.write_text("".join(o.to_json() + "\n" for o in orders), encoding="utf-8")
    return str(out)


def run_backtest(spec: BacktestSpec, *, exec_algorithms: list[Any] | None = None) -> BacktestOutcome:
    """
    Run one backtest and return its outcome (results per order, account and position reports).

    ``exec_algorithms`` replaces this project's execution algorithms (Nautilus
    ``ImportableExecAlgorithmConfig`` list), e.g. to benchmark NautilusTrader's example TWAP.

    Raises
    ------
    InvalidConfig
        If the spec references unknown instruments/venues or missing files.
    """
    import time

    from nautilus_trader.backtest.node import BacktestNode
    from nautilus_trader.model.identifiers import Venue

    registry = (
        InstrumentRegistry.from_directory(spec.registry_dir)
        if spec.registry_dir
        else InstrumentRegistry.default()
    )
    if spec.audit_root is not None and spec.mode == "BACKTEST":
        from nautilus_ext.replay.runner import record_run

        record_run(spec, spec.audit_root)
    with tempfile.TemporaryDirectory(prefix="nautilus-ext-bt-") as tmp:
        orders_file = _orders_file(spec, Path(tmp))
        run_spec = spec
        if spec.catalog.startswith("gs://"):
            # BacktestNode reads through NautilusTrader's Rust object store, which cannot reach
            # every GCS endpoint (the emulator lacks its XML listing API): mirror, then read locally
            from nautilus_ext.catalogs.target import mirror_to_local

            local = mirror_to_local(spec.catalog, Path(tmp) / "catalog")
            log.info("mirrored %s to %s for the run", spec.catalog, local)
            run_spec = spec.model_copy(update={"catalog": str(local)})
        config = build_run_config(run_spec, registry, orders_file, exec_algorithms)
        node = BacktestNode(configs=[config])
        started = time.perf_counter()
        run_results = node.run()
        elapsed = time.perf_counter() - started
        engine = node.get_engine(config.id)
        if engine is None:  # pragma: no cover - the node keeps engines (dispose_on_completion=False)
            raise RuntimeError(f"backtest {spec.run_id}: the node kept no engine")
        strategies = engine.trader.strategies()
        results: list[ExecutionResult] = []
        groups: list[GroupExecutionResult] = []
        for strategy in strategies:
            results.extend(getattr(strategy, "results", {}).values())
            groups.extend(getattr(strategy, "groups", {}).values())
        account_reports = {}
        for venue in {v.name for v in config.venues}:
            account_reports[venue] = engine.trader.generate_account_report(Venue(venue))
        outcome = BacktestOutcome(
            spec=spec,
            results=sorted(results, key=lambda r: (r.ts_decision_ns, r.operation_id)),
            account_reports=account_reports,
            positions_report=engine.trader.generate_positions_report(),
            fills_report=engine.trader.generate_order_fills_report(),
            groups=sorted(groups, key=lambda g: (g.ts_decision_ns, g.group_id)),
            events_processed=sum(r.iterations for r in run_results),
            elapsed_secs=elapsed,
        )
        node.dispose()  # type: ignore[no-untyped-call]
    return outcome
