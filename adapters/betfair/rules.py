"""
Betfair's exchange rules as pure pre-trade checks (each returns a reason, or ``None``).

- **Price ladder**: odds must sit on Betfair's CLASSIC ladder, 1.01 to 1000 with increments
  that widen with the odds (0.01 up to 2, 0.02 up to 3, ... 10 up to 1000).
- **Minimum stake** (``min_stake``, GBP 1 by default) with Betfair's **min-bet-payout** rule: a
  smaller stake is accepted when its potential payout (stake x odds) reaches ``min_bet_payout``
  (GBP 10 by default).
- **Persistence type**: ``LAPSE``, ``PERSIST`` (only where the market allows persistence) or
  ``MARKET_ON_CLOSE`` (only in starting-price markets).
- **Transactions per hour**: Betfair charges accounts that place more than their allowance of
  transactions in an hour (5,000 by default); :class:`TransactionAllowance` counts them in a
  rolling hour so an order that would pass the allowance is refused before the charge applies.

All money is ``Decimal`` in the account currency.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Final

LADDER: Final = (
    (Decimal(2), Decimal("0.01")),
    (Decimal(3), Decimal("0.02")),
    (Decimal(4), Decimal("0.05")),
    (Decimal(6), Decimal("0.1")),
    (Decimal(10), Decimal("0.2")),
    (Decimal(20), Decimal("0.5")),
    (Decimal(30), Decimal(1)),
    (Decimal(50), Decimal(2)),
    (Decimal(100), Decimal(5)),
    (Decimal(1000), Decimal(10)),
)
"""Betfair's CLASSIC price ladder: (up to these odds, the increment)."""
MIN_ODDS: Final = Decimal("1.01")
MAX_ODDS: Final = Decimal(1000)
PERSISTENCE_TYPES: Final = frozenset({"LAPSE", "PERSIST", "MARKET_ON_CLOSE"})
DEFAULT_TRANSACTIONS_PER_HOUR: Final = 5000
_HOUR_NS: Final = 3_600_000_000_000


def tick_below(odds: Decimal) -> Decimal:
    """Return the ladder increment that applies at ``odds`` (the step up from it)."""
    for upper, tick in LADDER:
        if odds < upper:
            return tick
    return LADDER[-1][1]


def price_problem(odds: Decimal) -> str | None:
    """Return why ``odds`` is not a valid Betfair price, or ``None``."""
    if not MIN_ODDS <= odds <= MAX_ODDS:
        return f"odds {odds} outside Betfair's ladder ({MIN_ODDS} to {MAX_ODDS})"
    lower = Decimal(1)
    for upper, tick in LADDER:
        if odds <= upper:
            if (odds - lower) % tick != 0:
                below = odds - (odds - lower) % tick
                return (
                    f"odds {odds} are not on Betfair's price ladder (increment {tick} between {lower} "
                    f"and {upper}: nearest {below} or {below + tick})"
                )
            return None
        lower = upper
    return None  # pragma: no cover - the range check above covers it


def stake_problem(
    stake: Decimal, odds: Decimal, min_stake: Decimal = Decimal(1), min_bet_payout: Decimal = Decimal(10)
) -> str | None:
    """Return why ``stake`` at ``odds`` is below Betfair's minimum, or ``None``."""
    if stake >= min_stake:
        return None
    payout = stake * odds
    if payout >= min_bet_payout:
        return None  # the min-bet-payout rule
    return (
        f"stake {stake} is below the minimum {min_stake} and its payout {payout} is below the "
        f"minimum bet payout {min_bet_payout}"
    )


def persistence_problem(
    persistence: str, *, persistence_enabled: bool = True, bsp_market: bool = False
) -> str | None:
    """Return why ``persistence`` is not allowed in the market, or ``None``."""
    if persistence not in PERSISTENCE_TYPES:
        return f"persistence type {persistence!r} is not one of {', '.join(sorted(PERSISTENCE_TYPES))}"
    if persistence == "PERSIST" and not persistence_enabled:
        return "persistence type PERSIST: this market does not allow bets to persist in play"
    if persistence == "MARKET_ON_CLOSE" and not bsp_market:
        return "persistence type MARKET_ON_CLOSE needs a starting-price (BSP) market"
    return None


class TransactionAllowance:
    """
    Count transactions (bets placed) in a rolling hour against Betfair's allowance.

    Parameters
    ----------
    per_hour : int, default 5000
        The allowance.
    """

    def __init__(self, per_hour: int = DEFAULT_TRANSACTIONS_PER_HOUR) -> None:
        if per_hour <= 0:
            raise ValueError(f"transactions per hour must be positive, got {per_hour}")
        self.per_hour = per_hour
        self._times: deque[int] = deque()

    def _expire(self, now_ns: int) -> None:
        while self._times and self._times[0] <= now_ns - _HOUR_NS:
            self._times.popleft()

    def used(self, now_ns: int) -> int:
        """Return the transactions counted in the hour before ``now_ns``."""
        self._expire(now_ns)
        return len(self._times)

    def problem(self, now_ns: int, count: int = 1) -> str | None:
        """Return why ``count`` more transactions would pass the allowance, or ``None``."""
        used = self.used(now_ns)
        if used + count > self.per_hour:
            retry = (self._times[0] + _HOUR_NS) if self._times else now_ns
            return (
                f"{used} transactions in the last hour: {count} more would pass Betfair's allowance "
                f"of {self.per_hour} per hour (next slot at {retry} ns)"
            )
        return None

    def record(self, now_ns: int, count: int = 1) -> None:
        """Count ``count`` transactions at ``now_ns``."""
        self._expire(now_ns)
        self._times.extend([now_ns] * count)


__all__ = [
    "DEFAULT_TRANSACTIONS_PER_HOUR",
    "LADDER",
    "MAX_ODDS",
    "MIN_ODDS",
    "PERSISTENCE_TYPES",
    "TransactionAllowance",
    "persistence_problem",
    "price_problem",
    "stake_problem",
    "tick_below",
]
