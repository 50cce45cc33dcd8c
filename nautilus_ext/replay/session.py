"""
REPLAY of a recorded DRY_RUN or LIVE session: the recorded data, a fixed clock, the same
strategies at the pinned code version, the same simulated venue and fill-model seed, and for a
session with a safety layer the same gate and limits, its operator commands and the venue's
events at their recorded times (:mod:`nautilus_ext.replay.session_events`).

A LIVE session replays against a simulated venue that starts from the recorded accounts: the
decisions, intents and orders are the strategy's and replay exactly; fills the real venue made
(its trade ids, its fees, its timing) a simulation cannot reproduce, so the comparison names
the first of them that differs, or the first decision that did.

:func:`nautilus_ext.live.recording.session_manifest` is what the live node pins when it records (see
:mod:`nautilus_ext.replay.recorder`); :func:`replay_session` re-runs the session in a
``BacktestEngine`` in REPLAY mode, writes its own audit logs and compares them, strategy by
strategy, with the session's logs.

What must be equal, and why it can be
-------------------------------------
Every field of every Intent, Order and Fill event except ``ts_wall`` (the real time of writing)
and ``mode`` (DRY_RUN against REPLAY), including ``ts_event``, client order ids, venue trade
ids, prices, quantities, fees, ``version_hash`` and ``config_hash``:

* decisions are timed by the data: a recorded session sets ``decision_clock: data`` on its
  unified strategies, so intent/order ``ts_event`` is the ``ts_init`` of the data being handled
  (what a backtest clock reads) and client order ids take their date from it (a live node's
  ids embed the wall time: ``O-YYYYMMDD-HHMMSS-...``);
* fills are timed by the simulated venue's own clock, which in DRY_RUN is set to the ``ts_init``
  of the last data it processed, as in a backtest;
* the sandbox venue executes a command as soon as it arrives (``use_message_queue=False``),
  and a recorded node runs its risk and execution engines synchronously
  (:func:`nautilus_ext.live.dry_run.make_execution_synchronous`), so an order decided on data
  item X executes against the venue state right after X and its events reach the strategy
  before X+1; the replay venue also runs without a message queue, so the same happens there.
  (With the live engines' queues the order would reach the venue after any data already
  queued behind X: the first recordings diverged on exactly that, fill ``ts_event`` one data
  item late.)
* the simulated venue sees a data item before the strategies do in both: the sandbox client
  subscribes when it connects, before the trader starts, and a backtest hands data to the
  venue before the data engine.
* with several venues, every simulated venue's clock moves to each data item's ``ts_init``
  whatever its venue, as in a backtest (:class:`nautilus_ext.live.dry_run.DryRunExecutionClient`
  advances its clock on other venues' data), so a leg sent on venue B while handling venue A's
  data fills at the same time and with the same trade id in both;
* a strategy's decision cycle (``set_cycle_timer``) runs after the data item that reaches its
  due time, in both, not on a wall-clock timer;
* a strategy with a store (``db_url``) replays on a fresh one under ``<workdir>/store``.

With ``strategy_overrides`` (a what-if replay) the config hash differs by construction and is
ignored; the first behavioural difference is reported.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from nautilus_ext.audit.comparator import DEFAULT_IGNORED_FIELDS
from nautilus_ext.audit.comparator import ComparisonResult
from nautilus_ext.audit.comparator import compare_logs
from nautilus_ext.audit.hashing import code_version_hash
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.mode import Mode
from nautilus_ext.replay.errors import RecordingMissing
from nautilus_ext.replay.errors import RecordingTampered
from nautilus_ext.replay.errors import ReplayVersionMismatch
from nautilus_ext.replay.recorder import CATALOG_DIR
from nautilus_ext.replay.recorder import MANIFEST_FILE
from nautilus_ext.replay.recorder import MANIFEST_FORMAT
from nautilus_ext.replay.recorder import catalog_digests
from nautilus_ext.replay.recorder import session_digests
from nautilus_ext.replay.session_events import COMMANDS_FILE
from nautilus_ext.replay.session_events import VENUE_EVENTS_FILE
from nautilus_ext.replay.session_events import read_jsonl

VENUE_FIELDS = (
    "venue",
    "starting_balances",
    "base_currency",
    "oms_type",
    "account_type",
    "default_leverage",
    "leverages",
    "book_type",
    "frozen_account",
    "bar_execution",
    "trade_execution",
    "reject_stop_orders",
    "support_gtd_orders",
    "support_contingent_orders",
    "use_position_ids",
    "use_random_ids",
    "use_reduce_only",
    "prob_fill_on_limit",
    "prob_slippage",
    "random_seed",
)


def strategy_version_hash(strategy_path: str) -> str:
    """Return the code version hash a unified strategy's audit events carry."""
    from nautilus_trader.common.config import resolve_path

    from nautilus_ext.execution.strategy import UnifiedExecutionStrategy

    cls = resolve_path(strategy_path)
    if not (isinstance(cls, type) and issubclass(cls, UnifiedExecutionStrategy)):
        raise InvalidConfig(
            f"{strategy_path} is not a UnifiedExecutionStrategy: it writes no audit log to replay"
        )
    return code_version_hash(cls, extra_modules=[UnifiedExecutionStrategy])


