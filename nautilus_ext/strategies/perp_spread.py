"""
Perp/perp spread arbitrage across two venues (seed 004, seed 001 section 4.6).

Venue A and venue B are the two perpetuals of ``instrument_ids`` (A first; e.g. Hyperliquid and
Bybit BTC). A timer (``interval_ms``) runs one cycle:

1. settle the outcome of the pair group that was working (entry or unwind);
2. before the first order of the run, reconcile the positions rebuilt from the store against the
   node's (venue-reconciled) positions: a difference refuses every new order (SAFE mode under a
   gate);
3. **unwind** an open position whose mid spread closed (:func:`~.spread_rules.unwind_reason`)
   by an ``ATOMIC_LEGS`` pair in reverse;
4. **enter**, in one of two execution modes:

   - ``TAKER``: the price-gap detector (:func:`~.spread_rules.taker_opportunity`) finds a gap
     net of both taker fees and the latency allowance, sized by depth (the largest size both
     books absorb within ``max_slippage_bps``) and by the inventory and position caps; both
     legs go out together through ``ATOMIC_LEGS`` as IOC limits inside that band, and a partial
     fill on one leg is neutralised at once by the algorithm (``neutralise_policy``).
   - ``MAKER``: a passive limit rests on venue A at the price that still pays against an IOC
     hedge on B's book (:func:`~.spread_rules.maker_price`); every fill on A (partial or full)
     is hedged at once by an IOC limit on B for the unhedged quantity, retried up to
     ``max_hedge_attempts`` times and otherwise traded back on A. The time from the fill on A
     to the hedge's acknowledgement and first fill on B is recorded per hedge
     (:attr:`PerpSpreadStrategy.hedges`, the store's ``hedge:<n>`` state). The resting order
     is cancelled when B's book moves so that it no longer pays, and repriced within
     :class:`~.spread_rules.RepriceBudget` (below the gate's flip-flop limit).

Only unified Orders are emitted (``submit_group`` and ``submit_unified``), so the same class runs
in BACKTEST, DRY_RUN, LIVE and REPLAY behind the safety gate. Positions use the store tables of
the funding carry strategy (:class:`~.carry_state.CarryPosition`): a ``strategy_positions`` row
(``entry_divergence`` holds the entry edge, a fraction) written before the entry is sent, the
legs as ``strategy_state`` ``position:<id>``, closed with its ``exit_reason``.
"""

from __future__ import annotations

import threading
from decimal import ROUND_DOWN
from decimal import Decimal
from typing import Any

from nautilus_trader.common.events import TimeEvent
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.instruments import Instrument

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.orders import Order
from nautilus_ext.persistence.repository import StrategyRepository
from nautilus_ext.strategies.carry_rules import Limits
from nautilus_ext.strategies.carry_rules import entry_room
from nautilus_ext.strategies.carry_state import CarryPosition
from nautilus_ext.strategies.spread_pairs import SpreadPairs
from nautilus_ext.strategies.spread_pairs import store_amount
from nautilus_ext.strategies.spread_rules import Book
from nautilus_ext.strategies.spread_rules import Direction
from nautilus_ext.strategies.spread_rules import RepriceBudget
from nautilus_ext.strategies.spread_rules import SpreadCosts
from nautilus_ext.strategies.spread_rules import TakerOpportunity
from nautilus_ext.strategies.spread_rules import UnwindRules
from nautilus_ext.strategies.spread_rules import inventory_room
from nautilus_ext.strategies.spread_rules import latency_allowance
from nautilus_ext.strategies.spread_rules import maker_price
from nautilus_ext.strategies.spread_rules import mid_spread
from nautilus_ext.strategies.spread_rules import needs_reprice
from nautilus_ext.strategies.spread_rules import taker_opportunity
from nautilus_ext.strategies.spread_rules import unwind_reason
from nautilus_ext.strategies.spread_state import CONFIG_FIELD_NAMES
from nautilus_ext.strategies.spread_state import EXECUTION_MODES
from nautilus_ext.strategies.spread_state import HedgeRecord
from nautilus_ext.strategies.spread_state import MakerQuote
from nautilus_ext.strategies.spread_state import PerpSpreadConfig
from nautilus_ext.strategies.spread_state import config_decimal

