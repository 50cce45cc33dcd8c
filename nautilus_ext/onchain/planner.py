"""
Build atomic bundles from chain state with the pure calculators.

Every amount in a bundle is computed here, before sending: the flash amount from the leverage
math, LST amounts from the share math, swap sizes from the router's quote and their slippage
bounds from the AAVE oracle. The planner refuses (typed errors) rather than produce a bundle
that would land outside its target range.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from nautilus_ext.errors import InsufficientBalance
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.onchain.bundles import AtomicBundle
from nautilus_ext.onchain.bundles import BundleKind
from nautilus_ext.onchain.bundles import BundleStep
from nautilus_ext.onchain.bundles import StepKind
from nautilus_ext.onchain.bundles import SwapBound
from nautilus_ext.onchain.bundles import TargetRange
from nautilus_ext.onchain.calculators.aave import AccountData
from nautilus_ext.onchain.calculators.aave import UserReservePosition
from nautilus_ext.onchain.calculators.aave import scaled_amount
from nautilus_ext.onchain.calculators.aave import user_account_data
from nautilus_ext.onchain.calculators.amm import min_amount_out
from nautilus_ext.onchain.calculators.amm import oracle_amount_out
from nautilus_ext.onchain.calculators.amm import unit_amount_wad
from nautilus_ext.onchain.calculators.leverage import deleverage_repay_for_target
from nautilus_ext.onchain.calculators.leverage import flash_amount
from nautilus_ext.onchain.calculators.leverage import unwind_withdraw_value
from nautilus_ext.onchain.calculators.lst import stake_and_wrap
from nautilus_ext.onchain.calculators.ray_math import WAD
from nautilus_ext.onchain.chain import ChainGateway
from nautilus_ext.onchain.clients import AaveV3Client
from nautilus_ext.onchain.clients import Erc20Client
from nautilus_ext.onchain.clients import InstadappClient
from nautilus_ext.onchain.clients import LstClient
from nautilus_ext.onchain.clients import MorphoClient
from nautilus_ext.onchain.clients import SwapRouterClient
from nautilus_ext.onchain.config import OnchainConfig
from nautilus_ext.onchain.spells import MAX_UINT256
from nautilus_ext.onchain.spells import aave_borrow
from nautilus_ext.onchain.spells import aave_deposit
from nautilus_ext.onchain.spells import aave_payback
from nautilus_ext.onchain.spells import aave_set_emode
from nautilus_ext.onchain.spells import aave_withdraw
from nautilus_ext.onchain.spells import amount_spell
from nautilus_ext.onchain.spells import basic_withdraw
from nautilus_ext.onchain.spells import flash_payback
from nautilus_ext.onchain.spells import swap_sell

AAVE_VENUE: Final[str] = "AAVE_V3"
SWAP_VENUE: Final[str] = "UNISWAP-V2"
DEFAULT_LTV_TOLERANCE: Final[Decimal] = Decimal("0.005")
DEFAULT_MIN_HEALTH_FACTOR: Final[Decimal] = Decimal("1.02")


def _ltv(account: AccountData) -> Decimal:
    return account.current_ltv()


def _hf(account: AccountData) -> Decimal | None:
    if account.total_debt_base == 0:
        return None
    return Decimal(account.health_factor) / Decimal(WAD)


class OnchainClients:
    """
    The clients a planner and an executor share (built once, reused).

    Parameters
    ----------
    gateway : ChainGateway
        The chain boundary.
    config : OnchainConfig
        Addresses and limits.
    """

    def __init__(self, gateway: ChainGateway, config: OnchainConfig) -> None:
        self.gateway = gateway
        self.config = config
        self.aave = AaveV3Client(gateway, config)
        self.erc20 = Erc20Client(gateway, config)
        self.dsa = InstadappClient(gateway, config)
        self.router = SwapRouterClient(gateway, config)
        self.morpho = MorphoClient(gateway, config)
        self._lst: dict[str, LstClient] = {}

    def lst(self, protocol: str) -> LstClient:
        """Liquid staking client for ``LIDO`` or ``ETHERFI``."""
        key = protocol.upper()
        if key not in self._lst:
            self._lst[key] = LstClient(self.gateway, key, self.config)
        return self._lst[key]


class BundlePlanner:
    """
    Plan the atomic operations of seed 000 for the wallet's DSA.

    Parameters
    ----------
    clients : OnchainClients
        Protocol clients.
    ltv_tolerance : Decimal
        Accepted distance between the achieved and the target LTV.
    min_health_factor : Decimal
        Least health factor a bundle may leave.
    """

    def __init__(
        self,
        clients: OnchainClients,
        *,
        ltv_tolerance: Decimal = DEFAULT_LTV_TOLERANCE,
        min_health_factor: Decimal = DEFAULT_MIN_HEALTH_FACTOR,
    ) -> None:
        self._c = clients
        self._config = clients.config
        self._ltv_tolerance = ltv_tolerance
        self._min_hf = min_health_factor

    # -- helpers --------------------------------------------------------------------------

    def _addr(self, symbol: str) -> str:
        try:
            return self._config.token(symbol).address
        except KeyError as e:
            raise InvalidOrder(str(e.args[0])) from e

    def _emode_prelude(self) -> list[BundleStep]:
        category = self._config.e_mode_category
        if category == 0 or self._c.aave.user_e_mode(self._config.dsa) == category:
            return []
        return [
            BundleStep(
                StepKind.SET_EMODE,
                "EMODE",
                category,
                aave_set_emode(self._config.connectors.aave_v3, category),
                AAVE_VENUE,
            )
        ]

    def _predict(
        self,
        deltas: dict[str, tuple[int, int]],
        *,
        e_mode: int,
        aave: AaveV3Client | None = None,
    ) -> AccountData:
        """Account data after adding ``(supply, debt)`` underlying deltas per symbol, now."""
        market = aave or self._c.aave
        now = self._c.gateway.block_timestamp()
        symbols = sorted({*self._position_symbols(market), *deltas})
        positions: list[UserReservePosition] = []
        positions_now = market.user_positions(self._config.dsa, symbols, now, priced=set(deltas))
        for position in positions_now:
            supply_delta, debt_delta = deltas.get(position.asset, (0, 0))
            scaled_supply = position.scaled_a_token_balance + _scaled_delta(
                supply_delta, position.normalized_income
            )
            scaled_debt = position.scaled_variable_debt + _scaled_delta(debt_delta, position.normalized_debt)
            positions.append(
                UserReservePosition(
                    asset=position.asset,
                    scaled_a_token_balance=max(scaled_supply, 0),
                    scaled_variable_debt=max(scaled_debt, 0),
                    normalized_income=position.normalized_income,
                    normalized_debt=position.normalized_debt,
                    price=position.price,
                    configuration=position.configuration,
                    using_as_collateral=position.using_as_collateral,
                )
            )
        category = market.e_mode_category(e_mode) if e_mode else None
        return user_account_data(positions, category)

    def _position_symbols(self, market: AaveV3Client) -> list[str]:
        reserves = {a.lower() for a in market.reserves_list()}
        return [t.symbol for t in self._config.tokens if t.address.lower() in reserves]

    def _current_emode(self) -> int:
        return self._c.aave.user_e_mode(self._config.dsa)

    def _entry_emode(self, prelude: list[BundleStep]) -> int:
        return self._config.e_mode_category if prelude else self._current_emode()

    def _target_around(self, predicted: AccountData) -> TargetRange:
        ltv = _ltv(predicted)
        hf = _hf(predicted)
        if hf is not None and hf < self._min_hf:
            raise RiskBlocked(
                f"bundle would leave health factor {hf:.4f} below {self._min_hf}",
                venue=AAVE_VENUE,
                details={"rule": "MIN_HEALTH_FACTOR", "predicted_health_factor": str(hf)},
            )
        return TargetRange(
            min_ltv=max(Decimal(0), ltv - self._ltv_tolerance),
            max_ltv=min(Decimal("0.999"), ltv + self._ltv_tolerance),
            min_health_factor=self._min_hf,
        )

    def _check_target(self, predicted: AccountData, target_ltv: Decimal) -> None:
        ltv = _ltv(predicted)
        if abs(ltv - target_ltv) > self._ltv_tolerance:
            raise RiskBlocked(
                f"bundle would reach LTV {ltv:.6f}, target {target_ltv} ± {self._ltv_tolerance}",
                venue=AAVE_VENUE,
                details={"rule": "TARGET_LTV_RANGE", "predicted_ltv": str(ltv)},
            )

    def _require_dsa_balance(self, symbol: str, amount: int) -> None:
        held = self._c.erc20.balance_of(symbol, self._config.dsa)
        if held < amount:
            raise InsufficientBalance(
                f"DSA holds {held} {symbol} base units, the bundle needs {amount}",
                venue=AAVE_VENUE,
                details={"asset": symbol, "held": held, "needed": amount},
            )

    def _require_flash_liquidity(self, symbol: str, amount: int) -> None:
        available = self._c.morpho.flash_liquidity(symbol)
        if available < amount:
            raise InsufficientBalance(
                f"Morpho can flash-lend {available} {symbol} base units, bundle needs {amount}",
                venue="MORPHO",
                details={"asset": symbol, "available": available, "needed": amount},
            )

    def _flash(self, symbol: str, amount: int) -> tuple[BundleStep, BundleStep]:
        self._require_flash_liquidity(symbol, amount)
        conn = self._config.connectors.flash
        borrow = BundleStep(StepKind.FLASH_BORROW, symbol, amount, None, "MORPHO")
        repay = BundleStep(
            StepKind.FLASH_REPAY,
            symbol,
            amount,
            flash_payback(conn, self._addr(symbol), amount),
            "MORPHO",
        )
        return borrow, repay

    def _stake_steps(self, protocol: str, eth_wei: int) -> tuple[list[BundleStep], str, int]:
        """Unwrap WETH, stake, wrap: return steps, wrapped symbol and wrapped amount."""
        lst = self._c.lst(protocol)
        outcome = stake_and_wrap(lst.pool_state(), eth_wei)
        names = self._config.connectors
        stake_conn, wrap_conn = (
            (names.lido, names.wsteth) if lst.protocol == "LIDO" else (names.etherfi, names.weeth)
        )
        steps = [
            BundleStep(
                StepKind.UNWRAP_WETH,
                "WETH",
                eth_wei,
                amount_spell(names.weth, "withdraw", eth_wei),
                "WETH",
            ),
            BundleStep(
                StepKind.STAKE,
                "ETH",
                eth_wei,
                amount_spell(stake_conn, "deposit", eth_wei),
                lst.protocol,
            ),
            BundleStep(
                StepKind.WRAP_LST,
                lst.wrapped_symbol,
                outcome.rebasing_balance,
                amount_spell(wrap_conn, "deposit", outcome.rebasing_balance),
                lst.protocol,
            ),
        ]
        return steps, lst.wrapped_symbol, outcome.wrapped_amount

    def _swap_step(self, sell: str, buy: str, amount_out_needed: int, max_slippage: Decimal) -> BundleStep:
        """A swap selling just enough ``sell`` for ``amount_out_needed``, oracle-bounded."""
        sell_addr, buy_addr = self._addr(sell), self._addr(buy)
        sell_amount = self._c.router.quote_in(amount_out_needed, sell_addr, buy_addr)
        quote_out = self._c.router.quote_out(sell_amount, sell_addr, buy_addr)
        dec_in = self._config.token(sell).decimals
        dec_out = self._config.token(buy).decimals
        oracle_out = oracle_amount_out(
            sell_amount,
            self._c.aave.asset_price(sell),
            self._c.aave.asset_price(buy),
            dec_in,
            dec_out,
        )
        min_out = min_amount_out(oracle_out, max_slippage)
        if quote_out < min_out:
            raise RiskBlocked(
                f"swap {sell_amount} {sell} -> {buy}: pool quotes {quote_out}, oracle bound "
                f"with max slippage {max_slippage} needs at least {min_out}",
                venue=SWAP_VENUE,
                details={
                    "rule": "SWAP_SLIPPAGE",
                    "quote_out": quote_out,
                    "oracle_out": oracle_out,
                    "min_out": min_out,
                },
            )
        bound = SwapBound(
            sell_symbol=sell,
            buy_symbol=buy,
            sell_amount=sell_amount,
            oracle_out=oracle_out,
            min_out=min_out,
            quote_out=quote_out,
            max_slippage=max_slippage,
        )
        unit = unit_amount_wad(min_out, sell_amount, dec_in, dec_out)
        return BundleStep(
            StepKind.SWAP,
            sell,
            sell_amount,
            swap_sell(self._config.connectors.swap, buy_addr, sell_addr, sell_amount, unit),
            SWAP_VENUE,
            swap=bound,
        )

    def _bundle(
        self,
        kind: BundleKind,
        steps: list[BundleStep],
        predicted: AccountData,
        target: TargetRange,
    ) -> AtomicBundle:
        return AtomicBundle(
            kind=kind,
            steps=tuple(steps),
            flash_connector=self._config.connectors.flash,
            flash_route=self._config.flash_route,
            target=target,
            predicted_ltv=_ltv(predicted),
            predicted_health_factor=_hf(predicted),
        )

    # -- entries --------------------------------------------------------------------------

    def leveraged_staking_entry(
        self, equity_wei: int, target_ltv: Decimal, *, protocol: str = "ETHERFI"
    ) -> AtomicBundle:
        """
        Flash borrow F WETH → stake E+F ETH → wrap → supply the LST → borrow F WETH → repay.

        Parameters
        ----------
        equity_wei : int
            WETH equity ``E`` already held by the DSA.
        target_ltv : Decimal
            ``λ``; ``F = λ/(1-λ)·E``.
        protocol : str
            ``ETHERFI`` (weETH) or ``LIDO`` (wstETH).
        """
        flash = flash_amount(equity_wei, target_ltv)
        self._require_dsa_balance("WETH", equity_wei)
        prelude = self._emode_prelude()
        borrow_flash, repay_flash = self._flash("WETH", flash)
        stake_steps, lst_symbol, lst_amount = self._stake_steps(protocol, equity_wei + flash)
        conn = self._config.connectors.aave_v3
        steps = [
            *prelude,
            borrow_flash,
            *stake_steps,
            BundleStep(
                StepKind.SUPPLY,
                lst_symbol,
                lst_amount,
                aave_deposit(conn, self._addr(lst_symbol), lst_amount),
                AAVE_VENUE,
            ),
            BundleStep(
                StepKind.BORROW,
                "WETH",
                flash,
                aave_borrow(conn, self._addr("WETH"), flash),
                AAVE_VENUE,
            ),
            repay_flash,
        ]
        predicted = self._predict(
            {lst_symbol: (lst_amount, 0), "WETH": (0, flash)}, e_mode=self._entry_emode(prelude)
        )
        self._check_target(predicted, target_ltv)
        return self._bundle(
            BundleKind.LEVERAGED_STAKING_ENTRY, steps, predicted, self._target_around(predicted)
        )

    def leveraged_lending_entry(
        self, equity: int, target_ltv: Decimal, *, symbol: str = "WETH"
    ) -> AtomicBundle:
        """Flash borrow F → supply E+F → borrow F → repay (same asset, e-mode when set)."""
        flash = flash_amount(equity, target_ltv)
        self._require_dsa_balance(symbol, equity)
        prelude = self._emode_prelude() if symbol == "WETH" else []
        borrow_flash, repay_flash = self._flash(symbol, flash)
        conn = self._config.connectors.aave_v3
        addr = self._addr(symbol)
        steps = [
            *prelude,
            borrow_flash,
            BundleStep(
                StepKind.SUPPLY,
                symbol,
                equity + flash,
                aave_deposit(conn, addr, equity + flash),
                AAVE_VENUE,
            ),
            BundleStep(StepKind.BORROW, symbol, flash, aave_borrow(conn, addr, flash), AAVE_VENUE),
            repay_flash,
        ]
        predicted = self._predict({symbol: (equity + flash, flash)}, e_mode=self._entry_emode(prelude))
        self._check_target(predicted, target_ltv)
        return self._bundle(
            BundleKind.LEVERAGED_LENDING_ENTRY, steps, predicted, self._target_around(predicted)
        )

    # -- exits and rebalancing ------------------------------------------------------------

    def partial_unwind(
        self,
        repay_wei: int,
        target_ltv: Decimal,
        *,
        lst_symbol: str = "WEETH",
        max_slippage: Decimal,
        cash_out_to: str | None = None,
    ) -> AtomicBundle:
        """
        Flash borrow R → repay R → withdraw LST worth R/λ → swap LST → WETH → flash repay R.

        The LST left after the swap is the cash-out; with ``cash_out_to`` it is sent there.
        """
        if repay_wei <= 0:
            raise InvalidOrder(f"repay amount {repay_wei} must be positive")
        withdraw_value = unwind_withdraw_value(repay_wei, target_ltv)
        price_weth = self._c.aave.asset_price("WETH")
        price_lst = self._c.aave.asset_price(lst_symbol)
        withdraw_lst = withdraw_value * price_weth // price_lst
        swap = self._swap_step(lst_symbol, "WETH", repay_wei, max_slippage)
        if swap.amount > withdraw_lst:
            raise InvalidOrder(
                f"withdrawing {withdraw_lst} {lst_symbol} cannot cover a {repay_wei} WETH flash "
                f"repayment (swap needs {swap.amount}); lower the target LTV or the repay size"
            )
        borrow_flash, repay_flash = self._flash("WETH", repay_wei)
        conn = self._config.connectors.aave_v3
        steps = [
            borrow_flash,
            BundleStep(
                StepKind.REPAY,
                "WETH",
                repay_wei,
                aave_payback(conn, self._addr("WETH"), repay_wei),
                AAVE_VENUE,
            ),
            BundleStep(
                StepKind.WITHDRAW,
                lst_symbol,
                withdraw_lst,
                aave_withdraw(conn, self._addr(lst_symbol), withdraw_lst),
                AAVE_VENUE,
            ),
            swap,
        ]
        if cash_out_to is not None:
            remaining = withdraw_lst - swap.amount
            steps.append(
                BundleStep(
                    StepKind.TRANSFER,
                    lst_symbol,
                    remaining,
                    basic_withdraw(
                        self._config.connectors.basic,
                        self._addr(lst_symbol),
                        remaining,
                        cash_out_to,
                    ),
                    "WALLET",
                )
            )
        steps.append(repay_flash)
        predicted = self._predict(
            {lst_symbol: (-withdraw_lst, 0), "WETH": (0, -repay_wei)}, e_mode=self._current_emode()
        )
        return self._bundle(BundleKind.PARTIAL_UNWIND, steps, predicted, self._target_around(predicted))

    def full_unwind(
        self,
        *,
        lst_symbol: str = "WEETH",
        max_slippage: Decimal,
        interest_buffer_bps: int = 10,
        send_to: str | None = None,
    ) -> AtomicBundle:
        """
        Flash borrow the debt (plus an interest buffer) → repay all → withdraw all → swap just
        enough LST to repay the flash loan → flash repay; optionally send what is left.
        """
        if not 0 <= interest_buffer_bps <= 1000:
            raise InvalidOrder(f"interest buffer {interest_buffer_bps} bps must be in [0, 1000]")
        now = self._c.gateway.block_timestamp()
        positions = {
            p.asset: p for p in self._c.aave.user_positions(self._config.dsa, ["WETH", lst_symbol], now)
        }
        debt = positions["WETH"].debt_balance
        collateral = positions[lst_symbol].supply_balance
        if debt == 0:
            raise InvalidOrder("no WETH debt to unwind")
        flash = debt + debt * interest_buffer_bps // 10_000 + 1
        swap = self._swap_step(lst_symbol, "WETH", flash, max_slippage)
        if swap.amount > collateral:
            raise InvalidOrder(
                f"collateral {collateral} {lst_symbol} cannot cover the {flash} WETH flash loan"
            )
        borrow_flash, repay_flash = self._flash("WETH", flash)
        conn = self._config.connectors.aave_v3
        steps = [
            borrow_flash,
            BundleStep(
                StepKind.REPAY,
                "WETH",
                MAX_UINT256,
                aave_payback(conn, self._addr("WETH"), MAX_UINT256),
                AAVE_VENUE,
            ),
            BundleStep(
                StepKind.WITHDRAW,
                lst_symbol,
                MAX_UINT256,
                aave_withdraw(conn, self._addr(lst_symbol), MAX_UINT256),
                AAVE_VENUE,
            ),
            swap,
        ]
        if send_to is not None:
            steps.append(
                BundleStep(
                    StepKind.TRANSFER,
                    lst_symbol,
                    MAX_UINT256,
                    basic_withdraw(
                        self._config.connectors.basic,
                        self._addr(lst_symbol),
                        MAX_UINT256,
                        send_to,
                    ),
                    "WALLET",
                )
            )
        steps.append(repay_flash)
        predicted = self._predict(
            {lst_symbol: (-collateral, 0), "WETH": (0, -debt)}, e_mode=self._current_emode()
        )
        target = TargetRange(min_ltv=Decimal(0), max_ltv=Decimal(0), min_health_factor=self._min_hf)
        return self._bundle(BundleKind.FULL_UNWIND, steps, predicted, target)

    def ltv_adjustment(
        self,
        target_ltv: Decimal,
        *,
        protocol: str = "ETHERFI",
        max_slippage: Decimal,
    ) -> AtomicBundle:
        """
        Move the LST/WETH position to ``target_ltv``.

        Down: flash R → repay R → withdraw the LST a swap needs for R → swap → flash repay.
        Up: flash F → stake F → supply → borrow F → flash repay, with
        ``F = (λC - D)/(1-λ)``.
        """
        lst = self._c.lst(protocol)
        account = self._c.aave.account_data(self._config.dsa)
        if account.total_collateral_base == 0:
            raise InvalidOrder("no collateral: nothing to adjust")
        price_weth = self._c.aave.asset_price("WETH")
        current = _ltv(account)
        conn = self._config.connectors.aave_v3
        if target_ltv < current:
            # Selling collateral worth W to repay R costs W = k·R with k > 1 (fee, price
            # impact): solve (D - R) / (C - k·R) = λ, re-quoting k until R settles.
            num, den = target_ltv.as_integer_ratio()
            price_lst = self._c.aave.asset_price(lst.wrapped_symbol)
            repay = (
                deleverage_repay_for_target(
                    account.total_collateral_base, account.total_debt_base, target_ltv
                )
                * WAD
                // price_weth
            )
            swap = self._swap_step(lst.wrapped_symbol, "WETH", repay, max_slippage)
            for _ in range(4):
                sold_base = swap.amount * price_lst // WAD
                repay_base = repay * price_weth // WAD
                excess = den * account.total_debt_base - num * account.total_collateral_base
                denominator = den * repay_base - num * sold_base
                if denominator <= 0:
                    raise InvalidOrder("swap costs too much collateral to reach the target LTV")
                next_repay = excess * repay // denominator
                if next_repay == repay:
                    break
                repay = next_repay
                swap = self._swap_step(lst.wrapped_symbol, "WETH", repay, max_slippage)
            borrow_flash, repay_flash = self._flash("WETH", repay)
            steps = [
                borrow_flash,
                BundleStep(
                    StepKind.REPAY,
                    "WETH",
                    repay,
                    aave_payback(conn, self._addr("WETH"), repay),
                    AAVE_VENUE,
                ),
                BundleStep(
                    StepKind.WITHDRAW,
                    lst.wrapped_symbol,
                    swap.amount,
                    aave_withdraw(conn, lst.wrapped_address, swap.amount),
                    AAVE_VENUE,
                ),
                swap,
                repay_flash,
            ]
            deltas = {lst.wrapped_symbol: (-swap.amount, 0), "WETH": (0, -repay)}
        else:
            num, den = target_ltv.as_integer_ratio()
            extra_base = (num * account.total_collateral_base - den * account.total_debt_base) // (den - num)
            flash = extra_base * WAD // price_weth
            if flash <= 0:
                raise InvalidOrder(f"position already at LTV {current:.6f}")
            borrow_flash, repay_flash = self._flash("WETH", flash)
            stake_steps, lst_symbol, lst_amount = self._stake_steps(protocol, flash)
            steps = [
                borrow_flash,
                *stake_steps,
                BundleStep(
                    StepKind.SUPPLY,
                    lst_symbol,
                    lst_amount,
                    aave_deposit(conn, self._addr(lst_symbol), lst_amount),
                    AAVE_VENUE,
                ),
                BundleStep(
                    StepKind.BORROW,
                    "WETH",
                    flash,
                    aave_borrow(conn, self._addr("WETH"), flash),
                    AAVE_VENUE,
                ),
                repay_flash,
            ]
            deltas = {lst_symbol: (lst_amount, 0), "WETH": (0, flash)}
        predicted = self._predict(deltas, e_mode=self._current_emode())
        self._check_target(predicted, target_ltv)
        return self._bundle(BundleKind.LTV_ADJUSTMENT, steps, predicted, self._target_around(predicted))

    def protocol_migration(
        self,
        market_name: str,
        *,
        lst_symbol: str = "WEETH",
        interest_buffer_bps: int = 10,
    ) -> AtomicBundle:
        """
        Move the LST/WETH position to another AAVE-v3-compatible market in one transaction.

        Flash borrow the debt (plus an interest buffer) → repay everything on the current
        market → withdraw all collateral → supply it on the new market → borrow the flash
        amount there → flash repay. The buffer's unused WETH stays in the DSA.
        """
        if not 0 <= interest_buffer_bps <= 1000:
            raise InvalidOrder(f"interest buffer {interest_buffer_bps} bps must be in [0, 1000]")
        try:
            market = self._config.market(market_name)
        except KeyError as e:
            raise InvalidOrder(str(e.args[0])) from e
        target = AaveV3Client(self._c.gateway, self._config, pool=market.pool, oracle=market.oracle)
        now = self._c.gateway.block_timestamp()
        positions = {
            p.asset: p for p in self._c.aave.user_positions(self._config.dsa, ["WETH", lst_symbol], now)
        }
        debt = positions["WETH"].debt_balance
        collateral = positions[lst_symbol].supply_balance
        if collateral == 0:
            raise InvalidOrder(f"no {lst_symbol} collateral to migrate")
        flash = debt + debt * interest_buffer_bps // 10_000 + 1 if debt else 0
        source_conn = self._config.connectors.aave_v3
        steps: list[BundleStep] = []
        if market.e_mode_category and target.user_e_mode(self._config.dsa) != market.e_mode_category:
            steps.append(
                BundleStep(
                    StepKind.SET_EMODE,
                    "EMODE",
                    market.e_mode_category,
                    aave_set_emode(market.connector, market.e_mode_category),
                    market.name,
                )
            )
        body = [
            BundleStep(
                StepKind.WITHDRAW,
                lst_symbol,
                MAX_UINT256,
                aave_withdraw(source_conn, self._addr(lst_symbol), MAX_UINT256),
                AAVE_VENUE,
            ),
            BundleStep(
                StepKind.SUPPLY,
                lst_symbol,
                MAX_UINT256,
                aave_deposit(market.connector, self._addr(lst_symbol), MAX_UINT256),
                market.name,
            ),
        ]
        if flash:
            borrow_flash, repay_flash = self._flash("WETH", flash)
            steps += [
                borrow_flash,
                BundleStep(
                    StepKind.REPAY,
                    "WETH",
                    MAX_UINT256,
                    aave_payback(source_conn, self._addr("WETH"), MAX_UINT256),
                    AAVE_VENUE,
                ),
                *body,
                BundleStep(
                    StepKind.BORROW,
                    "WETH",
                    flash,
                    aave_borrow(market.connector, self._addr("WETH"), flash),
                    market.name,
                ),
                repay_flash,
            ]
        else:
            steps += body
        e_mode = market.e_mode_category or target.user_e_mode(self._config.dsa)
        predicted = self._predict(
            {lst_symbol: (collateral, 0), "WETH": (0, flash)}, e_mode=e_mode, aave=target
        )
        return AtomicBundle(
            kind=BundleKind.PROTOCOL_MIGRATION,
            steps=tuple(steps),
            flash_connector=self._config.connectors.flash if flash else None,
            flash_route=self._config.flash_route,
            target=self._target_around(predicted),
            predicted_ltv=_ltv(predicted),
            predicted_health_factor=_hf(predicted),
            post_check_pool=market.pool,
        )


def _scaled_delta(amount: int, index: int) -> int:
    if amount == 0:
        return 0
    magnitude = scaled_amount(abs(amount), index)
    return magnitude if amount > 0 else -magnitude


__all__ = ["AAVE_VENUE", "SWAP_VENUE", "BundlePlanner", "OnchainClients"]
