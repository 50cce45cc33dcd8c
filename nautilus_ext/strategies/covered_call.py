"""
Covered call (seed 000, "Options Strategy"): hold the underlying, sell an out-of-the-money call.

:class:`CoveredCallStrategy` buys ``underlying_quantity`` of ``underlying_key`` (a CME future,
a Deribit perpetual or future, a spot pair) and, once that fills, sells ``call_quantity`` of
the listed call whose delta is nearest ``target_delta`` among the calls on ``option_underlying``
expiring within ``[min_days_to_expiry, max_days_to_expiry]``. Every order is a unified ``trade``
Order (the call's canonical ``OPTION`` key) through
:meth:`~nautilus_ext.execution.strategy.UnifiedExecutionStrategy.submit_unified`, so the safety
gate judges each one.

Greeks: the data's where present (a Tardis ``options_chain`` CSV, ``options_chain_csv``, carries
Deribit's delta and mark IV per option and time), else Black-76 (:mod:`nautilus_ext.tradfi.black76`)
with the implied volatility solved from the option's mid and the underlying's mid. Inverse
(Deribit) option prices are in the underlying coin and converted to USD at the underlying's mid.

The short call is bought back and a new one sold when it goes deep in the money (its delta at or
above ``itm_delta``) or ``roll_before_expiry_secs`` before its expiry; left to expire, it is
settled at its intrinsic value against the underlying's last mid (``ASSIGNED`` in the money, else
``EXPIRED``) and a new call is sold. :meth:`CoveredCallStrategy.report` lists every short call
(premium collected, buy-back or assignment/expiry P&L, the underlying's P&L over its life);
``report_path`` writes it as JSON when the strategy stops.
"""

from __future__ import annotations

import csv
import json
import math
from bisect import bisect_right
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.adapters.symbology import key_for_instrument
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.execution.config import UnifiedExecutionConfig
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.instruments.enums import OptionKind
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.orders.model import Order
from nautilus_ext.tradfi import black76
from nautilus_ext.tradfi.black76 import Greeks

_DAY_NS = 86_400 * 1_000_000_000
MAX_SELL_ATTEMPTS: Final = 3
"""Refused call sales (gate or venue) after which the strategy stops offering calls."""
MAX_BUY_BACK_ATTEMPTS: Final = 3
"""Refused buy-backs of one call (stale quotes, a wide spread) after which it is held to expiry."""


class CoveredCallConfig(UnifiedExecutionConfig, frozen=True):
    """
    Configuration of :class:`CoveredCallStrategy`.

    Parameters
    ----------
    underlying_key : str
        The held underlying's canonical key (``CME:FUTURE:SP500-USD-240621@LIN``).
    underlying_quantity : str
        How much of it to hold (its order quantity, > 0).
    option_underlying : str
        The options' ``underlying`` field selecting the chain (``ESM4`` for CME, ``BTC`` for Deribit).
    call_quantity : str
        Calls sold per cycle (> 0).
    target_delta : float, default 0.30
        The delta sought for the sold call, in (0, 1).
    itm_delta : float, optional, default 0.80
        Buy back and re-sell once the short call's delta reaches this (in (target_delta, 1]);
        None: never bought back, held to expiry.
    min_days_to_expiry, max_days_to_expiry : float, default 0 and 90
        The expiries a new call may have (days from now).
    roll_before_expiry_secs : int, default 0
        Buy back this long before expiry (0: let it expire and settle at intrinsic value).
    rate : float, default 0.0
        Black-76 discount rate.
    options_chain_csv : str, optional
        A Tardis ``options_chain`` CSV whose delta/mark IV are used instead of computed ones.
    greeks_max_age_secs : int, default 300
        The data's Greeks count only this long after their timestamp.
    report_path : str, optional
        Write :meth:`CoveredCallStrategy.report` here (JSON) on stop.
    """

    underlying_key: str = ""
    underlying_quantity: str = "0"
    option_underlying: str = ""
    call_quantity: str = "0"
    target_delta: float = 0.30
    itm_delta: float | None = 0.80
    min_days_to_expiry: float = 0.0
    max_days_to_expiry: float = 90.0
    roll_before_expiry_secs: int = 0
    rate: float = 0.0
    options_chain_csv: str | None = None
    greeks_max_age_secs: int = 300
    report_path: str | None = None


