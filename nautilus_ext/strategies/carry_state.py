"""
The funding carry strategy's position state: two legs, a phase, and the JSON stored for them.

A :class:`CarryPosition` mirrors one ``strategy_positions`` row; its legs (instrument keys,
signed quantities, entry prices), phase and current group are the ``strategy_state`` entry
``position:<id>`` (:meth:`CarryPosition.state`), from which a restart rebuilds it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(slots=True)
class CarryLeg:
    """One leg of a carry position (``signed`` quantity: long > 0)."""

    instrument_id: str
    instrument_key: str
    signed: Decimal
    entry_price: Decimal | None = None


@dataclass(slots=True)
class CarryPosition:
    """A carry position as the strategy tracks it (mirrors its store row and state)."""

    id: uuid.UUID
    base: str
    long: CarryLeg
    short: CarryLeg
    opened_ns: int
    phase: str  # OPENING, OPEN, CLOSING
    group_id: str
    notional: Decimal
    funding: Decimal = Decimal(0)

    def legs(self) -> tuple[CarryLeg, CarryLeg]:
        """Return the long and the short leg."""
        return self.long, self.short

    def state(self) -> dict[str, Any]:
        """Return the JSON state stored under ``position:<id>``."""
        return {
            "base": self.base,
            "phase": self.phase,
            "group_id": self.group_id,
            "opened_ns": self.opened_ns,
            "notional": str(self.notional),
            "legs": [
                {
                    "instrument_id": leg.instrument_id,
                    "instrument_key": leg.instrument_key,
                    "signed": str(leg.signed),
                    "entry_price": None if leg.entry_price is None else str(leg.entry_price),
                }
                for leg in self.legs()
            ],
        }

    @classmethod
    def from_state(cls, position_id: uuid.UUID, state: Mapping[str, Any], funding: Decimal) -> CarryPosition:
        """Rebuild a position from its stored state."""
        legs = [
            CarryLeg(
                instrument_id=leg["instrument_id"],
                instrument_key=leg["instrument_key"],
                signed=Decimal(leg["signed"]),
                entry_price=None if leg["entry_price"] is None else Decimal(leg["entry_price"]),
            )
            for leg in state["legs"]
        ]
        return cls(
            id=position_id,
            base=state["base"],
            long=legs[0],
            short=legs[1],
            opened_ns=int(state["opened_ns"]),
            phase=state["phase"],
            group_id=state["group_id"],
            notional=Decimal(state["notional"]),
            funding=funding,
        )


__all__ = ["CarryLeg", "CarryPosition"]
