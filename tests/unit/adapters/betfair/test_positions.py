"""The venue's own Betfair positions: net matched stake per selection, NautilusTrader's signs."""

from __future__ import annotations

from decimal import Decimal

from betfair_parser.spec.betting.enums import Side
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.adapters.betfair import net_matched

HOME = InstrumentId.from_str("1-240000001-1096-None.BETFAIR")
DRAW = InstrumentId.from_str("1-240000001-58805-None.BETFAIR")


def test_lays_count_positive_and_backs_negative() -> None:
    net = net_matched(
        [
            (HOME, Side.BACK, Decimal(2)),
            (HOME, Side.LAY, Decimal(3)),
            (DRAW, Side.BACK, Decimal("1.5")),
            (DRAW, Side.LAY, Decimal(0)),
        ]
    )
    assert net == {HOME: Decimal(1), DRAW: Decimal("-1.5")}


def test_no_bets_no_positions() -> None:
    assert net_matched([]) == {}
