"""
Run a backtest through NautilusTrader's ``BacktestNode`` and collect honest results.

The node reads the catalog (local path or ``gs://``), simulates every venue with its L2 book,
maker/taker fees from the instruments and the configured latency model, and runs either the
order replayer (orders-driven) or a user strategy (strategy-driven). Both execute through
:class:`~nautilus_ext.execution.strategy.UnifiedExecutionStrategy`, and every order passes the
same safety gate and chokepoint as in LIVE and DRY_RUN (:mod:`nautilus_ext.backtest.safety`).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from nautilus_ext.adapters.symbology import to_instrument_id
from nautilus_ext.audit.comparator import ComparisonResult
from nautilus_ext.audit.comparator import compare_logs
from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.config import VenueSimSpec
from nautilus_ext.backtest.funding import FundingPayment
from nautilus_ext.backtest.funding import funding_modules
from nautilus_ext.backtest.funding import read_ledger
from nautilus_ext.backtest.perp_data import FUNDING_KINDS
from nautilus_ext.backtest.perp_data import add_perp_data
from nautilus_ext.catalogs.info import check_catalog
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.execution.results import GroupExecutionResult
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.mode import Mode
from nautilus_ext.reports.betting import MarketPnL
from nautilus_ext.reports.betting import realised_betting_pnl
from nautilus_ext.reports.display import InstrumentDisplay
from nautilus_ext.reports.gate import GateSummary

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
    # funding-aware backtests (nautilus_ext.backtest.funding): payments settled on perp positions
    funding_payments: list[FundingPayment] = field(default_factory=list)
    gate: GateSummary | None = None
    instruments: dict[str, InstrumentDisplay] = field(default_factory=dict)
    # the carry report of a run with a position store (``store:``), once written
    carry_report: Path | None = None
    # Betfair markets traded: settled at their CLOSED definition (nautilus_ext.backtest.betting)
    betting: list[MarketPnL] = field(default_factory=list)

    @property
    def realised_betting_pnl(self) -> Decimal:
        """Return the sum of the settled markets' net P&L (account currency)."""
        return realised_betting_pnl(self.betting)


def _catalog_fs(catalog: str) -> tuple[str, str | None]:
    if catalog.startswith("gs://"):
        return catalog, "gcs"
    return catalog, None


