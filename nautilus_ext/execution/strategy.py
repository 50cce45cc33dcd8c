"""
The execution service inside a Nautilus node: unified Orders in, Nautilus orders out.

:class:`UnifiedExecutionStrategy` is the small API strategies use in every mode: call
:meth:`UnifiedExecutionStrategy.submit_unified` with an :class:`~nautilus_ext.orders.Order`;
the order is routed (pure routing), a venue is chosen among the candidates by the cost model
(:mod:`~nautilus_ext.execution.venue_choice`, over the books in the cache), the Nautilus order is
built (:mod:`~nautilus_ext.execution.order_builder`), judged by the safety gate and submitted.
Every unified order gets an :class:`ExecutionResult` with arrival mid, fills, fees, status and
the position deltas its fills made (:mod:`~nautilus_ext.execution.deltas`). An atomic group of
two CEX/TradFi legs goes through :meth:`UnifiedExecutionStrategy.submit_group` to the
``ATOMIC_LEGS`` algorithm (:mod:`~nautilus_ext.execution.group_execution`): one result per leg
plus a :class:`GroupExecutionResult`. How an ExecAlgorithm ended a parent arrives as a typed
:class:`~nautilus_ext.execution_algos.AlgoOutcome` message on the message bus.

The same class runs in a ``BacktestNode`` and a live ``TradingNode``: it only talks to the
Nautilus cache, clock, message bus and order factory.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderExpired
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.trading.strategy import Strategy

from nautilus_ext.audit import OrderStatus
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.execution.audit_hook import DecisionInput
from nautilus_ext.execution.audit_hook import ExecutionAuditor
from nautilus_ext.execution.config import DECISION_CLOCKS
from nautilus_ext.execution.config import DataClock
from nautilus_ext.execution.config import UnifiedExecutionConfig
from nautilus_ext.execution.deltas import FillRecorder
from nautilus_ext.execution.group_execution import AtomicGroupExecution
from nautilus_ext.execution.group_execution import GroupContext
from nautilus_ext.execution.operator_intents import OPERATOR_INTENTS_TOPIC
from nautilus_ext.execution.operator_intents import OperatorIntent
from nautilus_ext.execution.order_builder import build_order
from nautilus_ext.execution.order_builder import limit_of
from nautilus_ext.execution.order_builder import protective_limit
from nautilus_ext.execution.order_builder import reject
from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.results import GroupExecutionResult
from nautilus_ext.execution.results import GroupStatus
from nautilus_ext.execution.results import decision_price_of
from nautilus_ext.execution.venue_choice import LoadedInstruments
from nautilus_ext.execution.venue_choice import NautilusBookView
from nautilus_ext.execution.venue_choice import candidates_of
from nautilus_ext.execution.venue_choice import choose_venue
from nautilus_ext.execution_algos import EXIT_TAG
from nautilus_ext.execution_algos import IMPLEMENTED_ALGORITHMS
from nautilus_ext.execution_algos import AlgoOutcome
from nautilus_ext.execution_algos import outcome_topic
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.mode import Mode
from nautilus_ext.orders.groups import AtomicGroup
from nautilus_ext.orders.model import Operation
from nautilus_ext.orders.model import Order
from nautilus_ext.orders.model import Side
from nautilus_ext.routing.router import Route
from nautilus_ext.routing.router import RouteFamily
from nautilus_ext.routing.router import route
from nautilus_ext.safety.gate import GateContext
from nautilus_ext.safety.gate import SafetyGate

_EXECUTABLE: frozenset[RouteFamily | None] = frozenset(
    {RouteFamily.CEX, RouteFamily.TRADFI, RouteFamily.DEX, RouteFamily.BETFAIR, None}
)


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
        self._by_client_id: dict[ClientOrderId, str] = {}
        self._awaiting: dict[str, Order] = {}
        self.groups: dict[str, GroupExecutionResult] = {}
        self._group_of_primary: dict[ClientOrderId, GroupExecutionResult] = {}
        self._groups_exec: AtomicGroupExecution | None = None
        self._book: NautilusBookView | None = None
        # the latest outcome each ExecAlgorithm published, by primary client order id
        self._algo_outcomes: dict[str, AlgoOutcome] = {}
        self._outcomes_subscribed = False
        self._loaded: LoadedInstruments | None = None
        self._fill_recorder: FillRecorder | None = None
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
            from nautilus_ext.audit.hashing import code_version_hash
            from nautilus_ext.audit.hashing import config_hash

            settings = self.audit_settings()
            self._auditor = ExecutionAuditor(
                self._audit_root,
                mode=self._mode,
                strategy_id=str(self.id),
                version_hash=code_version_hash(type(self), extra_modules=[UnifiedExecutionStrategy]),
                config_hash=config_hash(settings),
                clock=self.decision_clock,
                fsync=self._audit_fsync,
            )
        self.msgbus.subscribe(topic=OPERATOR_INTENTS_TOPIC, handler=self._on_operator_intent)
        for iid in self._subscribe_ids:
            if self._book_data:
                self.subscribe_order_book_deltas(iid)
            if self._trade_data:
                self.subscribe_trade_ticks(iid)
            if self._quote_data:
                self.subscribe_quote_ticks(iid)

    def on_stop(self) -> None:
        if self.msgbus.is_subscribed(OPERATOR_INTENTS_TOPIC, self._on_operator_intent):
            self.msgbus.unsubscribe(topic=OPERATOR_INTENTS_TOPIC, handler=self._on_operator_intent)
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

    def audit_settings(self) -> dict[str, Any]:
        """
        Return the settings the audit ``config_hash`` covers (override to hash content, not paths).

        Where the log goes and the mode label are not part of what the run computes: they stay
        out, so a REPLAY of a BACKTEST hashes the same.
        """
        return {
            k: v
            for k, v in msgspec.structs.asdict(self.config).items()
            if not k.startswith("audit") and k != "mode"
        }

    def reference_price(self, order: Order) -> Decimal | None:
        """
        Return the price ``order`` is judged against (its audit Intent's ``reference_price``).

        The decision price the order states, else the mid of its instrument when the strategy
        decided (the arrival mid); ``None`` when neither is known. The daily summary ranks
        slippage outliers by it.
        """
        try:
            price = decision_price_of(order)
            if price is None:
                inst = self.loaded_instruments.find(order, str(order.instrument_key))
                price = None if inst is None else self.book_view.mid(str(inst.id))
        except NautilusExtError:
            return None
        return price if price is not None and price > 0 else None

    def _on_operator_intent(self, intent: OperatorIntent) -> None:
        # an operator's order for this strategy (Telegram /intent): the gate judges it like ours
        if intent.strategy_id != self.id.value:
            return
        result = self.submit_unified(intent.order, rationale=f"operator intent by {intent.actor}")
        if intent.reply.set_running_or_notify_cancel():
            intent.reply.set_result(f"{result.status}: {result.reason}".rstrip(": "))

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
        self._subscribe_outcomes()
        if order.instrument_key.is_continuous:
            resolved = self._resolve_front(order)
            if isinstance(resolved, NautilusExtError):
                return self._reject_unresolved(order, resolved)
            order = resolved
        return self._submit_unified(order, rationale, inputs, audit_intent=True)

    def _resolve_front(self, order: Order) -> Order | NautilusExtError:
        # a front-month key (CME:FUTURE:SP500-USD-FRONT@LIN) trades the contract it means now,
        # found among the FuturesContract instruments this node loaded (Databento definitions
        # in a backtest, the broker's contract details live)
        from nautilus_ext.tradfi.front import FrontMonthResolver
        from nautilus_ext.tradfi.front import InstrumentContractProvider
        from nautilus_ext.tradfi.rolls import RollCalendar

        front = order.instrument_key
        try:
            calendar = RollCalendar.default()
            resolver = FrontMonthResolver(
                calendar, InstrumentContractProvider(calendar, self.cache.instruments())
            )
            listed = resolver.resolve(front, int(self.decision_clock.timestamp_ns()))
        except NautilusExtError as e:
            return e
        deltas = {listed.key if k == front else k: v for k, v in order.expected_deltas.items()}
        metadata = {**(order.metadata or {}), "front_key": str(front)}
        return order.model_copy(
            update={"instrument_key": listed.key, "expected_deltas": deltas, "metadata": metadata}
        )

    def _reject_unresolved(self, order: Order, error: NautilusExtError) -> ExecutionResult:
        result = ExecutionResult(
            operation_id=order.operation_id,
            instrument_key=str(order.instrument_key),
            side=str(order.side),
            requested_quantity=order.amount,
            ts_decision_ns=self.decision_clock.timestamp_ns(),
            strategy_id=order.strategy_id,
            status=ExecutionStatus.REJECTED,
            reason=f"{error.code}: {error.message}",
        )
        self.results.setdefault(order.operation_id, result)
        self.log.warning(f"Cannot execute order {order.operation_id}: {result.reason}")
        return result

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
            decision_id = self._auditor.decision(order, rationale, inputs)
            self._auditor.intent(order, decision_id, reference_price=self.reference_price(order))
        try:
            if order.atomic_group_id is not None:
                raise reject(
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
        self._subscribe_outcomes()
        return self._group_execution.submit(group)

    # -- internals ----------------------------------------------------------------------------

    @property
    def book_view(self) -> NautilusBookView:
        """The market state venue choice and results read (the node's cache)."""
        if self._book is None:
            self._book = NautilusBookView(self.cache)
        return self._book

    @property
    def loaded_instruments(self) -> LoadedInstruments:
        """The instruments this node has loaded, found by canonical key."""
        if self._loaded is None:
            self._loaded = LoadedInstruments(self.cache, self.registry)
        return self._loaded

    @property
    def fill_recorder(self) -> FillRecorder:
        """Turns fills into records with the position deltas they made."""
        if self._fill_recorder is None:
            self._fill_recorder = FillRecorder(self.cache, self.registry)
        return self._fill_recorder

    @property
    def _group_execution(self) -> AtomicGroupExecution:
        # built on first use: the cache, message bus and order factory exist once registered
        if self._groups_exec is None:
            self._groups_exec = AtomicGroupExecution(
                GroupContext(
                    registry=self.registry,
                    cache=self.cache,
                    book=self.book_view,
                    instruments=self.loaded_instruments,
                    fills=self.fill_recorder,
                    order_factory=self.order_factory,
                    results=self.results,
                    groups=self.groups,
                    by_client_id=self._by_client_id,
                    group_of_primary=self._group_of_primary,
                    algo_outcomes=self._algo_outcomes,
                    now_ns=lambda: int(self.decision_clock.timestamp_ns()),
                    next_client_order_id=self._client_order_id,
                    algorithm_registered=lambda name: f"{name}.execute" in self.msgbus.endpoints(),
                    check_gate=self._check_gate,
                    submit=self.submit_order,
                    auditor=lambda: self._auditor,
                    record_end_mid=self._record_end_mid,
                    warn=self.log.warning,
                )
            )
        return self._groups_exec

    def _subscribe_outcomes(self) -> None:
        # algorithms publish how they ended a parent to this strategy's topic (typed messages)
        if not self._outcomes_subscribed:
            self.msgbus.subscribe(topic=outcome_topic(self.id.value), handler=self._on_algo_outcome)
            self._outcomes_subscribed = True

    def _on_algo_outcome(self, outcome: AlgoOutcome) -> None:
        self._algo_outcomes[outcome.primary_id] = outcome

    def algo_outcome(self, client_order_id: str) -> AlgoOutcome | None:
        """Return the latest outcome an ExecAlgorithm published for a primary order, if any."""
        return self._algo_outcomes.get(client_order_id)

    def _check_gate(self, order: Order, ctx: GateContext) -> None:
        # the one place this strategy asks the safety gate (raises when it blocks)
        if self.safety_gate is not None:
            self.safety_gate.check(order, ctx).raise_if_blocked()

    def _execute(self, order: Order, rt: Route, result: ExecutionResult) -> None:
        if rt.family not in _EXECUTABLE:
            raise reject(order, f"{rt.family} orders do not execute through Nautilus in this mode")
        buy = order.side in (Side.BUY, Side.LAY)
        result.limit_price = limit_of(order)
        instruments: dict[str, Instrument] = self.loaded_instruments.candidates(order, rt)
        if not instruments:
            raise reject(order, "no candidate instrument is loaded in this node (not in the catalog?)")

        book = self.book_view
        chosen_venue, estimated = choose_venue(order.amount, candidates_of(instruments), book, buy=buy)
        inst = instruments[chosen_venue]
        result.venue = chosen_venue
        result.nautilus_instrument_id = str(inst.id)
        result.estimated_cost_bps = estimated
        result.arrival_mid, result.fill_model = book.arrival(str(inst.id))
        result.quote_currency = inst.quote_currency.code
        result.decision_price = decision_price_of(order) or result.arrival_mid
        if rt.algorithm is not None and len(instruments) > 1:
            result.algorithm_used = "BEST_VENUE"

        built = build_order(
            order,
            rt,
            inst,
            self.order_factory,
            buy=buy,
            arrival_mid=result.arrival_mid,
            venues=[str(i.id) for i in instruments.values()],
            algorithm_registered=self._algorithm_running,
            next_client_order_id=self._client_order_id,
        )
        nautilus_order = built.order
        result.order_type = built.order_type
        if built.limit_price is not None:
            result.limit_price = built.limit_price
        if built.algorithm is not None:
            result.algorithm_used = built.algorithm
        # the cost estimate (impact + taker fee) bounds the slippage from above; a bet has none:
        # it is a limit at its odds (it never matches worse), and a Betfair ladder's mid (often
        # between 1.01 and 1000 placeholders) is no reference price
        bet = order.operation is Operation.BET
        self._check_gate(
            order,
            GateContext(
                venue=chosen_venue,
                estimated_slippage=None if estimated is None or bet else estimated / 10_000,
                market_data_ts_ns=book.data_ts(str(inst.id)),
                client_order_id=str(nautilus_order.client_order_id),
            ),
        )
        self._by_client_id[nautilus_order.client_order_id] = order.operation_id
        result.client_order_id = str(nautilus_order.client_order_id)
        if self._auditor is not None:
            self._auditor.order(
                operation_id=order.operation_id,
                client_order_id=result.client_order_id,
                venue=chosen_venue,
                asset=str(inst.id),
                side=nautilus_order.side.name,
                qty=order.amount,
                limit_price=limit_of(order),
                tif=nautilus_order.time_in_force.name,
                status=OrderStatus.SUBMITTED,
            )
        delay_ns = self._bet_delay_ns(order, inst)
        if delay_ns:
            # Betfair holds an in-play bet for the market's delay before matching it
            self.clock.set_time_alert_ns(
                f"bet-delay-{nautilus_order.client_order_id}",
                self.clock.timestamp_ns() + delay_ns,
                lambda _event, o=nautilus_order: self.submit_order(o),
            )
            return
        self.submit_order(nautilus_order)

    def _bet_delay_ns(self, order: Order, instrument: Instrument) -> int:
        # simulated modes only: live, Betfair applies its own delay
        delays = self.config.bet_delays
        if (
            not delays
            or order.operation is not Operation.BET
            or self._mode not in (Mode.BACKTEST, Mode.REPLAY)
        ):
            return 0
        entry = delays.get(str(getattr(instrument, "market_id", "")))
        if entry is None or self.clock.timestamp_ns() < int(entry[0]):
            return 0
        return int(entry[1]) * 1_000_000_000

    def _algorithm_running(self, name: str) -> bool:
        # an ExecAlgorithm takes the order only if this node registered it (else: direct, said so)
        if name not in IMPLEMENTED_ALGORITHMS:
            return False
        if f"{name}.execute" in self.msgbus.endpoints():
            return True
        self.log.warning(f"ExecAlgorithm {name} is not registered in this node: executing directly")
        return False

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
        child = self._group_execution.child(event.client_order_id) if self._group_of_primary else None
        if child is not None:
            self._group_execution.on_fill(child[0], child[1], child[2], event)
            return
        result = self._result_for(event.client_order_id)
        if result is None:
            return
        result.fills.append(self.fill_recorder.record(event))
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
            self._group_execution.finish(group, why, rejected=rejected)
            return
        child = self._group_execution.child(client_order_id) if self._group_of_primary else None
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
        if event.client_order_id in self._group_of_primary or (
            self._group_of_primary and self._group_execution.child(event.client_order_id)
        ):
            self._closed(event.client_order_id, "cancelled")
            return
        result = self._result_for(event.client_order_id)
        if result is None:
            return
        if event.client_order_id in self._by_client_id:
            outcome = self._algo_outcomes.get(event.client_order_id.value)
            why = "" if outcome is None else outcome.early_stop_reason
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
        result.end_mid = self.book_view.mid(result.nautilus_instrument_id)


__all__ = [
    "DECISION_CLOCKS",
    "DataClock",
    "UnifiedExecutionConfig",
    "UnifiedExecutionStrategy",
    "limit_of",
    "protective_limit",
]
