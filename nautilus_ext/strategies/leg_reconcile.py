"""
Reconcile a strategy's expected per-instrument positions with the node's (venue-reconciled) ones.

Shared by strategies that rebuild their legs from the store on start (perp spread; the funding
carry strategy has the same check inline): any instrument whose expectation and the node's open
position differ by a lot or more is a mismatch, named so an operator can settle it.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from nautilus_trader.model.enums import PositionSide
from nautilus_trader.model.identifiers import InstrumentId

_TINY = Decimal("1e-12")


def node_position(cache: Any, instrument_id: str) -> Decimal:
    """Return the signed quantity of the node's open positions on ``instrument_id`` (long > 0)."""
    total = Decimal(0)
    for pos in cache.positions_open(instrument_id=InstrumentId.from_str(instrument_id)):
        qty = pos.quantity.as_decimal()
        total += qty if pos.side == PositionSide.LONG else -qty
    return total


def leg_mismatches(cache: Any, expected: Mapping[str, Decimal], instrument_ids: Iterable[str]) -> list[str]:
    """
    Return one message per instrument whose node position differs from ``expected`` by a lot.

    ``expected`` maps Nautilus instrument ids to signed quantities; every id of ``instrument_ids``
    is checked too (expecting zero when absent), so a position opened by hand while the node was
    down is found.
    """
    problems = []
    for text in sorted(set(expected) | set(instrument_ids)):
        inst = cache.instrument(InstrumentId.from_str(text))
        lot = inst.size_increment.as_decimal() if inst is not None else Decimal(0)
        actual = node_position(cache, text)
        want = expected.get(text, Decimal(0))
        if abs(actual - want) >= max(lot, _TINY):
            problems.append(f"{text}: store expects {want}, the venue holds {actual}")
    return problems


__all__ = ["leg_mismatches", "node_position"]