def build_run_config(
    spec: BacktestSpec,
    registry: InstrumentRegistry,
    orders_file: str | None,
    exec_algorithms: list[Any] | None = None,
    funding_ledger: str | None = None,
) -> Any:
    """
    Build the Nautilus ``BacktestRunConfig`` for a spec.

    With ``funding_ledger`` set, every simulated venue whose perpetuals have funding data in the
    catalog settles funding (:mod:`nautilus_ext.backtest.funding`) and logs payments there.

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
        in_catalog = catalog_instrument_groups(spec.catalog, registry)
        instrument_ids = []
        for k in spec.instruments:  # a betting market loads every runner, one instrument each
            for iid in in_catalog.get(k) or [str(to_instrument_id(k, registry))]:
                if iid not in instrument_ids:
                    instrument_ids.append(iid)
        venue_specs = {v.venue: registry.venue(v.venue) for v in spec.venues}
    except Exception as e:  # InvalidInstrumentKey from the registry: a config problem here
        raise InvalidConfig(f"backtest {spec.run_id}: {e}") from None
    nautilus_venues: dict[str, Any] = {}
    # the simulated venues are the Nautilus venues the data uses (GLBX for Databento's CME data)
    data_venues: dict[str, set[str]] = {}
    for key_text in spec.instruments:
        for iid_text in in_catalog.get(key_text) or [str(to_instrument_id(key_text, registry))]:
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
            nautilus_venues[name] = _venue_config(name, sim, spec.catalog)
    if funding_ledger is not None:  # funding-aware backtests: one settlement module per venue
        import msgspec

        for name, modules in funding_modules(spec, instrument_ids, funding_ledger).items():
            if name in nautilus_venues:
                nautilus_venues[name] = msgspec.structs.replace(nautilus_venues[name], modules=modules)
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
        if kind in _DATA_CLASSES  # funding_rates/mark_prices come from the tickers (perp_data)
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
    delays = _bet_delays(spec)
    if delays:  # Betfair markets that went in play: bets then wait for the in-play delay
        base_config["bet_delays"] = delays
    if spec.kind == "orders":
        strategy = ImportableStrategyConfig(
            strategy_path="nautilus_ext.backtest.replayer:OrderReplayStrategy",
            config_path="nautilus_ext.backtest.replayer:OrderReplayConfig",
            config={**base_config, "orders_path": orders_file},
        )
    else:
        assert spec.strategy is not None  # validated by the spec
        store = {} if spec.store is None else {"db_url": spec.store_url()}  # the run's position store
        strategy = ImportableStrategyConfig(
            strategy_path=spec.strategy.strategy_path,
            config_path=spec.strategy.config_path,
            config={**base_config, **spec.strategy.config, **store},
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


def _bet_delays(spec: BacktestSpec) -> dict[str, list[int]]:
    # Betfair market id -> [in play since (ns), delay (s)], from the catalog's market definitions
    if not any(InstrumentKey.parse(k).is_sports for k in spec.instruments) or "://" in spec.catalog:
        return {}
    from nautilus_ext.catalogs.betfair import read_market_entries
    from nautilus_ext.catalogs.target import parse_target

    delays = {}
    for market_id, entry in read_market_entries(parse_target(spec.catalog)).items():
        if entry.get("in_play_ns") is not None and int(entry.get("bet_delay_secs", 0)) > 0:
            delays[market_id] = [int(entry["in_play_ns"]), int(entry["bet_delay_secs"])]
    return delays


def _venue_config(name: str, sim: VenueSimSpec, catalog: str = "") -> Any:
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
    fee_model = ImportableFeeModelConfig(
        fee_model_path="nautilus_trader.backtest.models:MakerTakerFeeModel",
        config_path="nautilus_trader.backtest.config:MakerTakerFeeModelConfig",
        config={},
    )
    fill_model = None
    if sim.dex is not None:  # a DEX venue: pool-math fills, gas as the fee (backtest/dex_venue.py)
        from nautilus_trader.backtest.config import ImportableFillModelConfig

        dex = {
            "catalog": catalog,
            "gas_units_v2": sim.dex.gas_units_v2,
            "gas_units_v3": sim.dex.gas_units_v3,
            "gas_token_price": None if sim.dex.gas_token_price is None else str(sim.dex.gas_token_price),
        }
        module = "nautilus_ext.backtest.dex_venue"
        fill_model = ImportableFillModelConfig(
            fill_model_path=f"{module}:DexPoolFillModel", config_path=f"{module}:DexVenueConfig", config=dex
        )
        fee_model = ImportableFeeModelConfig(
            fee_model_path=f"{module}:DexGasFeeModel",
            config_path=f"{module}:DexGasFeeModelConfig",
            config=dex,
        )
    return BacktestVenueConfig(
        name=name,
        oms_type=sim.oms_type,
        account_type=sim.account_type,
        starting_balances=sim.starting_balances,
        book_type=sim.book_type,
        latency_model=latency,
        fee_model=fee_model,
        fill_model=fill_model,
        liquidity_consumption=True,
        trade_execution=True,
        use_market_order_acks=True,
    )


def catalog_instrument_groups(catalog: str, registry: InstrumentRegistry) -> dict[str, list[str]]:
    """
    Return canonical key -> every Nautilus instrument id of it a local catalog holds.

    A betting market's key names the whole market: NautilusTrader holds one instrument per
    runner, and a backtest of the market loads them all. Other keys map to one id.
    """
    if "://" in catalog or not Path(catalog).is_dir():
        return {}
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    from nautilus_ext.adapters.symbology import key_for_instrument
    from nautilus_ext.errors import NautilusExtError

    found: dict[str, list[str]] = {}
    for inst in ParquetDataCatalog(catalog).instruments():
        try:
            key = str(key_for_instrument(inst, registry))
        except NautilusExtError:
            continue
        ids = found.setdefault(key, [])
        if ids and not hasattr(inst, "selection_id"):
            continue  # one instrument per non-betting key: the first wins
        ids.append(str(inst.id))
    return {k: sorted(v) if len(v) > 1 else v for k, v in found.items()}


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


def instrument_displays(instruments: list[Any], registry: InstrumentRegistry) -> dict[str, InstrumentDisplay]:
    """Return what the report needs of each instrument, by Nautilus id and by canonical key."""
    from nautilus_trader.model.instruments import CurrencyPair

    from nautilus_ext.adapters.symbology import key_for_instrument
    from nautilus_ext.errors import NautilusExtError

    found: dict[str, InstrumentDisplay] = {}
    for inst in instruments:
        base = getattr(inst, "base_currency", None)
        info = InstrumentDisplay(
            price_precision=inst.price_precision,
            size_precision=inst.size_precision,
            base=None if base is None else base.code,
            quote=inst.quote_currency.code,
            derivative=not isinstance(inst, CurrencyPair),
            multiplier=inst.multiplier.as_decimal(),
            inverse=bool(inst.is_inverse),
        )
        found[str(inst.id)] = info
        try:
            found.setdefault(str(key_for_instrument(inst, registry)), info)
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

    from nautilus_ext.backtest.safety import install_backtest_safety

    spec.safety_section().load(spec.mode)  # fail fast on bad limits, before any work
    if not spec.catalog.startswith("gs://"):
        check_catalog(spec.catalog)  # a missing, empty or corrupt catalog fails before the run
    registry = (
        InstrumentRegistry.from_directory(spec.registry_dir)
        if spec.registry_dir
        else InstrumentRegistry.default()
    )
    if spec.audit_root is not None and spec.mode is Mode.BACKTEST:
        spec.save(spec.audit_root)
    with tempfile.TemporaryDirectory(prefix="nautilus-ext-bt-") as tmp:
        orders_file = _orders_file(spec, Path(tmp))
        run_spec = spec
        if spec.catalog.startswith("gs://"):
            # BacktestNode reads through NautilusTrader's Rust object store, which cannot reach
            # every GCS endpoint (the emulator lacks its XML listing API): mirror, then read locally
            from nautilus_ext.catalogs.target import mirror_to_local

            local = mirror_to_local(spec.catalog, Path(tmp) / "catalog")
            log.info("mirrored %s to %s for the run", spec.catalog, local)
            check_catalog(local)
            run_spec = spec.model_copy(update={"catalog": str(local)})
        ledger = str(Path(tmp) / "funding.jsonl")
        config = build_run_config(run_spec, registry, orders_file, exec_algorithms, ledger)
        _fresh_store(run_spec)
        node = BacktestNode(configs=[config])
        node.build()
        engine = node.get_engine(config.id)
        if engine is None:  # pragma: no cover - the node keeps engines (dispose_on_completion=False)
            raise RuntimeError(f"backtest {spec.run_id}: the node kept no engine")
        perp_kinds = [k for k in run_spec.data if k in FUNDING_KINDS]
        if perp_kinds and "://" not in run_spec.catalog:
            start_ns, end_ns = (_ns(t) for t in (run_spec.start, run_spec.end))
            added = add_perp_data(engine, run_spec.catalog, perp_kinds, start_ns, end_ns)
            log.info("added %d funding-rate/mark-price updates from the catalog's tickers", added)
        try:
            # the same gate and chokepoint as a live node, before the first order can exist
            _, gate = install_backtest_safety(engine, spec)
        except Exception:
            node.dispose()  # type: ignore[no-untyped-call]
            raise
        started = time.perf_counter()
        run_results = node.run()
        elapsed = time.perf_counter() - started
        events = sum(r.iterations for r in run_results)
        if events == 0:
            node.dispose()  # type: ignore[no-untyped-call]
            raise InvalidConfig(
                f"backtest {spec.run_id}: catalog {spec.catalog} gave no data for "
                f"{', '.join(spec.instruments)} between {spec.start.isoformat()} and {spec.end.isoformat()}",
                details={"catalog": spec.catalog},
            )
        strategies = engine.trader.strategies()
        results: list[ExecutionResult] = []
        groups: list[GroupExecutionResult] = []
        for strategy in strategies:
            results.extend(getattr(strategy, "results", {}).values())
            groups.extend(getattr(strategy, "groups", {}).values())
        betting = _settle_bets(run_spec, results)
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
            events_processed=events,
            elapsed_secs=elapsed,
            funding_payments=read_ledger(ledger),
            gate=gate,
            instruments=instrument_displays(engine.cache.instruments(), registry),
            betting=betting,
        )
        node.dispose()  # type: ignore[no-untyped-call]
    return outcome


def _ns(when: datetime) -> int:
    return int(when.timestamp()) * 1_000_000_000 + when.microsecond * 1000


def _fresh_store(spec: BacktestSpec) -> None:
    # the default store of a run (<output_dir>/<run_id>.db) is recreated: its report is this run's
    if spec.store is None or spec.store.db_url is not None:
        return
    Path(spec.output_dir).mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(spec.output_dir, f"{spec.run_id}.db{suffix}").unlink(missing_ok=True)


def _settle_bets(spec: BacktestSpec, results: list[ExecutionResult]) -> list[MarketPnL]:
    from nautilus_ext.adapters.betfair.settlement import CommissionSpec
    from nautilus_ext.backtest.betting import settle_backtest

    currency = "GBP"
    for venue in spec.venues:
        if venue.venue == "BETFAIR" and venue.starting_balances:
            currency = venue.starting_balances[0].split()[-1]
    commission = CommissionSpec(rate=spec.betfair_commission.rate, discount=spec.betfair_commission.discount)
    end_ns = int(spec.end.timestamp() * 1_000_000_000)
    return settle_backtest(results, spec.catalog, end_ns, commission, currency)


SAFETY_LOG = "safety"
"""The safety gate's own log under a run's audit root (``nautilus_ext.backtest.safety``)."""


def replay_run(audit_root: str | Path, workdir: str | Path) -> ComparisonResult:
    """
    REPLAY of a recorded backtest run: the same spec, data and code, a fixed clock, compared
    event by event with the original audit log.

    A run with ``audit_root`` records its spec beside the log (:meth:`BacktestSpec.save`). This
    re-runs that spec in REPLAY mode into a fresh audit root under ``workdir`` and compares the
    two logs with :func:`~nautilus_ext.audit.comparator.compare_logs` (wall times and the mode
    field are ignored): the answer is "identical" or the first divergence (event, field, both
    values), then the same for the safety gate's logs (``<audit_root>/safety``).

    Raises
    ------
    InvalidConfig
        If ``audit_root`` holds no recorded run.
    """
    root = Path(audit_root)
    spec = BacktestSpec.load_recorded(root)
    replay_root = Path(workdir) / "replay-audit"
    replayed = spec.model_copy(
        update={
            "mode": Mode.REPLAY,
            "audit_root": str(replay_root),
            "results_root": None,
            "output_dir": str(workdir),
        }
    )
    run_backtest(replayed)
    result = compare_logs(str(root), str(replay_root))
    if not result.identical:
        return result
    # the safety gate's log (decisions, commands, safeguards) must replay identically too
    recorded_safety = root / SAFETY_LOG
    if not recorded_safety.is_dir():
        return result
    safety = compare_logs(str(recorded_safety), str(replay_root / SAFETY_LOG))
    if not safety.identical:
        return safety
    return ComparisonResult(True, result.compared + safety.compared, None, result.ignored_fields)
