"""
Funding on the fake exchange: per-market rate, interval, schedule, history, and settlement.

Every :class:`~.engine.MatchingEngine` owns a :class:`FundingSchedule`. The venue protocols
render it in their own wire shapes (:mod:`.funding_venues`): the current and predicted rate,
the interval, the next funding time, mark and index price, open interest, 24 h volume and the
settled history. A test moves time forward one funding period at a time with
:meth:`FundingSchedule.settle` (through :meth:`FakeExchange.settle_funding`): every open
position pays or receives ``-signed_size * contract_size * mark * rate`` (a long pays when the
rate is positive) in the settlement asset, the account balance changes by exactly that amount,
the rate joins the history at that funding time, and the venue pushes its own account and
position messages.

The funding clock is the schedule's own: it starts at the first interval boundary after the
exchange clock and advances by one interval per settlement, so a test can settle any number of
periods without waiting for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Final

if TYPE_CHECKING:
    from nautilus_ext_testkit.fake_exchange.engine import MatchingEngine

MS_PER_HOUR: Final = 3_600_000
DEFAULT_RATE: Final = Decimal("0.0001")


@dataclass(frozen=True)
class FundingPoint:
    """One settled funding rate (``ts_ms`` is the funding time)."""

    ts_ms: int
    rate: Decimal
    mark_price: Decimal


@dataclass
class FundingState:
    """The funding state of one market."""

    rate: Decimal
    interval_hours: int
    next_funding_ms: int
    predicted_rate: Decimal | None = None
    mark_price: Decimal | None = None  # None: the engine's mid
    index_price: Decimal | None = None  # None: the mark
    open_interest: Decimal = Decimal(0)  # base units
    volume_24h: Decimal = Decimal(0)  # quote units
    history: list[FundingPoint] = field(default_factory=list)

    @property
    def interval_ms(self) -> int:
        """The funding interval in milliseconds."""
        return self.interval_hours * MS_PER_HOUR


@dataclass(frozen=True)
class FundingSettlement:
    """One account's funding cash flow at one funding time (positive = received)."""

    account: str
    symbol: str
    ts_ms: int
    rate: Decimal
    mark_price: Decimal
    position_qty: Decimal  # signed, in the venue's quantity units
    amount: Decimal  # in the settlement asset
    balance_after: Decimal


