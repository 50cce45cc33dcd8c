"""
The risk half of the basis engine: simulated liquidations and the rebalancing triggers.

Liquidations (decision 38, issue 17): an AAVE position below health factor 1 is liquidated
with the close factor (all of it below ``full_close_below_hf``) and the liquidation bonus; a
CEX account below the venue's maintenance margin has its short closed at the mark with the
venue's liquidation fee. Triggers (Rebalancing Specification, decision 30): margin ratio below
the urgent threshold -> margin support (atomic deleverage, ETH to the CEX, sell, reduce shorts,
top up margin); delta drift above the threshold -> hedge adjustment; health factor below the
threshold -> emergency deleverage to the target LTV (perps untouched). Each action writes its
events and its cost (the equity change) on the trigger event.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import TYPE_CHECKING

from nautilus_ext.basis.data import to_ns
from nautilus_ext.basis.ledger import ONE
from nautilus_ext.basis.ledger import ZERO
from nautilus_ext.basis.model import CEX_UNIT
from nautilus_ext.basis.model import LOT
from nautilus_ext.basis.model import WEI
from nautilus_ext.basis.model import HedgeLeg
from nautilus_ext.basis.model import down
from nautilus_ext.basis.model import from_units
from nautilus_ext.basis.model import to_wei
from nautilus_ext.onchain.calculators.aave import HEALTH_FACTOR_LIQUIDATION_THRESHOLD
from nautilus_ext.onchain.calculators.events import BundleStepEvent
from nautilus_ext.onchain.calculators.events import OnchainEventType
from nautilus_ext.onchain.calculators.events import atomic_bundle_events

if TYPE_CHECKING:
    from nautilus_ext.basis.engine import BasisEngine


def liquidations(engine: BasisEngine) -> None:
    aave_liquidation(engine)
    for leg in engine.legs:
        ratio = engine.margin_ratio(leg)
        if ratio is not None and ratio < leg.maintenance_margin:
            cex_liquidation(engine, leg, ratio)


def aave_liquidation(engine: BasisEngine) -> None:
    aave = engine.mode.aave
    for _ in range(10):
        _coll, debt, hf = engine._account()
        if debt == 0 or hf >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
            return
        before = engine._lg.equity()
        factor = ONE if from_units(hf) < aave.full_close_below_hf else aave.close_factor
        repay = int(Decimal(debt) * factor)
        seize_eth = repay * aave.liquidation_bonus_bps // 10_000
        rate = engine._s.oracle[engine.lst]
        seize_lst = min(to_wei(from_units(seize_eth) / rate), to_wei(engine._aave_balances(engine.lst)[0]))
        engine._repay_weth(repay)
        engine._withdraw(engine.lst, seize_lst)
        engine._sync_aave("liquidation", "liquidation")
        engine.counters.aave_liquidations += 1
        engine._event(
            "AAVE_LIQUIDATION",
            aave.venue,
            "WETH",
            from_units(repay),
            value=engine._lg.equity() - before,
            severity="liquidation",
            note=(
                f"HF {from_units(hf):.4f}: liquidator repaid {from_units(repay)} WETH, "
                f"seized {from_units(seize_lst)} {engine.lst}"
            ),
        )
        engine._note_lst()


def cex_liquidation(engine: BasisEngine, leg: HedgeLeg, ratio: Decimal) -> None:
    lg = engine._lg
    v = leg.venue
    q = lg.qty(f"{v}.perp")
    mark = engine._s.perp_mark[(v, engine.asset)]
    pnl = lg.value(f"{v}.perp") + lg.value(f"{v}.perp_cost")
    lg.add(f"{v}.perp", -q, "liquidation")
    lg.set(f"{v}.perp_cost", ZERO, "liquidation")
    lg.add(f"{v}.USDT", pnl, "liquidation")
    fee = down(abs(q) * mark * leg.liquidation_fee, CEX_UNIT)
    lg.add(f"{v}.USDT", -fee, "liquidation")
    engine.counters.cex_liquidations += 1
    engine._event(
        "CEX_LIQUIDATION",
        v,
        f"{engine.asset}-PERP",
        -q,
        value=-fee,
        severity="liquidation",
        note=(
            f"margin ratio {ratio:.4f} below maintenance {leg.maintenance_margin}: position closed at {mark}"
        ),
    )


# -- rebalancing (Rebalancing Specification) --------


def run_triggers(engine: BasisEngine) -> None:
    reb = engine.mode.rebalancing
    if engine.legs:
        ratios = [(leg, engine.margin_ratio(leg)) for leg in engine.legs]
        live = [(leg, r) for leg, r in ratios if r is not None]
        for leg, r in live:
            band = (
                "urgent"
                if r < reb.margin_urgent_threshold
                else "warning"
                if r < reb.margin_warning_threshold
                else "ok"
            )
            if band != "ok" and engine.state.margin_band.get(leg.venue) != band:
                engine.counters.margin_warnings += 1
                engine._event(
                    f"MARGIN_{band.upper()}",
                    leg.venue,
                    "USDT",
                    r,
                    severity="warning",
                    note=f"margin ratio {r:.4f}",
                )
            engine.state.margin_band[leg.venue] = band
        if reb.enabled and any(r < reb.margin_urgent_threshold for _, r in live):
            margin_support(engine)
        if reb.enabled:
            delta_check(engine)
    _coll, debt, hf = engine._account()
    if debt and from_units(hf) < reb.health_factor_threshold:
        if reb.enabled:
            emergency_deleverage(engine)
        else:
            engine._event(
                "HF_RISK",
                engine.mode.aave.venue,
                "",
                from_units(hf),
                severity="warning",
                note="rebalancing disabled",
            )


def delta_check(engine: BasisEngine) -> None:
    onchain, cex = engine.exposure()
    hedged = onchain if engine.mode.staking.enabled else engine._lg.qty(f"{engine.spot_venue}.{engine.asset}")
    if hedged <= 0:
        return
    net = onchain + cex
    drift = net / hedged
    if abs(drift) <= engine.mode.rebalancing.delta_drift_threshold:
        return
    new_total = down(engine._short_qty() + net, LOT[engine.asset])
    if new_total < 0:
        new_total = ZERO
    engine.counters.hedge_adjustment += 1
    before = engine._lg.equity()
    marker = engine._event(
        "REBALANCE_HEDGE_ADJUSTMENT",
        "CEX",
        engine.asset,
        net,
        severity="warning",
        note=(
            f"delta drift {drift:.4%} above {engine.mode.rebalancing.delta_drift_threshold:.2%}: "
            f"shorts -> {new_total}"
        ),
    )
    engine._set_shorts(new_total, "HEDGE_ADJUST")
    set_value(engine, marker, engine._lg.equity() - before)


def set_value(engine: BasisEngine, order: int, value: Decimal) -> None:
    """Record an action's cost (its equity change) on the trigger event that started it."""
    for i in range(len(engine.events) - 1, -1, -1):
        if engine.events[i].order == order:
            engine.events[i] = dataclasses.replace(engine.events[i], value=value)
            return


