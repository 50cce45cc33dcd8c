"""
Swap planning and router calls: the venue knowledge the gated executor
(:mod:`nautilus_ext.onchain.swaps`) uses.

* :func:`plan_swap` quotes an exact-input swap with the pure math against a pool snapshot and
  sets ``amountOutMinimum = floor(quote × (1 − max_slippage))`` and the deadline.
* :func:`check_oracle` is the manipulation guard: the minimum output must be worth at least
  ``(1 − max_oracle_deviation)`` of the input at the oracle price, else the pool's price is not
  trusted and the swap is refused (``RISK_BLOCKED``, rule ``ORACLE_DEVIATION``).
* :func:`router_call` builds the real router call: Uniswap V2 Router02
  ``swapExactTokensForTokens``, V3 SwapRouter ``exactInputSingle``, Balancer Vault ``swap``
  (``GIVEN_IN``), each carrying the minimum and the deadline, and names the spender to approve.
* :func:`swap_transfers` reads what a mined swap moved (ERC-20 ``Transfer`` logs).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR
from decimal import Decimal
from typing import Any

from nautilus_ext.adapters.dex.config import DexConfig
from nautilus_ext.adapters.dex.config import DexToken
from nautilus_ext.adapters.dex.constants import BALANCER_GIVEN_IN
from nautilus_ext.adapters.dex.constants import BALANCER_VAULT_ABI
from nautilus_ext.adapters.dex.constants import ERC20_ABI
from nautilus_ext.adapters.dex.constants import V2_ROUTER_ABI
from nautilus_ext.adapters.dex.constants import V3_ROUTER_ABI
from nautilus_ext.adapters.dex.constants import PoolKind
from nautilus_ext.adapters.dex.data import PoolSnapshot
from nautilus_ext.adapters.dex.providers import DexPool
from nautilus_ext.adapters.dex.rpc import translate
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import RiskBlocked

_TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"


@dataclass(frozen=True, slots=True)
class SwapPlan:
    """
    One exact-input swap, quoted and bounded, before any transaction.

    Parameters
    ----------
    pool : DexPool
        The pool.
    token_in, token_out : DexToken
        What is sold and bought.
    amount_in : int
        Input, base units.
    quote_out : int
        Output the pure math gives against the snapshot, base units.
    min_out : int
        ``amountOutMinimum``: ``floor(quote_out × (1 − max_slippage))``.
    max_slippage : Decimal
        The slippage bound used.
    deadline : int
        UNIX seconds after which the router reverts.
    block_number : int
        The block of the pool state quoted.
    price_impact : Decimal
        ``1 − quote_out / (amount_in × marginal price)``: the swap's own impact, LP fee excluded.
    """

    pool: DexPool
    token_in: DexToken
    token_out: DexToken
    amount_in: int
    quote_out: int
    min_out: int
    max_slippage: Decimal
    deadline: int
    block_number: int
    price_impact: Decimal

    @property
    def amount_in_tokens(self) -> Decimal:
        """Input in whole tokens."""
        return Decimal(self.amount_in).scaleb(-self.token_in.decimals)

    @property
    def quote_out_tokens(self) -> Decimal:
        """Quoted output in whole tokens."""
        return Decimal(self.quote_out).scaleb(-self.token_out.decimals)

    @property
    def min_out_tokens(self) -> Decimal:
        """Minimum output in whole tokens."""
        return Decimal(self.min_out).scaleb(-self.token_out.decimals)


def min_amount_out(quote_out: int, max_slippage: Decimal) -> int:
    """Return ``floor(quote_out × (1 − max_slippage))`` (``max_slippage`` in [0, 1))."""
    if not Decimal(0) <= max_slippage < 1:
        raise InvalidOrder(f"max_slippage {max_slippage} is outside [0, 1)")
    return int((Decimal(quote_out) * (1 - max_slippage)).to_integral_value(rounding=ROUND_FLOOR))


def plan_swap(
    snapshot: PoolSnapshot,
    token_in: str,
    token_out: str,
    amount_in: int,
    *,
    max_slippage: Decimal,
    deadline: int,
) -> SwapPlan:
    """
    Quote selling ``amount_in`` of ``token_in`` for ``token_out`` in ``snapshot``'s pool.

    Raises
    ------
    InvalidOrder
        The pool lacks a token, the amount is not positive, or the pool would revert
        (:class:`~nautilus_ext.dex.SwapRefused` with the contract's reason).
    """
    pool = snapshot.pool
    if amount_in <= 0:
        raise InvalidOrder(f"swap amount {amount_in} must be positive")
    try:
        i, j = pool.index(token_in), pool.index(token_out)
    except KeyError as e:
        raise InvalidOrder(str(e.args[0])) from None
    quote = snapshot.state.swap_exact_input(i, j, amount_in)
    if quote.amount_out <= 0:
        raise InvalidOrder(f"swap of {amount_in} {token_in} in {pool.key} gives no {token_out}")
    marginal = snapshot.state.marginal_price(i, j)
    ideal = Decimal(marginal.numerator) / Decimal(marginal.denominator) * amount_in
    impact = (1 - Decimal(quote.amount_out) / ideal) if ideal > 0 else Decimal(0)
    return SwapPlan(
        pool=pool,
        token_in=pool.tokens[i],
        token_out=pool.tokens[j],
        amount_in=amount_in,
        quote_out=quote.amount_out,
        min_out=min_amount_out(quote.amount_out, max_slippage),
        max_slippage=max_slippage,
        deadline=deadline,
        block_number=snapshot.block_number,
        price_impact=max(impact, Decimal(0)),
    )


def check_oracle(plan: SwapPlan, oracle_price: Decimal, max_deviation: Decimal) -> Decimal:
    """
    Refuse a swap whose minimum output is worth too little at the oracle price.

    Parameters
    ----------
    plan : SwapPlan
        The swap.
    oracle_price : Decimal
        Price of one whole ``token_in`` in whole ``token_out`` from an independent oracle.
    max_deviation : Decimal
        Largest accepted shortfall (fraction) of ``min_out`` below the oracle value of the input.

    Returns
    -------
    Decimal
        The shortfall (fraction; negative when the pool pays above the oracle).

    Raises
    ------
    RiskBlocked
        ``details["rule"] == "ORACLE_DEVIATION"``: the pool's price looks manipulated (or the
        swap is too large for it); nothing is sent.
    """
    if oracle_price <= 0:
        raise InvalidOrder(f"oracle price {oracle_price} must be positive")
    fair = plan.amount_in_tokens * oracle_price
    shortfall = 1 - plan.min_out_tokens / fair
    if shortfall > max_deviation:
        raise RiskBlocked(
            f"swap {plan.token_in.symbol}->{plan.token_out.symbol} in {plan.pool.key}: minimum output "
            f"{plan.min_out_tokens} is {shortfall:.4%} below the oracle value {fair} (bound "
            f"{max_deviation:.4%}); the pool price is not trusted and nothing was sent",
            details={
                "rule": "ORACLE_DEVIATION",
                "pool": str(plan.pool.key),
                "oracle_price": str(oracle_price),
                "shortfall": str(shortfall),
            },
        )
    return shortfall


def router_call(w3: Any, config: DexConfig, plan: SwapPlan, recipient: str) -> tuple[Any, str]:
    """
    Return the router call for ``plan`` paying ``recipient`` and the spender to approve.

    Raises
    ------
    InvalidConfig
        The router of the pool's family is not configured.
    """
    pool, to = plan.pool, w3.to_checksum_address(recipient)
    t_in, t_out = (
        w3.to_checksum_address(plan.token_in.address),
        w3.to_checksum_address(plan.token_out.address),
    )

    def contract(address: str | None, abi: list[dict[str, Any]], name: str) -> Any:
        if address is None:
            raise InvalidConfig(f"{pool.kind} swaps need {name} in the DEX config")
        return w3.eth.contract(address=w3.to_checksum_address(address), abi=abi)

    if pool.kind is PoolKind.UNISWAP_V2:
        router = contract(config.uniswap_v2_router, V2_ROUTER_ABI, "uniswap_v2_router")
        fn = router.functions.swapExactTokensForTokens(
            plan.amount_in, plan.min_out, [t_in, t_out], to, plan.deadline
        )
        return fn, router.address
    if pool.kind is PoolKind.UNISWAP_V3:
        router = contract(config.uniswap_v3_router, V3_ROUTER_ABI, "uniswap_v3_router")
        params = (t_in, t_out, pool.fee_tier, to, plan.deadline, plan.amount_in, plan.min_out, 0)
        return router.functions.exactInputSingle(params), router.address
    vault = contract(config.balancer_vault, BALANCER_VAULT_ABI, "balancer_vault")
    assert pool.pool_id is not None
    single = (bytes.fromhex(pool.pool_id[2:]), BALANCER_GIVEN_IN, t_in, t_out, plan.amount_in, b"")
    funds = (to, False, to, False)
    return vault.functions.swap(single, funds, plan.min_out, plan.deadline), vault.address


def erc20(w3: Any, token: DexToken) -> Any:
    """Return a web3 contract for ``token``."""
    return w3.eth.contract(address=w3.to_checksum_address(token.address), abi=ERC20_ABI)


def swap_transfers(w3: Any, tx_hash: str, plan: SwapPlan, wallet: str) -> tuple[int, int]:
    """
    Return ``(paid_in, received_out)``: the input token ``wallet`` sent and the output token it
    received in transaction ``tx_hash``, summed from the ERC-20 ``Transfer`` logs.
    """
    try:
        receipt = w3.eth.get_transaction_receipt(tx_hash)
    except Exception as e:
        raise translate(e, step="swap receipt") from e
    me = wallet.lower()
    paid = received = 0
    for entry in receipt["logs"]:
        topics = entry["topics"]
        if len(topics) != 3 or "0x" + bytes(topics[0]).hex().removeprefix("0x") != _TRANSFER_TOPIC:
            continue
        token = str(entry["address"]).lower()
        sender = "0x" + bytes(topics[1]).hex()[-40:]
        receiver = "0x" + bytes(topics[2]).hex()[-40:]
        value = int.from_bytes(bytes(entry["data"]), "big")
        if token == plan.token_in.address.lower() and sender == me:
            paid += value
        if token == plan.token_out.address.lower() and receiver == me:
            received += value
    return paid, received


__all__ = [
    "SwapPlan",
    "check_oracle",
    "erc20",
    "min_amount_out",
    "plan_swap",
    "router_call",
    "swap_transfers",
]