class FundingSchedule:
    """
    The funding state of every market of one engine.

    Parameters
    ----------
    engine : MatchingEngine
        The engine whose positions and balances settle.
    rate : Decimal, default 0.0001
        The starting rate per interval of every market.
    interval_hours : int, default 8
        The starting interval of every market.
    """

    def __init__(self, engine: MatchingEngine, rate: Decimal = DEFAULT_RATE, interval_hours: int = 8) -> None:
        self.engine = engine
        self.listeners: list[Callable[[FundingSettlement], None]] = []
        self.states: dict[str, FundingState] = {}
        # (account, symbol) -> funding received so far (negative: paid), for venues that show it
        self.cumulative: dict[tuple[str, str], Decimal] = {}
        self.configure(rate=rate, interval_hours=interval_hours)

    def configure(
        self,
        symbol: str | None = None,
        *,
        rate: Decimal | None = None,
        interval_hours: int | None = None,
        predicted_rate: Decimal | None = None,
        mark_price: Decimal | None = None,
        index_price: Decimal | None = None,
        open_interest: Decimal | None = None,
        volume_24h: Decimal | None = None,
    ) -> None:
        """Set funding fields of ``symbol`` (every market when ``None``); unset fields are kept."""
        symbols = list(self.engine.markets) if symbol is None else [symbol]
        for s in symbols:
            if s not in self.engine.markets:
                raise KeyError(f"unknown market {s!r}")
            state = self.states.get(s)
            if state is None:
                hours = interval_hours or 8
                state = FundingState(rate or DEFAULT_RATE, hours, self._boundary(hours))
                self.states[s] = state
            if rate is not None:
                state.rate = rate
            if interval_hours is not None and interval_hours != state.interval_hours:
                state.interval_hours = interval_hours
                state.next_funding_ms = self._boundary(interval_hours)
            for name, value in (
                ("predicted_rate", predicted_rate),
                ("mark_price", mark_price),
                ("index_price", index_price),
                ("open_interest", open_interest),
                ("volume_24h", volume_24h),
            ):
                if value is not None:
                    setattr(state, name, value)

    def state(self, symbol: str) -> FundingState:
        """Return the funding state of ``symbol``."""
        return self.states[symbol]

    def mark(self, symbol: str) -> Decimal:
        """Return the mark price funding settles at (the configured one, else the mid)."""
        state = self.states[symbol]
        return state.mark_price if state.mark_price is not None else self.engine.mark_price(symbol)

    def index(self, symbol: str) -> Decimal:
        """Return the index price (the configured one, else the mark)."""
        state = self.states[symbol]
        return state.index_price if state.index_price is not None else self.mark(symbol)

    def seed_history(self, symbol: str, rates: list[Decimal], *, skip: frozenset[int] = frozenset()) -> None:
        """
        Record ``rates`` as settled at the funding times before the next one (oldest first).

        Indices in ``skip`` are left out, so a test can put a gap in the venue's history.
        """
        state = self.states[symbol]
        mark = self.mark(symbol)
        start = state.next_funding_ms - len(rates) * state.interval_ms
        points = [
            FundingPoint(start + i * state.interval_ms, rate, mark)
            for i, rate in enumerate(rates)
            if i not in skip
        ]
        state.history = sorted([*state.history, *points], key=lambda p: p.ts_ms)

    def history(
        self, symbol: str, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[FundingPoint]:
        """Return the settled history of ``symbol`` within ``[start_ms, end_ms]``, oldest first."""
        return [
            p
            for p in self.states[symbol].history
            if (start_ms is None or p.ts_ms >= start_ms) and (end_ms is None or p.ts_ms <= end_ms)
        ]

    def settle(self, symbol: str | None = None) -> list[FundingSettlement]:
        """
        Settle the next funding time of ``symbol`` (every market when ``None``).

        Every account holding a position pays or receives its funding; the rate joins the
        history; the next funding time moves one interval on; the predicted rate (if any)
        becomes the current one. Returns the cash flows, one per position.
        """
        settlements: list[FundingSettlement] = []
        for s in list(self.engine.markets) if symbol is None else [symbol]:
            settlements += self._settle_one(s)
        return settlements

    def _settle_one(self, symbol: str) -> list[FundingSettlement]:
        state = self.states[symbol]
        spec = self.engine.markets[symbol]
        ts, rate, mark = state.next_funding_ms, state.rate, self.mark(symbol)
        out: list[FundingSettlement] = []
        for (account, sym), pos in sorted(self.engine.positions.items()):
            if sym != symbol or not pos.qty:
                continue
            if spec.kind == "inverse":
                # inverse: the position's value in the coin pays the rate, in the coin
                amount = -(pos.qty / mark) * rate if mark else Decimal(0)
            else:
                amount = -(pos.qty * spec.contract_size * mark * rate)
            balance = self.engine.balances.get(account, Decimal(0)) + amount
            self.cumulative[account, symbol] = self.cumulative.get((account, symbol), Decimal(0)) + amount
            self.engine.balances[account] = balance
            out.append(FundingSettlement(account, symbol, ts, rate, mark, pos.qty, amount, balance))
        state.history.append(FundingPoint(ts, rate, mark))
        state.next_funding_ms = ts + state.interval_ms
        if state.predicted_rate is not None:
            state.rate, state.predicted_rate = state.predicted_rate, None
        for settlement in out:
            for callback in self.listeners:
                callback(settlement)
            for position_callback in self.engine.listeners.on_position:
                position_callback(self.engine.position(settlement.account, symbol))
        return out

    def _boundary(self, interval_hours: int) -> int:
        step = interval_hours * MS_PER_HOUR
        return (self.engine.clock_ms() // step + 1) * step


__all__ = [
    "FundingPoint",
    "FundingSchedule",
    "FundingSettlement",
    "FundingState",
]
