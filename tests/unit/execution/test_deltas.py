"""Position deltas of fills, on the venue and instrument that filled."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_ext.adapters.symbology import build_instrument
from nautilus_ext.execution.deltas import Settlement
from nautilus_ext.execution.deltas import fill_deltas
from nautilus_ext.execution.deltas import position_spec
from nautilus_ext.instruments.registry import InstrumentRegistry

D = Decimal
REGISTRY = InstrumentRegistry.default()
MATCH = "FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL"


def _spec(key: str, selection: str | None = None):  # type: ignore[no-untyped-def]
    inst = build_instrument(REGISTRY.get(key), REGISTRY, selection=selection)
    return position_spec(inst, REGISTRY)


def test_a_spot_fill_moves_the_base_and_quote_assets_of_its_own_venue() -> None:
    spec = _spec("BYBIT:SPOT_PAIR:BTC-USDT")
    assert spec.settlement is Settlement.EXCHANGE
    buy = fill_deltas(
        spec, buy=True, quantity=D("0.5"), price=D("60000"), fee=D("0.0005"), fee_currency="BTC"
    )
    assert buy == {"BYBIT:SPOT_ASSET:BTC": D("0.4995"), "BYBIT:SPOT_ASSET:USDT": D("-30000")}
    sell = fill_deltas(spec, buy=False, quantity=D("0.5"), price=D("60000"), fee=D("15"), fee_currency="USDT")
    assert sell == {"BYBIT:SPOT_ASSET:BTC": D("-0.5"), "BYBIT:SPOT_ASSET:USDT": D("29985")}


def test_a_perpetual_fill_moves_the_position_and_pays_the_fee_only() -> None:
    spec = _spec("BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN")
    assert spec.settlement is Settlement.MARGIN
    deltas = fill_deltas(
        spec, buy=False, quantity=D("0.1"), price=D("60000"), fee=D("3"), fee_currency="USDT"
    )
    assert deltas == {
        "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN": D("-0.1"),
        "BINANCE-FUTURES:SPOT_ASSET:USDT": D("-3"),
    }


def test_a_maker_rebate_adds_to_the_asset() -> None:
    spec = _spec("BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN")
    deltas = fill_deltas(spec, buy=True, quantity=D("1"), price=D("1"), fee=D("-0.5"), fee_currency="USDT")
    assert deltas["BINANCE-FUTURES:SPOT_ASSET:USDT"] == D("0.5")


def test_an_option_fill_pays_its_premium_times_the_multiplier() -> None:
    spec = _spec("CME:OPTION:SP500-USD-240621-5000-CALL@LIN")
    assert spec.settlement is Settlement.PREMIUM
    assert spec.multiplier == D("50")
    deltas = fill_deltas(spec, buy=True, quantity=D("2"), price=D("10.5"), fee=D("0"), fee_currency="USD")
    assert deltas == {"CME:OPTION:SP500-USD-240621-5000-CALL@LIN": D("2"), "CME:SPOT_ASSET:USD": D("-1050.0")}


@pytest.mark.parametrize(("nautilus_buy", "stake"), [(False, D("10")), (True, D("-10"))])
def test_a_bet_is_long_its_selection_when_backed(nautilus_buy: bool, stake: Decimal) -> None:
    # NautilusTrader's BACK is a SELL, its LAY a BUY
    spec = _spec(MATCH, selection="HOME")
    assert spec.settlement is Settlement.BET
    deltas = fill_deltas(
        spec, buy=nautilus_buy, quantity=D("10"), price=D("2.5"), fee=D("0"), fee_currency="GBP"
    )
    assert deltas == {f"{MATCH}|HOME": stake}