_NS = 1_000_000_000
_MS = 1_000_000
_BPS = Decimal(10_000)


class PerpSpreadStrategy(SpreadPairs):
    """Perp/perp spread arbitrage over two venues (see the module docstring)."""

    def __init__(self, config: PerpSpreadConfig, repository: StrategyRepository | None = None) -> None:
        super().__init__(config, repository)
        if len(config.instrument_ids) != 2:
            raise InvalidConfig(
                "PerpSpreadConfig.instrument_ids must name two perpetuals (A, B), got "
                f"{config.instrument_ids!r}"
            )
        if config.execution not in EXECUTION_MODES:
            raise InvalidConfig(
                f"PerpSpreadConfig.execution must be TAKER or MAKER, got {config.execution!r}"
            )
        for name in ("interval_ms", "max_hedge_attempts", "reprice_window_secs"):
            if getattr(config, name) <= 0:
                raise InvalidConfig(f"PerpSpreadConfig.{name} must be > 0, got {getattr(config, name)}")
        if min(config.stale_after_secs, config.entry_retry_secs, config.unhealthy_grace_secs) < 0:
            raise InvalidConfig(
                "PerpSpreadConfig.stale_after_secs, entry_retry_secs and unhealthy_grace_secs must be >= 0"
            )
        self.a_id, self.b_id = config.instrument_ids
        prices = config.quote_usd_prices or {}
        self.quote_prices = {k.upper(): config_decimal("quote_usd_prices", v) for k, v in prices.items()}
        if not self.quote_prices or any(p <= 0 for p in self.quote_prices.values()):
            raise InvalidConfig(
                "PerpSpreadConfig.quote_usd_prices must give a positive USD price per quote currency "
                f"(e.g. {{'USDT': '1', 'USDC': '1'}}), got {config.quote_usd_prices!r}"
            )
        self.max_slippage = config_decimal("max_slippage_bps", config.max_slippage_bps) / _BPS
        self.min_edge = config_decimal("min_edge_bps", config.min_edge_bps) / _BPS
        self.allowance = latency_allowance(
            config.latency_ms, config_decimal("adverse_bps_per_sec", config.adverse_bps_per_sec)
        )
        self.max_inventory = config_decimal("max_inventory", config.max_inventory)
        self.maker_quantity = config_decimal("maker_quantity", config.maker_quantity)
        self.reprice_tolerance = config_decimal("reprice_tolerance_bps", config.reprice_tolerance_bps) / _BPS
        if self.max_slippage < 0 or self.max_inventory <= 0 or self.maker_quantity <= 0:
            raise InvalidConfig(
                "PerpSpreadConfig: max_slippage_bps >= 0, max_inventory and maker_quantity > 0"
            )
        try:
            self.unwind_rules = UnwindRules(
                exit_spread=config_decimal("exit_spread_bps", config.exit_spread_bps) / _BPS,
                max_hold_ns=None if config.max_hold_secs is None else config.max_hold_secs * _NS,
            )
            self.limits = Limits(
                max_positions=config.max_positions,
                max_position_notional=config_decimal("max_position_usd", config.max_position_usd),
                max_symbol_notional=config_decimal("max_total_usd", config.max_total_usd),
                max_total_notional=config_decimal("max_total_usd", config.max_total_usd),
            )
            self.budget = RepriceBudget(config.max_reprices, config.reprice_window_secs * _NS)
            self._configured_fees = SpreadCosts(  # checks the configured fees and edge now
                taker_fee_a=config_decimal("taker_fee_a", config.taker_fee_a or "0"),
                taker_fee_b=config_decimal("taker_fee_b", config.taker_fee_b or "0"),
                maker_fee_a=config_decimal("maker_fee_a", config.maker_fee_a or "0"),
                latency_allowance=self.allowance,
                min_edge=self.min_edge,
            )
        except InvalidConfig as e:
            message = e.message
            for internal, field in CONFIG_FIELD_NAMES.items():
                message = message.replace(internal, field)
            raise InvalidConfig(f"PerpSpreadConfig: {message}") from e
        self.quotes: dict[bool, MakerQuote] = {}  # by buy-on-A
        self.hedges: list[HedgeRecord] = []
        self._hedge: HedgeRecord | None = None  # the hedge working on B
        self.unhedged = Decimal(0)  # signed base quantity filled on A and not yet hedged on B
        self._unhedged_since: int | None = None
        self._unhealthy_since: int | None = None
        self.last_opportunity: TakerOpportunity | None = None
        # the cycle (a clock timer) and order events may arrive on different threads in a live
        # node: one decision at a time, or a fill and a cycle could both hedge the same quantity
        self._lock = threading.RLock()

    # -- lifecycle ----------------------------------------------------------------------------

    def on_start(self) -> None:
        super().on_start()
        gate = self.safety_gate
        if gate is not None and self.config.max_reprices >= gate.config.oms.flipflop_max_cycles:
            raise InvalidConfig(
                f"max_reprices ({self.config.max_reprices}) must stay below the gate's "
                f"flipflop_max_cycles ({gate.config.oms.flipflop_max_cycles})"
            )
        self.restore()
        self.unhedged = Decimal(str(self.repository.get_state(self.config.strategy_name, "unhedged", "0")))
        self.clock.set_timer_ns(f"{self.id}:spread", self.config.interval_ms * _MS, 0, 0, self._on_cycle)

    def on_stop(self) -> None:
        super().on_stop()  # cancels the resting maker orders
        self.close_store()

    # -- market view --------------------------------------------------------------------------

    def _usd(self, inst: Instrument) -> Decimal | None:
        return self.quote_prices.get(inst.quote_currency.code.upper())

    def book(self, iid: str) -> Book | None:
        """Return the strategy's view of one venue's book (None: not loaded, empty or unpriced)."""
        inst = self._instrument(iid)
        if inst is None:
            return None
        asks, mid = self.book_view.levels(iid, buy=True)
        bids, _ = self.book_view.levels(iid, buy=False)
        usd = self._usd(inst)
        if mid is None or not asks or not bids or usd is None:
            return None
        return Book(bids=bids, asks=asks, mid=mid, lot=inst.size_increment.as_decimal(), usd=usd)

    def costs(self) -> SpreadCosts:
        """Return the fees (config, else the instruments') and allowances of a trade now."""
        a, b = self._instrument(self.a_id), self._instrument(self.b_id)

        def fee(configured: str | None, inst: Instrument | None, attr: str) -> Decimal:
            if configured is not None:
                return Decimal(configured)
            return Decimal(str(getattr(inst, attr))) if inst is not None else Decimal(0)

        return SpreadCosts(
            taker_fee_a=fee(self.config.taker_fee_a, a, "taker_fee"),
            taker_fee_b=fee(self.config.taker_fee_b, b, "taker_fee"),
            maker_fee_a=fee(self.config.maker_fee_a, a, "maker_fee"),
            latency_allowance=self.allowance,
            min_edge=self.min_edge,
        )

    def healthy(self) -> bool:
        """Return whether both legs' data is present, fresh and its feeds healthy."""
        gate = self.safety_gate
        problems = gate.oms.feed_problems() if gate is not None else []
        now = int(self.decision_clock.timestamp_ns())
        stale_ns = self.config.stale_after_secs * _NS
        for iid in (self.a_id, self.b_id):
            seen = self.book_view.data_ts(iid)
            if seen is None or (stale_ns and now - seen > stale_ns):
                return False
            if self._instrument(iid) is not None and any(iid in p or self._key(iid) in p for p in problems):
                return False
        return True

    def held(self, iid: str) -> Decimal:
        """Return the signed quantity the open positions hold on ``iid``."""
        return sum(
            (leg.signed for p in self.positions.values() for leg in p.legs() if leg.instrument_id == iid),
            Decimal(0),
        )

    # -- the cycle ----------------------------------------------------------------------------

    def _on_cycle(self, event: TimeEvent) -> None:
        with self._lock:
            self.run_cycle()

    def run_cycle(self) -> None:
        """Settle, reconcile once, unwind, then enter (the timer calls this every ``interval_ms``)."""
        self._group_status()
        if self.refusing is None and not self.reconciled:
            self.reconciled = True
            problems = self.reconcile()
            if problems:
                self._refuse("; ".join(problems))
        if self.refusing is not None:
            self._cancel_quotes(protective=True)
            return
        if self.unhedged and self._hedge is None:
            self._hedge_residual()  # a hedge the gate held back (dirty asset) goes out now
        a, b = self.book(self.a_id), self.book(self.b_id)
        if a is None or b is None or self._group_position:
            return
        now = int(self.decision_clock.timestamp_ns())
        healthy = self.healthy()
        if healthy:
            self._unhealthy_since = None
        elif self._unhealthy_since is None:
            self._unhealthy_since = now
        # a blip (a quiet feed, a late book) pauses entries; only a lasting problem unwinds
        lasting = (
            not healthy and now - (self._unhealthy_since or now) >= self.config.unhealthy_grace_secs * _NS
        )
        for position in list(self.positions.values()):
            if position.phase != "OPEN":
                continue
            direction = self._direction(position)
            reason = unwind_reason(
                None if lasting else mid_spread(direction, a.mid, b.mid, a.usd, b.usd),
                opened_ns=position.opened_ns,
                now_ns=now,
                healthy=not lasting,
                rules=self.unwind_rules,
            )
            if reason is not None and not (self._hedge is not None and self._touches_maker(position)):
                self._cancel_quotes(protective=True)
                self.unwind(position, reason.value)
                return
        if not healthy or now < self._retry_after:
            self._cancel_quotes(protective=True)
            return
        gate = self.safety_gate
        if gate is not None and self._mode.value == "LIVE" and not gate.arming.is_armed():
            self._cancel_quotes(protective=True)
            return  # new risk waits for an operator's arm (unwinds go on)
        if self.config.execution == "TAKER":
            self.scan(a, b)
        else:
            self.quote(a, b)

    def _direction(self, position: CarryPosition) -> Direction:
        return Direction.BUY_A_SELL_B if position.long.instrument_id == self.a_id else Direction.SELL_A_BUY_B

    def _touches_maker(self, position: CarryPosition) -> bool:
        return position.group_id.startswith(f"{self.config.strategy_name}-maker")

    def _cap_quantity(self, mid_usd: Decimal) -> Decimal:
        notional = {"ALL": sum((p.notional for p in self.positions.values()), Decimal(0))}
        room = entry_room(self.limits, len(self.positions), notional, "ALL")
        return room / mid_usd if mid_usd > 0 else Decimal(0)

    # -- TAKER --------------------------------------------------------------------------------

    def scan(self, a: Book, b: Book) -> None:
        """Enter the gap the detector finds, within the inventory and position caps."""
        held_a = self.held(self.a_id)
        cap = min(
            self._cap_quantity(a.mid * a.usd),
            inventory_room(held_a, buy_on_a=True, max_inventory=self.max_inventory),
            inventory_room(held_a, buy_on_a=False, max_inventory=self.max_inventory),
        )
        found = taker_opportunity(a, b, costs=self.costs(), max_slippage=self.max_slippage, cap=cap)
        self.last_opportunity = found
        if found is None or self._dirty(self.a_id, self.b_id):
            return
        a_inst, b_inst = self._instrument(self.a_id), self._instrument(self.b_id)
        assert a_inst is not None  # book() found both
        assert b_inst is not None
        minimum = max(
            (i.min_quantity.as_decimal() for i in (a_inst, b_inst) if i.min_quantity is not None),
            default=Decimal(0),
        )
        if found.quantity < minimum:
            return
        buy_a = found.direction is Direction.BUY_A_SELL_B
        long_id, short_id = (self.a_id, self.b_id) if buy_a else (self.b_id, self.a_id)
        gid = self._next_group("entry")
        group = self._group(
            gid, [(long_id, "BUY", found.quantity), (short_id, "SELL", found.quantity)], "spread_entry"
        )
        if not self.releasable(group):
            return
        position = self._open_position(gid, long_id, short_id, found.quantity * found.buy_price, found.edge)
        position.phase = "OPENING"
        self._group_position[gid] = position.id
        self._persist(position)
        self.log.info(
            f"Entering spread {found.direction.value} {found.quantity} (edge {found.edge * _BPS:.2f} bp)"
        )
        self._submit(group)

    # -- MAKER --------------------------------------------------------------------------------

    def quote(self, a: Book, b: Book) -> None:
        """Keep one profitable passive order per side on venue A (see the module docstring)."""
        a_inst = self._instrument(self.a_id)
        assert a_inst is not None
        tick = a_inst.price_increment.as_decimal()
        lot = max(a.lot, b.lot)
        costs = self.costs()
        now = int(self.decision_clock.timestamp_ns())
        held_a = self.held(self.a_id) + self.unhedged
        best_bid, best_ask = a.bids[0][0], a.asks[0][0]
        busy = self._hedge is not None or abs(self.unhedged) >= lot
        settling = any(p.phase != "OPEN" for p in self.positions.values())
        for buy in (True, False):
            opposite = Direction.SELL_A_BUY_B if buy else Direction.BUY_A_SELL_B
            opposite_held = any(self._direction(p) is opposite for p in self.positions.values())
            room = min(
                inventory_room(held_a, buy_on_a=buy, max_inventory=self.max_inventory),
                self._cap_quantity(a.mid * a.usd) if not self._maker_position(buy) else self.max_inventory,
            )
            qty = _floor(min(self.maker_quantity, room), lot)
            quote = self.quotes.get(buy)
            # a resting order is priced for a whole maker_quantity (what it may still fill)
            size = qty if quote is None else _floor(self.maker_quantity, lot)
            wanted = None
            if size > 0 and not opposite_held:
                wanted = maker_price(
                    buy,
                    size,
                    best_bid,
                    best_ask,
                    tick,
                    b,
                    costs=costs,
                    max_slippage=self.max_slippage,
                    a_usd=a.usd,
                )
            if quote is not None:
                # it rests through a working hedge (a partly filled order keeps its place in
                # A's queue); it goes only when its price stops paying, or for a better one
                if quote.cancelling:
                    continue
                tolerance = a.mid * self.reprice_tolerance
                profitable = wanted is not None and (
                    (quote.price <= wanted) if buy else (quote.price >= wanted)
                )
                if not profitable or (
                    needs_reprice(quote.price, wanted, buy_on_a=buy, tolerance=tolerance)
                    and self.budget.may_reprice(now)
                ):
                    self._cancel_quote(quote, now)
                continue
            if busy or settling or qty <= 0 or wanted is None:
                continue  # no new order while a fill is being hedged or a pair is settling
            if not self.budget.may_place(now) or self._dirty(self.a_id):
                continue
            self._place(buy, wanted, qty, now)

    def _sendable(self, order: Order) -> bool:
        # LIVE: a maker order is only worth resting if its hedge can go out unattended too
        gate = self.safety_gate
        if gate is None or self._mode.value != "LIVE" or gate.auto_confirmable(order):
            return True
        self.log.warning(f"Cannot rest maker order {order.operation_id}: LIVE needs an auto-confirm policy")
        return False

    def _maker_position(self, buy: bool) -> CarryPosition | None:
        want = Direction.BUY_A_SELL_B if buy else Direction.SELL_A_BUY_B
        for p in self.positions.values():
            if self._touches_maker(p) and p.phase == "OPEN" and self._direction(p) is want:
                return p
        return None

    def _place(self, buy: bool, price: Decimal, qty: Decimal, now: int) -> None:
        self._n += 1
        op = f"{self.config.strategy_name}-maker-{self._n}"
        self.repository.set_state(self.config.strategy_name, "group_count", self._n)
        order = self._order(op, self.a_id, "BUY" if buy else "SELL", qty, "spread_maker", price=price)
        if not self._sendable(order):
            return
        self.quotes[buy] = MakerQuote(op, buy, price, qty, now)
        result = self.submit_unified(order)
        if result.status.value == "REJECTED":
            self.quotes.pop(buy, None)

    def _cancel_quote(self, quote: MakerQuote, now: int) -> None:
        result = self.results.get(quote.operation_id)
        if result is None or result.client_order_id is None:
            self.quotes.pop(quote.buy, None)
            return
        order = self.cache.order(ClientOrderId(result.client_order_id))
        if order is None or order.is_closed:
            self.quotes.pop(quote.buy, None)
            return
        quote.cancelling = True
        self.budget.record_cancel(now)
        self.cancel_order(order)

    def _cancel_quotes(self, *, protective: bool) -> None:
        now = int(self.decision_clock.timestamp_ns())
        for quote in list(self.quotes.values()):
            if not quote.cancelling:
                self._cancel_quote(quote, now)

    def _role(self, client_order_id: ClientOrderId) -> tuple[str, str] | None:
        op = self._by_client_id.get(client_order_id)
        if op is None:
            return None
        for quote in self.quotes.values():
            if quote.operation_id == op:
                return "maker", op
        if self._hedge is not None and self._hedge.operation_id == op:
            return "hedge", op
        if op.startswith(f"{self.config.strategy_name}-flatten"):
            return "flatten", op
        return None

    def on_order_accepted(self, event: Any) -> None:
        with self._lock:
            self._accepted(event)

    def _accepted(self, event: Any) -> None:
        role = self._role(event.client_order_id)
        if role is not None and role[0] == "hedge" and self._hedge is not None and self._hedge.ack_ns is None:
            self._hedge.ack_ns = int(self.clock.timestamp_ns())

    def on_order_filled(self, event: Any) -> None:
        with self._lock:
            self._filled(event)

    def _filled(self, event: Any) -> None:
        now = int(self.clock.timestamp_ns())
        role = self._role(event.client_order_id)
        super().on_order_filled(event)
        if role is None:
            return
        qty = event.last_qty.as_decimal()
        buy = event.order_side.name == "BUY"
        signed = qty if buy else -qty
        if role[0] == "maker":
            self._maker_fill(buy, signed, event.last_px.as_decimal(), now)
        elif role[0] == "hedge":
            self._hedge_fill(signed, event.last_px.as_decimal(), now)
        else:  # a flatten on A after failed hedges
            self._flatten_fill(signed)

    def _maker_fill(self, buy: bool, signed: Decimal, price: Decimal, now: int) -> None:
        position = self._maker_position(buy)
        if position is None:
            long_id, short_id = (self.a_id, self.b_id) if buy else (self.b_id, self.a_id)
            position = self._open_position(
                f"{self.config.strategy_name}-maker-{self._n}", long_id, short_id, Decimal(0), Decimal(0)
            )
        leg = position.long if buy else position.short
        leg.signed += signed
        leg.entry_price = price if leg.entry_price is None else leg.entry_price
        position.notional += abs(signed) * price
        self.unhedged += signed
        if self._unhedged_since is None:
            self._unhedged_since = now
        self._persist(position, size_usd=store_amount(position.notional))
        self.repository.set_state(self.config.strategy_name, "unhedged", str(self.unhedged))
        if self._hedge is None:
            self._hedge_residual()

    def _flatten_fill(self, signed: Decimal) -> None:
        # selling A back reduces a long-A maker position, buying it back a short-A one
        self.unhedged += signed
        position = self._maker_position(signed < 0)
        if position is not None:
            leg = position.long if position.long.instrument_id == self.a_id else position.short
            leg.signed += signed
            self._persist(position)
        self.repository.set_state(self.config.strategy_name, "unhedged", str(self.unhedged))

    def _hedge_residual(self, attempt: int = 1) -> None:
        b_inst = self._instrument(self.b_id)
        if b_inst is None:
            return
        qty = _floor(abs(self.unhedged), b_inst.size_increment.as_decimal())
        if qty <= 0 or self._dirty(self.b_id):
            return  # below B's lot (kept until more fills), or the next cycle once B is clean
        side = "SELL" if self.unhedged > 0 else "BUY"
        self._n += 1
        op = f"{self.config.strategy_name}-hedge-{self._n}"
        self.repository.set_state(self.config.strategy_name, "group_count", self._n)
        now = int(self.clock.timestamp_ns())
        self._hedge = HedgeRecord(
            n=len(self.hedges) + 1,
            operation_id=op,
            side=side,
            quantity=qty,
            fill_ns=self._unhedged_since or now,
            submit_ns=now,
            attempt=attempt,
        )
        self.hedges.append(self._hedge)
        order = self._order(op, self.b_id, side, qty, "spread_hedge", max_slippage=self.max_slippage)
        result = self.submit_unified(order)
        if result.status.value == "REJECTED":
            self._hedge_done()

    def _hedge_fill(self, signed: Decimal, price: Decimal, now: int) -> None:
        hedge = self._hedge
        assert hedge is not None
        if hedge.hedge_fill_ns is None:
            hedge.hedge_fill_ns = now
        hedge.filled += abs(signed)
        self.unhedged += signed
        position = self._maker_position(signed < 0)
        if position is not None:
            leg = position.short if signed < 0 else position.long
            leg.signed += signed
            leg.entry_price = price if leg.entry_price is None else leg.entry_price
            self._persist(position)
        self.repository.set_state(self.config.strategy_name, "unhedged", str(self.unhedged))
        if abs(self.unhedged) < self._b_lot():
            self._unhedged_since = None

    def _b_lot(self) -> Decimal:
        inst = self._instrument(self.b_id)
        return inst.size_increment.as_decimal() if inst is not None else Decimal(0)

    def _hedge_done(self) -> None:
        hedge = self._hedge
        if hedge is None:
            return
        hedge.done = True
        self._hedge = None
        self.repository.set_state(self.config.strategy_name, f"hedge:{hedge.n}", hedge.state())
        if abs(self.unhedged) < self._b_lot():
            return
        if hedge.attempt < self.config.max_hedge_attempts:
            self._hedge_residual(hedge.attempt + 1)
            return
        # B would not take the hedge: trade the unhedged quantity back on A and stop quoting
        self._refuse(
            f"hedge on {self.b_id} failed {hedge.attempt} times; {self.unhedged} traded back on {self.a_id}"
        )
        self._n += 1
        qty = _floor(abs(self.unhedged), self._a_lot())
        if qty > 0:
            side = "SELL" if self.unhedged > 0 else "BUY"
            op = f"{self.config.strategy_name}-flatten-{self._n}"
            self.submit_unified(
                self._order(op, self.a_id, side, qty, "spread_flatten", max_slippage=self.max_slippage)
            )

    def _a_lot(self) -> Decimal:
        inst = self._instrument(self.a_id)
        return inst.size_increment.as_decimal() if inst is not None else Decimal(0)

    def on_event(self, event: Any) -> None:
        with self._lock:
            super().on_event(event)
            self._settle(event)

    def _settle(self, event: Any) -> None:
        cid = getattr(event, "client_order_id", None)
        if cid is not None:
            for quote in list(self.quotes.values()):
                result = self.results.get(quote.operation_id)
                order = (
                    None
                    if result is None or result.client_order_id is None
                    else self.cache.order(ClientOrderId(result.client_order_id))
                )
                if result is not None and (
                    result.status.value == "REJECTED" or (order is not None and order.is_closed)
                ):
                    self.quotes.pop(quote.buy, None)
            hedge = self._hedge
            if hedge is not None:
                result = self.results.get(hedge.operation_id)
                order = (
                    None
                    if result is None or result.client_order_id is None
                    else self.cache.order(ClientOrderId(result.client_order_id))
                )
                if result is not None and (
                    result.status.value == "REJECTED" or (order is not None and order.is_closed)
                ):
                    self._hedge_done()
        if self._group_position:
            self._group_status()

    # -- restart ------------------------------------------------------------------------------


def _floor(value: Decimal, step: Decimal) -> Decimal:
    if step <= 0 or value <= 0:
        return Decimal(0)
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


__all__ = ["HedgeRecord", "MakerQuote", "PerpSpreadConfig", "PerpSpreadStrategy"]
