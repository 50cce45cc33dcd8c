"""The ledger's P&L attribution on a hand-sized example, and the basis package's public API."""

from __future__ import annotations

from decimal import Decimal

import pytest

import nautilus_ext.basis as basis
from nautilus_ext.basis.ledger import COMPONENTS
from nautilus_ext.basis.ledger import Ledger


def test_public_api_is_pinned() -> None:
    assert sorted(basis.__all__) == [
        "BacktestResult",
        "BasisEngine",
        "BasisEvent",
        "EffectiveConfig",
        "MODE_NAMES",
        "RunRequest",
        "Snapshot",
        "load_tables",
        "resolve",
        "run_backtest",
        "snapshots",
    ]


def test_lst_revaluation_splits_into_staking_yield_and_price() -> None:
    lg = Ledger({"eth": Decimal(3000), "rate": Decimal("1.05")})
    lg.open("lst", line="LST", side="onchain", factors=("rate", "eth"), components=("staking_yield", "price"))
    lg.open("debt", line="debt", side="onchain", factors=("one", "eth"), components=("price", "price"))
    lg.add("lst", Decimal(10), "trading")  # 10 LST = 31,500 USD
    lg.add("debt", Decimal(-5), "trading")  # 5 ETH owed = -15,000 USD
    assert lg.take_pnl()["trading"] == Decimal(16500)
    assert lg.equity() == Decimal(16500)
    lg.move_to({"eth": Decimal(3100), "rate": Decimal("1.06")})
    pnl = lg.take_pnl()
    assert pnl["staking_yield"] == Decimal(10) * Decimal("0.01") * Decimal(3100)  # q * drate * new price
    assert pnl["price"] == Decimal(10) * Decimal("1.05") * 100 - 5 * 100  # q * old rate * dprice, debt
    assert sum(pnl.values(), Decimal(0)) == lg.equity() - Decimal(16500)
    assert lg.lines() == {"LST": Decimal("32860.00"), "debt": Decimal(-15500)}


def test_quantity_changes_are_booked_at_the_current_unit_value() -> None:
    lg = Ledger({"eth": Decimal(2000)})
    lg.open("eth", line="ETH", side="onchain", factors=("one", "eth"), components=("price", "price"))
    lg.add("eth", Decimal("-0.001"), "gas")
    assert lg.take_pnl() == {**dict.fromkeys(COMPONENTS, Decimal(0)), "gas": Decimal("-2.000")}
    with pytest.raises(KeyError, match="unknown P&L component"):
        lg.add("eth", Decimal(1), "luck")
    with pytest.raises(KeyError, match="market factor"):
        lg.open("x", line="x", side="cex", factors=("one", "btc"), components=("price", "price"))


def test_engine_refuses_snapshots_out_of_order_or_off_the_hour() -> None:
    import dataclasses
    from datetime import UTC
    from datetime import datetime
    from datetime import timedelta

    from nautilus_ext.basis.backtest import run_backtest
    from nautilus_ext.basis.config import RunRequest
    from nautilus_ext.basis.config import resolve
    from nautilus_ext.basis.generator import generate
    from nautilus_ext.errors import InvalidConfig

    cfg = resolve(RunRequest("pure_lending", "usdt_stable", Decimal(1000), "2024-03-01", "2024-03-02"))
    result = run_backtest(cfg, generate(datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 2, tzinfo=UTC)))
    engine = result.engine
    last = engine.seen[-1]
    with pytest.raises(InvalidConfig, match="does not follow"):
        engine.step(last)
    with pytest.raises(InvalidConfig, match="not on the hour"):
        engine.step(dataclasses.replace(last, ts=last.ts + timedelta(minutes=90)))
