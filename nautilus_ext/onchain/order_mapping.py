"""
Map unified Orders to protocol calls, and atomic groups to one bundle.

Each DeFi order becomes one or more bundle steps (spells on the wallet's DSA):

==========  ===============  ========================================================
operation   instrument type  steps
==========  ===============  ========================================================
supply      A_TOKEN          AAVE ``deposit`` of the underlying
withdraw    A_TOKEN          AAVE ``withdraw`` of the underlying
borrow      DEBT_TOKEN       AAVE variable ``borrow``
repay       DEBT_TOKEN       AAVE variable ``payback``
stake       LST              (unwrap WETH) → stake ETH → wrap (Lido wstETH, EtherFi weETH)
swap        POOL/SPOT_PAIR   exact-input sell bounded by the oracle and ``max_slippage``
transfer    SPOT_ASSET       ``BASIC-A.withdraw`` to ``function_params["to"]``
==========  ===============  ========================================================

Orders sharing ``atomic_group_id`` become one bundle in ``sequence_in_group`` order; a flash
loan wraps the group when its first order carries ``metadata["flash_loan"] = {"token": ...,
"amount": ...}`` (whole tokens). Amounts are whole-token Decimals converted exactly to base
units; an amount finer than the token's decimals is refused, never rounded.
``function_params={"amount": "all"}`` spends the DSA's whole balance (connector semantics).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NoRouteError
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.instruments import InstrumentType
from nautilus_ext.onchain.bundles import COWSWAP_VENUE
from nautilus_ext.onchain.bundles import AtomicBundle
from nautilus_ext.onchain.bundles import BundleKind
from nautilus_ext.onchain.bundles import BundleStep
from nautilus_ext.onchain.bundles import StepKind
from nautilus_ext.onchain.bundles import SwapBound
from nautilus_ext.onchain.bundles import TargetRange
from nautilus_ext.onchain.calculators.amm import min_amount_out
from nautilus_ext.onchain.calculators.amm import oracle_amount_out
from nautilus_ext.onchain.calculators.amm import unit_amount_wad
from nautilus_ext.onchain.calculators.lst import LstPoolState
from nautilus_ext.onchain.calculators.lst import stake_and_wrap
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext.onchain.spells import MAX_UINT256
from nautilus_ext.onchain.spells import aave_borrow
from nautilus_ext.onchain.spells import aave_deposit
from nautilus_ext.onchain.spells import aave_payback
from nautilus_ext.onchain.spells import aave_withdraw
from nautilus_ext.onchain.spells import amount_spell
from nautilus_ext.onchain.spells import basic_withdraw
from nautilus_ext.onchain.spells import flash_payback
from nautilus_ext.onchain.spells import swap_sell
from nautilus_ext.orders import AtomicGroup
from nautilus_ext.orders import Operation
from nautilus_ext.orders import Order

AAVE_VENUE_PREFIX: Final[str] = "AAVE_V3"
LST_PROTOCOLS: Final[dict[str, str]] = {"ETHERFI": "ETHERFI", "LIDO": "LIDO"}
_WRAPPED_BY_PROTOCOL: Final[dict[str, str]] = {"ETHERFI": "WEETH", "LIDO": "WSTETH"}


def _refuse(order: Order, message: str, *, route: bool = False) -> Exception:
    cls = NoRouteError if route else InvalidOrder
    return cls(
        f"order {order.operation_id}: {message}",
        order_id=order.operation_id,
        instrument_key=str(order.instrument_key),
    )


class OrderMapper:
    """
    Turn DeFi orders into bundle steps against the configured contracts.

    Parameters
    ----------
    clients : OnchainClients
        Protocol clients (LST pool state, quotes and oracle prices are read when mapping).
    """

    def __init__(self, clients: OnchainClients) -> None:
        self._c = clients
        self._config = clients.config

    # -- helpers --------------------------------------------------------------------------

    def _token(self, order: Order, symbol: str) -> tuple[str, int]:
        try:
            token = self._config.token(symbol)
        except KeyError as e:
            raise _refuse(order, f"token {symbol!r} is not configured") from e
        return token.address, token.decimals

    def _units(self, order: Order, amount: Decimal, decimals: int) -> int:
        if isinstance(order.function_params, dict) and order.function_params.get("amount") == "all":
            return MAX_UINT256
        scaled = amount.scaleb(decimals)
        if scaled != scaled.to_integral_value():
            raise _refuse(order, f"amount {amount} has more than {decimals} decimals")
        return int(scaled)

    def _check_chain(self, order: Order) -> None:
        chain = order.instrument_key.chain
        if chain is not None and chain != self._config.chain:
            raise _refuse(order, f"chain {chain} is not this module's chain {self._config.chain}", route=True)

    def _aave_asset(self, order: Order) -> str:
        key = order.instrument_key
        if not key.venue.startswith(AAVE_VENUE_PREFIX):
            raise _refuse(order, f"lending venue {key.venue} is not AAVE v3", route=True)
        if key.underlying_asset is None:
            raise _refuse(order, "instrument key names no underlying asset")
        return key.underlying_asset

    # -- one order ------------------------------------------------------------------------

    def steps_for(self, order: Order, lst_pools: dict[str, LstPoolState] | None = None) -> list[BundleStep]:
        """
        Return the bundle steps of one order.

        Parameters
        ----------
        order : Order
            A DeFi order (supply, withdraw, borrow, repay, stake, swap, transfer).
        lst_pools : dict[str, LstPoolState], optional
            LST pool states to stake against (updated in place so consecutive stakes in one
            bundle compound); read from chain when absent.

        Raises
        ------
        InvalidOrder
            The order cannot be expressed (unknown token, precision, missing parameters,
            CowSwap venue).
        NoRouteError
            No on-chain route (other chain, other lending venue, unstake).
        """
        self._check_chain(order)
        names = self._config.connectors
        op = order.operation
        if op in (Operation.SUPPLY, Operation.WITHDRAW, Operation.BORROW, Operation.REPAY):
            symbol = self._aave_asset(order)
            address, decimals = self._token(order, symbol)
            amount = self._units(order, order.amount, decimals)
            if op is Operation.SUPPLY:
                return [
                    BundleStep(
                        StepKind.SUPPLY,
                        symbol,
                        amount,
                        aave_deposit(names.aave_v3, address, amount),
                        "AAVE_V3",
                    )
                ]
            if op is Operation.WITHDRAW:
                return [
                    BundleStep(
                        StepKind.WITHDRAW,
                        symbol,
                        amount,
                        aave_withdraw(names.aave_v3, address, amount),
                        "AAVE_V3",
                    )
                ]
            if op is Operation.BORROW:
                return [
                    BundleStep(
                        StepKind.BORROW,
                        symbol,
                        amount,
                        aave_borrow(names.aave_v3, address, amount),
                        "AAVE_V3",
                    )
                ]
            return [
                BundleStep(
                    StepKind.REPAY,
                    symbol,
                    amount,
                    aave_payback(names.aave_v3, address, amount),
                    "AAVE_V3",
                )
            ]
        if op is Operation.STAKE:
            return self._stake_steps(order, lst_pools if lst_pools is not None else {})
        if op is Operation.SWAP:
            return [self._swap_step(order)]
        if op is Operation.TRANSFER:
            return [self._transfer_step(order)]
        if op is Operation.UNSTAKE:
            raise _refuse(
                order,
                "unstaking goes through the protocol's withdrawal queue and cannot complete in "
                "one transaction; swap the LST instead",
                route=True,
            )
        raise _refuse(order, f"operation {op} is not an on-chain operation", route=True)

    def _stake_steps(self, order: Order, pools: dict[str, LstPoolState]) -> list[BundleStep]:
        key = order.instrument_key
        protocol = LST_PROTOCOLS.get(key.venue)
        if protocol is None:
            raise _refuse(order, f"staking venue {key.venue} is not LIDO or ETHERFI", route=True)
        wrapped = _WRAPPED_BY_PROTOCOL[protocol]
        if key.payload != wrapped:
            raise _refuse(order, f"{protocol} stakes into {wrapped}, not {key.payload}")
        source = (order.source_token or "WETH").upper()
        if source not in ("ETH", "WETH"):
            raise _refuse(order, f"stake source token must be ETH or WETH, got {source}")
        eth = self._units(order, order.amount, 18)
        if eth == MAX_UINT256:
            raise _refuse(order, "stake needs an explicit amount")
        lst = self._c.lst(protocol)
        pool = pools.get(protocol) or lst.pool_state()
        outcome = stake_and_wrap(pool, eth)
        pools[protocol] = outcome.pool_after
        names = self._config.connectors
        stake_conn, wrap_conn = (
            (names.lido, names.wsteth) if protocol == "LIDO" else (names.etherfi, names.weeth)
        )
        steps: list[BundleStep] = []
        if source == "WETH":
            steps.append(
                BundleStep(
                    StepKind.UNWRAP_WETH,
                    "WETH",
                    eth,
                    amount_spell(names.weth, "withdraw", eth),
                    "WETH",
                )
            )
        steps += [
            BundleStep(StepKind.STAKE, "ETH", eth, amount_spell(stake_conn, "deposit", eth), protocol),
            BundleStep(
                StepKind.WRAP_LST,
                wrapped,
                outcome.rebasing_balance,
                amount_spell(wrap_conn, "deposit", outcome.rebasing_balance),
                protocol,
            ),
        ]
        return steps

    def _swap_step(self, order: Order) -> BundleStep:
        key = order.instrument_key
        if COWSWAP_VENUE in key.venue.upper() or (order.venue or "").upper() == COWSWAP_VENUE:
            raise InvalidOrder(
                f"order {order.operation_id}: CowSwap cannot execute inside an atomic bundle: "
                "its solvers settle off-chain in a separate transaction; route the swap "
                "through an on-chain DEX (Uniswap, Curve, 1inch)",
                order_id=order.operation_id,
                venue=COWSWAP_VENUE,
                details={"rule": "COWSWAP_IN_ATOMIC_BUNDLE"},
            )
        if key.instrument_type not in (InstrumentType.POOL, InstrumentType.SPOT_PAIR):
            raise _refuse(order, f"swap needs a POOL or SPOT_PAIR key, got {key.instrument_type}")
        if order.max_slippage is None:
            raise _refuse(order, "swap inside a bundle needs max_slippage (oracle-bounded)")
        sell, buy = str(order.source_token).upper(), str(order.target_token).upper()
        sell_addr, dec_in = self._token(order, sell)
        buy_addr, dec_out = self._token(order, buy)
        amount = self._units(order, order.amount, dec_in)
        if amount == MAX_UINT256:
            raise _refuse(order, "swap needs an explicit amount")
        aave = self._c.aave
        oracle_out = oracle_amount_out(amount, aave.asset_price(sell), aave.asset_price(buy), dec_in, dec_out)
        min_out = min_amount_out(oracle_out, order.max_slippage)
        quote = self._c.router.quote_out(amount, sell_addr, buy_addr)
        if quote < min_out:
            raise RiskBlocked(
                f"order {order.operation_id}: pool quotes {quote} {buy} for {amount} {sell}, "
                f"below the oracle bound {min_out} at max slippage {order.max_slippage}",
                order_id=order.operation_id,
                details={"rule": "SWAP_SLIPPAGE", "quote_out": quote, "min_out": min_out},
            )
        unit = unit_amount_wad(min_out, amount, dec_in, dec_out)
        return BundleStep(
            StepKind.SWAP,
            sell,
            amount,
            swap_sell(self._config.connectors.swap, buy_addr, sell_addr, amount, unit),
            key.venue,
            swap=SwapBound(sell, buy, amount, oracle_out, min_out, quote, order.max_slippage),
        )

    def _transfer_step(self, order: Order) -> BundleStep:
        params: dict[str, Any] = order.function_params or {}
        to = params.get("to")
        if not isinstance(to, str):
            raise _refuse(order, 'transfer needs function_params["to"] (recipient address)')
        symbol = order.instrument_key.payload
        address, decimals = self._token(order, symbol)
        amount = self._units(order, order.amount, decimals)
        return BundleStep(
            StepKind.TRANSFER,
            symbol,
            amount,
            basic_withdraw(self._config.connectors.basic, address, amount, to),
            "WALLET",
        )

    # -- atomic groups --------------------------------------------------------------------

    def bundle_for_group(self, group: AtomicGroup, *, target: TargetRange | None = None) -> AtomicBundle:
        """
        Return the single bundle executing ``group`` in ``sequence_in_group`` order.

        Raises
        ------
        InvalidOrder
            Any order cannot be mapped, the flash-loan metadata is malformed, or a step is
            routed to CowSwap.
        """
        pools: dict[str, LstPoolState] = {}
        steps: list[BundleStep] = []
        for order in group.orders:
            steps.extend(self.steps_for(order, pools))
        flash = self._flash_leg(group.orders)
        if flash is not None:
            symbol, amount = flash
            address, _ = self._token(group.orders[0], symbol)
            steps = [
                BundleStep(StepKind.FLASH_BORROW, symbol, amount, None, "MORPHO"),
                *steps,
                BundleStep(
                    StepKind.FLASH_REPAY,
                    symbol,
                    amount,
                    flash_payback(self._config.connectors.flash, address, amount),
                    "MORPHO",
                ),
            ]
        return AtomicBundle(
            kind=BundleKind.ORDER_GROUP,
            steps=tuple(steps),
            flash_connector=self._config.connectors.flash if flash else None,
            flash_route=self._config.flash_route,
            target=target,
        )

    def _flash_leg(self, orders: Sequence[Order]) -> tuple[str, int] | None:
        first = orders[0]
        meta = (first.metadata or {}).get("flash_loan")
        if meta is None:
            return None
        if not isinstance(meta, dict) or set(meta) != {"token", "amount"}:
            raise _refuse(first, 'metadata["flash_loan"] must be {"token": ..., "amount": ...}')
        symbol = str(meta["token"]).upper()
        _, decimals = self._token(first, symbol)
        try:
            amount = Decimal(str(meta["amount"]))
        except ArithmeticError as e:
            raise _refuse(first, f"flash loan amount {meta['amount']!r} is not a number") from e
        if not amount.is_finite() or amount <= 0:
            raise _refuse(first, f"flash loan amount {amount} must be positive")
        scaled = amount.scaleb(decimals)
        if scaled != scaled.to_integral_value():
            raise _refuse(first, f"flash loan amount {amount} has more than {decimals} decimals")
        return symbol, int(scaled)


__all__ = ["AAVE_VENUE_PREFIX", "LST_PROTOCOLS", "OrderMapper"]
