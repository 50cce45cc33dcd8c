"""
The operator's emergency flatten (seed 004, "manual trading interface: emergency hedging").

:func:`flatten_commands` builds, for every open Nautilus position of a strategy, a reduce-only
market ``SubmitOrder`` for its whole quantity on the opposite side. The chokepoint sends them
through its own door (:meth:`~nautilus_ext.safety.chokepoint.GateChokepoint.flatten`), so the
gate judges each like any order: SAFE mode and kills let them pass because they only reduce; in
LIVE the operator's flatten command is the human confirmation of exactly these intents (their
hashes), and an arm is still required.
"""

from __future__ import annotations

import itertools
from typing import Final

from nautilus_trader.cache.cache import Cache
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import PositionSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.orders import MarketOrder

FLATTEN_TAG: Final = "OPERATOR_FLATTEN"
_SEQ = itertools.count(1)


def flatten_commands(cache: Cache, strategy_id: str, ts_ns: int) -> list[tuple[str, SubmitOrder]]:
    """Return a closing ``SubmitOrder`` per open position of ``strategy_id``, by name."""
    commands: list[tuple[str, SubmitOrder]] = []
    for position in sorted(cache.positions_open(), key=lambda p: p.id.value):
        if position.strategy_id.value != strategy_id or position.side == PositionSide.FLAT:
            continue
        order = MarketOrder(
            trader_id=position.trader_id,
            strategy_id=position.strategy_id,
            instrument_id=position.instrument_id,
            client_order_id=ClientOrderId(f"O-FLATTEN-{ts_ns}-{next(_SEQ)}"),
            order_side=OrderSide.SELL if position.side == PositionSide.LONG else OrderSide.BUY,
            quantity=position.quantity,
            init_id=UUID4(),
            ts_init=ts_ns,
            time_in_force=TimeInForce.IOC,
            reduce_only=True,
            tags=[FLATTEN_TAG],
        )
        command = SubmitOrder(
            trader_id=position.trader_id,
            strategy_id=position.strategy_id,
            order=order,
            command_id=UUID4(),
            ts_init=ts_ns,
            position_id=position.id,
        )
        where = f"position {position.id} {position.instrument_id} {position.side.name} {position.quantity}"
        commands.append((where, command))
    return commands


__all__ = ["FLATTEN_TAG", "flatten_commands"]
