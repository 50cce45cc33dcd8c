"""
Funding carry across two perpetual venues (seed 002 ``FundingArbitrageStrategy``).

Long the perpetual where funding is cheap, short the one where it is rich, the same base
quantity on each leg, and collect the divergence. A timer runs seed 002's three phases:

1. **monitor** every open position: current divergence of the legs' funding rates, the
   funding received so far, each leg's unrealised PnL at the mark, the legs' data health;
   the view is persisted (``current_divergence``, ``last_check``);
2. **exit** the positions that meet an exit condition (:func:`~.carry_rules.exit_reason`:
   unhealthy leg, stop loss, funding flip, divergence eroded, profit target, maximum hold) by an
   atomic group in reverse;
3. **scan** the opportunity finder (:class:`~nautilus_ext.funding.finder.OpportunityFinder`
   over the funding rates and books this node streams) for new entries within the position
   and exposure limits, sized by depth (:func:`~.carry_rules.depth_size`).

Both legs of an entry or exit go out together through ``ATOMIC_LEGS``
(:meth:`~nautilus_ext.execution.strategy.UnifiedExecutionStrategy.submit_group`) as IOC limits
``max_slippage_bps`` from their mids (the band the size was chosen in); a leg imbalance is
neutralised by the algorithm. Only unified Orders are emitted; nothing here is
venue specific.

State lives in the store (:class:`~nautilus_ext.persistence.StrategyRepository`): a position row
is written *before* its entry group is submitted (so a restart can never open it twice), updated
at every change (filled, monitored, exiting, closed), and its legs (instrument keys, quantity,
entry prices, phase) are the strategy state ``position:<id>``. Funding payments are recorded
per leg when a leg's venue settles: a funding rate update whose next funding time moved on means
the previous funding time settled at the rate then in force, and the payment is
``-signed quantity x mark x rate`` (:func:`~nautilus_ext.funding.model.funding_payment`).

On start the open positions are rebuilt from the store and reconciled against the node's
positions (which the venues reconcile at start): any disagreement beyond a lot refuses all new
orders and, under a safety gate, enters SAFE mode with ``POSITION_MISMATCH``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import Any

from nautilus_trader.common.events import TimeEvent
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.enums import PositionSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument

from nautilus_ext.adapters.symbology import key_for_instrument
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.execution.results import GroupStatus
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.funding.finder import Fees
from nautilus_ext.funding.finder import FinderResult
from nautilus_ext.funding.finder import FundingOpportunity
from nautilus_ext.funding.finder import OpportunityFilter
from nautilus_ext.funding.finder import OpportunityFinder
from nautilus_ext.funding.history import funding_venue_of_key_venue
from nautilus_ext.funding.model import HOURS_PER_YEAR
from nautilus_ext.funding.model import FundingRateSample
from nautilus_ext.funding.model import convention_for
from nautilus_ext.funding.model import funding_payment
from nautilus_ext.funding.model import normalise_rate
from nautilus_ext.funding.store import FundingRepository
from nautilus_ext.messages import FundingCollected
from nautilus_ext.messages import funding_collected_topic
from nautilus_ext.orders import AtomicGroup
from nautilus_ext.orders import Order
from nautilus_ext.persistence import Database
from nautilus_ext.persistence.models import StrategyPosition
from nautilus_ext.persistence.repository import StrategyRepository
from nautilus_ext.routing.cost import Level
from nautilus_ext.safety.decision import Rule
from nautilus_ext.strategies.carry_config import FundingCarryConfig
from nautilus_ext.strategies.carry_guard import UNWINDING
from nautilus_ext.strategies.carry_guard import CarryGuard
from nautilus_ext.strategies.carry_rules import ExitReason
from nautilus_ext.strategies.carry_rules import ExitRules
from nautilus_ext.strategies.carry_rules import Limits
from nautilus_ext.strategies.carry_rules import PositionView
from nautilus_ext.strategies.carry_rules import depth_size
from nautilus_ext.strategies.carry_rules import entry_room
from nautilus_ext.strategies.carry_rules import exit_reason
from nautilus_ext.strategies.carry_rules import oi_room
from nautilus_ext.strategies.carry_state import CarryLeg
from nautilus_ext.strategies.carry_state import CarryPosition
from nautilus_ext.strategies.position_records import record_group
from nautilus_ext.strategies.position_records import record_monitor

_NS = 1_000_000_000
_MIN = 60
# the rules' own names -> the config fields a user sets (error messages name the latter)
_CONFIG_NAMES = {
    "min_divergence_per_hour": "exit_min_divergence_apr",
    "max_hold_ns": "max_hold_hours",
    "max_position_notional": "max_position_usd",
    "max_symbol_notional": "max_symbol_usd",
    "max_total_notional": "max_total_usd",
}


class _Rates:
    """The finder's rate source and book view over what this node streams."""

    def __init__(self, strategy: FundingCarryStrategy) -> None:
        self._s = strategy

    def latest_rates(self) -> list[FundingRateSample]:
        return list(self._s.samples.values())

    def venue_fees(self) -> Mapping[str, Fees]:
        fees: dict[str, Fees] = {}
        for sample in self._s.samples.values():
            inst = self._s.instrument_of_key(sample.instrument_key)
            if inst is not None:
                fees[sample.venue] = Fees(Decimal(str(inst.maker_fee)), Decimal(str(inst.taker_fee)))
        return fees

    def levels(self, instrument_key: str, *, buy: bool) -> tuple[Sequence[Level], Decimal | None]:
        inst = self._s.instrument_of_key(instrument_key)
        if inst is None:
            return [], None
        levels, mid = self._s.book_view.levels(str(inst.id), buy=buy)
        return levels, mid


