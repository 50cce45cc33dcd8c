"""
The gate's betting book: liability per market, event and day, and Betfair's pre-trade rules.

For a bet the risk that matters is the **liability**: the worst outcome of a market across its
runners, given every matched bet and every working (unmatched) bet on it
(:func:`~nautilus_ext.adapters.betfair.settlement.market_liability`). It replaces the net stake
(the OMS running sum) in the gate's position measure for bets when a ``betting`` section is
configured: a bet is refused when it would take a market's liability, the summed liability of
the markets of its event, or the liability committed in the UTC day beyond its limit. A bet that
lowers its market's liability (a hedge) passes the market and event limits.

Betfair's exchange rules (:mod:`nautilus_ext.adapters.betfair.rules`) run first: price ladder,
minimum stake and min-bet-payout, persistence type, and the transactions-per-hour allowance.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Final

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field

from nautilus_ext.adapters.betfair.rules import DEFAULT_TRANSACTIONS_PER_HOUR
from nautilus_ext.adapters.betfair.rules import TransactionAllowance
from nautilus_ext.adapters.betfair.rules import persistence_problem
from nautilus_ext.adapters.betfair.rules import price_problem
from nautilus_ext.adapters.betfair.rules import stake_problem
from nautilus_ext.adapters.betfair.settlement import BetSide
from nautilus_ext.adapters.betfair.settlement import MatchedBet
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import OrderRateLimitBreach
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.orders.model import SELECTIONS_BY_MARKET
from nautilus_ext.orders.model import Order
from nautilus_ext.orders.model import Side
from nautilus_ext.safety.decision import Rule
from nautilus_ext.safety.decision import risk_blocked

_DAY_NS: Final = 86_400_000_000_000


class BettingConfig(BaseModel):
    """
    Betting limits in the account currency, and Betfair's rules.

    Parameters
    ----------
    max_market_liability : Decimal
        Largest worst-case loss on one market (matched and working bets).
    max_event_liability : Decimal
        Largest summed market liability across one event's markets (one fixture or race).
    max_daily_liability : Decimal
        Largest liability of the bets placed in one UTC day (each bet's own liability).
    min_stake : Decimal, default 1
        Betfair's minimum stake.
    min_bet_payout : Decimal, default 10
        A stake below ``min_stake`` passes when stake x odds reaches this (Betfair's rule).
    transactions_per_hour : int, default 5000
        Betfair's hourly transaction allowance; a bet beyond it is refused before the charge.
    persistence_enabled : bool, default True
        Whether PERSIST bets are accepted (the markets allow persistence).
    bsp_markets : bool, default False
        Whether MARKET_ON_CLOSE bets are accepted (starting-price markets).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    max_market_liability: Decimal = Field(allow_inf_nan=False, gt=0)
    max_event_liability: Decimal = Field(allow_inf_nan=False, gt=0)
    max_daily_liability: Decimal = Field(allow_inf_nan=False, gt=0)
    min_stake: Decimal = Field(allow_inf_nan=False, default=Decimal(1), gt=0)
    min_bet_payout: Decimal = Field(allow_inf_nan=False, default=Decimal(10), gt=0)
    transactions_per_hour: int = Field(default=DEFAULT_TRANSACTIONS_PER_HOUR, gt=0)
    persistence_enabled: bool = True
    bsp_markets: bool = False


@dataclass
class _Market:
    matched: list[MatchedBet] = field(default_factory=list)
    working: dict[str, MatchedBet] = field(default_factory=dict)  # order id -> unmatched part
    selections: set[int] = field(default_factory=set)
    complete: bool = False  # every runner is known (MATCH_WINNER, OVER/UNDER, BTTS)


def _event_of(market_key: str) -> str:
    # the event is the market key without its market type: sport, venue, league, kickoff, fixture
    key = InstrumentKey.parse(market_key)
    return f"{key.asset_class}:{key.venue}:{key.payload}"


class BettingBook:
    """
    Matched and working bets per market key, and the checks on a new bet.

    Selections are tracked by a stable integer per (market, selection text) so liability can
    run over every runner seen; a runner never bet on counts as one more possible winner.
    """

    def __init__(self, config: BettingConfig) -> None:
        self.config = config
        self.allowance = TransactionAllowance(config.transactions_per_hour)
        self._markets: dict[str, _Market] = {}
        self._selection_ids: dict[tuple[str, str], int] = {}
        self._day: int | None = None
        self._day_liability = Decimal(0)

    def _sid(self, market: str, selection: str) -> int:
        return self._selection_ids.setdefault((market, selection.upper()), len(self._selection_ids) + 1)

    def _market(self, market: str) -> _Market:
        m = self._markets.get(market)
        if m is None:
            m = self._markets[market] = _Market()
            choices = SELECTIONS_BY_MARKET.get(InstrumentKey.parse(market).instrument_type)
            if choices is not None:  # the runners are known: no unnamed runner can win
                m.selections = {self._sid(market, c) for c in choices}
                m.complete = True
        return m

    def _bet(self, market: str, order: Order) -> MatchedBet:
        assert order.odds is not None
        assert order.selection is not None
        return MatchedBet(
            selection_id=self._sid(market, order.selection),
            side=BetSide.BACK if order.side is Side.BACK else BetSide.LAY,
            odds=order.odds,
            stake=order.amount,
            bet_id=order.operation_id,
        )

    def liability(self, market: str, extra: MatchedBet | None = None) -> Decimal:
        """Return ``market``'s worst-case loss over its runners (plus an ``extra`` bet)."""
        m = self._market(market)
        bets = list(m.matched) + list(m.working.values()) + ([extra] if extra is not None else [])
        if not bets:
            return Decimal(0)
        runners = sorted(m.selections | {b.selection_id for b in bets})
        # in a market whose runners are not all known (racing), a runner we never named may win
        worst = Decimal(0)
        for winner in runners if m.complete else [*runners, 0]:
            pnl = Decimal(0)
            for b in bets:
                backer = b.stake * (b.odds - 1) if b.selection_id == winner else -b.stake
                pnl += backer if b.side is BetSide.BACK else -backer
            worst = min(worst, pnl)
        return -worst

    def event_liability(self, event: str, market: str, extra: MatchedBet | None) -> Decimal:
        """Return the summed liability of ``event``'s markets (with ``extra`` on ``market``)."""
        total = Decimal(0)
        for key in sorted(set(self._markets) | {market}):
            if _event_of(key) == event:
                total += self.liability(key, extra if key == market else None)
        return total

    def check(self, order: Order, market: str, now_ns: int) -> NautilusExtError | None:
        """Return the first Betfair rule or betting limit ``order`` breaks, or ``None``."""
        cfg = self.config
        assert order.odds is not None  # validated by the Order
        problem = price_problem(order.odds) or stake_problem(
            order.amount, order.odds, cfg.min_stake, cfg.min_bet_payout
        )
        persistence = str((order.metadata or {}).get("persistence_type", "LAPSE"))
        problem = problem or persistence_problem(
            persistence, persistence_enabled=cfg.persistence_enabled, bsp_market=cfg.bsp_markets
        )
        if problem is not None:
            return InvalidOrder(
                f"order {order.operation_id}: {problem}",
                order_id=order.operation_id,
                details={"rule": "betfair_rules"},
            )
        allowance = self.allowance.problem(now_ns)
        if allowance is not None:
            return OrderRateLimitBreach(
                f"order {order.operation_id}: {allowance}",
                order_id=order.operation_id,
                details={"rule": "betfair_transactions_per_hour"},
            )
        bet = self._bet(market, order)
        before = self.liability(market)
        after = self.liability(market, bet)
        if after > cfg.max_market_liability and after > before:
            return risk_blocked(
                Rule.MAX_POSITION,
                f"order {order.operation_id} would take the liability of {market} to {after}, beyond "
                f"the market limit {cfg.max_market_liability}",
                liability=str(after),
                scope="market",
            )
        event = _event_of(market)
        event_after = self.event_liability(event, market, bet)
        if event_after > cfg.max_event_liability and after > before:
            return risk_blocked(
                Rule.MAX_POSITION,
                f"order {order.operation_id} would take the liability of event {event} to {event_after}, "
                f"beyond the event limit {cfg.max_event_liability}",
                liability=str(event_after),
                scope="event",
            )
        self._roll(now_ns)
        daily = self._day_liability + bet.liability
        if daily > cfg.max_daily_liability:
            return risk_blocked(
                Rule.MAX_POSITION,
                f"order {order.operation_id} would take today's committed liability to {daily}, beyond "
                f"the daily limit {cfg.max_daily_liability}",
                liability=str(daily),
                scope="day",
            )
        return None

    def _roll(self, now_ns: int) -> None:
        day = now_ns // _DAY_NS
        if day != self._day:
            self._day = day
            self._day_liability = Decimal(0)

    def commit(self, order: Order, market: str, order_id: str, now_ns: int) -> None:
        """Record an allowed bet as working (and one transaction, and today's liability)."""
        bet = self._bet(market, order)
        m = self._market(market)
        m.working[order_id] = bet
        m.selections.add(bet.selection_id)
        self.allowance.record(now_ns)
        self._roll(now_ns)
        self._day_liability += bet.liability

    def on_fill(self, market: str, order_id: str, odds: Decimal, stake: Decimal) -> None:
        """Move ``stake`` of a working bet to matched at ``odds``."""
        m = self._markets.get(market)
        working = None if m is None else m.working.get(order_id)
        if m is None or working is None:
            return  # not a bet this gate released
        m.matched.append(MatchedBet(working.selection_id, working.side, odds, stake, bet_id=working.bet_id))
        left = working.stake - stake
        if left > 0:
            m.working[order_id] = MatchedBet(
                working.selection_id, working.side, working.odds, left, bet_id=working.bet_id
            )
        else:
            del m.working[order_id]

    def on_closed(self, market: str, order_id: str) -> None:
        """Drop the unmatched rest of a bet (cancelled, lapsed, rejected)."""
        m = self._markets.get(market)
        if m is not None:
            m.working.pop(order_id, None)

    def settle(self, market: str) -> None:
        """Forget a settled market (its liability is gone)."""
        self._markets.pop(market, None)

    def tracks(self, market: str, order_id: str) -> bool:
        """Whether ``order_id`` is a working bet of ``market``."""
        m = self._markets.get(market)
        return m is not None and order_id in m.working


__all__ = ["BettingBook", "BettingConfig"]