@dataclass(frozen=True, slots=True)
class CallQuote:
    """A listed call at an instant: its mid in USD and Greeks (the data's or Black-76)."""

    instrument_id: str
    key: str
    strike: Decimal
    expiration_ns: int
    mid_usd: float
    greeks: Greeks


@dataclass
class ShortCall:
    """
    One short call, sold and then bought back, expired or assigned (the report's row).

    Money fields are in the option's settlement currency (USD for CME, BTC for Deribit), with
    the USD value at the time beside them (``*_usd``).
    """

    key: str
    instrument_id: str
    strike: str
    expiry: str
    quantity: str
    sold_at_ns: int
    sell_price: str | None = None
    delta_at_sale: float = 0.0
    iv_at_sale: float = 0.0
    greeks_source: str = ""
    premium: str = "0"
    premium_usd: str = "0"
    outcome: str = "OPEN"  # OPEN, BOUGHT_BACK_ITM, ROLLED_BEFORE_EXPIRY, EXPIRED, ASSIGNED
    closed_at_ns: int | None = None
    close_price: str | None = None
    option_pnl: str | None = None
    option_pnl_usd: str | None = None
    underlying_mid_at_sale: str = "0"
    underlying_mid_at_close: str | None = None
    underlying_pnl_usd: str | None = None
    total_pnl_usd: str | None = None
    sell_op: str = ""
    close_op: str | None = None
    buy_back_attempts: int = 0
    notes: list[str] = field(default_factory=list)


class DataGreeks:
    """Per-option time series of a Tardis ``options_chain`` CSV's delta and mark IV."""

    def __init__(self, path: str | Path) -> None:
        self._series: dict[str, tuple[list[int], list[tuple[float, float, float, float]]]] = {}
        with Path(path).open(newline="") as f:
            for row in csv.DictReader(f):
                if not row.get("delta") or not row.get("mark_iv"):
                    continue  # a row without Greeks: computed instead
                ts = int(row["timestamp"]) * 1000  # Tardis microseconds
                values = (
                    float(row["delta"]),
                    float(row["mark_iv"]) / 100,
                    float(row.get("gamma") or "nan"),
                    float(row.get("vega") or "nan"),
                )
                times, vals = self._series.setdefault(row["symbol"], ([], []))
                i = bisect_right(times, ts)
                times.insert(i, ts)
                vals.insert(i, values)

    def at(self, symbol: str, ts_ns: int, max_age_ns: int) -> Greeks | None:
        """Return the latest Greeks of ``symbol`` at ``ts_ns`` no older than ``max_age_ns``."""
        series = self._series.get(symbol)
        if series is None:
            return None
        times, vals = series
        i = bisect_right(times, ts_ns) - 1
        if i < 0 or ts_ns - times[i] > max_age_ns:
            return None
        delta, iv, gamma, vega = vals[i]
        return Greeks(vol=iv, delta=delta, gamma=gamma, vega=vega * 100, theta=math.nan, source="data")


