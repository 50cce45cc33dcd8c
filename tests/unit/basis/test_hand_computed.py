"""Hand-computed expectations on fixed generated data (no stress window unless stated)."""

from __future__ import annotations

import decimal
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from nautilus_ext.basis.generator import generate
from nautilus_ext.basis.ledger import CONTEXT
from nautilus_ext.basis.outputs import write_results
from nautilus_ext.onchain.calculators.ray_math import ray_div
from nautilus_ext.onchain.calculators.ray_math import ray_mul
from tests.unit.basis.conftest import RunMode


def _rows(tables: dict, name: str, **match: str) -> list[dict]:
    rows = [r for r in tables[name] if all(r[k] == v for k, v in match.items())]
    return sorted(rows, key=lambda r: r["ts"])


def test_pure_lending_over_30_days_is_the_index_ratio(run_mode: RunMode, calm_tables: dict) -> None:
    result = run_mode("pure_lending", "usdt_stable", calm_tables)
    aave = _rows(calm_tables, "aave", reserve="USDT")
    i0, i1 = int(aave[0]["liquidity_index"]), int(aave[-1]["liquidity_index"])
    capital_units = 100000 * 10**6
    expected_units = ray_mul(ray_div(capital_units, i0), i1)  # aToken mint and balanceOf, as on chain
    lg = result.engine.ledger
    assert lg is not None
    assert lg.qty("aave.aUSDT") == Decimal(expected_units).scaleb(-6)
    # within one base unit of capital x index ratio
    assert abs(lg.qty("aave.aUSDT") - Decimal(100000) * Decimal(i1) / Decimal(i0)) <= Decimal("0.000001")
    # the only other line is the ETH gas debt of the one supply transaction
    gas_eth = Decimal(result.summary["gas_spent_eth"])
    assert lg.qty("wallet.ETH") == -gas_eth
    eth_end = _rows(calm_tables, "spot", asset="ETH")[-1]["price"]
    with decimal.localcontext(CONTEXT):
        assert (
            result.engine.hourly[-1]["equity_usd"] == Decimal(expected_units).scaleb(-6) - gas_eth * eth_end
        )
    assert result.summary["rebalances"]["total"] == 0


def test_eth_leveraged_atomic_and_sequential_differ_by_gas_only(run_mode: RunMode, calm_tables: dict) -> None:
    tiny = {"leverage.min_step_eth": "0.0001"}  # the loop runs until it borrows almost all of F
    atomic = run_mode(
        "eth_leveraged", "eth_directional", calm_tables, {**tiny, "leverage.execution": "atomic"}
    )
    seq = run_mode(
        "eth_leveraged", "eth_directional", calm_tables, {**tiny, "leverage.execution": "sequential"}
    )
    a_rows, s_rows = atomic.engine.hourly, seq.engine.hourly
    # the entry: one bundle (7 events) against ~2 transactions per iteration
    a_entry = [e for e in atomic.engine.events if e.timestamp == a_rows[0]["timestamp"]]
    s_entry = [e for e in seq.engine.events if e.timestamp == s_rows[0]["timestamp"]]
    assert [e.event for e in a_entry[1:]] == [
        "ATOMIC_TRANSACTION",
        "FLASH_BORROW",
        "STAKE_DEPOSIT",
        "COLLATERAL_SUPPLIED",
        "LOAN_CREATED",
        "FLASH_REPAID",
        "GAS_FEE_PAID",
    ]
    iterations = {e.iteration for e in s_entry if e.iteration is not None}
    transactions = sum(1 for e in s_entry if e.event == "GAS_FEE_PAID")
    assert len(iterations) > 20
    assert transactions == 2 * len(iterations) - 1
    gwei = _rows(calm_tables, "gas")[0]["gas_price_gwei"]
    gas = atomic.config.mode.gas
    expected_gas_gap = (transactions * gas.per_transaction - gas.atomic_entry) * gwei * Decimal("1e-9")
    assert a_rows[0]["gas_eth"] - s_rows[0]["gas_eth"] == expected_gas_gap
    # after the entry, every hour's yield matches to 1e-5 (the loop leaves < 4e-4 of ~400 ETH unborrowed)
    for a, s in zip(a_rows[1:], s_rows[1:], strict=True):
        for k in ("staking_yield_eth", "lending_eth", "borrow_cost_eth", "rewards_eth"):
            assert abs(a[k] - s[k]) <= abs(a[k]) * Decimal("1e-5") + Decimal("1e-12"), k
    final_gap = a_rows[-1]["equity_eth"] - s_rows[-1]["equity_eth"]
    gas_gap = Decimal(seq.summary["gas_spent_eth"]) - Decimal(atomic.summary["gas_spent_eth"])
    assert abs(final_gap - gas_gap) < Decimal("0.0001")
    assert (
        atomic.summary["worst_health_factor"] == seq.summary["worst_health_factor"]
        or abs(atomic.summary["worst_health_factor"] - seq.summary["worst_health_factor"]) < 1e-6
    )


def test_btc_basis_funding_is_minus_position_times_mark_times_rate(
    run_mode: RunMode, calm_tables: dict
) -> None:
    result = run_mode("btc_basis", "usdt_stable", calm_tables)
    engine = result.engine
    expected = Decimal(0)
    for leg in engine.legs:
        short = -engine.ledger.qty(f"{leg.venue}.perp") if engine.ledger else Decimal(0)
        for r in _rows(calm_tables, "perp", venue=leg.venue, asset="BTC")[1:]:
            if r["funding_rate"] is not None:
                expected += (short * r["mark_price"] * r["funding_rate"]).quantize(
                    Decimal("1e-8"), rounding=decimal.ROUND_HALF_EVEN
                )
    assert result.summary["rebalances"]["total"] == 0  # shorts never changed: one size throughout
    assert Decimal(result.summary["pnl_components"]["funding"]) == expected
    payments = [e for e in engine.events if e.event == "FUNDING_PAYMENT"]
    assert payments
    assert all(e.timestamp.hour % 8 == 0 for e in payments)


