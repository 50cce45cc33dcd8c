"""Joint CEX + DEX routing: one cost in one unit, split across book walks, pools and CowSwap."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from nautilus_ext.dex import V2PoolState
from nautilus_ext.dex.errors import SwapRefused
from nautilus_ext.dex.split import Hop
from nautilus_ext.dex.split import PoolPath
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.routing.joint import CexBookLeg
from nautilus_ext.routing.joint import CowQuoteLeg
from nautilus_ext.routing.joint import route_conversion

D = Decimal
ETH = 10**18
USDT = 10**6


def _bids(depth: int = 5, step: str = "0.5") -> tuple[tuple[Decimal, Decimal], ...]:
    # 1 ETH at each ``step`` USDT down from 3000
    return tuple((D(3000) - D(step) * i, D(1)) for i in range(depth))


def _cex(fee: str = "0.001", depth: int = 5, step: str = "0.5") -> CexBookLeg:
    return CexBookLeg("BINANCE", _bids(depth, step), D(fee), sell_base=True, in_decimals=18, out_decimals=6)


def _pool(eth: int, price: int, name: str, gas: int = 0) -> PoolPath:
    return PoolPath((Hop(V2PoolState(eth * ETH, eth * price * USDT), 0, 1, name),), gas_cost=gas)


def test_a_cex_leg_walks_the_bids_and_charges_the_taker_fee_in_output_units() -> None:
    leg = _cex()
    out = leg.quote(ETH + ETH // 2)  # 1 ETH at 3000, 0.5 ETH at 2999.5
    gross = D(3000) + D("0.5") * D("2999.5")
    assert out == int(gross * D("0.999") * USDT)
    assert leg.fee(ETH + ETH // 2) == int(gross * D("0.001") * USDT)
    assert leg.marginal(ETH + ETH // 2) == pytest.approx(2999.5 * 0.999 * 1e-12)
    with pytest.raises(SwapRefused):
        leg.quote(6 * ETH)  # deeper than the book


def test_a_buy_leg_spends_the_quote_on_the_asks() -> None:
    asks = ((D(3000), D(1)), (D(3001), D(1)))
    leg = CexBookLeg("BYBIT", asks, D("0.001"), sell_base=False, in_decimals=6, out_decimals=18)
    out = leg.quote(4501 * USDT)  # 1 ETH for 3000, then 1501/3001 ETH
    assert out == int((1 + D(1501) / D(3001)) * D("0.999") * ETH)


def test_the_split_uses_the_cex_and_the_pools_and_the_breakdown_adds_up() -> None:
    # the book thins out by 5 USDT a level: past a few ETH the pools pay more
    legs = [
        _cex(depth=20, step="5"),
        _pool(1000, 3000, "uni-v2", gas=2 * USDT),
        _pool(500, 3000, "sushi", gas=2 * USDT),
    ]
    route = route_conversion(legs, 10 * ETH, Fraction(3000 * USDT, ETH))
    used = [leg for leg, a in zip(route.split.legs, route.split.amounts_in, strict=True) if a > 0]
    assert len(used) >= 2
    assert sum(route.split.amounts_in) == 10 * ETH
    for line in route.lines:
        assert line.ideal_out - line.amount_out == line.impact + line.fee  # impact is the rest
        assert line.fee > 0
    assert (
        sum(line.amount_out for line in route.lines) - sum(line.gas for line in route.lines) == route.net_out
    )
    assert "CEX:BINANCE" in route.reason
    assert "gas" in route.reason
    assert "all-in cost" in route.reason


def test_a_cheaper_venue_takes_the_whole_order_when_splitting_only_adds_cost() -> None:
    legs = [_cex(fee="0.0001", depth=50), _pool(50, 2990, "thin", gas=5 * USDT)]
    route = route_conversion(legs, ETH, Fraction(3000 * USDT, ETH))
    assert route.split.amounts_in == (ETH, 0)


def test_cowswap_is_priced_at_its_quote_with_its_fee_as_a_fixed_cost() -> None:
    cow = CowQuoteLeg(sell_amount=10 * ETH, buy_amount=29_940 * USDT, fee_amount=ETH // 100)
    assert cow.fixed_cost == int(Fraction(ETH // 100) * Fraction(29_940 * USDT, 10 * ETH - ETH // 100))
    with pytest.raises(SwapRefused):
        cow.quote(11 * ETH)  # beyond the quoted size
    route = route_conversion([cow, _cex(depth=3)], 5 * ETH, Fraction(3000 * USDT, ETH))
    assert route.split.amounts_in[0] > 0
    with pytest.raises(InvalidOrder):
        CowQuoteLeg(sell_amount=10, buy_amount=10, fee_amount=10)


def test_bad_requests_are_typed_errors() -> None:
    with pytest.raises(InvalidOrder):
        route_conversion([_cex()], ETH, Fraction(0))
    with pytest.raises(SwapRefused):
        route_conversion([_cex(depth=2)], 5 * ETH, Fraction(3000 * USDT, ETH))