def _dec(value: float | Decimal) -> str:
    text = format(Decimal(str(value)).quantize(Decimal("0.00000001")), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class CoveredCallStrategy(UnifiedExecutionStrategy):
    """Hold the underlying and keep one short call on it (see the module docstring)."""

    def __init__(self, config: CoveredCallConfig) -> None:
        super().__init__(config)
        self.cfg = config
        try:
            self.underlying = InstrumentKey.parse(config.underlying_key)
        except NautilusExtError as e:
            raise InvalidConfig(f"underlying_key: {e.message}") from None
        self.underlying_qty = Decimal(config.underlying_quantity)
        self.call_qty = Decimal(config.call_quantity)
        problems = []
        if self.underlying_qty <= 0 or self.call_qty <= 0:
            problems.append("underlying_quantity and call_quantity must be positive")
        itm = 1.0 if config.itm_delta is None else config.itm_delta
        if not 0 < config.target_delta < itm <= 1:
            problems.append(
                f"need 0 < target_delta ({config.target_delta}) < itm_delta ({config.itm_delta}) <= 1"
            )
        if not config.option_underlying:
            problems.append("option_underlying: required (ESM4, BTC...)")
        if config.min_days_to_expiry > config.max_days_to_expiry:
            problems.append("min_days_to_expiry must not exceed max_days_to_expiry")
        if problems:
            raise InvalidConfig("covered call: " + "; ".join(problems))
        self.data_greeks = DataGreeks(config.options_chain_csv) if config.options_chain_csv else None
        self.positions: list[ShortCall] = []
        self.errors: list[str] = []
        self._entry_op: str | None = None
        self._underlying_iid: str | None = None
        self._underlying_entry_mid: Decimal | None = None
        self._pending_close: ShortCall | None = None
        self._seq = 0
        self._refusals = 0

    # -- market data ----------------------------------------------------------------------------

    def on_quote_tick(self, tick: Any) -> None:
        self._step(tick.ts_init)

    def on_trade_tick(self, tick: Any) -> None:
        self._step(tick.ts_init)

    def _mid(self, iid: str) -> Decimal | None:
        q = self.cache.quote_tick(InstrumentId.from_str(iid))
        if q is None:
            return None
        bid, ask = q.bid_price.as_decimal(), q.ask_price.as_decimal()
        return (bid + ask) / 2 if bid > 0 and ask > 0 else None

    def _underlying_id(self) -> str | None:
        if self._underlying_iid is None:
            for inst in self.cache.instruments():
                try:
                    if key_for_instrument(inst, self.registry) == self.underlying:
                        self._underlying_iid = inst.id.value
                        break
                except NautilusExtError:
                    continue
        return self._underlying_iid

    # -- chain and Greeks ------------------------------------------------------------------------

    def _calls(self) -> list[Any]:
        out = []
        for inst in self.cache.instruments():
            kind = getattr(inst, "option_kind", None)
            if kind is None or kind.name != "CALL":
                continue
            if str(inst.underlying) == self.cfg.option_underlying:
                out.append(inst)
        return out

    def call_quote(self, inst: Any, ts_ns: int, forward: float) -> CallQuote | None:
        """Return the call's USD mid and Greeks at ``ts_ns``, or None without a usable quote."""
        mid = self._mid(inst.id.value)
        years = black76.years_between(ts_ns, inst.expiration_ns)
        if mid is None or years <= 0:
            return None
        mid_usd = float(mid) * (forward if inst.is_inverse else 1.0)
        strike = float(inst.strike_price.as_decimal())
        greeks = None
        if self.data_greeks is not None:
            greeks = self.data_greeks.at(
                inst.raw_symbol.value, ts_ns, self.cfg.greeks_max_age_secs * 1_000_000_000
            )
        if greeks is None:
            try:
                vol = black76.implied_vol(OptionKind.CALL, mid_usd, forward, strike, years, self.cfg.rate)
                greeks = black76.greeks(OptionKind.CALL, forward, strike, years, vol, self.cfg.rate)
            except NautilusExtError as e:
                self.errors.append(f"{inst.id}: {e.message}")
                return None
        key = str(key_for_instrument(inst, self.registry))
        return CallQuote(
            inst.id.value, key, inst.strike_price.as_decimal(), inst.expiration_ns, mid_usd, greeks
        )

    def choose_call(self, ts_ns: int, forward: float) -> CallQuote | None:
        """Return the out-of-the-money call whose delta is nearest ``target_delta``, if any."""
        lo = (
            ts_ns
            + int(self.cfg.min_days_to_expiry * _DAY_NS)
            + self.cfg.roll_before_expiry_secs * 1_000_000_000
        )
        hi = ts_ns + int(self.cfg.max_days_to_expiry * _DAY_NS)
        best: CallQuote | None = None
        for inst in self._calls():
            if not lo < inst.expiration_ns <= hi or float(inst.strike_price.as_decimal()) <= forward:
                continue
            quote = self.call_quote(inst, ts_ns, forward)
            if quote is None or quote.greeks.delta >= (self.cfg.itm_delta or 1.0):
                continue
            rank = (abs(quote.greeks.delta - self.cfg.target_delta), quote.expiration_ns, quote.strike)
            if best is None or rank < (
                abs(best.greeks.delta - self.cfg.target_delta),
                best.expiration_ns,
                best.strike,
            ):
                best = quote
        return best

    # -- the cycle -------------------------------------------------------------------------------

    def _step(self, ts_ns: int) -> None:
        try:
            self._advance(ts_ns)
        except NautilusExtError as e:
            # a refused order, a missing instrument: recorded, never raised into the engine
            self.errors.append(f"{e.code}: {e.message}")
            self.log.warning(f"Covered call: {e.message}")

    def _advance(self, ts_ns: int) -> None:
        uid = self._underlying_id()
        if uid is None:
            return
        umid = self._mid(uid)
        if umid is None:
            return
        when = datetime.fromtimestamp(ts_ns / 1e9, tz=UTC)
        if self._entry_op is None:
            self._entry_op = "cc-enter-underlying"
            self._underlying_entry_mid = umid
            self.submit_unified(
                self._order(self._entry_op, self.underlying, "BUY", self.underlying_qty, when, "enter")
            )
            return
        entry = self.results.get(self._entry_op)
        if entry is None or entry.filled_quantity == 0:
            return  # the underlying is not held: no call is written uncovered
        if self._pending_close is not None:
            self._finish_close(self._pending_close, umid)
            return
        short = self.positions[-1] if self.positions and self.positions[-1].outcome == "OPEN" else None
        if short is not None:
            sold = self.results.get(short.sell_op)
            if sold is None or sold.status is ExecutionStatus.REJECTED:
                short.outcome = "NOT_SOLD"
                short.notes.append(sold.reason if sold is not None else "no result")
                self._refusals += 1
                return
            if sold.filled_quantity == 0:
                return
            if short.sell_price is None:
                self._record_sale(short, sold, umid)
            self._manage(short, ts_ns, umid, when)
            return
        if self._refusals >= MAX_SELL_ATTEMPTS:
            return  # the gate or the venue refuses the calls: not hammered every data point
        quote = self.choose_call(ts_ns, float(umid))
        if quote is None:
            return
        self._seq += 1
        op = f"cc-sell-{self._seq}"
        inst = self.cache.instrument(InstrumentId.from_str(quote.instrument_id))
        self.positions.append(
            ShortCall(
                key=quote.key,
                instrument_id=quote.instrument_id,
                strike=_dec(quote.strike),
                expiry=datetime.fromtimestamp(quote.expiration_ns / 1e9, tz=UTC).isoformat(),
                quantity=str(self.call_qty),
                sold_at_ns=ts_ns,
                delta_at_sale=quote.greeks.delta,
                iv_at_sale=quote.greeks.vol,
                greeks_source=quote.greeks.source,
                underlying_mid_at_sale=_dec(umid),
                sell_op=op,
            )
        )
        assert inst is not None
        self.submit_unified(
            self._order(op, InstrumentKey.parse(quote.key), "SELL", self.call_qty, when, "enter")
        )

    def _record_sale(self, short: ShortCall, sold: Any, umid: Decimal) -> None:
        inst = self._inst(short.instrument_id)
        price = sold.avg_fill_price
        short.sell_price = _dec(price)
        premium = price * sold.filled_quantity * inst.multiplier.as_decimal()
        short.premium = _dec(premium)
        short.premium_usd = _dec(premium * (Decimal(short.underlying_mid_at_sale) if inst.is_inverse else 1))
        short.quantity = str(sold.filled_quantity)

    def _manage(self, short: ShortCall, ts_ns: int, umid: Decimal, when: datetime) -> None:
        inst = self._inst(short.instrument_id)
        if ts_ns >= inst.expiration_ns:
            self._settle(short, ts_ns, umid)
            return
        if short.buy_back_attempts >= MAX_BUY_BACK_ATTEMPTS:
            return  # the gate or the venue keeps refusing the buy-back: held to expiry
        if (
            self.cfg.roll_before_expiry_secs
            and ts_ns >= inst.expiration_ns - self.cfg.roll_before_expiry_secs * 1_000_000_000
        ):
            self._buy_back(short, "ROLLED_BEFORE_EXPIRY", when)
            return
        if self.cfg.itm_delta is None:
            return  # held to expiry
        quote = self.call_quote(inst, ts_ns, float(umid))
        if quote is not None and quote.greeks.delta >= self.cfg.itm_delta:
            short.notes.append(f"delta {quote.greeks.delta:.3f} >= itm_delta {self.cfg.itm_delta}")
            self._buy_back(short, "BOUGHT_BACK_ITM", when)

    def _buy_back(self, short: ShortCall, outcome: str, when: datetime) -> None:
        short.buy_back_attempts += 1
        n = short.buy_back_attempts
        op = f"{short.sell_op}-close" if n == 1 else f"{short.sell_op}-close{n}"
        short.close_op = op
        short.outcome = outcome
        self._pending_close = short
        self.submit_unified(
            self._order(op, InstrumentKey.parse(short.key), "BUY", Decimal(short.quantity), when, "exit")
        )

    def _finish_close(self, short: ShortCall, umid: Decimal) -> None:
        assert short.close_op is not None
        result = self.results.get(short.close_op)
        if result is None:
            return
        if result.status is ExecutionStatus.REJECTED or (
            result.filled_quantity == 0 and self._order_closed(result)
        ):
            short.notes.append(f"buy-back {short.close_op} refused: {result.reason}")
            short.outcome = "OPEN"  # still short: tried again on a later data point
            self._pending_close = None
            short.close_op = None
            if short.buy_back_attempts >= MAX_BUY_BACK_ATTEMPTS:
                short.notes.append(f"held to expiry after {short.buy_back_attempts} refused buy-backs")
            return
        price = result.avg_fill_price
        if price is None or result.filled_quantity < Decimal(short.quantity):
            return
        self._pending_close = None
        self._close(
            short,
            result.ts_decision_ns if not result.fills else result.fills[-1].ts_ns,
            price,
            umid,
        )

    def _order_closed(self, result: Any) -> bool:
        from nautilus_trader.model.identifiers import ClientOrderId

        if result.client_order_id is None:
            return True
        order = self.cache.order(ClientOrderId(result.client_order_id))
        return order is None or bool(order.is_closed)

    def _settle(self, short: ShortCall, ts_ns: int, umid: Decimal) -> None:
        # expiry: cash value at the underlying's last mid (futures options deliver the future at
        # the strike; its value against the mid is the same intrinsic amount)
        inst = self._inst(short.instrument_id)
        intrinsic = max(umid - inst.strike_price.as_decimal(), Decimal(0))
        short.outcome = "ASSIGNED" if intrinsic > 0 else "EXPIRED"
        # the simulated venue does not settle expiries: this report settles the call (the
        # engine's own position in the expired option stays open)
        short.notes.append(f"settled at intrinsic {intrinsic} against the underlying mid {umid}")
        value = intrinsic / umid if inst.is_inverse else intrinsic
        self._close(short, ts_ns, value, umid)

    def _close(self, short: ShortCall, ts_ns: int, price: Decimal, umid: Decimal) -> None:
        inst = self._inst(short.instrument_id)
        qty, mult = Decimal(short.quantity), inst.multiplier.as_decimal()
        pnl = (Decimal(short.sell_price or "0") - price) * qty * mult
        usd = umid if inst.is_inverse else Decimal(1)
        short.closed_at_ns = ts_ns
        short.close_price = _dec(price)
        short.option_pnl = _dec(pnl)
        short.option_pnl_usd = _dec(pnl * usd)
        short.underlying_mid_at_close = _dec(umid)
        under = self._underlying_pnl_usd(Decimal(short.underlying_mid_at_sale), umid)
        short.underlying_pnl_usd = _dec(under)
        short.total_pnl_usd = _dec(pnl * usd + under)

    def _underlying_pnl_usd(self, start: Decimal, end: Decimal) -> Decimal:
        uid = self._underlying_id()
        assert uid is not None
        inst = self._inst(uid)
        qty, mult = self.underlying_qty, Decimal(inst.multiplier.as_decimal())
        if inst.is_inverse:  # coin P&L of an inverse contract, valued at the end price
            return qty * mult * (1 / start - 1 / end) * end
        return (end - start) * qty * mult

    def _inst(self, iid: str) -> Any:
        inst = self.cache.instrument(InstrumentId.from_str(iid))
        if inst is None:
            raise InvalidConfig(f"instrument {iid} is not loaded")
        return inst

    def _order(
        self, op: str, key: InstrumentKey, side: str, qty: Decimal, when: datetime, intent: str
    ) -> Order:
        sign = qty if side == "BUY" else -qty
        return Order(
            operation_id=op,
            operation="trade",
            instrument_key=key,
            venue=key.venue,
            side=side,
            amount=qty,
            expected_deltas={key: sign},
            strategy_id=self.id.value,
            strategy_intent=intent,
            created_at=when,
        )

    # -- report ----------------------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        """
        Return the per-position report: every short call, then the totals (USD).

        Open positions are marked to market at the last mids (``outcome`` stays ``OPEN``; their
        P&L fields are the mark-to-market values).
        """
        uid = self._underlying_id()
        umid = self._mid(uid) if uid else None
        rows = []
        for short in self.positions:
            row = asdict(short)
            if short.outcome == "OPEN" and short.sell_price is not None and umid is not None:
                mid = self._mid(short.instrument_id)
                if mid is not None:
                    inst = self._inst(short.instrument_id)
                    pnl = (
                        (Decimal(short.sell_price) - mid)
                        * Decimal(short.quantity)
                        * inst.multiplier.as_decimal()
                    )
                    usd = umid if inst.is_inverse else Decimal(1)
                    under = self._underlying_pnl_usd(Decimal(short.underlying_mid_at_sale), umid)
                    row.update(
                        option_pnl=_dec(pnl),
                        option_pnl_usd=_dec(pnl * usd),
                        underlying_mid_at_close=_dec(umid),
                        underlying_pnl_usd=_dec(under),
                        total_pnl_usd=_dec(pnl * usd + under),
                    )
            rows.append(row)
        sold = [r for r in rows if r["sell_price"] is not None]

        def total(name: str) -> str:
            return _dec(sum((Decimal(r[name]) for r in sold if r[name] is not None), Decimal(0)))

        entry = self.results.get(self._entry_op) if self._entry_op else None
        entry_price = None if entry is None else entry.avg_fill_price
        # the whole holding, from the underlying's fill to its last mid (short or not)
        held_pnl = (
            None if entry_price is None or umid is None else _dec(self._underlying_pnl_usd(entry_price, umid))
        )
        return {
            "underlying_key": str(self.underlying),
            "underlying_quantity": str(self.underlying_qty),
            "underlying_entry_price": None
            if entry is None or entry.avg_fill_price is None
            else _dec(entry.avg_fill_price),
            "underlying_last_mid": None if umid is None else _dec(umid),
            "positions": rows,
            "totals": {
                "calls_sold": len(sold),
                "premium_collected_usd": total("premium_usd"),
                "option_pnl_usd": total("option_pnl_usd"),
                "underlying_pnl_usd_while_short": total("underlying_pnl_usd"),
                "total_pnl_usd": total("total_pnl_usd"),
                "underlying_pnl_usd_since_entry": held_pnl,
            },
            "errors": list(self.errors),
        }

    def on_stop(self) -> None:
        super().on_stop()
        if self.cfg.report_path:
            path = Path(self.cfg.report_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(self.report(), indent=2), encoding="utf-8")


__all__ = [
    "MAX_BUY_BACK_ATTEMPTS",
    "MAX_SELL_ATTEMPTS",
    "CallQuote",
    "CoveredCallConfig",
    "CoveredCallStrategy",
    "DataGreeks",
    "ShortCall",
]