def test_usdt_market_neutral_entry_flow(run_mode: RunMode, calm_tables: dict) -> None:
    result = run_mode("usdt_market_neutral", "usdt_stable", calm_tables)
    engine = result.engine
    t0 = engine.hourly[0]["timestamp"]
    entry = [e for e in engine.events if e.timestamp == t0]
    kinds = [e.event for e in entry]
    # fund all CEXs, then spot + every short, then ETH to the wallet, then the loop
    last_transfer = max(i for i, e in enumerate(entry) if e.event == "TRANSFER" and e.asset == "USDT")
    shorts = [i for i, e in enumerate(entry) if e.event == "HEDGE_OPEN"]
    assert len(shorts) == 3
    assert min(shorts) > last_transfer
    assert kinds.index("SPOT_TRADE") < min(shorts)
    assert kinds.index("ATOMIC_TRANSACTION") > max(shorts)
    row = engine.hourly[0]
    # neutral at entry but for the ETH gas debt of the entry (decision 12) and the lot size
    gas_debt_eth = row["gas_usd"] / row["eth_usd"]
    assert abs(row["net_delta_eth"] - gas_debt_eth) < Decimal("0.000001")
    assert row["leverage"] > 4
    assert abs(row["ltv"] - Decimal("0.8")) < Decimal("0.0001")
    total_short = sum(-engine.ledger.qty(f"{leg.venue}.perp") for leg in engine.legs)  # type: ignore[union-attr]
    for leg in engine.legs[:-1]:  # whole lots of each venue's perpetual, by allocation
        short = -engine.ledger.qty(f"{leg.venue}.perp")  # type: ignore[union-attr]
        assert short == (total_short * leg.allocation).quantize(leg.lot_size, rounding=decimal.ROUND_DOWN)
        assert short % leg.lot_size == 0
    assert {leg.venue: leg.lot_size for leg in engine.legs} == {
        "BINANCE-FUTURES": Decimal("0.001"),
        "BYBIT": Decimal("0.01"),
        "OKX": Decimal("0.001"),
    }


def test_rewards_are_discrete_payments_on_payout_hours(run_mode: RunMode, calm_tables: dict) -> None:
    result = run_mode("eth_staking_only", "eth_directional", calm_tables)
    payouts = {r["payout_ts"]: r for r in calm_tables["distributions"] if r["token"] == "EIGEN"}
    paid = [e for e in result.engine.events if e.event == "REWARD_PAYMENT"]
    assert paid
    assert all(e.timestamp in payouts for e in paid)
    lst = result.engine.ledger.qty("wallet.WEETH")  # type: ignore[union-attr]
    for e in paid:
        d = payouts[e.timestamp]
        start = max(d["period_start"], result.engine.hourly[0]["timestamp"])
        held = Decimal((d["period_end"] - start).total_seconds()) / Decimal(
            (d["period_end"] - d["period_start"]).total_seconds()
        )
        expected = (d["rate_per_lst"] * lst * held).quantize(Decimal("1e-18"), rounding=decimal.ROUND_DOWN)
        assert abs(e.amount - expected) <= Decimal("1e-15")
    rows = result.engine.hourly
    rewarded_hours = {r["timestamp"] for r in rows if r["rewards_eth"] != 0}
    assert rewarded_hours == {e.timestamp for e in paid}


def test_aave_liquidation_is_simulated_and_reported_in_red(run_mode: RunMode, tmp_path: Path) -> None:
    tables = generate(datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 31, tzinfo=UTC), seed=11, depeg=0.2)
    result = run_mode("eth_leveraged", "eth_directional", tables, {"rebalancing.enabled": "false"})
    liq = [e for e in result.engine.events if e.event == "AAVE_LIQUIDATION"]
    assert liq
    assert result.summary["liquidations"]["aave"] == len(liq)
    bonus = result.config.mode.aave.liquidation_bonus_bps
    for e in liq:
        assert e.severity == "liquidation"
        assert e.value < 0
        # the liquidator's bonus is what the position loses: repaid x (bonus - 1), ETH terms
        assert abs(-e.value - e.amount * (Decimal(bonus) / 10_000 - 1)) < Decimal("0.000001")
    assert min(r["health_factor"] for r in result.engine.hourly if r["health_factor"]) >= 1
    report = write_results(result, tmp_path / "liq").read_text(encoding="utf-8")
    assert "LIQUIDATED" in report
    assert "#d62728" in report


def test_cex_liquidation_closes_the_short_below_maintenance(run_mode: RunMode) -> None:
    tables = generate(datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 31, tzinfo=UTC), seed=11, rally=0.9)
    result = run_mode(
        "usdt_market_neutral_no_leverage", "usdt_stable", tables, {"rebalancing.enabled": "false"}
    )
    liq = [e for e in result.engine.events if e.event == "CEX_LIQUIDATION"]
    assert liq
    assert result.summary["liquidations"]["cex"] == len(liq)
    for e in liq:
        assert result.engine.ledger.qty(f"{e.venue}.perp") == 0  # type: ignore[union-attr]