def load_manifest(run_dir: str | Path) -> dict[str, Any]:
    """
    Read and check a recording: complete, replayable, every catalog file as recorded.

    Raises
    ------
    RecordingMissing
        If the manifest is absent, unreadable, of another format, incomplete, or the session
        holds data a replay cannot reproduce.
    RecordingTampered
        If a catalog file is missing, extra or changed.
    """
    root = Path(run_dir)
    path = root / MANIFEST_FILE
    if not path.is_file():
        raise RecordingMissing(f"{root} holds no recorded session ({MANIFEST_FILE} is missing)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RecordingMissing(f"{path}: unreadable manifest: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise RecordingMissing(f"{path}: not a format-{MANIFEST_FORMAT} session manifest")
    if not manifest.get("complete"):
        raise RecordingMissing(f"{path}: the session did not stop cleanly (recording incomplete)")
    if manifest.get("cross_type_ties"):
        raise RecordingMissing(
            f"{path}: {manifest['cross_type_ties']} data items of different types share a ts_init; "
            "their live order is not kept by the catalog, so a replay cannot promise it"
        )
    if manifest.get("unrecorded"):
        raise RecordingMissing(
            f"{path}: the session received data that was not recorded: {manifest['unrecorded']}"
        )
    recorded = dict(manifest.get("files") or {})
    actual = catalog_digests(root / CATALOG_DIR)
    # the session event files (commands, venue events) are checked like the catalog's
    recorded.update({f"../{k}": v for k, v in (manifest.get("session_files") or {}).items()})
    actual.update({f"../{k}": v for k, v in session_digests(root).items()})
    for name in sorted(set(recorded) | set(actual)):
        if name not in actual:
            raise RecordingTampered(f"{root}: recorded file {name} is missing", details={"file": name})
        if name not in recorded:
            raise RecordingTampered(f"{root}: file {name} was not recorded", details={"file": name})
        if recorded[name] != actual[name]:
            raise RecordingTampered(
                f"{root}: file {name} changed (sha256 {actual[name]}, recorded {recorded[name]})",
                details={"file": name},
            )
    return manifest


def _load_data(root: Path, manifest: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    from nautilus_trader.model.data import Bar
    from nautilus_trader.model.data import FundingRateUpdate
    from nautilus_trader.model.data import MarkPriceUpdate
    from nautilus_trader.model.data import OrderBookDeltas
    from nautilus_trader.model.data import OrderBookDepth10
    from nautilus_trader.model.data import QuoteTick
    from nautilus_trader.model.data import TradeTick
    from nautilus_trader.persistence.catalog.parquet import ParquetDataCatalog

    catalog = ParquetDataCatalog(str(root / CATALOG_DIR))
    instruments = catalog.instruments()
    if sorted(str(i.id) for i in instruments) != sorted(manifest.get("instruments", [])):
        raise RecordingMissing(f"{root}: the catalog's instruments differ from the manifest's")
    data: list[Any] = []
    counts = manifest.get("counts", {})
    for cls in (
        OrderBookDeltas,
        QuoteTick,
        TradeTick,
        OrderBookDepth10,
        Bar,
        FundingRateUpdate,
        MarkPriceUpdate,
    ):
        expected = int(counts.get(cls.__name__, 0))
        if not expected:
            continue
        if cls is Bar:
            items = catalog.query(cls)
        else:
            # one query per instrument: a query over several instruments' files labels every
            # row with one file's instrument id (seen with two venues' OrderBookDeltas)
            items = [x for i in instruments for x in catalog.query(cls, identifiers=[str(i.id)])]
        if len(items) != expected:
            raise RecordingMissing(
                f"{root}: {len(items)} {cls.__name__} read back, the session recorded {expected}"
            )
        data.extend(items)
    # stable: items of one type and instrument keep their recorded order (ties across types or
    # instruments were refused)
    data.sort(key=lambda d: d.ts_init)
    return instruments, data


def replay_session(
    run_dir: str | Path,
    workdir: str | Path,
    *,
    strategy_overrides: Mapping[int, Mapping[str, Any]] | None = None,
) -> ComparisonResult:
    """
    Replay a recorded DRY_RUN session and compare its audit logs with the session's.

    Parameters
    ----------
    run_dir : str or Path
        The session's ``record.root``.
    workdir : str or Path
        Where the replay writes its audit logs (``<workdir>/strategies/<n>``).
    strategy_overrides : Mapping[int, Mapping[str, Any]], optional
        What-if: config fields to change per strategy index (the config hash is then ignored).

    Returns
    -------
    ComparisonResult
        ``identical`` (events of all strategies counted) or the first divergence (event, field,
        both values) of the first strategy that diverges.

    Raises
    ------
    RecordingMissing, RecordingTampered
        See :func:`load_manifest`.
    ReplayVersionMismatch
        If a strategy's code is not the version the session pinned (both hashes named).
    AuditIntegrityError
        If a recorded audit log's hash chain is broken.
    """
    root = Path(run_dir)
    manifest = load_manifest(root)
    overrides = dict(strategy_overrides or {})
    strategies = manifest["strategies"]
    unknown = set(overrides) - set(range(len(strategies)))
    if unknown:
        raise InvalidConfig(f"strategy_overrides: no strategy with index {sorted(unknown)}")
    for index, entry in enumerate(strategies):
        current = strategy_version_hash(entry["strategy_path"])
        if current != entry["version_hash"]:
            raise ReplayVersionMismatch(
                f"strategy {index} ({entry['strategy_path']}): the session pinned code version "
                f"{entry['version_hash']}, this code is {current}",
                details={"recorded": entry["version_hash"], "current": current},
            )
    instruments, data = _load_data(root, manifest)
    out = Path(workdir)
    replay_roots = [str(out / "strategies" / str(i)) for i in range(len(strategies))]
    for replay_root in replay_roots:
        if Path(replay_root).exists():
            raise InvalidConfig(f"{replay_root} already exists: replay into a new workdir")
    events = (read_jsonl(root / COMMANDS_FILE), read_jsonl(root / VENUE_EVENTS_FILE))
    _run_engine(manifest, instruments, data, replay_roots, overrides, events)
    ignored = DEFAULT_IGNORED_FIELDS | ({"config_hash"} if overrides else frozenset())
    total = 0
    for entry, replay_root in zip(strategies, replay_roots, strict=True):
        result = compare_logs(entry["config"]["audit_root"], replay_root, ignore_fields=ignored)
        if not result.identical:
            return result
        total += result.compared
    return ComparisonResult(True, total, None, frozenset(ignored))


def _run_engine(
    manifest: dict[str, Any],
    instruments: list[Any],
    data: list[Any],
    replay_roots: list[str],
    overrides: dict[int, Mapping[str, Any]],
    session_events: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], []),
) -> None:
    from nautilus_trader.backtest.engine import BacktestEngine
    from nautilus_trader.backtest.engine import BacktestEngineConfig
    from nautilus_trader.backtest.models import FillModel
    from nautilus_trader.backtest.models import MakerTakerFeeModel
    from nautilus_trader.config import ImportableStrategyConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.execution.config import ExecAlgorithmFactory
    from nautilus_trader.model.enums import account_type_from_str
    from nautilus_trader.model.enums import book_type_from_str
    from nautilus_trader.model.enums import oms_type_from_str
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.identifiers import TraderId
    from nautilus_trader.model.identifiers import Venue
    from nautilus_trader.model.objects import Currency
    from nautilus_trader.model.objects import Money
    from nautilus_trader.trading.config import StrategyFactory

    from nautilus_ext.execution_algos import importable_exec_algorithm_configs

    engine = BacktestEngine(
        BacktestEngineConfig(
            trader_id=TraderId(manifest["trader_id"]),
            logging=LoggingConfig(log_level="ERROR"),
        )
    )
    try:
        for v in manifest["venues"]:
            v = _venue_start(manifest, v)
            engine.add_venue(
                venue=Venue(v["venue"]),
                oms_type=oms_type_from_str(v["oms_type"]),
                account_type=account_type_from_str(v["account_type"]),
                starting_balances=[Money.from_str(b) for b in v["starting_balances"]],
                base_currency=Currency.from_str(v["base_currency"]) if v["base_currency"] else None,
                default_leverage=Decimal(v["default_leverage"]),
                leverages={
                    InstrumentId.from_str(k): Decimal(str(x)) for k, x in (v["leverages"] or {}).items()
                },
                fill_model=FillModel(
                    prob_fill_on_limit=v["prob_fill_on_limit"],
                    prob_slippage=v["prob_slippage"],
                    random_seed=v["random_seed"],
                ),
                fee_model=MakerTakerFeeModel(),
                # no queue, no latency: a command runs when it is sent, inside the handler of
                # the data that caused it, as the recorded session's sandbox venue ran it
                latency_model=None,
                use_message_queue=False,
                book_type=book_type_from_str(v["book_type"]),
                frozen_account=v["frozen_account"],
                bar_execution=v["bar_execution"],
                trade_execution=v["trade_execution"],
                reject_stop_orders=v["reject_stop_orders"],
                support_gtd_orders=v["support_gtd_orders"],
                support_contingent_orders=v["support_contingent_orders"],
                use_position_ids=v["use_position_ids"],
                use_random_ids=v["use_random_ids"],
                use_reduce_only=v["use_reduce_only"],
            )
        for instrument in instruments:
            engine.add_instrument(instrument)
        if data:
            engine.add_data(data, sort=True)
        algorithms = manifest["exec_algorithms"]
        if algorithms["enabled"]:
            for algo_config in importable_exec_algorithm_configs(algorithms["overrides"]):
                engine.add_exec_algorithm(ExecAlgorithmFactory.create(algo_config))
        for index, entry in enumerate(manifest["strategies"]):
            settings = {**entry["config"], **overrides.get(index, {})}
            settings.update(mode=Mode.REPLAY, audit_root=replay_roots[index])
            if "db_url" in settings and "db_url" not in overrides.get(index, {}):
                # a strategy with a store (positions, counters) replays on a fresh one of its own:
                # the session's store holds what the session wrote, read back it would change
                # the replay's decisions (ids continue, closed positions exist)
                store = Path(replay_roots[index]).parent.parent / "store"
                store.mkdir(parents=True, exist_ok=True)
                settings["db_url"] = f"sqlite:///{store / f'{index}.db'}"
            engine.add_strategy(
                StrategyFactory.create(
                    ImportableStrategyConfig(
                        strategy_path=entry["strategy_path"],
                        config_path=entry["config_path"],
                        config=settings,
                    )
                )
            )
        _install_safety(engine, manifest, session_events)
        engine.run()
    finally:
        engine.dispose()