class FundingCarryStrategy(UnifiedExecutionStrategy):
    """Delta-neutral funding carry over two perpetual venues (see the module docstring)."""

    def __init__(self, config: FundingCarryConfig, repository: StrategyRepository | None = None) -> None:
        super().__init__(config)
        if not config.instrument_ids:
            raise InvalidConfig("FundingCarryConfig.instrument_ids is empty: name the perpetuals to trade")
        if config.interval_secs <= 0:
            raise InvalidConfig(f"interval_secs must be > 0, got {config.interval_secs}")
        if config.stale_after_secs < 0 or config.entry_retry_secs < 0:
            raise InvalidConfig("stale_after_secs and entry_retry_secs must be >= 0")
        try:
            self.rules = ExitRules(
                min_divergence_per_hour=Decimal(config.exit_min_divergence_apr) / HOURS_PER_YEAR,
                profit_target=None if config.profit_target is None else Decimal(config.profit_target),
                stop_loss=None if config.stop_loss is None else Decimal(config.stop_loss),
                max_hold_ns=None
                if config.max_hold_hours is None
                else int(Decimal(config.max_hold_hours) * 3600 * _NS),
            )
            self.limits = Limits(
                max_positions=config.max_positions,
                max_position_notional=Decimal(config.max_position_usd),
                max_symbol_notional=Decimal(config.max_symbol_usd),
                max_total_notional=Decimal(config.max_total_usd),
            )
            self.max_slippage = Decimal(config.max_slippage_bps) / Decimal(10_000)
            self.criteria = OpportunityFilter(
                size_usd=Decimal(config.max_position_usd),
                holding_hours=Decimal(config.holding_hours),
                min_net_apr=Decimal(config.min_net_apr),
            )
            self.quote_prices = {k.upper(): Decimal(v) for k, v in (config.quote_usd_prices or {}).items()}
            self.qty_caps = {k.upper(): Decimal(v) for k, v in (config.max_symbol_qty or {}).items()}
            self.oi_share = None if config.max_oi_share is None else Decimal(config.max_oi_share)
        except ArithmeticError as e:
            raise InvalidConfig(f"FundingCarryConfig has a malformed number: {e}") from e
        except InvalidConfig as e:
            message = e.message
            for internal, field in _CONFIG_NAMES.items():
                message = message.replace(internal, field)
            raise InvalidConfig(f"FundingCarryConfig: {message}") from e
        if not self.quote_prices or any(p <= 0 for p in self.quote_prices.values()):
            raise InvalidConfig(
                "FundingCarryConfig.quote_usd_prices must give a positive USD price per quote "
                f"currency (e.g. {{'USDT': '1'}}), got {config.quote_usd_prices!r}"
            )
        if any(not cap > 0 for cap in self.qty_caps.values()):
            raise InvalidConfig(f"max_symbol_qty caps must be > 0, got {config.max_symbol_qty!r}")
        if self.oi_share is not None and not 0 < self.oi_share <= 1:
            raise InvalidConfig(f"max_oi_share must be within (0, 1], got {config.max_oi_share!r}")
        if self.max_slippage < 0:
            raise InvalidConfig(f"max_slippage_bps must be >= 0, got {config.max_slippage_bps}")
        self._repository = repository
        self._database: Database | None = None
        self.samples: dict[str, FundingRateSample] = {}  # by Nautilus instrument id
        self._marks: dict[str, Decimal] = {}
        self.positions: dict[uuid.UUID, CarryPosition] = {}
        self._group_position: dict[str, uuid.UUID] = {}
        self.refusing: str | None = None  # why no new order may go out (reconciliation)
        self.last_scan: FinderResult | None = None  # what the finder saw in the latest scan
        self._n = 0
        self._retry_after: dict[frozenset[str], int] = {}  # pair of keys -> ns
        self.guard = CarryGuard(self)

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def repository(self) -> StrategyRepository:
        """The store the positions live in (opened from ``db_url`` on start)."""
        if self._repository is None:
            self._database = Database.open(self.config.db_url)
            self._repository = StrategyRepository(self._database)
        return self._repository

    def on_start(self) -> None:
        super().on_start()
        for text in self.config.instrument_ids:
            iid = InstrumentId.from_str(text)
            self.subscribe_funding_rates(iid)
            self.subscribe_mark_prices(iid)
        self._n = int(self.repository.get_state(self.config.strategy_name, "group_count", 0))
        self._restore()
        self.guard.start()
        self.set_cycle_timer(f"{self.id}:carry", self.config.interval_secs * _NS, self._on_cycle)

    def on_stop(self) -> None:
        # positions stay open across a stop: the store keeps them for the next start
        self.guard.stop()
        super().on_stop()
        if self._database is not None:
            self._database.close()
            self._database = None
            self._repository = None

    def _restore(self) -> None:
        name = self.config.strategy_name
        halted = self.repository.get_state(name, "refusing")
        if halted:
            # a guard's halt (ADL, liquidation, an unhedged leg, a mismatch) survives a restart:
            # only an operator clears it (`nautilus-ext carry clear-halt`)
            self.refusing = str(halted)
            self.log.error(
                f"Funding carry stays halted after the restart: {halted} "
                f"(clear with `nautilus-ext carry clear-halt --strategy {name}`)"
            )
        for row in self.repository.open_positions(name):
            state = self.repository.get_state(name, f"position:{row.id}")
            if state is None:
                self._refuse(f"stored position {row.id} has no leg state")
                continue
            position = CarryPosition.from_state(row.id, state, row.cumulative_funding)
            self.positions[position.id] = position
        if self.positions:
            self.log.info(f"Restored {len(self.positions)} carry position(s) from the store")

    def reconcile(self) -> list[str]:
        """
        Compare the stored positions with the node's (venue-reconciled) positions per instrument.

        Return the mismatches (empty when they agree within a lot). A position still OPENING or
        CLOSING from before a restart (its group's outcome unknown to the store) is settled from
        the venues first (:meth:`settle_interrupted`); one it cannot settle, or one being unwound
        by a guard, is reported as a mismatch for an operator to settle.
        """
        for position in list(self.positions.values()):
            self.settle_interrupted(position)
        expected: dict[str, Decimal] = {}
        problems: list[str] = []
        for position in self.positions.values():
            if position.phase != "OPEN":
                problems.append(f"position {position.id} was {position.phase} when the node stopped")
            for leg in position.legs():
                expected[leg.instrument_id] = expected.get(leg.instrument_id, Decimal(0)) + leg.signed
        for text in sorted(set(expected) | set(self.config.instrument_ids)):
            iid = InstrumentId.from_str(text)
            inst = self.cache.instrument(iid)
            lot = inst.size_increment.as_decimal() if inst is not None else Decimal(0)
            actual = self._venue_position(iid)
            want = expected.get(text, Decimal(0))
            if abs(actual - want) >= max(lot, Decimal("1e-12")):
                problems.append(f"{text}: store expects {want}, the venue holds {actual}")
        return problems

    def settle_interrupted(self, position: CarryPosition) -> None:
        """
        Settle a position whose entry or exit group was cut off by a stop, from the venues.

        When the venues hold its legs hedged (equal and opposite within a lot), that is the
        outcome: flat closes the position (under its stored exit reason), anything else is
        adopted as the legs held, OPEN. A naked outcome is left for :meth:`reconcile` to report.
        """
        if position.phase not in ("OPENING", "CLOSING"):
            return
        held = [self._venue_position(InstrumentId.from_str(leg.instrument_id)) for leg in position.legs()]
        lot = max(self.guard.lot_of(leg.instrument_id) for leg in position.legs())
        tolerance = max(lot, Decimal("1e-12"))
        if abs(held[0] + held[1]) >= tolerance or held[0] < 0:
            return
        was = position.phase
        if held[0] < tolerance:
            self.log.warning(f"Carry position {position.id} was {was} at the stop: the venues are flat")
            self._close(position, _stored_reason(self, position) if was == "CLOSING" else "ENTRY_INTERRUPTED")
            return
        for leg, qty in zip(position.legs(), held, strict=True):
            leg.signed = qty
            if leg.entry_price is None:
                opened = self.cache.positions_open(instrument_id=InstrumentId.from_str(leg.instrument_id))
                leg.entry_price = Decimal(str(opened[0].avg_px_open)) if opened else None
        position.phase = "OPEN"
        position.notional = abs(held[0]) * (position.long.entry_price or Decimal(0))
        self.log.warning(f"Carry position {position.id} was {was} at the stop: the venues hold {held}")
        self._persist(position, size_usd=position.notional, exit_reason=None)

    def _venue_position(self, iid: InstrumentId) -> Decimal:
        total = Decimal(0)
        for pos in self.cache.positions_open(instrument_id=iid):
            qty = pos.quantity.as_decimal()
            total += qty if pos.side == PositionSide.LONG else -qty
        return total

    def _refuse(self, why: str) -> None:
        self.refuse(why, safe=True)

    def refuse(self, why: str, *, safe: bool) -> None:
        """Refuse every new entry from now on (persisted); ``safe``: the gate enters SAFE mode."""
        if self.refusing is None:
            self.refusing = why
            self.log.error(f"Funding carry refuses to trade: {why}")
            gate = self.safety_gate
            if gate is not None and safe:
                gate.halts.enter_safe(ErrorCode.POSITION_MISMATCH, Rule.POSITION_MISMATCH, why)
        self.repository.set_state(self.config.strategy_name, "refusing", why)

    def stop_when_idle(self) -> None:
        """Stop the strategy once no position is being unwound (a guard's final step)."""
        if self.is_running and not any(p.phase == UNWINDING for p in self.positions.values()):
            self.log.warning(f"Funding carry stops: {self.refusing}")
            self.stop()

    # -- data ---------------------------------------------------------------------------------

    def instrument_of_key(self, key: str) -> Instrument | None:
        """Return the loaded instrument with canonical key ``key`` among the traded ones."""
        for text in self.config.instrument_ids:
            inst = self.cache.instrument(InstrumentId.from_str(text))
            if inst is not None and str(key_for_instrument(inst, self.registry)) == key:
                return inst
        return None

    def on_mark_price(self, mark_price: MarkPriceUpdate) -> None:
        self._marks[str(mark_price.instrument_id)] = mark_price.value.as_decimal()

    def mark_of(self, instrument_id: str) -> Decimal | None:
        """Return the latest mark price of ``instrument_id`` (else its book mid), or None."""
        return self._marks.get(instrument_id) or self.book_view.mid(instrument_id)

    def on_funding_rate(self, funding_rate: FundingRateUpdate) -> None:
        iid = str(funding_rate.instrument_id)
        inst = self.cache.instrument(funding_rate.instrument_id)
        if inst is None:
            return
        try:
            key = str(key_for_instrument(inst, self.registry))
            venue = funding_venue_of_key_venue(key.split(":", 1)[0])
            hours = (
                Decimal(funding_rate.interval) / _MIN
                if funding_rate.interval
                else convention_for(venue).default_interval_hours
            )
            base = inst.get_base_currency()
            sample = FundingRateSample(
                venue=venue,
                instrument_key=key,
                base=(base.code if base is not None else inst.id.symbol.value).upper(),
                quote=inst.quote_currency.code.upper(),
                rate=normalise_rate(venue, Decimal(funding_rate.rate)),
                interval_hours=hours,
                ts_ns=funding_rate.ts_event,
                next_funding_ns=funding_rate.next_funding_ns or None,
                mark_price=self._marks.get(iid),
            )
        except NautilusExtError as e:
            self.log.warning(f"Cannot use the funding rate of {iid}: {e}")
            return
        previous = self.samples.get(iid)
        self.samples[iid] = sample
        if (
            previous is not None
            and previous.next_funding_ns is not None
            and sample.next_funding_ns is not None
            and sample.next_funding_ns > previous.next_funding_ns
        ):
            self._settled(iid, previous, previous.next_funding_ns)

    def _settled(self, iid: str, sample: FundingRateSample, funding_ns: int) -> None:
        # the venue settled at funding_ns at the rate then in force: one payment per leg held
        mark = self._marks.get(iid) or self.book_view.mid(iid)
        if mark is None:
            self.log.warning(f"Cannot price the funding of {iid} at {funding_ns}: no mark price")
            return
        when = datetime.fromtimestamp(funding_ns / _NS, tz=UTC)
        for position in self.positions.values():
            if position.opened_ns > funding_ns or position.phase == "OPENING":
                continue
            for leg in position.legs():
                if leg.instrument_id != iid or leg.signed == 0:
                    continue
                amount = funding_payment(leg.signed, mark, sample.rate)
                recorded = self.repository.record_funding_payment(
                    position_id=position.id,
                    venue=leg.instrument_key.split(":", 1)[0],
                    symbol=position.base,
                    funding_rate=sample.rate,
                    amount=amount,
                    currency=sample.quote,
                    payment_time=when,
                )
                if recorded:
                    position.funding += amount
                    venue = leg.instrument_key.split(":", 1)[0]
                    # the operator's metrics (and any other listener) see funding as it is booked
                    self.msgbus.publish(
                        funding_collected_topic(venue),
                        FundingCollected(
                            venue=venue,
                            instrument_key=leg.instrument_key,
                            amount=amount,
                            currency=sample.quote,
                            ts_ns=funding_ns,
                            strategy_id=self.id.value,
                        ),
                    )
                    self.log.info(f"Funding {amount} {sample.quote} on {iid} for position {position.id}")

    # -- the cycle ----------------------------------------------------------------------------

    def _on_cycle(self, event: TimeEvent) -> None:
        self.run_cycle()

    def run_cycle(self) -> None:
        """Run monitor, exit and scan once (the timer calls this every ``interval_secs``)."""
        self._group_position_status()
        self.guard.step(retry=True)
        if self.guard.desk.halted is not None:
            return  # a guard halted the strategy: only its unwind runs
        if self.refusing is None:
            problems = self.reconcile_pending()
            if problems is None:
                return  # working orders from before the start: nothing new until they end
            if problems:
                self._refuse("; ".join(problems))
        exits = self.monitor()
        if self.refusing is not None:
            return
        for position, reason in exits:
            self.exit_position(position, reason)
        self.guard.reduce_for_margin()
        self.scan()

    def reconcile_pending(self) -> list[str] | None:
        """
        Reconcile once, before the first order of this run (empty: nothing to refuse); ``None``
        while orders of this strategy from before the start are still working (wait for them).
        """
        if getattr(self, "_reconciled", False):
            return []
        if self.cache.orders_open(strategy_id=self.id) or self.cache.orders_inflight(strategy_id=self.id):
            return None
        self._reconciled = True
        return self.reconcile()

    def view_of(self, position: CarryPosition) -> PositionView:
        """Return the monitor's view of ``position`` now."""
        now = int(self.decision_clock.timestamp_ns())
        upnl = []
        healthy = True
        problems = self.safety_gate.oms.feed_problems() if self.safety_gate is not None else []
        stale_ns = self.config.stale_after_secs * _NS
        for leg in position.legs():
            price = self._marks.get(leg.instrument_id) or self.book_view.mid(leg.instrument_id)
            if price is None or any(leg.instrument_key in p or leg.instrument_id in p for p in problems):
                healthy = False
            seen = self.book_view.data_ts(leg.instrument_id)
            if stale_ns and (seen is None or now - seen > stale_ns):
                healthy = False
            pnl = Decimal(0)
            if price is not None and leg.entry_price is not None:
                pnl = (price - leg.entry_price) * leg.signed
            upnl.append(pnl)
        long_rate = self.samples.get(position.long.instrument_id)
        short_rate = self.samples.get(position.short.instrument_id)
        return PositionView(
            notional=position.notional,
            opened_ns=position.opened_ns,
            now_ns=now,
            long_rate_per_hour=None if long_rate is None else long_rate.rate_per_hour,
            short_rate_per_hour=None if short_rate is None else short_rate.rate_per_hour,
            unrealised_long=upnl[0],
            unrealised_short=upnl[1],
            funding=position.funding,
            healthy=healthy,
        )

    def monitor(self) -> list[tuple[CarryPosition, ExitReason]]:
        """Persist each open position's view; return those meeting an exit condition."""
        exits = []
        for position in list(self.positions.values()):
            if position.phase != "OPEN":
                continue
            view = self.view_of(position)
            self.repository.update_position(
                position.id,
                current_divergence=view.divergence_per_hour,
                last_check=datetime.fromtimestamp(view.now_ns / _NS, tz=UTC),
            )
            record_monitor(self, position, view)  # the carry report's time series
            reason = exit_reason(view, self.rules)
            if reason is not None:
                exits.append((position, reason))
        return exits

    def _next_group(self, kind: str) -> str:
        self._n += 1
        self.repository.set_state(self.config.strategy_name, "group_count", self._n)
        return f"{self.config.strategy_name}-{kind}-{self._n}"

    def _group(self, gid: str, legs: list[tuple[str, str, Decimal]], intent: str) -> AtomicGroup:
        now = datetime.fromtimestamp(self.decision_clock.timestamp_ns() / _NS, tz=UTC)
        orders = [
            Order(
                operation_id=f"{gid}-{n}",
                operation="trade",
                instrument_key=key,
                venue=key.split(":", 1)[0],
                side=side,
                amount=qty,
                atomic_group_id=gid,
                sequence_in_group=n,
                strategy_id=str(self.id),
                strategy_intent=intent,
                created_at=now,
                # leg A carries the pair's options: IOC limits within the sizing band
                metadata={
                    "neutralise_policy": self.config.neutralise_policy,
                    "max_slippage": str(self.max_slippage),
                }
                if n == 0
                else {},
            )
            for n, (key, side, qty) in enumerate(legs)
        ]
        return AtomicGroup.from_orders(orders)

    def releasable(self, group: AtomicGroup) -> bool:
        """
        Return whether ``group`` can be released now.

        Outside LIVE (or without a gate) always. In LIVE the two legs must go out together, so
        both must be covered by an armed auto-confirm policy: a human confirming one leg's hash
        at a time cannot release an atomic pair (the pair would wait, half-confirmed, while the
        market moves). Without one, the strategy logs why and sends nothing.
        """
        gate = self.safety_gate
        if gate is None or self._mode.value != "LIVE":
            return True
        if all(gate.auto_confirmable(order) for order in group.orders):
            return True
        self.log.warning(
            f"Cannot release carry group {group.group_id}: LIVE carry needs an arm with an "
            f"auto-confirm policy covering {self.id} and {max(o.amount for o in group.orders)}"
        )
        return False

    def _submit(self, group: AtomicGroup) -> GroupStatus:
        # LIVE: each leg is staged and confirmed by the armed auto-confirm policy (releasable
        # checked that one covers it), then the pair goes out together
        gate = self.safety_gate
        if gate is not None and self._mode.value == "LIVE":
            for order in group.orders:
                gate.stage(order)
        result = self.submit_group(group)
        self._group_position_status()
        return result.status

    def exit_position(self, position: CarryPosition, reason: ExitReason) -> None:
        """Close both legs of ``position`` by an atomic group in reverse."""
        qty = min(abs(position.long.signed), abs(position.short.signed))
        if qty <= 0:
            self._close(position, reason.value)
            return
        gid = self._next_group("exit")
        group = self._group(
            gid,
            [(position.long.instrument_key, "SELL", qty), (position.short.instrument_key, "BUY", qty)],
            f"carry_exit:{reason.value}",
        )
        if not self.releasable(group):
            return  # the position stays open; the next cycle tries again
        position.phase = "CLOSING"
        position.group_id = gid
        self._group_position[gid] = position.id
        self._persist(position, exit_reason=reason.value)
        self.log.info(f"Exiting carry position {position.id}: {reason.value}")
        self._submit(group)

    def scan(self) -> None:
        """Enter the best opportunities the finder ranks, within the limits."""
        if self.refusing is not None or any(p.phase != "OPEN" for p in self.positions.values()):
            return  # one group at a time: the next cycle sees the outcome
        if self.guard.entries_blocked() is not None:
            return  # a venue's margin is below the warning ratio: no new risk
        gate = self.safety_gate
        if gate is not None and self._mode.value == "LIVE" and not gate.arming.is_armed():
            return  # new risk waits for an operator's arm (exits retry every cycle)
        finder = OpportunityFinder(_Rates(self), quote_prices=self.quote_prices, books=_Rates(self))
        found = finder.find(self.criteria, now_ns=int(self.decision_clock.timestamp_ns()))
        self.last_scan = found
        for opportunity in found.opportunities:
            if self._holds(opportunity):
                continue
            if self.enter(opportunity):
                return

    def _holds(self, opportunity: FundingOpportunity) -> bool:
        keys = {opportunity.long.sample.instrument_key, opportunity.short.sample.instrument_key}
        if self._retry_after.get(frozenset(keys), 0) > self.decision_clock.timestamp_ns():
            return True
        return any(
            {p.long.instrument_key, p.short.instrument_key} & keys and p.base == opportunity.base
            for p in self.positions.values()
        )

    def qty_room(self, base: str) -> Decimal:
        """Return the base quantity ``max_symbol_qty`` leaves per leg on ``base`` (Infinity: no cap)."""
        cap = self.qty_caps.get(base.upper())
        if cap is None:
            return Decimal("Infinity")
        held = sum((abs(p.long.signed) for p in self.positions.values() if p.base == base), Decimal(0))
        return max(cap - held, Decimal(0))

    def open_interest(self, sample: FundingRateSample) -> Decimal | None:
        """
        Return the venue's open interest (base units) behind ``sample``, or None when unknown.

        The sample's own figure when it has one (the collector's samples do), else the newest
        the funding collector stored in the strategy's database for the venue and symbol.
        """
        if sample.open_interest is not None:
            return sample.open_interest
        stored = FundingRepository(self.repository.database).latest_rates(venues=[sample.venue])
        for row in stored:
            if (row.base, row.quote) == (sample.base, sample.quote):
                return row.open_interest
        return None

    def enter(self, opportunity: FundingOpportunity) -> bool:
        """Open ``opportunity`` if the limits and both books allow a size; return whether sent."""
        long_inst = self.instrument_of_key(opportunity.long.sample.instrument_key)
        short_inst = self.instrument_of_key(opportunity.short.sample.instrument_key)
        if long_inst is None or short_inst is None:
            return False
        by_symbol: dict[str, Decimal] = {}
        for p in self.positions.values():
            by_symbol[p.base] = by_symbol.get(p.base, Decimal(0)) + p.notional
        room = entry_room(self.limits, len(self.positions), by_symbol, opportunity.base)
        asks, long_mid = self.book_view.levels(str(long_inst.id), buy=True)
        bids, short_mid = self.book_view.levels(str(short_inst.id), buy=False)
        if room <= 0 or long_mid is None or short_mid is None:
            return False
        lot = max(long_inst.size_increment.as_decimal(), short_inst.size_increment.as_decimal())
        qty = depth_size(
            asks, long_mid, bids, short_mid, max_slippage=self.max_slippage, lot=lot, cap=room / long_mid
        )
        qty = min(qty, self.qty_room(opportunity.base))
        if self.oi_share is not None:
            legs = (opportunity.long.sample, opportunity.short.sample)
            held = [
                sum(
                    (
                        abs(leg.signed)
                        for p in self.positions.values()
                        for leg in (p.long, p.short)
                        if leg.instrument_key == sample.instrument_key
                    ),
                    Decimal(0),
                )
                for sample in legs
            ]
            oi_cap = oi_room(self.oi_share, [self.open_interest(s) for s in legs], held)
            if oi_cap is None:
                self.log.warning(
                    f"Cannot enter {opportunity.base}: open interest unknown (max_oi_share is set)"
                )
                return False
            qty = min(qty, oi_cap)
        minimum = max(
            (i.min_quantity.as_decimal() for i in (long_inst, short_inst) if i.min_quantity is not None),
            default=lot,
        )
        if qty < max(minimum, lot):
            return False
        gid = self._next_group("entry")
        long_key, short_key = opportunity.long.sample.instrument_key, opportunity.short.sample.instrument_key
        group = self._group(gid, [(long_key, "BUY", qty), (short_key, "SELL", qty)], "carry_entry")
        if not self.releasable(group):
            return False
        position = CarryPosition(
            id=uuid.uuid4(),
            base=opportunity.base,
            long=CarryLeg(str(long_inst.id), long_key, Decimal(0)),
            short=CarryLeg(str(short_inst.id), short_key, Decimal(0)),
            opened_ns=int(self.decision_clock.timestamp_ns()),
            phase="OPENING",
            group_id=gid,
            notional=qty * long_mid,
        )
        # the row exists before any order: a restart finds it and never opens it again
        self.repository.add_position(
            StrategyPosition(
                id=position.id,
                strategy_name=self.config.strategy_name,
                symbol=position.base,
                long_venue=position.long.instrument_key.split(":", 1)[0],
                short_venue=position.short.instrument_key.split(":", 1)[0],
                size_usd=position.notional,
                entry_long_rate=opportunity.long.sample.rate,
                entry_short_rate=opportunity.short.sample.rate,
                entry_divergence=opportunity.divergence_per_hour,
                opened_at=datetime.fromtimestamp(position.opened_ns / _NS, tz=UTC),
                status="open",
            )
        )
        self.positions[position.id] = position
        self._group_position[gid] = position.id
        self._persist(position)
        self.log.info(
            f"Entering carry {opportunity.base}: long {position.long.instrument_id}, short "
            f"{position.short.instrument_id}, {qty} (net APR {opportunity.net_apr:.4f})"
        )
        self._submit(group)
        return True

    # -- outcomes -----------------------------------------------------------------------------

    def persist(self, position: CarryPosition, **fields: Any) -> None:
        """Write ``position``'s state (and the given row fields) to the store."""
        self._persist(position, **fields)

    def close_position(self, position: CarryPosition) -> None:
        """Close ``position`` in the store under the exit reason it was given."""
        self._close(position, self.exit_reason_of(position))

    def exit_reason_of(self, position: CarryPosition) -> str:
        """Return the exit reason stored for ``position`` ("CLOSED" if none)."""
        return _stored_reason(self, position)

    def _persist(self, position: CarryPosition, **fields: Any) -> None:
        self.repository.set_state(self.config.strategy_name, f"position:{position.id}", position.state())
        if fields:
            self.repository.update_position(position.id, **fields)

    def _close(self, position: CarryPosition, reason: str) -> None:
        position.phase = "CLOSED"
        self._persist(
            position,
            status="closed",
            exit_reason=reason,
            closed_at=datetime.fromtimestamp(self.decision_clock.timestamp_ns() / _NS, tz=UTC),
        )
        self.positions.pop(position.id, None)

    def _group_position_status(self) -> None:
        # a group that ended moves its position on: OPENING -> OPEN (or closed if nothing
        # traded), CLOSING -> closed (or OPEN again with what is left)
        for gid, pid in list(self._group_position.items()):
            group = self.groups.get(gid)
            position = self.positions.get(pid)
            if group is None or position is None or group.status is GroupStatus.WORKING:
                continue
            del self._group_position[gid]
            long_op, short_op = group.legs
            long_net = group.net.get(long_op, Decimal(0))
            short_net = group.net.get(short_op, Decimal(0))
            fees = sum((f.fee for op in group.legs for f in self.results[op].fills), Decimal(0)) + sum(
                (f.fee for f in group.neutralisation_fills), Decimal(0)
            )
            record_group(self, position, group)  # the group's fills, for the carry report
            if position.phase == "OPENING":
                position.long.signed = long_net
                position.short.signed = -short_net
                position.long.entry_price = self.results[long_op].avg_fill_price
                position.short.entry_price = self.results[short_op].avg_fill_price
                if long_net == 0 and short_net == 0:
                    pair = frozenset({position.long.instrument_key, position.short.instrument_key})
                    self._retry_after[pair] = (
                        int(self.decision_clock.timestamp_ns()) + self.config.entry_retry_secs * _NS
                    )
                    self._close(position, f"ENTRY_{group.status.value}")
                    self.log.warning(f"Carry entry {gid} ended with nothing held: {group.reason}")
                    continue
                position.phase = "OPEN"
                price = position.long.entry_price or Decimal(0)
                position.notional = abs(position.long.signed) * price
                self._persist(position, size_usd=position.notional, total_fees_paid=fees)
            elif position.phase == "CLOSING":
                position.long.signed -= long_net
                position.short.signed += short_net
                if position.long.signed == 0 and position.short.signed == 0:
                    self._close(position, _stored_reason(self, position))
                else:
                    # the exit did not complete (refused, partly filled): hold what is left, and
                    # let the next cycle decide again
                    position.phase = "OPEN"
                    self.log.warning(f"Carry exit {gid} left {position.long.signed}: {group.reason}")
                    self._persist(position, exit_reason=None)
            if group.status is GroupStatus.UNHEDGED and position.phase == "OPEN":
                # one leg is naked and the algorithm could not neutralise it: halt, close what
                # is left of both legs (retrying), stop
                self.guard.on_unhedged(position, f"carry group {gid} ended UNHEDGED: {group.reason}")

    def on_event(self, event: Any) -> None:
        super().on_event(event)
        if self._group_position:
            self._group_position_status()
        self.guard.step(retry=False)


def _stored_reason(strategy: FundingCarryStrategy, position: CarryPosition) -> str:
    # the exit reason was written when the exit started; keep it
    for row in strategy.repository.open_positions(strategy.config.strategy_name):
        if row.id == position.id and row.exit_reason:
            return row.exit_reason
    return "CLOSED"


__all__ = ["CarryLeg", "CarryPosition", "FundingCarryConfig", "FundingCarryStrategy"]