def margin_support(engine: BasisEngine) -> None:
    """Free asset from the on-chain position (or CEX spot), sell it, reduce shorts, top up margin."""
    lg, s = engine._lg, engine._s
    target = engine.mode.basis_trade.target_margin_ratio
    price = s.spot[engine.asset]
    short = engine._short_qty()
    cex_equity = sum(
        (
            lg.value(f"{leg.venue}.USDT") + lg.value(f"{leg.venue}.perp") + lg.value(f"{leg.venue}.perp_cost")
            for leg in engine.legs
        ),
        ZERO,
    )
    need = (target * price * short - cex_equity) / (price * (1 + target))
    need = down(min(need, short), LOT[engine.asset])
    if need <= 0:
        return
    engine.counters.margin_support += 1
    before = lg.equity()
    marker = engine._event(
        "REBALANCE_MARGIN_SUPPORT",
        "CEX",
        engine.asset,
        need,
        severity="warning",
        note=f"margin below {engine.mode.rebalancing.margin_urgent_threshold}: free {need} {engine.asset}",
    )
    sv = engine.spot_venue
    if engine.mode.staking.enabled:
        freed = free_onchain_eth(engine, need)
        if freed <= 0:
            return
        engine._pay_gas(engine._gas_fee(engine.mode.gas.per_transaction), f"ETH transfer to {sv}")
        lg.add("wallet.ETH", -freed, "trading")
        lg.add(f"{sv}.ETH", freed, "trading")
        engine._event("TRANSFER", "WALLET-ETH", "ETH", freed, note=f"wallet -> {sv}")
        sell = down(freed, LOT["ETH"])
    else:
        sell = min(need, lg.qty(f"{sv}.{engine.asset}"))
    engine._spot_trade(-sell)
    engine._set_shorts(down(short - sell, LOT[engine.asset]), "HEDGE_REDUCE")
    # top up margin where it is short, pro rata to need
    cash = lg.qty(f"{sv}.USDT")
    needs: dict[str, Decimal] = {}
    for leg in engine.legs:
        q = -lg.qty(f"{leg.venue}.perp")
        equity = (
            lg.value(f"{leg.venue}.USDT") + lg.value(f"{leg.venue}.perp") + lg.value(f"{leg.venue}.perp_cost")
        )
        gap = target * q * s.perp_mark[(leg.venue, engine.asset)] - equity
        if gap > 0:
            needs[leg.venue] = gap
    total_need = sum(needs.values(), ZERO)
    if cash > 0 and total_need > 0:
        for venue, gap in needs.items():
            amount = down(min(gap, cash * gap / total_need), CEX_UNIT)
            lg.add(f"{sv}.USDT", -amount, "trading")
            lg.add(f"{venue}.USDT", amount, "trading")
            engine._event("TRANSFER", sv, "USDT", amount, note=f"{sv} -> {venue} margin")
    set_value(engine, marker, lg.equity() - before)