def _venue_start(manifest: dict[str, Any], venue: dict[str, Any]) -> dict[str, Any]:
    # a LIVE session's simulated venue starts from the account the recorder found
    if venue.get("starting_balances") is not None:
        return venue
    account = (manifest.get("accounts") or {}).get(venue["venue"])
    if not account or not account.get("starting_balances"):
        raise RecordingMissing(
            f"the recording holds no starting account for venue {venue['venue']}: a LIVE session's "
            "replay starts its simulated venue from it"
        )
    return {
        **venue,
        "starting_balances": account["starting_balances"],
        "account_type": account["account_type"],
        "base_currency": account["base_currency"],
        "default_leverage": account["default_leverage"],
    }


def _install_safety(
    engine: Any, manifest: dict[str, Any], session_events: tuple[list[dict[str, Any]], list[dict[str, Any]]]
) -> None:
    # the session's gate, limits and mode as recorded (a LIVE gate needs its arm and
    # confirmations: the recorded commands give them at their times), and the venue events
    section = manifest.get("safety")
    if section is None:
        return
    from nautilus_ext.replay.session_events import SessionEventPlayer
    from nautilus_ext.safety.actor import attach_safety
    from nautilus_ext.safety.config import SafetyConfig

    safety = attach_safety(
        engine,
        SafetyConfig.parse(section["config"]),
        control_port=None,
        control_token_env="NAUTILUS_EXT_CONTROL_TOKEN",
        tick_interval_ms=int(section["tick_interval_ms"]),
    )
    commands, venue_events = session_events
    engine.add_actor(SessionEventPlayer(safety.chokepoint, commands, venue_events))


__all__ = ["VENUE_FIELDS", "load_manifest", "replay_session", "strategy_version_hash"]
