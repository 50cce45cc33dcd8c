"""
The one interface every pool model offers the router: quotes in integer token base units.

Each pool state (:class:`~nautilus_ext.dex.uniswap_v2.V2PoolState`,
:class:`~nautilus_ext.dex.uniswap_v3.V3PoolState`,
:class:`~nautilus_ext.dex.curve.StableSwapState`,
:class:`~nautilus_ext.dex.balancer.WeightedPoolState`) is a frozen dataclass that satisfies
:class:`SwapPool`. Tokens are named by their index in the pool (``0``/``1`` for Uniswap,
the coin index for Curve, the Vault's token order for Balancer). Every function is pure: a swap
returns the state after it (``SwapQuote.pool_after``) and never mutates its input, so a router
can price two slices through the same pool in sequence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol
from typing import runtime_checkable


@dataclass(frozen=True, slots=True)
class SwapQuote:
    """
    The outcome of one swap, in token base units.

    Parameters
    ----------
    amount_in : int
        Tokens the pool receives (fee included).
    amount_out : int
        Tokens the pool pays out.
    fee : int
        LP fee charged by the pool, in units of the token ``fee_token`` (input token for Uniswap
        and Balancer, output token for Curve).
    fee_token : int
        Index of the token the fee is charged in.
    pool_after : SwapPool
        The pool state after the swap.
    """

    amount_in: int
    amount_out: int
    fee: int
    fee_token: int
    pool_after: SwapPool


@runtime_checkable
class SwapPool(Protocol):
    """What the router needs from a pool: exact-in and exact-out swaps and the marginal price."""

    @property
    def token_count(self) -> int:
        """Number of tokens in the pool."""
        ...

    def swap_exact_input(self, token_in: int, token_out: int, amount_in: int) -> SwapQuote:
        """Swap exactly ``amount_in`` of ``token_in``; refuse (``SwapRefused``) what the contract reverts."""
        ...

    def swap_exact_output(self, token_in: int, token_out: int, amount_out: int) -> SwapQuote:
        """Buy exactly ``amount_out`` of ``token_out``; refuse when the pool cannot deliver it."""
        ...

    def quote_exact_input(self, token_in: int, token_out: int, amount_in: int) -> int:
        """Output for exactly ``amount_in`` (``swap_exact_input(...).amount_out``)."""
        ...

    def quote_exact_output(self, token_in: int, token_out: int, amount_out: int) -> int:
        """Input needed for exactly ``amount_out`` (``swap_exact_output(...).amount_in``)."""
        ...

    def marginal_price(self, token_in: int, token_out: int) -> Fraction:
        """
        Output per unit of input for an infinitesimal trade, net of the LP fee, in base units.

        This is the derivative of ``quote_exact_input`` at zero size (exact rational, before
        integer rounding): the quantity a split optimiser equalises across pools.
        """
        ...


def swap_exact_input_path(hops: Sequence[tuple[SwapPool, int, int]], amount_in: int) -> list[SwapQuote]:
    """
    Swap ``amount_in`` through ``(pool, token_in, token_out)`` hops, each hop's output feeding the next.

    Returns one quote per hop; the path's output is ``quotes[-1].amount_out``. A pool that
    appears twice sees the state the earlier hop left (as in one transaction).
    """
    quotes: list[SwapQuote] = []
    after: dict[int, SwapPool] = {}
    amount = amount_in
    for pool, token_in, token_out in hops:
        current = after.get(id(pool), pool)
        quote = current.swap_exact_input(token_in, token_out, amount)
        after[id(pool)] = quote.pool_after
        quotes.append(quote)
        amount = quote.amount_out
    return quotes


__all__ = ["SwapPool", "SwapQuote", "swap_exact_input_path"]
