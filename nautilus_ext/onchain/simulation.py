"""
A simulated AAVE/LST venue for backtests, driven by the same calculators as the live path.

The venue keeps one on-chain wallet (seed 003 decision 4): token balances in base units,
AAVE positions as scaled aToken/debt balances valued through the reserve indices, LST pools
as share accounting, and ETH for gas (negative = gas debt for a USDT share class). Market
inputs (oracle prices, reserve rates, LST pool totals) are pushed in by the backtest at each
hourly snapshot. Operations validate exactly as the protocol does (``borrow_allowed``, health
factor on withdraw) and raise the same typed errors as the live path. A bundle applies to a
copy of the state and is committed only if every step succeeds, so a failed bundle leaves the
venue untouched, as on chain.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from decimal import Decimal

from nautilus_ext.errors import InsufficientBalance
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import TransactionReverted
from nautilus_ext.onchain.calculators.aave import HEALTH_FACTOR_LIQUIDATION_THRESHOLD
from nautilus_ext.onchain.calculators.aave import AccountData
from nautilus_ext.onchain.calculators.aave import EModeCategory
from nautilus_ext.onchain.calculators.aave import ReserveConfiguration
from nautilus_ext.onchain.calculators.aave import ReserveIndexState
from nautilus_ext.onchain.calculators.aave import UserReservePosition
from nautilus_ext.onchain.calculators.aave import accrue
from nautilus_ext.onchain.calculators.aave import balance_of_scaled
from nautilus_ext.onchain.calculators.aave import borrow_allowed
from nautilus_ext.onchain.calculators.aave import scaled_amount
from nautilus_ext.onchain.calculators.aave import user_account_data
from nautilus_ext.onchain.calculators.aave import value_in_base
from nautilus_ext.onchain.calculators.accounting import WEI_PER_ETH
from nautilus_ext.onchain.calculators.accounting import BalanceSheet
from nautilus_ext.onchain.calculators.accounting import GasLedger
from nautilus_ext.onchain.calculators.accounting import gas_fee_eth
from nautilus_ext.onchain.calculators.events import BundleStepEvent
from nautilus_ext.onchain.calculators.events import OnchainEvent
from nautilus_ext.onchain.calculators.events import OnchainEventType
from nautilus_ext.onchain.calculators.events import atomic_bundle_events
from nautilus_ext.onchain.calculators.events import sequential_loop_events
from nautilus_ext.onchain.calculators.leverage import flash_amount
from nautilus_ext.onchain.calculators.leverage import sequential_loop_schedule
from nautilus_ext.onchain.calculators.lst import LstPoolState
from nautilus_ext.onchain.calculators.lst import stake_and_wrap

VENUE = "SIM_ONCHAIN"


@dataclass(frozen=True, slots=True)
class GasModel:
    """
    Gas charged by the simulator (no silent defaults: every figure is the caller's).

    Parameters
    ----------
    gas_price_wei : int
        Effective gas price.
    atomic_entry_gas : int
        Gas of one leveraged-entry bundle.
    per_transaction_gas : int
        Gas of one sequential-loop transaction (stake+supply, or borrow).
    """

    gas_price_wei: int
    atomic_entry_gas: int
    per_transaction_gas: int

    def __post_init__(self) -> None:
        if min(self.gas_price_wei, self.atomic_entry_gas, self.per_transaction_gas) < 0:
            raise InvalidOrder("gas figures must be non-negative")


@dataclass(slots=True)
class SimReserve:
    """
    One simulated AAVE reserve.

    Parameters
    ----------
    symbol : str
        Underlying symbol.
    configuration : ReserveConfiguration
        Risk parameters.
    state : ReserveIndexState
        Indices and rates.
    price : int
        Oracle price in base currency units.
    liquidity : int
        Underlying available to borrow or withdraw.
    """

    symbol: str
    configuration: ReserveConfiguration
    state: ReserveIndexState
    price: int
    liquidity: int


@dataclass(slots=True)
class _State:
    now: int
    reserves: dict[str, SimReserve]
    scaled_supply: dict[str, int] = field(default_factory=dict)
    scaled_debt: dict[str, int] = field(default_factory=dict)
    wallet: dict[str, int] = field(default_factory=dict)
    lst_pools: dict[str, LstPoolState] = field(default_factory=dict)
    e_mode: EModeCategory | None = None


class SimulatedOnchainVenue:
    """
    The backtest venue for AAVE v3 lending and LST staking.

    Parameters
    ----------
    reserves : list[SimReserve]
        Reserves at the start.
    lst_pools : dict[str, LstPoolState]
        LST pools by wrapped symbol (``WEETH``, ``WSTETH``).
    gas : GasModel
        Gas charged per transaction.
    gas_ledger : GasLedger
        The wallet's ETH for gas (share-class aware).
    start_timestamp : int
        Unix seconds of the first snapshot.
    """

    def __init__(
        self,
        *,
        reserves: list[SimReserve],
        lst_pools: dict[str, LstPoolState],
        gas: GasModel,
        gas_ledger: GasLedger,
        start_timestamp: int,
    ) -> None:
        self._state = _State(
            now=start_timestamp,
            reserves={r.symbol: r for r in reserves},
            lst_pools=dict(lst_pools),
        )
        self._gas = gas
        self.gas_ledger = gas_ledger
        self._order = 0

    # -- market inputs ----------------------------------------------------------------------

    def advance(self, timestamp: int, prices: dict[str, int] | None = None) -> None:
        """Move the clock to ``timestamp``, accrue every reserve and apply new oracle prices."""
        state = self._state
        if timestamp < state.now:
            raise InvalidOrder(f"timestamp {timestamp} precedes the venue clock {state.now}")
        for reserve in state.reserves.values():
            reserve.state = accrue(reserve.state, timestamp)
        for symbol, price in (prices or {}).items():
            self._reserve(state, symbol).price = price
        state.now = timestamp

    def set_lst_pool(self, symbol: str, pool: LstPoolState) -> None:
        """Apply an LST pool report (rebase: rewards accrue to the wrapped token's rate)."""
        self._state.lst_pools[symbol] = pool

    def set_e_mode(self, category: EModeCategory | None) -> None:
        """Enter (or leave, with ``None``) an e-mode category."""
        self._state.e_mode = category

    def deposit_to_wallet(self, symbol: str, amount: int) -> None:
        """Credit the wallet (equity arriving, e.g. from a CEX transfer)."""
        self._state.wallet[symbol] = self._state.wallet.get(symbol, 0) + amount

    # -- reads ------------------------------------------------------------------------------

    def wallet_balance(self, symbol: str) -> int:
        """Return a wallet token balance in base units."""
        return self._state.wallet.get(symbol, 0)

    def lst_pool(self, symbol: str) -> LstPoolState:
        """Return the simulated pool state of an LST (by wrapped symbol)."""
        return self._state.lst_pools[symbol]

    def scaled_balances(self, symbol: str) -> tuple[int, int]:
        """Return ``(scaled aToken, scaled variable debt)`` of a reserve."""
        return self._state.scaled_supply.get(symbol, 0), self._state.scaled_debt.get(symbol, 0)

    def supply_balance(self, symbol: str) -> int:
        """Underlying redeemable (``aToken.balanceOf``)."""
        reserve = self._state.reserves[symbol]
        return balance_of_scaled(self.scaled_balances(symbol)[0], reserve.state.liquidity_index)

    def debt_balance(self, symbol: str) -> int:
        """Underlying owed (``variableDebtToken.balanceOf``)."""
        reserve = self._state.reserves[symbol]
        return balance_of_scaled(self.scaled_balances(symbol)[1], reserve.state.variable_borrow_index)

    def account_data(self) -> AccountData:
        """``getUserAccountData`` of the simulated wallet."""
        return self._account(self._state)

    def balance_sheet(
        self, *, eth_usd_price: Decimal, cex_balances_usd: Decimal, base_unit: int = 10**8
    ) -> BalanceSheet:
        """
        Value the wallet (seed 003 decision 24) from scaled balances, indices and oracle prices.

        Parameters
        ----------
        eth_usd_price : Decimal
            ETH/USD used for ETH-denominated items (free ETH, free LSTs, gas debt).
        cex_balances_usd : Decimal
            The CEX accounts' value, supplied by the CEX side of the backtest.
        base_unit : int
            Oracle base currency unit (1e8 = 1 USD for AAVE's USD markets).
        """
        state = self._state
        collateral = Decimal(0)
        debt = Decimal(0)
        for symbol, reserve in state.reserves.items():
            unit = Decimal(10) ** reserve.configuration.decimals
            price = Decimal(reserve.price) / Decimal(base_unit)
            supply = balance_of_scaled(state.scaled_supply.get(symbol, 0), reserve.state.liquidity_index)
            owed = balance_of_scaled(state.scaled_debt.get(symbol, 0), reserve.state.variable_borrow_index)
            collateral += Decimal(supply) / unit * price
            debt += Decimal(owed) / unit * price
        free_lst_eth = Decimal(0)
        for symbol, pool in state.lst_pools.items():
            free_lst_eth += Decimal(state.wallet.get(symbol, 0)) / WEI_PER_ETH * pool.rate()
        free_usdt = Decimal(state.wallet.get("USDT", 0)) / Decimal(10**6)
        free_weth = Decimal(state.wallet.get("WETH", 0)) / WEI_PER_ETH
        return BalanceSheet(
            cex_balances_usd=cex_balances_usd,
            aave_collateral_usd=collateral,
            aave_debt_usd=debt,
            gas_debt_eth=self.gas_ledger.gas_debt_eth,
            free_eth=self.gas_ledger.free_eth + free_weth,
            free_usdt=free_usdt,
            free_lst_eth=free_lst_eth,
            eth_usd_price=eth_usd_price,
        )

    # -- operations (each one transaction) ------------------------------------------------

    def supply(self, symbol: str, amount: int, *, timestamp_ns: int) -> list[OnchainEvent]:
        """Supply from the wallet as one transaction; return its events."""
        return self._transaction("supply", timestamp_ns, lambda s: self._supply(s, symbol, amount))

    def borrow(self, symbol: str, amount: int, *, timestamp_ns: int) -> list[OnchainEvent]:
        """Borrow to the wallet as one transaction; return its events."""
        return self._transaction("borrow", timestamp_ns, lambda s: self._borrow(s, symbol, amount))

    def leveraged_entry(
        self,
        equity_wei: int,
        target_ltv: Decimal,
        *,
        lst_symbol: str,
        atomic: bool,
        timestamp_ns: int,
        min_step_wei: int,
    ) -> list[OnchainEvent]:
        """
        Enter a leveraged LST position, atomically (flash bundle) or by a sequential loop.

        Both consume ``equity_wei`` WETH from the wallet; the atomic path produces the
        decision-22 bundle events, the sequential path one event group per iteration.
        """
        if atomic:
            flash = flash_amount(equity_wei, target_ltv)

            def run(state: _State) -> list[BundleStepEvent]:
                self._take(state, "WETH", equity_wei)
                wrapped = self._stake(state, lst_symbol, equity_wei + flash)
                self._supply(state, lst_symbol, wrapped)
                self._borrow(state, "WETH", flash)
                self._take(state, "WETH", flash)
                return [
                    BundleStepEvent(OnchainEventType.FLASH_BORROW, "WETH", flash),
                    BundleStepEvent(OnchainEventType.STAKE_DEPOSIT, "ETH", equity_wei + flash),
                    BundleStepEvent(OnchainEventType.COLLATERAL_SUPPLIED, lst_symbol, wrapped),
                    BundleStepEvent(OnchainEventType.LOAN_CREATED, "WETH", flash),
                    BundleStepEvent(OnchainEventType.FLASH_REPAID, "WETH", flash),
                ]

            staged = copy.deepcopy(self._state)
            steps = run(staged)
            fee_wei = self._gas.atomic_entry_gas * self._gas.gas_price_wei
            self.gas_ledger.pay(gas_fee_eth(self._gas.atomic_entry_gas, self._gas.gas_price_wei))
            self._state = staged
            events = atomic_bundle_events(
                "LEVERAGE_ENTRY",
                steps,
                timestamp_ns=timestamp_ns,
                gas_fee_wei=fee_wei,
                first_order=self._order + 1,
            )
            self._order += len(events)
            return events
        schedule = sequential_loop_schedule(equity_wei, target_ltv, min_step_wei=min_step_wei)
        staged = copy.deepcopy(self._state)
        self._take(staged, "WETH", equity_wei)
        transactions = 0
        for step in schedule:
            wrapped = self._stake(staged, lst_symbol, step.stake)
            self._supply(staged, lst_symbol, wrapped)
            transactions += 1
            if step.borrow:
                self._borrow(staged, "WETH", step.borrow)
                self._take(staged, "WETH", step.borrow)
                transactions += 1
        per_tx_fee = self._gas.per_transaction_gas * self._gas.gas_price_wei
        self.gas_ledger.pay(
            gas_fee_eth(self._gas.per_transaction_gas * transactions, self._gas.gas_price_wei)
        )
        self._state = staged
        events = sequential_loop_events(
            schedule,
            timestamp_ns=timestamp_ns,
            lst_symbol=lst_symbol,
            borrow_symbol="WETH",
            gas_fee_wei_per_tx=per_tx_fee,
            first_order=self._order + 1,
        )
        self._order += len(events)
        return events

    # -- internals --------------------------------------------------------------------------

    def _transaction(
        self, name: str, timestamp_ns: int, action: Callable[[_State], BundleStepEvent]
    ) -> list[OnchainEvent]:
        staged = copy.deepcopy(self._state)
        step = action(staged)
        fee = self._gas.per_transaction_gas * self._gas.gas_price_wei
        self.gas_ledger.pay(gas_fee_eth(self._gas.per_transaction_gas, self._gas.gas_price_wei))
        self._state = staged
        events = [
            OnchainEvent(timestamp_ns, self._order + 1, OnchainEventType.GAS_FEE_PAID, "ETH", fee),
            OnchainEvent(timestamp_ns, self._order + 2, step.event, step.asset, step.amount),
        ]
        self._order += 2
        return events

    @staticmethod
    def _reserve(state: _State, symbol: str) -> SimReserve:
        try:
            return state.reserves[symbol]
        except KeyError as e:
            raise InvalidOrder(f"reserve {symbol!r} is not simulated", venue=VENUE) from e

    @staticmethod
    def _take(state: _State, symbol: str, amount: int) -> None:
        held = state.wallet.get(symbol, 0)
        if held < amount:
            raise InsufficientBalance(
                f"wallet holds {held} {symbol} base units, needs {amount}",
                venue=VENUE,
                details={"asset": symbol, "held": held, "needed": amount},
            )
        state.wallet[symbol] = held - amount

    def _account(self, state: _State) -> AccountData:
        positions = [
            UserReservePosition(
                asset=symbol,
                scaled_a_token_balance=state.scaled_supply.get(symbol, 0),
                scaled_variable_debt=state.scaled_debt.get(symbol, 0),
                normalized_income=reserve.state.liquidity_index,
                normalized_debt=reserve.state.variable_borrow_index,
                price=reserve.price,
                configuration=reserve.configuration,
            )
            for symbol, reserve in state.reserves.items()
        ]
        return user_account_data(positions, state.e_mode)

    def _stake(self, state: _State, lst_symbol: str, eth: int) -> int:
        pool = state.lst_pools.get(lst_symbol)
        if pool is None:
            raise InvalidOrder(f"LST {lst_symbol!r} is not simulated", venue=VENUE)
        outcome = stake_and_wrap(pool, eth)
        state.lst_pools[lst_symbol] = outcome.pool_after
        state.wallet[lst_symbol] = state.wallet.get(lst_symbol, 0) + outcome.wrapped_amount
        return outcome.wrapped_amount

    def _supply(self, state: _State, symbol: str, amount: int) -> BundleStepEvent:
        reserve = self._reserve(state, symbol)
        self._take(state, symbol, amount)
        scaled = scaled_amount(amount, reserve.state.liquidity_index)
        if scaled == 0:
            raise TransactionReverted(
                "supply reverted: INVALID_MINT_AMOUNT", venue=VENUE, details={"step": "supply"}
            )
        state.scaled_supply[symbol] = state.scaled_supply.get(symbol, 0) + scaled
        reserve.liquidity += amount
        return BundleStepEvent(OnchainEventType.COLLATERAL_SUPPLIED, symbol, amount)

    def _borrow(self, state: _State, symbol: str, amount: int) -> BundleStepEvent:
        reserve = self._reserve(state, symbol)
        if not reserve.configuration.borrowing_enabled:
            raise TransactionReverted(
                "borrow reverted: BORROWING_NOT_ENABLED", venue=VENUE, details={"step": "borrow"}
            )
        account = self._account(state)
        amount_base = value_in_base(amount, reserve.price, reserve.configuration.decimals)
        if not borrow_allowed(account, amount_base):
            raise TransactionReverted(
                "borrow reverted: COLLATERAL_CANNOT_COVER_NEW_BORROW",
                venue=VENUE,
                details={"step": "borrow", "reason": "COLLATERAL_CANNOT_COVER_NEW_BORROW"},
            )
        if reserve.liquidity < amount:
            raise TransactionReverted(
                "borrow reverted: not enough liquidity", venue=VENUE, details={"step": "borrow"}
            )
        scaled = scaled_amount(amount, reserve.state.variable_borrow_index)
        state.scaled_debt[symbol] = state.scaled_debt.get(symbol, 0) + scaled
        reserve.state = _with_debt(reserve.state, scaled)
        reserve.liquidity -= amount
        state.wallet[symbol] = state.wallet.get(symbol, 0) + amount
        after = self._account(state)
        if after.health_factor < HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
            raise TransactionReverted(
                "borrow reverted: HEALTH_FACTOR_LOWER_THAN_LIQUIDATION_THRESHOLD",
                venue=VENUE,
                details={"step": "borrow"},
            )
        return BundleStepEvent(OnchainEventType.LOAN_CREATED, symbol, amount)


def _with_debt(state: ReserveIndexState, scaled: int) -> ReserveIndexState:
    return replace(state, scaled_variable_debt=state.scaled_variable_debt + scaled)


__all__ = ["VENUE", "GasModel", "SimReserve", "SimulatedOnchainVenue"]
