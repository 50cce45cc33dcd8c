"""
The hourly event-driven engine of the six basis modes (seed 003).

One engine runs every mode; the mode's YAML decides which legs exist. Each hour
(:meth:`BasisEngine.step`, decision 5) it:

1. revalues every holding at the new snapshot (price, LST rate; :mod:`.ledger`);
2. accrues AAVE supply and debt through the reserve indices (integer ray math, as on chain);
3. settles perpetual funding at the venues' settlement hours;
4. pays EIGEN/ETHFI rewards on their exact payout hours (``rate × average LST balance``);
5. flags per-exchange mark divergence (0.5 % flag, 1 % alert; decision 14);
6. applies liquidations the data forces (AAVE close factor and bonus; CEX maintenance margin);
7. runs the rebalancing triggers (margin urgent -> margin support, delta drift -> hedge
   adjustment, health factor -> emergency deleverage), each with its events and costs.

The first hour runs the mode's entry flow (decision 6: fund every CEX, all shorts at one
timestamp, transfer ETH to the wallet, stake and loop). Leverage loops are atomic flash
bundles or sequential loops (decisions 10 and 22) built by the shared calculators
(:mod:`nautilus_ext.onchain.calculators`), so their events carry ``iteration`` or ``parent``.

Sources and sinks: the engine consumes :class:`Snapshot` objects and writes :class:`BasisEvent`
records; the backtest builds snapshots from :class:`~nautilus_ext.basis.data.MarketData`, a
live driver would build them from its feeds. The CEX legs are exact perpetual/funding accounting
inside the engine (whole lots of each venue's perpetual, fees and funding rounded as the venues
book them); :mod:`nautilus_ext.backtest.basis_legs` replays them as NautilusTrader positions in
a BacktestEngine and checks both agree.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Callable
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from nautilus_ext.basis.config import EffectiveConfig
from nautilus_ext.basis.config import LoopExecution
from nautilus_ext.basis.data import to_ns
from nautilus_ext.basis.ledger import COMPONENTS
from nautilus_ext.basis.ledger import CONTEXT
from nautilus_ext.basis.ledger import ONE
from nautilus_ext.basis.ledger import ZERO
from nautilus_ext.basis.ledger import Ledger
from nautilus_ext.basis.model import CEX_UNIT
from nautilus_ext.basis.model import DECIMALS
from nautilus_ext.basis.model import DIVERGENCE_ALERT
from nautilus_ext.basis.model import DIVERGENCE_FLAG
from nautilus_ext.basis.model import E18
from nautilus_ext.basis.model import EMODE_ID
from nautilus_ext.basis.model import LOT
from nautilus_ext.basis.model import REWARD_VENUE
from nautilus_ext.basis.model import USDT_UNIT
from nautilus_ext.basis.model import WEI
from nautilus_ext.basis.model import BasisEvent
from nautilus_ext.basis.model import Counters
from nautilus_ext.basis.model import EngineState
from nautilus_ext.basis.model import HedgeLeg
from nautilus_ext.basis.model import Snapshot
from nautilus_ext.basis.model import cex_round
from nautilus_ext.basis.model import down
from nautilus_ext.basis.model import from_units
from nautilus_ext.basis.model import requirements
from nautilus_ext.basis.model import snapshots
from nautilus_ext.basis.model import to_wei
from nautilus_ext.basis.risk import liquidations
from nautilus_ext.basis.risk import run_triggers
from nautilus_ext.errors import InsufficientBalance
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import TransactionReverted
from nautilus_ext.onchain.calculators.aave import AccountData
from nautilus_ext.onchain.calculators.aave import EModeCategory
from nautilus_ext.onchain.calculators.aave import ReserveConfiguration
from nautilus_ext.onchain.calculators.aave import UserReservePosition
from nautilus_ext.onchain.calculators.aave import balance_of_scaled
from nautilus_ext.onchain.calculators.aave import borrow_allowed
from nautilus_ext.onchain.calculators.aave import scaled_amount
from nautilus_ext.onchain.calculators.aave import user_account_data
from nautilus_ext.onchain.calculators.accounting import ShareClass
from nautilus_ext.onchain.calculators.accounting import gas_fee_eth
from nautilus_ext.onchain.calculators.events import BundleStepEvent
from nautilus_ext.onchain.calculators.events import OnchainEvent
from nautilus_ext.onchain.calculators.events import OnchainEventType
from nautilus_ext.onchain.calculators.events import atomic_bundle_events
from nautilus_ext.onchain.calculators.events import sequential_loop_events
from nautilus_ext.onchain.calculators.leverage import leverage_targets
from nautilus_ext.onchain.calculators.leverage import sequential_loop_schedule
from nautilus_ext.onchain.calculators.ray_math import UINT256_MAX
from nautilus_ext.onchain.calculators.staking import RewardDistribution
from nautilus_ext.onchain.calculators.staking import reward_payments


class BasisEngine:
    """
    Run one mode for one share class, hour by hour.

    Parameters
    ----------
    cfg : EffectiveConfig
        The resolved configuration.
    """

    def __init__(self, cfg: EffectiveConfig) -> None:
        self.cfg = cfg
        self.mode = cfg.mode
        self.usd = cfg.share_class.currency is ShareClass.USDT
        self.ccy = "usd" if self.usd else "eth"
        self.asset = cfg.mode.asset
        self.lst = cfg.mode.staking.lst
        self.events: list[BasisEvent] = []
        self.hourly: list[dict[str, Any]] = []
        self.sheet: list[dict[str, Any]] = []
        self.counters = Counters()
        self.state = EngineState()
        self.ledger: Ledger | None = None
        self._order = 0
        self._cum = dict.fromkeys(COMPONENTS, ZERO)
        bt = cfg.mode.basis_trade
        self.legs: list[HedgeLeg] = []
        if bt.enabled:
            for hv in bt.hedge_venues:
                row = cfg.venues[hv.venue]
                self.legs.append(
                    HedgeLeg(
                        hv.venue,
                        hv.allocation,
                        Decimal(row["taker_fee"]),
                        Decimal(row["maintenance_margin"]),
                        Decimal(row["liquidation_fee"]),
                        Decimal(row["lot_size"]),
                    )
                )
        self.spot_venue = bt.spot_venue
        self.spot_fee = Decimal(cfg.venues[bt.spot_venue]["taker_fee"]) if bt.enabled else ZERO
        aave = cfg.mode.aave
        self._emode = EModeCategory(
            EMODE_ID, aave.ltv_bps, aave.liquidation_threshold_bps, aave.liquidation_bonus_bps
        )
        self._reserve_cfg = ReserveConfiguration(
            ltv_bps=aave.ltv_bps,
            liquidation_threshold_bps=aave.liquidation_threshold_bps,
            liquidation_bonus_bps=aave.liquidation_bonus_bps,
            decimals=18,
            active=True,
            frozen=False,
            borrowing_enabled=True,
            paused=False,
            e_mode_category=EMODE_ID,
        )
        self._snap: Snapshot | None = None
        self.seen: list[Snapshot] = []  # every snapshot consumed (the CEX-leg replay re-reads the marks)
        self._distributions: list[RewardDistribution] = []
        self._pre_actions: tuple[Decimal | None, Decimal | None] = (None, None)

    # -- driving -------------------------------------------------------------------------------

    def run(self, source: Iterator[Snapshot], progress: Callable[[int], None] | None = None) -> None:
        """Consume every snapshot of ``source``."""
        for snap in source:
            self.step(snap)
            if progress is not None:
                progress(1)

    def step(self, snap: Snapshot) -> None:
        """Process one hour."""
        if self._snap is not None and snap.ts <= self._snap.ts:
            raise InvalidConfig(f"snapshot {snap.ts.isoformat()} does not follow {self._snap.ts.isoformat()}")
        if snap.ts.minute or snap.ts.second or snap.ts.microsecond:
            raise InvalidConfig(f"snapshot {snap.ts.isoformat()} is not on the hour (decision 5)")
        with decimal.localcontext(CONTEXT):
            self._snap = snap
            self.seen.append(snap)
            factors = self._factors(snap)
            if self.ledger is None:
                self.ledger = Ledger(factors)
                self._open_holdings()
                self._initial_capital()
                self._enter()
            else:
                self.ledger.move_to(factors)
                self._sync_aave("lending", "borrow_cost")
                self._settle_funding()
                self._pay_rewards()
            self._check_divergence()
            self._pre_actions = (self.health_factor(), self._min_margin_ratio())
            liquidations(self)
            run_triggers(self)
            self._record()
            self.state.last_ns = to_ns(snap.ts)

    # -- market factors and holdings -----------------------------------------------------------

    def _factors(self, snap: Snapshot) -> dict[str, Decimal]:
        eth = snap.spot["ETH"]
        f: dict[str, Decimal] = {"eth": eth if self.usd else ONE}
        if self.usd and self.asset == "BTC":
            f["btc"] = snap.spot["BTC"]
        if self.mode.staking.enabled:
            f[f"rate.{self.lst}"] = snap.oracle[self.lst]
        for leg in self.legs:
            f[f"mark.{leg.venue}"] = snap.perp_mark[(leg.venue, self.asset)]
        return f

    @property
    def _lg(self) -> Ledger:
        assert self.ledger is not None  # set by the first step
        return self.ledger

    @property
    def _s(self) -> Snapshot:
        assert self._snap is not None  # set by step
        return self._snap

    def _open_holdings(self) -> None:
        lg = self._lg
        asset_factor = "eth" if self.asset == "ETH" else "btc"
        lg.open(
            "wallet.ETH",
            line="wallet ETH",
            side="onchain",
            factors=("one", "eth"),
            components=("price", "price"),
        )
        if self.usd:
            lg.open(
                "wallet.USDT",
                line="wallet USDT",
                side="onchain",
                factors=("one", "one"),
                components=("price", "price"),
            )
        if self.mode.staking.enabled:
            rate = f"rate.{self.lst}"
            lg.open(
                f"wallet.{self.lst}",
                line=f"wallet {self.lst}",
                side="onchain",
                factors=(rate, "eth"),
                components=("staking_yield", "price"),
            )
        if self.mode.lending.enabled:
            res = self.mode.lending.asset
            lg.open(
                f"aave.a{res}",
                line=f"AAVE a{res}",
                side="onchain",
                factors=("one", "one"),
                components=("price", "price"),
            )
        if self.mode.leverage.enabled:
            rate = f"rate.{self.lst}"
            lg.open(
                f"aave.a{self.lst}",
                line=f"AAVE a{self.lst}",
                side="onchain",
                factors=(rate, "eth"),
                components=("staking_yield", "price"),
            )
            lg.open(
                "aave.debtWETH",
                line="AAVE WETH debt",
                side="onchain",
                factors=("one", "eth"),
                components=("price", "price"),
            )
        if self.legs:
            sv = self.spot_venue
            lg.open(
                f"{sv}.USDT",
                line=f"{sv} USDT",
                side="cex",
                factors=("one", "one"),
                components=("price", "price"),
            )
            lg.open(
                f"{sv}.{self.asset}",
                line=f"{sv} {self.asset}",
                side="cex",
                factors=("one", asset_factor),
                components=("price", "price"),
            )
            for leg in self.legs:
                v = leg.venue
                lg.open(
                    f"{v}.USDT",
                    line=f"{v} USDT",
                    side="cex",
                    factors=("one", "one"),
                    components=("price", "price"),
                )
                lg.open(
                    f"{v}.perp",
                    line=f"{v} perp P&L",
                    side="cex",
                    factors=("one", f"mark.{v}"),
                    components=("price", "price"),
                )
                lg.open(
                    f"{v}.perp_cost",
                    line=f"{v} perp P&L",
                    side="cex",
                    factors=("one", "one"),
                    components=("price", "price"),
                )

    def _initial_capital(self) -> None:
        cap = self.cfg.capital
        h = self._lg.holdings["wallet.USDT" if self.usd else "wallet.ETH"]
        h.qty = cap  # the deposit is capital, not P&L
        self._event("CAPITAL_DEPOSIT", "WALLET-ETH", "USDT" if self.usd else "ETH", cap)

    # -- events ----------------------------------------------------------------------------------

    def _event(self, event: str, venue: str, asset: str = "", amount: Decimal = ZERO, **kw: Any) -> int:
        self._order += 1
        self.events.append(
            BasisEvent(self._s.ts, self._order, event, venue, asset, amount, **kw, **self._snapshot())
        )
        return self._order

    def _snapshot(self) -> dict[str, Any]:
        """Per-line balances (share-class currency, 1e-6) and HF / margin after an event (#13)."""
        lines = {
            k: str(v.quantize(Decimal("1e-6"), context=CONTEXT)) for k, v in sorted(self._lg.lines().items())
        }
        return {
            "balances": json.dumps(lines, separators=(",", ":")),
            "health_factor": self.health_factor(),
            "margin_ratio": self._min_margin_ratio(),
        }

    def _onchain_events(self, events: list[OnchainEvent], venue: str) -> None:
        base = self._order
        after = self._snapshot()  # a loop or bundle is one snapshot: all its events share the prices
        for e in events:
            amount = from_units(e.amount)
            self.events.append(
                BasisEvent(
                    self._s.ts,
                    base + e.order,
                    str(e.event),
                    "WALLET-ETH" if e.event in (OnchainEventType.GAS_FEE_PAID,) else venue,
                    e.asset or "",
                    amount,
                    iteration=e.iteration,
                    parent=None if e.parent is None else base + e.parent,
                    bundle=e.bundle,
                    value=-amount * self._lg.factors["eth"]
                    if e.event is OnchainEventType.GAS_FEE_PAID
                    else ZERO,
                    **after,
                )
            )
        self._order = base + len(events)

    # -- gas -------------------------------------------------------------------------------------

    def _gas_fee(self, units: int) -> Decimal:
        price_wei = int(self._s.gas_price_gwei.scaleb(9))
        return gas_fee_eth(units, price_wei)

    def _pay_gas(self, fee_eth: Decimal, what: str, *, emit: bool = True) -> None:
        lg = self._lg
        if not self.usd and lg.qty("wallet.ETH") - fee_eth < 0:
            raise InsufficientBalance(
                f"ETH share class: the gas reserve ({lg.qty('wallet.ETH')} ETH) cannot pay "
                f"{fee_eth} ETH for {what}; "
                "raise gas_reserve_eth in the share class",
                venue="WALLET-ETH",
            )
        lg.add("wallet.ETH", -fee_eth, "gas")
        self.counters.gas_eth += fee_eth
        self.counters.gas_value += fee_eth * lg.factors["eth"]
        if emit:
            self._event(
                "GAS_FEE_PAID", "WALLET-ETH", "ETH", fee_eth, value=-fee_eth * lg.factors["eth"], note=what
            )

    # -- AAVE --------------------------------------------------------------------------------------

    def _aave_balances(self, res: str) -> tuple[Decimal, Decimal]:
        s = self._s
        dec = DECIMALS.get(res, 18)
        supply = balance_of_scaled(self.state.supply_scaled.get(res, 0), s.liquidity_index[res])
        debt = (
            balance_of_scaled(self.state.debt_scaled.get(res, 0), s.borrow_index[res])
            if res in s.borrow_index
            else 0
        )
        return from_units(supply, dec), from_units(debt, dec)

    def _sync_aave(self, supply_component: str, debt_component: str) -> None:
        lg = self._lg
        for res in list(self.state.supply_scaled) + list(self.state.debt_scaled):
            supply, debt = self._aave_balances(res)
            if f"aave.a{res}" in lg.holdings:
                lg.set(f"aave.a{res}", supply, supply_component)
            if f"aave.debt{res}" in lg.holdings:
                lg.set(f"aave.debt{res}", -debt, debt_component)

    def _account_data(self) -> AccountData:
        """``getUserAccountData`` of the LST/WETH position, in ETH wei (e-mode, oracle LST rate)."""
        s = self._s
        if not self.mode.leverage.enabled:
            return AccountData(0, 0, 0, 0, 0, UINT256_MAX)
        rate_wad = int(down(s.oracle[self.lst], WEI).scaleb(18))
        positions = [
            UserReservePosition(
                self.lst,
                self.state.supply_scaled.get(self.lst, 0),
                0,
                s.liquidity_index[self.lst],
                s.borrow_index[self.lst],
                rate_wad,
                self._reserve_cfg,
            ),
            UserReservePosition(
                "WETH",
                0,
                self.state.debt_scaled.get("WETH", 0),
                s.liquidity_index["WETH"],
                s.borrow_index["WETH"],
                E18,
                self._reserve_cfg,
            ),
        ]
        return user_account_data(positions, self._emode)

    def _account(self) -> tuple[int, int, int]:
        """Return ``(collateral_eth_wei, debt_eth_wei, health_factor_wad)``."""
        acct = self._account_data()
        return acct.total_collateral_base, acct.total_debt_base, acct.health_factor

    def health_factor(self) -> Decimal | None:
        """Current health factor (``None`` without debt)."""
        _, debt, hf = self._account()
        return None if debt == 0 else from_units(hf)

    def aave_scaled(self) -> tuple[dict[str, int], dict[str, int]]:
        """Return copies of the engine's AAVE scaled supply and scaled debt, by reserve."""
        return dict(self.state.supply_scaled), dict(self.state.debt_scaled)

    def adopt_aave(self, supply_scaled: dict[str, int], debt_scaled: dict[str, int], why: str) -> Decimal:
        """
        Replace the AAVE scaled balances by what the venue holds (a live reconciliation).

        The live service calls this after a bundle is mined: the chain's amounts (staked at the
        LST contract's rate, swapped in a real pool) differ from the engine's model by dust, and
        the chain is the truth. The balance-sheet change is booked as ``trading`` and written as
        an ``AAVE_RECONCILED`` event; returns it (share-class currency).
        """
        with decimal.localcontext(CONTEXT):
            before = self._lg.equity()
            for res in set(self.state.supply_scaled) | set(supply_scaled):
                self.state.supply_scaled[res] = int(supply_scaled.get(res, 0))
            for res in set(self.state.debt_scaled) | set(debt_scaled):
                self.state.debt_scaled[res] = int(debt_scaled.get(res, 0))
            self._sync_aave("trading", "trading")
            change = self._lg.equity() - before
            self._event("AAVE_RECONCILED", self.mode.aave.venue, "", ZERO, value=change, note=why)
            self._note_lst()
            return change

    def _supply(self, res: str, amount_units: int) -> None:
        idx = self._s.liquidity_index[res]
        scaled = scaled_amount(amount_units, idx)
        if scaled == 0:
            raise TransactionReverted("supply reverted: INVALID_MINT_AMOUNT", venue="AAVE_V3_ETH")
        self.state.supply_scaled[res] = self.state.supply_scaled.get(res, 0) + scaled

    def _borrow_weth(self, amount_wei: int) -> None:
        if not borrow_allowed(self._account_data(), amount_wei):
            raise TransactionReverted(
                "borrow reverted: COLLATERAL_CANNOT_COVER_NEW_BORROW", venue="AAVE_V3_ETH"
            )
        idx = self._s.borrow_index["WETH"]
        self.state.debt_scaled["WETH"] = self.state.debt_scaled.get("WETH", 0) + scaled_amount(
            amount_wei, idx
        )

    def _repay_weth(self, amount_wei: int) -> None:
        idx = self._s.borrow_index["WETH"]
        scaled = min(scaled_amount(amount_wei, idx), self.state.debt_scaled.get("WETH", 0))
        self.state.debt_scaled["WETH"] = self.state.debt_scaled.get("WETH", 0) - scaled

    def _withdraw(self, res: str, amount_units: int) -> None:
        idx = self._s.liquidity_index[res]
        scaled = min(scaled_amount(amount_units, idx), self.state.supply_scaled.get(res, 0))
        self.state.supply_scaled[res] = self.state.supply_scaled.get(res, 0) - scaled

    def _lst_total(self) -> Decimal:
        supplied = self._aave_balances(self.lst)[0] if self.lst in self.state.supply_scaled else ZERO
        return self._lg.qty(f"wallet.{self.lst}") + supplied if self.mode.staking.enabled else ZERO

    def _note_lst(self) -> None:
        self.state.lst_history.append((to_ns(self._s.ts), self._lst_total()))

    # -- entry (decision 6) ---------------------------------------------------------------------------

    def _enter(self) -> None:
        mode = self.mode
        if mode.lending.enabled:
            self._enter_lending()
            return
        equity_eth = ZERO
        if self.legs:
            equity_eth = self._enter_cex()
        elif not self.usd:
            equity_eth = self.cfg.capital - self.cfg.share_class.gas_reserve_eth
            if equity_eth <= 0:
                raise InsufficientBalance(
                    f"capital {self.cfg.capital} ETH does not exceed "
                    f"gas_reserve_eth {self.cfg.share_class.gas_reserve_eth}",
                    venue="WALLET-ETH",
                )
        if mode.staking.enabled and equity_eth > 0:
            self._stake_and_loop(equity_eth)

    def _enter_lending(self) -> None:
        res = self.mode.lending.asset
        amount = self._lg.qty("wallet.USDT")
        units = int(amount.scaleb(DECIMALS.get(res, 18)))
        self._pay_gas(self._gas_fee(self.mode.gas.per_transaction), f"supply {res}")
        self._supply(res, units)
        self._lg.add("wallet.USDT", -amount, "trading")
        self._sync_aave("trading", "trading")
        self._event("COLLATERAL_SUPPLIED", self.mode.aave.venue, res, amount)

    def _enter_cex(self) -> Decimal:
        """Fund every CEX, buy spot and open every short at this timestamp; return ETH sent on chain."""
        lg, s = self._lg, self._s
        asset, sv = self.asset, self.spot_venue
        price = s.spot[asset]
        target = self.mode.basis_trade.target_margin_ratio
        cap = lg.qty("wallet.USDT")
        qty = down(cap / (price * (1 + target)) * Decimal("0.995"), LOT[asset])
        # step 1: fund all CEXs (one ERC-20 transfer each)
        margins = {leg.venue: down(leg.allocation * target * qty * price, CEX_UNIT) for leg in self.legs}
        for leg in self.legs:
            self._transfer_usdt_to_cex(leg.venue, margins[leg.venue])
        self._transfer_usdt_to_cex(sv, lg.qty("wallet.USDT"))
        # step 2: spot buy and all shorts at the same timestamp
        self._spot_trade(qty)
        self._set_shorts(qty, "HEDGE_OPEN")
        if not self.mode.staking.enabled:
            return ZERO
        # step 3: withdraw the ETH to the wallet
        lg.add(f"{sv}.ETH", -qty, "trading")
        lg.add("wallet.ETH", qty, "trading")
        self._event("TRANSFER", sv, "ETH", qty, note="CEX -> wallet")
        return qty

    def _transfer_usdt_to_cex(self, venue: str, amount: Decimal) -> None:
        if amount <= 0:
            return
        amount = down(amount, USDT_UNIT)
        self._pay_gas(self._gas_fee(self.mode.gas.per_transaction), f"USDT transfer to {venue}")
        self._lg.add("wallet.USDT", -amount, "trading")
        self._lg.add(f"{venue}.USDT", amount, "trading")
        self._event("TRANSFER", "WALLET-ETH", "USDT", amount, note=f"wallet -> {venue}")

    def _spot_trade(self, qty: Decimal) -> None:
        """Buy (``qty`` > 0) or sell spot on the spot venue at the hour's spot price plus the taker fee."""
        lg, sv, asset = self._lg, self.spot_venue, self.asset
        price = self._s.spot[asset]
        notional = qty * price
        fee = cex_round(abs(notional) * self.spot_fee)
        lg.add(f"{sv}.{asset}", qty, "trading")
        lg.add(f"{sv}.USDT", -notional, "trading")
        lg.add(f"{sv}.USDT", -fee, "trading")
        self._event(
            "SPOT_TRADE", sv, asset, qty, value=-fee, note=f"{'buy' if qty > 0 else 'sell'} at {price}"
        )

    def _short_qty(self) -> Decimal:
        return sum((-self._lg.qty(f"{leg.venue}.perp") for leg in self.legs), ZERO)

    def _set_shorts(self, total: Decimal, event: str) -> None:
        """Bring the shorts to ``total`` (asset units) split by allocation; all at this timestamp."""
        remaining = total
        for i, leg in enumerate(self.legs):
            # each venue trades whole lots of its perpetual (configs/instruments)
            share = remaining if i == len(self.legs) - 1 else total * leg.allocation
            target = down(share, leg.lot_size)
            remaining -= target
            current = -self._lg.qty(f"{leg.venue}.perp")
            self._perp_trade(leg, -(target - current), event)

    def _perp_trade(self, leg: HedgeLeg, qty: Decimal, event: str) -> None:
        if qty == 0:
            return
        lg = self._lg
        mark = self._s.perp_mark[(leg.venue, self.asset)]
        fee = cex_round(abs(qty) * mark * leg.taker_fee)  # as the venue (and Nautilus) rounds
        lg.add(f"{leg.venue}.perp", qty, "trading")
        lg.add(f"{leg.venue}.perp_cost", -qty * mark, "trading")
        lg.add(f"{leg.venue}.USDT", -fee, "trading")
        self._event(event, leg.venue, f"{self.asset}-PERP", qty, value=-fee, note=f"at mark {mark}")

    def _stake_and_loop(self, equity_eth: Decimal) -> None:
        lev = self.mode.leverage
        if not lev.enabled:
            lst = self._stake(equity_eth)
            self._pay_gas(self._gas_fee(self.mode.gas.per_transaction), f"stake into {self.lst}")
            self._event(
                "STAKE_DEPOSIT", self.mode.staking.venue, "ETH", equity_eth, note=f"{lst} {self.lst} received"
            )
            self._note_lst()
            return
        if lev.execution is LoopExecution.ATOMIC:
            self._atomic_entry(equity_eth)
        else:
            self._sequential_entry(equity_eth)
        self._note_lst()

    def _stake(self, eth: Decimal) -> Decimal:
        """Convert wallet ETH to the LST at the oracle rate (decision 31), into the wallet."""
        lst = down(eth / self._s.oracle[self.lst], WEI)
        self._lg.add("wallet.ETH", -eth, "trading")
        self._lg.add(f"wallet.{self.lst}", lst, "trading")
        return lst

    def _supply_lst(self, lst: Decimal) -> None:
        self._supply(self.lst, to_wei(lst))
        self._lg.add(f"wallet.{self.lst}", -lst, "trading")
        self._sync_aave("trading", "trading")

    def _atomic_entry(self, equity_eth: Decimal) -> None:
        targets = leverage_targets(to_wei(equity_eth), self.mode.leverage.target_ltv)
        lg = self._lg
        lg.add("wallet.ETH", from_units(targets.flash), "trading")  # flash borrow
        lst = self._stake(from_units(targets.supply))
        self._supply_lst(lst)
        self._borrow_weth(targets.borrow)
        lg.add(
            "wallet.ETH", from_units(targets.borrow) - from_units(targets.flash), "trading"
        )  # borrow repays the flash
        self._sync_aave("trading", "trading")
        fee = self._gas_fee(self.mode.gas.atomic_entry)
        self._pay_gas(fee, "leverage entry bundle", emit=False)
        steps = [
            BundleStepEvent(OnchainEventType.FLASH_BORROW, "WETH", targets.flash),
            BundleStepEvent(OnchainEventType.STAKE_DEPOSIT, "ETH", targets.supply),
            BundleStepEvent(OnchainEventType.COLLATERAL_SUPPLIED, self.lst, to_wei(lst)),
            BundleStepEvent(OnchainEventType.LOAN_CREATED, "WETH", targets.borrow),
            BundleStepEvent(OnchainEventType.FLASH_REPAID, "WETH", targets.flash),
        ]
        self._onchain_events(
            atomic_bundle_events(
                "LEVERAGE_ENTRY", steps, timestamp_ns=to_ns(self._s.ts), gas_fee_wei=to_wei(fee)
            ),
            self.mode.aave.venue,
        )

    def _sequential_entry(self, equity_eth: Decimal) -> None:
        lev = self.mode.leverage
        schedule = sequential_loop_schedule(
            to_wei(equity_eth),
            lev.target_ltv,
            min_step_wei=max(1, to_wei(lev.min_step_eth)),
            max_iterations=lev.max_iterations,
        )
        per_tx = self._gas_fee(self.mode.gas.per_transaction)
        for step in schedule:
            self._pay_gas(per_tx, f"loop {step.iteration}: stake+supply", emit=False)
            lst = self._stake(from_units(step.stake))
            self._supply_lst(lst)
            if step.borrow:
                self._pay_gas(per_tx, f"loop {step.iteration}: borrow", emit=False)
                self._borrow_weth(step.borrow)
                self._lg.add("wallet.ETH", from_units(step.borrow), "trading")
                self._sync_aave("trading", "trading")
        self._onchain_events(
            sequential_loop_events(
                schedule,
                timestamp_ns=to_ns(self._s.ts),
                lst_symbol=self.lst,
                borrow_symbol="WETH",
                gas_fee_wei_per_tx=to_wei(per_tx),
            ),
            self.mode.aave.venue,
        )

    # -- hourly flows ---------------------------------------------------------------------------------

    def _settle_funding(self) -> None:
        lg, s = self._lg, self._s
        for leg in self.legs:
            rate = s.funding_rate[(leg.venue, self.asset)]
            q = lg.qty(f"{leg.venue}.perp")
            if rate is None or q == 0:
                continue
            mark = s.perp_mark[(leg.venue, self.asset)]
            payment = cex_round(-q * mark * rate)  # longs pay shorts when the rate is positive
            lg.add(f"{leg.venue}.USDT", payment, "funding")
            self._event("FUNDING_PAYMENT", leg.venue, "USDT", payment, value=payment, note=f"rate {rate}")

    def _pay_rewards(self) -> None:
        if not self.mode.staking.enabled or not self.state.lst_history:
            return
        s, lg = self._s, self._lg
        now = to_ns(s.ts)
        mode = self.mode.staking.rewards_mode
        due = [d for d in self._distributions if self.state.last_ns < d.payout_ns <= now]
        if not due:
            return
        for payment in reward_payments(
            mode, due, self.state.lst_history, start_ns=self.state.last_ns + 1, end_ns=now
        ):
            amount = down(payment.amount, WEI)
            if amount == 0:
                continue
            usd = amount * s.token_price[str(payment.token)]
            if self.usd:
                proceeds = down(usd, USDT_UNIT)
                lg.add("wallet.USDT", proceeds, "rewards")
            else:
                proceeds = down(usd / s.spot["ETH"], WEI)
                lg.add("wallet.ETH", proceeds, "rewards")
            self._event(
                "REWARD_PAYMENT",
                REWARD_VENUE[payment.token],
                str(payment.token),
                amount,
                value=proceeds,
                note=(
                    f"earning period {payment.period_start_ns}..{payment.period_end_ns} ns, "
                    f"sold for {proceeds}"
                ),
            )
            self._pay_gas(self._gas_fee(self.mode.gas.per_transaction), f"claim and sell {payment.token}")

    def set_distributions(self, distributions: list[RewardDistribution]) -> None:
        """Give the engine the reward schedule (decision 18: exact payout times)."""
        self._distributions = sorted(distributions, key=lambda d: d.payout_ns)

    def _check_divergence(self) -> None:
        if len(self.legs) < 2:
            return
        s = self._s
        ref_leg = self.legs[0]
        ref = s.perp_mark[(ref_leg.venue, self.asset)]
        for leg in self.legs[1:]:
            mark = s.perp_mark[(leg.venue, self.asset)]
            div = abs(mark - ref) / ref
            if div > DIVERGENCE_ALERT:
                self.counters.arbitrage_alerts += 1
                self._event(
                    "ARBITRAGE_ALERT",
                    leg.venue,
                    self.asset,
                    mark,
                    severity="alert",
                    note=f"mark {mark} vs {ref_leg.venue} {ref}: {div:.4%}",
                )
            elif div > DIVERGENCE_FLAG:
                self.counters.divergence_flags += 1
                self._event(
                    "PRICE_DIVERGENCE_FLAG",
                    leg.venue,
                    self.asset,
                    mark,
                    severity="warning",
                    note=f"mark {mark} vs {ref_leg.venue} {ref}: {div:.4%} (possible data error)",
                )

    def max_divergence(self) -> Decimal:
        """Largest relative mark divergence from the first hedge venue this hour."""
        if len(self.legs) < 2:
            return ZERO
        s = self._s
        ref = s.perp_mark[(self.legs[0].venue, self.asset)]
        return max(abs(s.perp_mark[(leg.venue, self.asset)] - ref) / ref for leg in self.legs[1:])

    # -- risk ---------------------------------------------------------------------------------------

    def margin_ratio(self, leg: HedgeLeg) -> Decimal | None:
        """Account equity / short notional on one venue (``None`` without a position)."""
        lg = self._lg
        q = lg.qty(f"{leg.venue}.perp")
        if q == 0:
            return None
        equity = (
            lg.value(f"{leg.venue}.USDT") + lg.value(f"{leg.venue}.perp") + lg.value(f"{leg.venue}.perp_cost")
        )
        return equity / (abs(q) * self._s.perp_mark[(leg.venue, self.asset)])

    def _min_margin_ratio(self) -> Decimal | None:
        ratios = [r for r in (self.margin_ratio(leg) for leg in self.legs) if r is not None]
        return min(ratios) if ratios else None

    def exposure(self) -> tuple[Decimal, Decimal]:
        """Return ``(onchain_delta, cex_delta)`` in asset units (decision 34)."""
        lg, s = self._lg, self._s
        onchain = ZERO
        cex = ZERO
        if self.asset == "ETH":
            onchain += lg.qty("wallet.ETH")
            if self.mode.staking.enabled:
                rate = s.oracle[self.lst]
                onchain += lg.qty(f"wallet.{self.lst}") * rate + lg.qty(f"aave.a{self.lst}") * rate
            onchain += lg.qty("aave.debtWETH")
        if self.legs:
            cex += lg.qty(f"{self.spot_venue}.{self.asset}")
            for leg in self.legs:
                cex += lg.qty(f"{leg.venue}.perp")
        return onchain, cex

    # -- recording ------------------------------------------------------------------------------------

    def _record(self) -> None:
        lg, s = self._lg, self._s
        pnl = lg.take_pnl()
        net = sum(pnl.values(), ZERO)
        for k, v in pnl.items():
            self._cum[k] += v
        ccy = self.ccy
        coll, debt, hf = self._account()
        onchain, cex = self.exposure()
        equity = lg.equity()
        row: dict[str, Any] = {
            "timestamp": s.ts,
            f"equity_{ccy}": equity,
            f"net_pnl_{ccy}": net,
            f"cumulative_pnl_{ccy}": equity - self.cfg.capital,
        }
        for k in COMPONENTS:
            row[f"{k}_{ccy}"] = pnl[k]
        for k in COMPONENTS:
            row[f"cumulative_{k}_{ccy}"] = self._cum[k]
        row["health_factor"] = from_units(hf) if debt else None
        # what the market did before this hour's liquidations and rebalancing acted on it
        row["health_factor_before_actions"], row["min_margin_ratio_before_actions"] = self._pre_actions
        row["ltv"] = _ratio(Decimal(debt) / Decimal(coll)) if coll else ZERO
        onchain_equity = from_units(coll - debt)
        row["leverage"] = _ratio(from_units(coll) / onchain_equity) if coll and onchain_equity > 0 else ZERO
        ratios = {leg.venue: _ratio(self.margin_ratio(leg)) for leg in self.legs}
        for venue, r in ratios.items():
            row[f"margin_ratio_{venue}"] = r
        live = [r for r in ratios.values() if r is not None]
        row["min_margin_ratio"] = min(live) if live else None
        asset = self.asset.lower()
        row[f"onchain_delta_{asset}"] = onchain
        row[f"cex_delta_{asset}"] = cex
        row[f"net_delta_{asset}"] = onchain + cex
        row["max_mark_divergence"] = self.max_divergence()
        row["gas_price_gwei"] = s.gas_price_gwei
        row[f"{asset}_usd"] = s.spot[self.asset]
        self.hourly.append(row)
        lines = lg.lines()
        sheet: dict[str, Any] = {"timestamp": s.ts}
        assets = ZERO
        debts = ZERO
        for name in sorted(lines):
            value = lines[name]
            sheet[f"{name} ({ccy})"] = value
            if value >= 0:
                assets += value
            else:
                debts -= value
        sheet[f"total_assets_{ccy}"] = assets
        sheet[f"total_debts_{ccy}"] = debts
        sheet[f"equity_{ccy}"] = equity
        self.sheet.append(sheet)


def _ratio(x: Decimal | None) -> Decimal | None:
    """Ratios in the hourly rows: 12 decimals (risk figures, not money)."""
    return None if x is None else x.quantize(Decimal("1e-12"), context=CONTEXT)


__all__ = [
    "BasisEngine",
    "BasisEvent",
    "Counters",
    "HedgeLeg",
    "Snapshot",
    "requirements",
    "snapshots",
]
