"""
The execution service inside a Nautilus node: unified Orders in, Nautilus orders out.

:class:`UnifiedExecutionStrategy` is the small API strategies use in every mode: call
:meth:`UnifiedExecutionStrategy.submit_unified` with an :class:`~nautilus_ext.orders.Order`;
the order is routed (pure routing), a venue is chosen among the candidates by the cost model
(book walk + taker fee over the books in the cache), and the Nautilus order is submitted.
Every unified order gets an :class:`ExecutionResult` with arrival mid, fills, fees and status.
An atomic group of two CEX/TradFi legs goes through :meth:`UnifiedExecutionStrategy.submit_group`
to the ``ATOMIC_LEGS`` algorithm: one result per leg plus a :class:`GroupExecutionResult`.

The same class runs in a ``BacktestNode`` and a live ``TradingNode``: it only talks to the
Nautilus cache, clock and order factory.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from decimal import ROUND_DOWN
from decimal import ROUND_UP
from decimal import Decimal
from typing import Any

import msgspec
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderExpired
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.trading.strategy import Strategy

from nautilus_ext.adapters.symbology import key_for_instrument
from nautilus_ext.adapters.symbology import to_instrument_id
from nautilus_ext.audit import OrderStatus
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import NoRouteError
from nautilus_ext.execution.audit_hook import DecisionInput
from nautilus_ext.execution.audit_hook import ExecutionAuditor
from nautilus_ext.execution.group_execution import ATOMIC_LEGS
from nautilus_ext.execution.group_execution import AtomicGroupExecution
from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.results import FillModelKind
from nautilus_ext.execution.results import FillRecord
from nautilus_ext.execution.results import GroupExecutionResult
from nautilus_ext.execution.results import GroupStatus
from nautilus_ext.execution.results import decision_price_of
from nautilus_ext.execution_algos import EXIT_TAG
from nautilus_ext.execution_algos import IMPLEMENTED_ALGORITHMS
from nautilus_ext.execution_algos import algo_report_reason
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.orders.groups import AtomicGroup
from nautilus_ext.orders.model import Operation
from nautilus_ext.orders.model import Order
from nautilus_ext.orders.model import Side
from nautilus_ext.routing.cost import VenueQuote
from nautilus_ext.routing.cost import best_venue
from nautilus_ext.routing.cost import estimate_cost
from nautilus_ext.routing.router import Route
from nautilus_ext.routing.router import RouteFamily
from nautilus_ext.routing.router import route
from nautilus_ext.safety.gate import GateContext
from nautilus_ext.safety.gate import SafetyGate

_EXECUTABLE: frozenset[RouteFamily | None] = frozenset(
    {RouteFamily.CEX, RouteFamily.TRADFI, RouteFamily.DEX, RouteFamily.BETFAIR, None}
)
_BOOK_DEPTH = 50


def limit_of(order: Order) -> Decimal | None:
    """
    Return the limit price an order executes at: its ``price``, or for a bet its ``odds``.

    A bet always executes as a limit at its odds: NautilusTrader turns a market order on Betfair
    into a limit at the far end of the ladder (1.01 or 1000), never what a bettor meant.
    """
    if order.price is not None or order.operation is not Operation.BET:
        return order.price
    return order.odds


class UnifiedExecutionConfig(StrategyConfig, frozen=True):
    """
    Configuration of the unified execution strategy.

    Parameters
    ----------
    registry_dir : str, optional
        Instrument registry directory (default: the shipped ``configs/``).
    instrument_ids : list[str]
        Nautilus instrument ids to subscribe to (books, quotes, trades) for routing and
        arrival prices.
    book_data : bool, default True
        Whether L2 book deltas are available (else quotes/trades decide the fill model).
        (Taker fees in the cost model are each instrument's own ``taker_fee``, from the
        instrument registry: the same number the simulated venue charges, so routing and
        fills agree. To model a fee tier, set it in the registry's venue or instrument fees.)
    decision_clock : {"node", "data"}, default "node"
        What times decisions (audit ``ts_event`` of intents and orders) and tags client order
        ids: the node's clock, or the ``ts_init`` of the market data being handled. In a backtest
        both read the same; in a live node only ``"data"`` is reproducible, so a recorded
        DRY_RUN session uses it (:mod:`nautilus_ext.replay.recorder`).
    """

    registry_dir: str | None = None
    instrument_ids: tuple[str, ...] = ()
    book_data: bool = True
    trade_data: bool = True
    quote_data: bool = False
    mode: str = "BACKTEST"
    audit_root: str | None = None
    audit_fsync: bool = True
    decision_clock: str = "node"


DECISION_CLOCKS = frozenset({"node", "data"})


class DataClock:
    """
    The time of the market data being handled: the ``ts_init`` of the newest data item delivered.

    A backtest's clock reads exactly this while a data handler runs; a live node's clock reads
    the wall time instead. Before any data arrives it falls back to ``fallback`` (the node clock).
    """

    def __init__(self, fallback: Any) -> None:
        self._fallback = fallback
        self.ts_data: int | None = None

    def observe(self, ts_init: int) -> None:
        """Record the ``ts_init`` of a data item about to be handled (never moves backwards)."""
        if self.ts_data is None or ts_init > self.ts_data:
            self.ts_data = ts_init

    def timestamp_ns(self) -> int:
        """Return the data time (nanoseconds), or the fallback clock's before any data."""
        return int(self._fallback.timestamp_ns()) if self.ts_data is None else self.ts_data


class UnifiedExecutionStrategy(Strategy):  # type: ignore[misc]
    """
    A Nautilus strategy that executes unified Orders (see the module docstring).

    Subclasses decide *when* to call :meth:`submit_unified` (or :meth:`submit_group`); results
    accumulate in :attr:`results` keyed by ``operation_id``, group results in :attr:`groups`
    keyed by ``atomic_group_id``.
    """

    def __init__(self, config: UnifiedExecutionConfig, safety_gate: SafetyGate | None = None) -> None:
        super().__init__(config)
        # when set, every order passes this gate just before submit_order (a block is REJECTED)
        self.safety_gate: SafetyGate | None = safety_gate
        self._registry_dir = config.registry_dir
        self._subscribe_ids = [InstrumentId.from_str(i) for i in config.instrument_ids]
        self._book_data = config.book_data
        self._trade_data = config.trade_data
        self._quote_data = config.quote_data
        self.registry: InstrumentRegistry = (
            InstrumentRegistry.from_directory(config.registry_dir)
            if config.registry_dir
            else InstrumentRegistry.default()
        )
        self.results: dict[str, ExecutionResult] = {}
        self._mode = config.mode
        self._audit_root = config.audit_root
        self._audit_fsync = config.audit_fsync
        self._auditor: ExecutionAuditor | None = None
        self._by_key: dict[str, Instrument] = {}
        self._keyed_count = -1
        self._by_client_id: dict[ClientOrderId, str] = {}
        self._awaiting: dict[str, Order] = {}
        self.groups: dict[str, GroupExecutionResult] = {}
        self._group_of_primary: dict[ClientOrderId, GroupExecutionResult] = {}
        self._group_exec = AtomicGroupExecution(self)
        if config.decision_clock not in DECISION_CLOCKS:
            raise InvalidConfig(
                f"decision_clock must be one of {sorted(DECISION_CLOCKS)}, got {config.decision_clock!r}"
            )
        self._data_clock: DataClock | None = None
        self._order_count = 0

    # -- data time ----------------------------------------------------------------------------

    @property
    def decision_clock(self) -> Any:
        """The clock that times decisions: the node clock or the :class:`DataClock`."""
        if self.config.decision_clock == "data":
            if self._data_clock is None:
                self._data_clock = DataClock(self.clock)
            return self._data_clock
        return self.clock

    def _observe(self, ts_init: int) -> None:
        if self.config.decision_clock == "data":
            self.decision_clock.observe(ts_init)

    # the data clock must advance before the strategy's handler runs: override the dispatchers
    def handle_quote_tick(self, tick: Any, historical: bool = False) -> None:
        self._observe(tick.ts_init)
        super().handle_quote_tick(tick, historical)

    def handle_trade_tick(self, tick: Any, historical: bool = False) -> None:
        self._observe(tick.ts_init)
        super().handle_trade_tick(tick, historical)

    def handle_order_book_deltas(self, deltas: Any, historical: bool = False) -> None:
        self._observe(deltas.ts_init)
        super().handle_order_book_deltas(deltas, historical)

    def handle_order_book_depth(self, depth: Any, historical: bool = False) -> None:
        self._observe(depth.ts_init)
        super().handle_order_book_depth(depth, historical)

    def handle_bar(self, bar: Any, historical: bool = False) -> None:
        self._observe(bar.ts_init)
        super().handle_bar(bar, historical)

    def _client_order_id(self) -> ClientOrderId | None:
        # with the data clock, ids keep Nautilus' format (O-YYYYMMDD-HHMMSS-trader-strategy-n) but
        # take the date from the data, so a DRY_RUN session and its REPLAY issue the same ids
        if self.config.decision_clock != "data":
            return None
        now = datetime.fromtimestamp(self.decision_clock.timestamp_ns() // 1_000_000_000, tz=UTC)
        while True:
            self._order_count += 1
            value = (
                f"O-{now:%Y%m%d-%H%M%S}-{self.trader_id.get_tag()}-{self.id.get_tag()}-{self._order_count}"
            )
            coid = ClientOrderId(value)
            if self.cache.order(coid) is None:
                # Nautilus' own generator continues after ours (direct order_factory use)
                self.order_factory.set_client_order_id_count(self._order_count)
                return coid

    # -- lifecycle ----------------------------------------------------------------------------

    def on_start(self) -> None:
        if self._audit_root is not None and self._auditor is None:
            from nautilus_ext.replay import code_version_hash
            from nautilus_ext.replay import config_hash

            # where the log goes and the mode label are not part of what the run computes: keep
            # them out of the hash, so a REPLAY of a BACKTEST hashes the same
            settings = {
                k: v
                for k, v in msgspec.structs.asdict(self.config).items()
                if not k.startswith("audit") and k != "mode"
            }
            self._auditor = ExecutionAuditor(
                self._audit_root,
                mode=self._mode,
                strategy_id=str(self.id),
                version_hash=code_version_hash(type(self), extra_modules=[UnifiedExecutionStrategy]),
                config_hash=config_hash(settings),
                clock=self.decision_clock,
                fsync=self._audit_fsync,
            )
        for iid in self._subscribe_ids:
            if self._book_data:
                self.subscribe_order_book_deltas(iid)
            if self._trade_data:
                self.subscribe_trade_ticks(iid)
            if self._quote_data:
                self.subscribe_quote_ticks(iid)

    def on_stop(self) -> None:
        # leave nothing working: cancel resting limit orders, then close the books on results
        self.cancel_all_orders_everywhere()
        for result in self.results.values():
            if result.status is not ExecutionStatus.REJECTED and not result.reason and result.fill_ratio < 1:
                result.reason = "open at end of data; cancelled"
            result.finalise()
            self._record_end_mid(result)  # still open at the end of data: valued at the last mid
        for group in self.groups.values():
            if group.status is GroupStatus.WORKING:
                group.reason = group.reason or "open at end of data; cancelled"
                group.finalise()
        if self._auditor is not None:
            self._auditor.close()
            self._auditor = None

    def cancel_all_orders_everywhere(self) -> None:
        """Cancel every open order this strategy has on any instrument."""
        for order in self.cache.orders_open(strategy_id=self.id):
            self.cancel_order(order)

    # -- the API strategies call -------------------------------------------------------------

    def submit_unified(
        self,
        order: Order,
        *,
        rationale: str | None = None,
        inputs: Mapping[str, DecisionInput] | None = None,
    ) -> ExecutionResult:
        """
        Route and submit one unified order; return its (live-updating) result.

        ``rationale`` and ``inputs`` say why (what the strategy looked at, scalar values by
        name): with an audit log they are the order's DECISION event, which its INTENT links to
        (seed 001, 8.1); the rationale defaults to the order's ``strategy_intent``.

        Never raises for a bad order: the result is REJECTED with the error code and message,
        so one bad order in a batch cannot stop a run.
        """
        return self._submit_unified(order, rationale, inputs, audit_intent=True)

    def _submit_unified(
        self,
        order: Order,
        rationale: str | None,
        inputs: Mapping[str, DecisionInput] | None,
        *,
        audit_intent: bool,
    ) -> ExecutionResult:
        # audit_intent=False: a confirmed LIVE intent resubmitted; its decision and intent
        # events were written when the strategy emitted it
        ts = self.decision_clock.timestamp_ns()
        result = ExecutionResult(
            operation_id=order.operation_id,
            instrument_key=str(order.instrument_key),
            side=str(order.side),
            requested_quantity=order.amount,
            ts_decision_ns=ts,
            strategy_id=order.strategy_id,
            limit_price=order.price,
            expected_deltas={str(k): v for k, v in order.expected_deltas.items()},
        )
        if order.operation_id in self.results:
            result.status = ExecutionStatus.REJECTED
            result.reason = f"INVALID_ORDER: duplicate operation_id {order.operation_id}"
            self.results[f"{order.operation_id}#dup@{ts}"] = result
            return result
        self.results[order.operation_id] = result
        if self._auditor is not None and audit_intent:
            self._auditor.intent(order, self._auditor.decision(order, rationale, inputs))
        try:
            if order.atomic_group_id is not None:
                raise _reject(
                    order,
                    f"belongs to atomic group {order.atomic_group_id}: submit the whole group with "
                    "submit_group, never one leg alone",
                    InvalidOrder,
                )
            rt = route(order, self.registry)
            result.algorithm_requested = None if rt.algorithm is None else str(rt.algorithm.name)
            self._execute(order, rt, result)
        except NautilusExtError as e:
            if self._await_confirmation(order, e, result):
                return self.results.get(order.operation_id, result)
            result.status = ExecutionStatus.REJECTED
            result.reason = f"{e.code}: {e.message}"
            self._record_end_mid(result)
            if self._auditor is not None and order.side in (Side.BUY, Side.SELL, Side.BACK, Side.LAY):
                self._auditor.order(
                    operation_id=order.operation_id,
                    client_order_id=f"denied-{order.operation_id}",
                    venue=result.venue or order.instrument_key.venue,
                    asset=str(order.instrument_key),
                    side="BUY" if order.side in (Side.BUY, Side.LAY) else "SELL",
                    qty=order.amount,
                    limit_price=order.price,
                    tif="GTC" if order.price is not None else "IOC",
                    status=OrderStatus.DENIED,
                    reason=result.reason,
                )
            self.log.warning(f"Cannot execute order {order.operation_id}: {result.reason}")
        return result

    @property
    def awaiting_confirmation(self) -> dict[str, Order]:
        """Return the LIVE orders staged for a human confirmation, by intent hash."""
        return dict(self._awaiting)

    def _await_confirmation(self, order: Order, error: NautilusExtError, result: ExecutionResult) -> bool:
        # LIVE: an unconfirmed order is staged (its hash shown by `nautilus-ext status`) and
        # held; the confirmation of that exact hash submits it (seed 001, sections 6, 8.6)
        gate = self.safety_gate
        if gate is None or error.details.get("rule") != "not_confirmed":
            return False
        if gate.confirm_listener_owner(self) is None:
            gate.add_confirm_listener(self, self._on_intent_confirmed)
        intent = gate.stage(order)
        self._awaiting[intent.intent_hash] = order
        result.reason = f"AWAITING_CONFIRMATION: nautilus-ext confirm {intent.intent_hash}"
        if intent.confirmed_by is not None:  # an armed auto-confirm policy covers it
            self._on_intent_confirmed(intent.intent_hash)
            return True
        self.log.warning(f"Order {order.operation_id} staged: confirm intent hash {intent.intent_hash}")
        return True

    def _on_intent_confirmed(self, intent_hash: str) -> None:
        order = self._awaiting.pop(intent_hash, None)
        if order is None:
            return
        held = self.results.pop(order.operation_id, None)
        if held is not None and held.filled_quantity:
            self.results[order.operation_id] = held  # never resubmit what already traded
            return
        self._submit_unified(order, None, None, audit_intent=False)

    def submit_group(self, group: AtomicGroup) -> GroupExecutionResult:
        """
        Route an atomic group of two CEX/TradFi legs to ``ATOMIC_LEGS``; return its result.

        Leg A (the first in ``sequence_in_group``) becomes the algorithm's primary and leg B its
        ``hedge_instrument_id``; leg A's ``metadata`` may set ``neutralise_policy`` and
        ``depth_check``. Every check (routing, pair shape, instruments loaded, lot sizes, same
        base asset, algorithm registered, safety gate) runs before anything is submitted: a bad
        group is REJECTED whole, with the error code and message on the group and each leg.
        Never raises for a bad group.
        """
        return self._group_exec.submit(group)

    # -- internals ----------------------------------------------------------------------------

    def _instrument_for(self, order: Order, key_text: str) -> Instrument | None:
        selection = order.selection if order.key.is_sports else None
        iid = to_instrument_id(key_text, self.registry, selection=selection)
        inst = self.cache.instrument(iid)
        if inst is None and selection is None:
            # the data source may name it differently (Databento's ESU4.GLBX for the registry's
            # ESU4.XCME): the canonical key decides, whatever the Nautilus id
            inst = self._cached_by_key().get(key_text)
        return inst

    def _cached_by_key(self) -> dict[str, Instrument]:
        instruments = self.cache.instruments()
        if len(instruments) != self._keyed_count:
            self._by_key = {}
            for inst in instruments:
                try:
                    self._by_key[str(key_for_instrument(inst, self.registry))] = inst
                except NautilusExtError:
                    continue  # instruments without a canonical form are not routable
            self._keyed_count = len(instruments)
        return self._by_key

    def _execute(self, order: Order, rt: Route, result: ExecutionResult) -> None:
        if rt.family not in _EXECUTABLE:
            raise _reject(order, f"{rt.family} orders do not execute through Nautilus in this mode")
        buy = order.side in (Side.BUY, Side.LAY)
        limit = limit_of(order)
        result.limit_price = limit
        instruments: dict[str, Instrument] = {}
        for cand in rt.candidates:
            try:
                inst = self._instrument_for(order, str(cand.key))
            except NautilusExtError:
                continue
            if inst is not None:
                instruments[cand.venue] = inst
        if not instruments:
            raise _reject(order, "no candidate instrument is loaded in this node (not in the catalog?)")

        chosen_venue, estimated = self._choose_venue(order, instruments, buy)
        inst = instruments[chosen_venue]
        result.venue = chosen_venue
        result.nautilus_instrument_id = str(inst.id)
        result.estimated_cost_bps = estimated
        result.arrival_mid, result.fill_model = self._arrival(inst.id)
        result.quote_currency = inst.quote_currency.code
        result.decision_price = decision_price_of(order) or result.arrival_mid
        if rt.algorithm is not None and len(instruments) > 1:
            result.algorithm_used = "BEST_VENUE"

        quantity = self._quantity(order, inst)
        side = OrderSide.BUY if buy else OrderSide.SELL
        tags = [f"op:{order.operation_id}"]
        algo = rt.algorithm
        if algo is not None and str(algo.name) == ATOMIC_LEGS:
            raise _reject(order, "ATOMIC_LEGS executes atomic groups: use submit_group", InvalidOrder)
        exit_algo = rt.exit_algorithm
        if exit_algo is not None and self._algorithm_running(str(exit_algo.name)):
            # TP/SL prices: the exit algorithm works the entry too (market or limit, as the order
            # says), so its exits follow the entry's fills; metadata.algo_params reach it when
            # metadata.algorithm names it
            spec = dict(exit_algo.params)
            if algo is not None and algo.name == exit_algo.name:
                spec = {**algo.params, **spec}
            params = self._algo_params(order, spec, result, instruments)
            if order.price is None:
                nautilus_order = self.order_factory.market(
                    inst.id,
                    side,
                    quantity,
                    time_in_force=TimeInForce.GTC,
                    tags=tags,
                    exec_algorithm_id=ExecAlgorithmId(str(exit_algo.name)),
                    exec_algorithm_params=params,
                    client_order_id=self._client_order_id(),
                )
                result.order_type = "MARKET"
            else:
                nautilus_order = self.order_factory.limit(
                    inst.id,
                    side,
                    quantity,
                    self._limit_price(order, inst),
                    time_in_force=TimeInForce.GTC,
                    tags=tags,
                    exec_algorithm_id=ExecAlgorithmId(str(exit_algo.name)),
                    exec_algorithm_params=params,
                    client_order_id=self._client_order_id(),
                )
                result.order_type = "LIMIT"
            result.algorithm_used = str(exit_algo.name)
        elif limit is None and algo is not None and self._algorithm_running(str(algo.name)):
            # the ExecAlgorithm takes the primary over and sends IOC children (execution_algos)
            params = self._algo_params(order, algo.params, result, instruments)
            nautilus_order = self.order_factory.market(
                inst.id,
                side,
                quantity,
                time_in_force=TimeInForce.GTC,
                tags=tags,
                exec_algorithm_id=ExecAlgorithmId(str(algo.name)),
                exec_algorithm_params=params,
                client_order_id=self._client_order_id(),
            )
            result.order_type = "MARKET"
            result.algorithm_used = str(algo.name)
        elif limit is None and order.max_slippage is not None and result.arrival_mid is not None:
            # max_slippage guard: a marketable IOC limit at arrival +- max_slippage, so no part of
            # the order fills beyond the bound (the rest is cancelled and reported)
            bound = protective_limit(
                result.arrival_mid, order.max_slippage, inst.price_increment.as_decimal(), buy=buy
            )
            nautilus_order = self.order_factory.limit(
                inst.id,
                side,
                quantity,
                inst.make_price(bound),
                time_in_force=TimeInForce.IOC,
                tags=tags,
                client_order_id=self._client_order_id(),
            )
            result.order_type = "MARKET_PROTECTED"
            result.limit_price = bound
        elif limit is None:
            nautilus_order = self.order_factory.market(
                inst.id,
                side,
                quantity,
                time_in_force=TimeInForce.IOC,
                tags=tags,
                client_order_id=self._client_order_id(),
            )
            result.order_type = "MARKET"
        else:
            price = self._limit_price(order, inst, limit)
            tif = TimeInForce.IOC if (order.metadata or {}).get("time_in_force") == "IOC" else TimeInForce.GTC
            nautilus_order = self.order_factory.limit(
                inst.id,
                side,
                quantity,
                price,
                time_in_force=tif,
                tags=tags,
                client_order_id=self._client_order_id(),
            )
            result.order_type = "LIMIT"
        if self.safety_gate is not None:
            # the cost estimate (impact + taker fee) bounds the slippage from above
            self.safety_gate.check(
                order,
                GateContext(
                    venue=chosen_venue,
                    estimated_slippage=None if estimated is None else estimated / 10_000,
                    market_data_ts_ns=self._data_ts(inst.id),
                    client_order_id=str(nautilus_order.client_order_id),
                ),
            ).raise_if_blocked()
        self._by_client_id[nautilus_order.client_order_id] = order.operation_id
        result.client_order_id = str(nautilus_order.client_order_id)
        if self._auditor is not None:
            self._auditor.order(
                operation_id=order.operation_id,
                client_order_id=result.client_order_id,
                venue=chosen_venue,
                asset=str(inst.id),
                side=side.name,
                qty=order.amount,
                limit_price=limit,
                tif=nautilus_order.time_in_force.name,
                status=OrderStatus.SUBMITTED,
            )
        self.submit_order(nautilus_order)

    @staticmethod
    def _algo_params(
        order: Order, spec: Mapping[str, Any], result: ExecutionResult, instruments: dict[str, Instrument]
    ) -> dict[str, str]:
        params = {k: str(v) for k, v in spec.items()}
        # the Order's own guard and urgency apply even when metadata names the algorithm
        if order.max_slippage is not None:
            params.setdefault("max_slippage", str(order.max_slippage))
        if order.urgency is not None:
            params.setdefault("urgency", str(order.urgency))
        if result.arrival_mid is not None:
            params["arrival_price"] = str(result.arrival_mid)
        # every loaded candidate, for algorithms that split across venues (SOR_CEFI)
        params["venues"] = ",".join(sorted(str(i.id) for i in instruments.values()))
        return params

    @staticmethod
    def _limit_price(order: Order, inst: Instrument, limit: Decimal | None = None) -> Any:
        wanted = order.price if limit is None else limit
        assert wanted is not None  # callers check
        price = inst.make_price(wanted)
        if price.as_decimal() != wanted:
            raise _reject(
                order, f"price {wanted} is not on the tick grid {inst.price_increment}", InvalidOrder
            )
        return price

    def _data_ts(self, iid: InstrumentId) -> int | None:
        # time of the newest market data this decision could use (book, quote or trade)
        book = self.cache.order_book(iid)
        stamps = [book.ts_last if book is not None and book.update_count else None]
        stamps += [
            t.ts_event if t is not None else None
            for t in (self.cache.quote_tick(iid), self.cache.trade_tick(iid))
        ]
        known = [ts for ts in stamps if ts is not None]
        return max(known) if known else None

    def _algorithm_running(self, name: str) -> bool:
        # an ExecAlgorithm takes the order only if this node registered it (else: direct, said so)
        if name not in IMPLEMENTED_ALGORITHMS:
            return False
        if f"{name}.execute" in self.msgbus.endpoints():
            return True
        self.log.warning(f"ExecAlgorithm {name} is not registered in this node: executing directly")
        return False

    def _quantity(self, order: Order, inst: Instrument) -> Any:
        step = inst.size_increment.as_decimal()
        units = (order.amount / step).to_integral_value(rounding=ROUND_DOWN)
        amount = units * step
        if amount != order.amount:
            raise _reject(
                order,
                f"amount {order.amount} is not a multiple of the lot size {step} on {inst.id}",
                InvalidOrder,
            )
        min_qty = inst.min_quantity
        if min_qty is not None and amount < min_qty.as_decimal():
            raise _reject(
                order, f"amount {amount} is below the minimum size {min_qty} on {inst.id}", InvalidOrder
            )
        return inst.make_qty(amount)

    def _choose_venue(
        self, order: Order, instruments: dict[str, Instrument], buy: bool
    ) -> tuple[str, Decimal | None]:
        quotes = []
        for venue, inst in sorted(instruments.items()):
            levels, mid = self._levels(inst.id, buy)
            fee = inst.taker_fee if isinstance(inst.taker_fee, Decimal) else Decimal(str(inst.taker_fee))
            quotes.append(
                VenueQuote(venue=venue, levels=levels, taker_fee=fee, mid=mid, healthy=mid is not None)
            )
        if len(quotes) == 1:
            only = quotes[0]
            if only.mid is None or not only.levels:
                return only.venue, None
            return only.venue, estimate_cost(only, order.amount, buy=buy).cost_bps
        best = best_venue(quotes, order.amount, buy=buy)
        if best is None:
            # nobody can fill it all: take the deepest healthy book rather than refusing
            deepest = max(quotes, key=lambda q: (sum((s for _, s in q.levels), Decimal(0)), q.venue))
            return deepest.venue, None
        return best.venue, best.cost_bps

    def _levels(self, iid: InstrumentId, buy: bool) -> tuple[list[tuple[Decimal, Decimal]], Decimal | None]:
        book = self.cache.order_book(iid)
        if book is not None and book.best_bid_price() is not None and book.best_ask_price() is not None:
            side_levels = book.asks() if buy else book.bids()
            levels = [(lvl.price.as_decimal(), Decimal(str(lvl.size()))) for lvl in side_levels[:_BOOK_DEPTH]]
            mid = (book.best_bid_price().as_decimal() + book.best_ask_price().as_decimal()) / 2
            return levels, mid
        quote = self.cache.quote_tick(iid)
        if quote is not None:
            px = quote.ask_price if buy else quote.bid_price
            size = quote.ask_size if buy else quote.bid_size
            mid = (quote.bid_price.as_decimal() + quote.ask_price.as_decimal()) / 2
            return [(px.as_decimal(), size.as_decimal())], mid
        trade = self.cache.trade_tick(iid)
        if trade is not None:
            return [], trade.price.as_decimal()
        return [], None

    def _arrival(self, iid: InstrumentId) -> tuple[Decimal | None, FillModelKind]:
        book = self.cache.order_book(iid)
        if book is not None and book.best_bid_price() is not None and book.best_ask_price() is not None:
            mid = (book.best_bid_price().as_decimal() + book.best_ask_price().as_decimal()) / 2
            return (
                mid,
                FillModelKind.L2_BOOK_WALK
                if book.book_type.name != "L1_MBP"
                else FillModelKind.L1_TOP_OF_BOOK,
            )
        quote = self.cache.quote_tick(iid)
        if quote is not None:
            return (
                quote.bid_price.as_decimal() + quote.ask_price.as_decimal()
            ) / 2, FillModelKind.L1_TOP_OF_BOOK
        trade = self.cache.trade_tick(iid)
        if trade is not None:
            return trade.price.as_decimal(), FillModelKind.TRADE_PRINTS
        return None, FillModelKind.TRADE_PRINTS

    # -- events -------------------------------------------------------------------------------

    def _result_for(self, client_order_id: ClientOrderId) -> ExecutionResult | None:
        op = self._by_client_id.get(client_order_id)
        if op is None:
            # a child spawned by an ExecAlgorithm belongs to its primary's result
            order = self.cache.order(client_order_id)
            if order is not None and order.exec_spawn_id is not None:
                if EXIT_TAG in (order.tags or ()):
                    return None  # an exit closes the position: the algorithm's report has it
                op = self._by_client_id.get(order.exec_spawn_id)
        return None if op is None else self.results.get(op)

    def on_order_filled(self, event: OrderFilled) -> None:
        child = self._group_exec.child(event.client_order_id)
        if child is not None:
            self._group_exec.on_fill(child[0], child[1], child[2], event)
            return
        result = self._result_for(event.client_order_id)
        if result is None:
            return
        result.fills.append(
            FillRecord(
                ts_ns=event.ts_event,
                price=event.last_px.as_decimal(),
                quantity=event.last_qty.as_decimal(),
                fee=event.commission.as_decimal(),
                fee_currency=event.commission.currency.code,
                trade_id=str(event.trade_id),
                liquidity=event.liquidity_side.name,
            ),
        )
        result.finalise()
        if result.status is ExecutionStatus.FILLED:
            self._record_end_mid(result)
        if self._auditor is not None:
            fill = result.fills[-1]
            self._auditor.fill(
                operation_id=result.operation_id,
                client_order_id=result.client_order_id or str(event.client_order_id),
                venue=result.venue or "UNKNOWN",
                asset=result.nautilus_instrument_id or result.instrument_key,
                side=event.order_side.name,
                qty=fill.quantity,
                price=fill.price,
                fees=fill.fee,
                fee_currency=fill.fee_currency,
                trade_id=fill.trade_id,
                ts_event=fill.ts_ns,
                seq=len(result.fills),
            )

    def _closed(self, client_order_id: ClientOrderId, why: str, rejected: bool = False) -> None:
        group = self._group_of_primary.get(client_order_id)
        if group is not None:
            self._group_exec.finish(group, why, rejected=rejected)
            return
        child = self._group_exec.child(client_order_id)
        if child is not None:
            # a leg or neutralising child: the algorithm decides, the primary's close reports; a
            # leg refused outright is REJECTED (its group result says how the pair ended)
            from nautilus_ext.execution_algos.atomic_legs import INITIAL_LEG_CHILDREN

            group, leg_name, n = child
            leg = self.results[group.legs[0 if leg_name == "A" else 1]]
            if rejected and n <= INITIAL_LEG_CHILDREN and not leg.fills:
                leg.status = ExecutionStatus.REJECTED
                leg.reason = why
            return
        result = self._result_for(client_order_id)
        if result is None:
            return
        if client_order_id not in self._by_client_id:
            # an ExecAlgorithm child: the algorithm retries or stops; its parent's close decides
            result.finalise()
            return
        if rejected:
            result.status = ExecutionStatus.REJECTED
        result.reason = why
        result.finalise()
        self._record_end_mid(result)

    def on_order_rejected(self, event: OrderRejected) -> None:
        self._closed(event.client_order_id, f"ORDER_REJECTED: {event.reason}", rejected=True)

    def on_order_denied(self, event: OrderDenied) -> None:
        self._closed(event.client_order_id, f"RISK_BLOCKED: {event.reason}", rejected=True)

    def on_order_canceled(self, event: OrderCanceled) -> None:
        if event.client_order_id in self._group_of_primary or self._group_exec.child(event.client_order_id):
            self._closed(event.client_order_id, "cancelled")
            return
        result = self._result_for(event.client_order_id)
        if result is None:
            return
        if event.client_order_id in self._by_client_id:
            why = algo_report_reason(self.cache, event.client_order_id.value)
            if why:  # an algorithm closed the parent: its report says why
                result.reason = why
            elif result.fill_ratio < 1 and not result.reason:
                result.reason = "remainder cancelled (IOC or no liquidity left in the book)"
            result.finalise()
            self._record_end_mid(result)
            return
        result.finalise()

    def on_order_expired(self, event: OrderExpired) -> None:
        self._closed(event.client_order_id, "expired")

    def _record_end_mid(self, result: ExecutionResult) -> None:
        # the mid when the order reached its final state: TCA values the unfilled part with it
        if result.end_mid is not None or result.nautilus_instrument_id is None:
            return
        result.end_mid = self._arrival(InstrumentId.from_str(result.nautilus_instrument_id))[0]


def protective_limit(arrival: Decimal, max_slippage: Decimal, tick: Decimal, *, buy: bool) -> Decimal:
    """
    Return the worst acceptable price for ``max_slippage`` (a fraction), rounded inside the bound.

    Buys round the cap down to the tick grid, sells round the floor up: never beyond the bound.
    """
    raw = arrival * (1 + max_slippage) if buy else arrival * (1 - max_slippage)
    ticks = (raw / tick).to_integral_value(rounding=ROUND_DOWN if buy else ROUND_UP)
    return ticks * tick


def _reject(order: Order, why: str, error: type[NautilusExtError] = NoRouteError) -> NautilusExtError:
    return error(f"order {order.operation_id}: {why}", order_id=order.operation_id)
