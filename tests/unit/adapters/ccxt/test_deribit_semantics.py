"""Deribit semantics in the ccxt adapter and the fake engine: USD amounts of inverse
contracts (multiplier 1), labels as client ids, and inverse margin, fees and PnL in the coin."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from ccxt.base.decimal_to_precision import TICK_SIZE
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from nautilus_ext.adapters.ccxt.parsing.instruments import parse_market
from nautilus_ext.adapters.ccxt.parsing.orders import client_id_param
from nautilus_ext_testkit.fake_exchange import EngineReject
from nautilus_ext_testkit.fake_exchange import MatchingEngine
from nautilus_ext_testkit.fake_exchange import RejectReason
from nautilus_ext_testkit.fake_exchange import Side
from nautilus_ext_testkit.fake_exchange.deribit import default_deribit_markets

D = Decimal

# ccxt's unified market for Deribit's BTC-PERPETUAL (ccxt 4.5 fetch_markets on the venue's fields)
BTC_PERPETUAL: dict[str, Any] = {
    "id": "BTC-PERPETUAL",
    "symbol": "BTC/USD:BTC",
    "base": "BTC",
    "quote": "USD",
    "settle": "BTC",
    "type": "swap",
    "linear": False,
    "inverse": True,
    "active": True,
    "contractSize": 10.0,
    "maker": 0.0,
    "taker": 0.0005,
    "precision": {"amount": 10.0, "price": 0.5},
    "limits": {"amount": {"min": 10.0, "max": None}, "price": {"min": 0.5, "max": None}, "cost": {}},
}


def test_deribit_inverse_amounts_are_usd_so_the_multiplier_is_one() -> None:
    inst = parse_market(
        BTC_PERPETUAL,
        venue="DERIBIT",
        venue_code="DERIBIT",
        precision_mode=TICK_SIZE,
        ts_init=1,
        inverse_amount_in_quote=True,
    )
    assert inst is not None
    assert inst.is_inverse
    assert inst.multiplier.as_decimal() == 1
    assert inst.size_increment.as_decimal() == 10  # one 10 USD contract
    assert inst.min_quantity.as_decimal() == 10
    assert inst.price_increment.as_decimal() == D("0.5")
    # 1,000 USD at 50,000 is 0.02 BTC (with the contract size as multiplier it would be 0.2)
    notional = inst.notional_value(Quantity.from_int(1000), Price.from_str("50000.0"))
    assert notional.as_decimal() == D("0.02")
    # without the flag ccxt's contract size is taken as the multiplier (other venues' contracts)
    other = parse_market(BTC_PERPETUAL, venue="X", venue_code="X", precision_mode=TICK_SIZE, ts_init=1)
    assert other is not None
    assert other.multiplier.as_decimal() == 10


def test_client_id_travels_as_deribit_label() -> None:
    assert client_id_param("deribit") == "label"
    assert client_id_param("bybit") == "clientOrderId"


@pytest.fixture
def engine() -> MatchingEngine:
    eng = MatchingEngine(default_deribit_markets(), clock_ms=lambda: 1_000, balances={"U": D("0.01")})
    eng.seed_book("BTC-PERPETUAL", bids=[("40000", "100000")], asks=[("50000", "100000")])
    return eng


def test_inverse_margin_fees_and_pnl_are_in_the_coin(engine: MatchingEngine) -> None:
    # 1,000 USD at 50,000 = 0.02 BTC notional; at leverage 10 that needs 0.002 BTC margin
    order = engine.submit("U", "BTC-PERPETUAL", Side.BUY, "market", D(1000))
    fill = engine.account_fills("U")[-1]
    assert order.filled == D(1000)
    assert fill.fee == D("0.02") * D("0.0005")  # taker fee on the coin value
    pos = engine.position("U", "BTC-PERPETUAL")
    assert pos.qty == D(1000)
    assert pos.avg_price == D(50000)
    # close at 40,000: a long inverse loses 1000 * (1/50000 - 1/40000) = -0.005 BTC
    engine.submit("U", "BTC-PERPETUAL", Side.SELL, "market", D(1000), reduce_only=True)
    assert pos.qty == 0
    assert pos.realized_pnl == D(1000) * (1 / D(50000) - 1 / D(40000))
    fees = [f.fee for f in engine.account_fills("U")]
    assert fees[1] == D(1000) / D(40000) * D("0.0005")
    assert engine.balances["U"] == D("0.01") - sum(fees, D(0)) + pos.realized_pnl


def test_inverse_entry_price_is_harmonic(engine: MatchingEngine) -> None:
    engine.seed_book("BTC-PERPETUAL", bids=[], asks=[("60000", "100000")])
    engine.submit("U", "BTC-PERPETUAL", Side.BUY, "limit", D(1000), price=D(50000))
    engine.submit("U", "BTC-PERPETUAL", Side.BUY, "limit", D(100_000), price=D(60000), check_margin=False)
    # the first 1,000 USD fill at 50,000; the rest sweeps 99,000 more at 50,000 then 60,000
    pos = engine.position("U", "BTC-PERPETUAL")
    fills = engine.account_fills("U")
    coins = sum((f.qty / f.price for f in fills), D(0))
    assert pos.avg_price == pos.qty / coins


def test_inverse_margin_check_refuses_beyond_the_coin_balance(engine: MatchingEngine) -> None:
    # 0.01 BTC at leverage 10 carries 0.1 BTC notional = 5,000 USD at 50,000
    with pytest.raises(EngineReject) as refused:
        engine.submit("U", "BTC-PERPETUAL", Side.BUY, "limit", D(6000), price=D(50000))
    assert refused.value.reason is RejectReason.INSUFFICIENT_BALANCE
    assert engine.submit("U", "BTC-PERPETUAL", Side.BUY, "limit", D(4000), price=D(50000)).filled == D(4000)