def free_onchain_eth(engine: BasisEngine, eth: Decimal) -> Decimal:
    """Release ``eth`` of on-chain equity into the wallet; return the ETH freed."""
    lg, s = engine._lg, engine._s
    fee = engine.mode.swap_fee
    rate = s.oracle[engine.lst]
    coll, debt, _ = engine._account()
    if debt == 0:
        held = lg.qty(f"wallet.{engine.lst}")
        lst = min(down(eth / (rate * (1 - fee)), WEI), held)
        out = down(lst * rate * (1 - fee), WEI)
        lg.add(f"wallet.{engine.lst}", -lst, "trading")
        lg.add("wallet.ETH", out, "trading")
        engine._pay_gas(engine._gas_fee(engine.mode.gas.per_transaction), f"swap {engine.lst} -> ETH")
        engine._event("SWAP", "UNISWAPV3-ETH", engine.lst, lst, note=f"-> {out} ETH")
        engine._note_lst()
        return out
    ltv = Decimal(debt) / Decimal(coll)
    withdraw_eth = eth / (1 - ltv - fee)
    return atomic_deleverage(engine, withdraw_eth, ltv * withdraw_eth, "DELEVERAGE_FOR_MARGIN")


def atomic_deleverage(engine: BasisEngine, withdraw_eth: Decimal, repay_eth: Decimal, bundle: str) -> Decimal:
    """Flash-borrow WETH, repay debt, withdraw the LST, swap it to ETH, repay the flash loan."""
    lg, s = engine._lg, engine._s
    rate = s.oracle[engine.lst]
    fee = engine.mode.swap_fee
    supplied = engine._aave_balances(engine.lst)[0]
    lst = min(down(withdraw_eth / rate, WEI), supplied)
    repay = min(to_wei(repay_eth), to_wei(-lg.qty("aave.debtWETH")))
    engine._repay_weth(repay)
    engine._withdraw(engine.lst, to_wei(lst))
    lg.add(f"wallet.{engine.lst}", lst, "trading")
    engine._sync_aave("trading", "trading")
    out = down(lst * rate * (1 - fee), WEI)
    lg.add(f"wallet.{engine.lst}", -lst, "trading")
    lg.add("wallet.ETH", out - from_units(repay), "trading")
    gas = engine._gas_fee(engine.mode.gas.atomic_deleverage)
    engine._pay_gas(gas, bundle, emit=False)
    steps = [
        BundleStepEvent(OnchainEventType.FLASH_BORROW, "WETH", repay),
        BundleStepEvent(OnchainEventType.LOAN_REPAID, "WETH", repay),
        BundleStepEvent(OnchainEventType.COLLATERAL_WITHDRAWN, engine.lst, to_wei(lst)),
        BundleStepEvent(OnchainEventType.SWAP, engine.lst, to_wei(lst)),
        BundleStepEvent(OnchainEventType.FLASH_REPAID, "WETH", repay),
    ]
    engine._onchain_events(
        atomic_bundle_events(bundle, steps, timestamp_ns=to_ns(s.ts), gas_fee_wei=to_wei(gas)),
        engine.mode.aave.venue,
    )
    engine._note_lst()
    return out - from_units(repay)


def emergency_deleverage(engine: BasisEngine) -> None:
    """Reduce AAVE leverage to the target LTV; perps untouched (delta risk accepted)."""
    coll, debt, hf = engine._account()
    target = engine.mode.leverage.target_ltv
    fee = engine.mode.swap_fee
    # repay R with collateral worth R/(1-fee): (D - R) / (C - R/(1-fee)) = target
    c, d = from_units(coll), from_units(debt)
    repay = (d - target * c) / (1 - target / (1 - fee))
    if repay <= 0:
        return
    engine.counters.emergency_deleverage += 1
    before = engine._lg.equity()
    marker = engine._event(
        "REBALANCE_EMERGENCY_DELEVERAGE",
        engine.mode.aave.venue,
        "WETH",
        repay,
        severity="warning",
        note=f"health factor {from_units(hf):.4f} below {engine.mode.rebalancing.health_factor_threshold}",
    )
    atomic_deleverage(engine, repay / (1 - fee), repay, "EMERGENCY_DELEVERAGE")
    set_value(engine, marker, engine._lg.equity() - before)


__all__ = ["liquidations", "run_triggers"]
