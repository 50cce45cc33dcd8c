"""
Leg guard: notice a hedged leg the venue reduced behind the strategy's back (pure, no I/O).

A multi-leg strategy (funding carry, perp/perp spread) holds legs it expects to see at each
venue. Two things tell it a leg shrank without one of its own fills (seed 004's risk table):

- the venue says so: an auto-deleveraging or liquidation message
  (:class:`~nautilus_ext.messages.ForcedReduction`, published by the adapter): acted on at once;
- the venue's position shrinks: a :class:`~nautilus_ext.messages.VenuePositionSnapshot` smaller
  in magnitude than the leg by at least a lot, on an instrument with nothing of ours in flight,
  for ``confirm_ns`` (snapshots lag fills): classified from a venue message seen for that
  instrument within ``message_window_ns``, else ``MANUAL`` (someone closed it by hand).

:class:`LegGuard` reports each reduction once per instrument (until :meth:`LegGuard.reset`);
:func:`unwind_plan` says what closes every leg of the affected position, from the best known
venue quantities. The strategy decides the response (see
:class:`~nautilus_ext.strategies.emergency.EmergencyDesk`).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from collections.abc import Set
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Final

_ZERO: Final = Decimal(0)


@unique
class ReductionKind(StrEnum):
    """Why a leg shrank without one of the strategy's fills."""

    ADL = "ADL"  # the venue auto-deleveraged the position against a bankrupt counterparty
    LIQUIDATION = "LIQUIDATION"  # the venue liquidated the position
    MANUAL = "MANUAL"  # no venue message explains it: changed by hand (or a message was lost)


@dataclass(frozen=True, slots=True)
class LegReduction:
    """
    One leg found smaller than the strategy holds.

    ``expected`` is the strategy's signed quantity, ``observed`` the venue's (after the
    reduction); ``source`` is ``"venue_message"`` or ``"position_snapshot"``.
    """

    instrument_id: str
    kind: ReductionKind
    expected: Decimal
    observed: Decimal
    ts_ns: int
    source: str

    @property
    def lost(self) -> Decimal:
        """Return the signed quantity the venue took away (``expected - observed``)."""
        return self.expected - self.observed

    def describe(self) -> str:
        """Return a one-line account of the reduction (for logs, alerts and the audit log)."""
        return (
            f"{self.kind.value} on {self.instrument_id}: held {self.expected}, the venue now "
            f"holds {self.observed} (seen in the {self.source.replace('_', ' ')})"
        )


def shrank(expected: Decimal, observed: Decimal, lot: Decimal) -> bool:
    """
    Return whether ``observed`` is ``expected`` reduced by at least ``lot`` toward zero.

    A flip through zero counts (more than the whole leg went); growth does not (not a reduction).
    """
    if expected == 0:
        return False
    if (observed > 0) != (expected > 0) and observed != 0:
        return True
    return abs(expected) - abs(observed) >= max(lot, Decimal("1e-12"))


class LegGuard:
    """
    Detect legs reduced by the venue (see the module docstring).

    Parameters
    ----------
    lot_of : Callable[[str], Decimal]
        The lot (size increment) of an instrument id; a difference below it is noise.
    confirm_ns : int
        How long a snapshot shrink must persist before it counts (snapshots lag fills).
    message_window_ns : int
        How long a venue message classifies later snapshot shrinks of its instrument.
    """

    def __init__(self, lot_of: Callable[[str], Decimal], *, confirm_ns: int, message_window_ns: int) -> None:
        if confirm_ns < 0 or message_window_ns < 0:
            raise ValueError("confirm_ns and message_window_ns must be >= 0")
        self._lot_of = lot_of
        self._confirm_ns = confirm_ns
        self._window_ns = message_window_ns
        self._messages: dict[str, tuple[ReductionKind, int]] = {}
        self._shrink_since: dict[str, int] = {}
        self._tripped: set[str] = set()

    @property
    def tripped(self) -> frozenset[str]:
        """Return the instruments already reported (and not reset)."""
        return frozenset(self._tripped)

    def reset(self, instrument_id: str) -> None:
        """Watch ``instrument_id`` afresh (after its legs were rebuilt or closed)."""
        self._tripped.discard(instrument_id)
        self._shrink_since.pop(instrument_id, None)
        self._messages.pop(instrument_id, None)

    def on_venue_message(
        self,
        instrument_id: str,
        kind: ReductionKind,
        quantity: Decimal,
        expected: Decimal,
        ts_ns: int,
    ) -> LegReduction | None:
        """
        Record the venue's ADL or liquidation of ``quantity`` on ``instrument_id``.

        Return the reduction when the strategy holds that instrument (``expected`` non-zero) and
        it was not reported yet; the observed quantity is the leg less ``quantity`` (the whole
        leg when the message gave no quantity).
        """
        self._messages[instrument_id] = (kind, ts_ns)
        if expected == 0 or instrument_id in self._tripped:
            return None
        taken = abs(expected) if quantity <= 0 else min(abs(quantity), abs(expected))
        observed = expected - taken if expected > 0 else expected + taken
        self._tripped.add(instrument_id)
        return LegReduction(instrument_id, kind, expected, observed, ts_ns, "venue_message")

    def on_venue_positions(
        self,
        observed: Mapping[str, Decimal],
        expected: Mapping[str, Decimal],
        busy: Set[str],
        now_ns: int,
    ) -> list[LegReduction]:
        """
        Compare a venue snapshot with the held legs; return the newly confirmed reductions.

        ``observed`` holds the venue's signed positions (instruments it does not list are
        skipped), ``expected`` the strategy's, ``busy`` the instruments with orders of the
        strategy in flight (their snapshots are not trusted until the orders end).
        """
        found: list[LegReduction] = []
        for instrument_id, held in sorted(expected.items()):
            if instrument_id in self._tripped or instrument_id not in observed:
                continue
            venue_qty = observed[instrument_id]
            if instrument_id in busy or not shrank(held, venue_qty, self._lot_of(instrument_id)):
                self._shrink_since.pop(instrument_id, None)
                continue
            since = self._shrink_since.setdefault(instrument_id, now_ns)
            message = self._messages.get(instrument_id)
            explained = message is not None and now_ns - message[1] <= self._window_ns
            if not explained and now_ns - since < self._confirm_ns:
                continue
            kind = message[0] if explained and message is not None else ReductionKind.MANUAL
            self._tripped.add(instrument_id)
            found.append(LegReduction(instrument_id, kind, held, venue_qty, now_ns, "position_snapshot"))
        return found


def unwind_plan(
    legs: Sequence[tuple[str, Decimal]],
    venue: Mapping[str, Decimal],
    lot_of: Callable[[str], Decimal],
) -> list[tuple[str, str, Decimal]]:
    """
    Return ``(instrument_id, side, quantity)`` orders that close every leg of a position.

    ``legs`` are the position's ``(instrument_id, signed quantity held)``; ``venue`` the best
    known venue quantities (after a reduction), which win over the held ones. Quantities are
    rounded down to the lot; a remainder below one lot is left (it cannot be traded).
    """
    orders: list[tuple[str, str, Decimal]] = []
    for instrument_id, held in legs:
        qty = venue.get(instrument_id, held)
        lot = lot_of(instrument_id)
        size = abs(qty) if lot <= 0 else (abs(qty) // lot) * lot
        if size > 0:
            orders.append((instrument_id, "SELL" if qty > 0 else "BUY", size))
    return orders


__all__ = ["LegGuard", "LegReduction", "ReductionKind", "shrank", "unwind_plan"]
