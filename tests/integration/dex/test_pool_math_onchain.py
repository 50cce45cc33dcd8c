"""
The pure pool math against the real contracts on Anvil, to the wei.

Hypothesis generates pools (prices, tick ranges, reserves, weights, decimals, fees) and sizes;
each example deploys its own pool from the published bytecode (Uniswap V2 pair + Router02,
Uniswap V3 pool + QuoterV2, Balancer Vault + WeightedPoolFactory), reads the state back from the
chain, and compares our quote with the contract's: ``getAmountsOut``/``getAmountsIn``,
``quoteExactInputSingle``/``quoteExactOutputSingle``, ``queryBatchSwap`` GIVEN_IN/GIVEN_OUT.
A revert on chain must be a :class:`SwapRefused` in the math, and vice versa.
Curve runs against a Vyper REPRODUCTION of its ``get_dy`` (no Curve bytecode is published here).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from web3.exceptions import ContractLogicError

from nautilus_ext.dex import StableSwapState
from nautilus_ext.dex import SwapRefused
from nautilus_ext.dex import V2PoolState
from nautilus_ext.dex import V3PoolState
from nautilus_ext.dex import V3Tick
from nautilus_ext.dex import WeightedPoolState
from nautilus_ext.dex.v3_math import get_sqrt_ratio_at_tick
from nautilus_ext_testkit.chain.dex_pools import DexChain
from nautilus_ext_testkit.chain.dex_pools import start_dex_chain

pytestmark = pytest.mark.slow
EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SPACING = {500: 10, 3000: 60, 10000: 200}


@pytest.fixture(scope="module")
def chain() -> Iterator[DexChain]:
    c = start_dex_chain()
    try:
        yield c
    finally:
        c.close()


def _on_chain(function: Any, *args: Any) -> Any:
    """The contract function's ``eth_call`` answer, or ``None`` when it reverts."""
    try:
        return function(*args).call()
    except ContractLogicError:
        return None


def _ours(method: Any, *args: Any) -> int | None:
    """Our quote, or ``None`` when the math refuses the swap."""
    try:
        return int(method(*args))
    except SwapRefused:
        return None


# -- Uniswap V2 ---------------------------------------------------------------------------------


@given(
    r0=st.integers(10**9, 10**30),
    r1=st.integers(10**9, 10**30),
    sizes=st.lists(st.integers(1, 10**6), min_size=3, max_size=3),
)
@EXAMPLES
def test_v2_matches_router(chain: DexChain, r0: int, r1: int, sizes: list[int]) -> None:
    pair, t0, t1 = chain.new_v2_pair(r0, r1)
    reserve0, reserve1, _ = pair.functions.getReserves().call()
    pool = V2PoolState(reserve0, reserve1)
    router = chain.contracts["uniswap_v2_router"]
    for token_in, token_out, (a, b) in ((0, 1, (t0, t1)), (1, 0, (t1, t0))):
        balance_in = (reserve0, reserve1)[token_in]
        balance_out = (reserve0, reserve1)[token_out]
        for ppm in sizes:
            amount = max(1, balance_in * ppm // 2_000_000)
            want = _on_chain(router.functions.getAmountsOut, amount, [a.address, b.address])
            assert _ours(pool.quote_exact_input, token_in, token_out, amount) == (want and want[1])
            out = max(1, balance_out * ppm // 2_000_000)
            need = _on_chain(router.functions.getAmountsIn, out, [a.address, b.address])
            assert _ours(pool.quote_exact_output, token_in, token_out, out) == (need and need[0])


# -- Uniswap V3 ---------------------------------------------------------------------------------


@st.composite
def v3_setups(draw: st.DrawFn) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    fee = draw(st.sampled_from(sorted(SPACING)))
    spacing = SPACING[fee]
    tick = draw(st.integers(-60_000, 60_000))
    sqrt_price = get_sqrt_ratio_at_tick(tick) + draw(st.integers(0, 10**9))
    positions = []
    for _ in range(draw(st.integers(1, 4))):
        lower = (tick // spacing + draw(st.integers(-300, 30))) * spacing
        upper = lower + draw(st.integers(1, 300)) * spacing
        positions.append((lower, upper, draw(st.integers(10**12, 10**24)), draw(st.integers(10**12, 10**24))))
    return fee, sqrt_price, positions


def _v3_state(pool: Any, fee: int, ticks: set[int]) -> V3PoolState:
    slot0 = pool.functions.slot0().call()
    read = [(t, pool.functions.ticks(t).call()) for t in sorted(ticks)]
    return V3PoolState(
        sqrt_price_x96=slot0[0],
        tick=slot0[1],
        liquidity=pool.functions.liquidity().call(),
        fee_pips=fee,
        tick_spacing=pool.functions.tickSpacing().call(),
        ticks=tuple(V3Tick(t, info[1], info[0]) for t, info in read if info[0] > 0),
        fee_growth_global0_x128=pool.functions.feeGrowthGlobal0X128().call(),
        fee_growth_global1_x128=pool.functions.feeGrowthGlobal1X128().call(),
        fee_protocol=slot0[5],
    )


@given(setup=v3_setups(), sizes=st.lists(st.integers(1, 1_200_000), min_size=2, max_size=2))
@EXAMPLES
def test_v3_matches_quoter_v2(
    chain: DexChain, setup: tuple[int, int, list[tuple[int, int, int, int]]], sizes: list[int]
) -> None:
    fee, sqrt_price, positions = setup
    pool_contract, t0, t1 = chain.new_v3_pool(fee, sqrt_price, positions)
    pool = _v3_state(pool_contract, fee, {t for p in positions for t in p[:2]})
    quoter = chain.contracts["uniswap_v3_quoter"]
    balances = (
        t0.functions.balanceOf(pool_contract.address).call(),
        t1.functions.balanceOf(pool_contract.address).call(),
    )
    for token_in, token_out, (a, b) in ((0, 1, (t0, t1)), (1, 0, (t1, t0))):
        for ppm in sizes:
            # up to 120 % of the other side's balance: some swaps run out of liquidity
            amount = max(1, balances[token_out] * ppm // 1_000_000)
            params = (a.address, b.address, amount, fee, 0)
            want = _on_chain(quoter.functions.quoteExactInputSingle, params)
            ours = None
            try:
                result = pool.swap_exact_input(token_in, token_out, amount)
                ours = (result.amount_out, result.pool_after.sqrt_price_x96)  # type: ignore[attr-defined]
            except SwapRefused:
                pass
            assert ours == (None if want is None else (want[0], want[1]))
            want_in = _on_chain(quoter.functions.quoteExactOutputSingle, params)
            assert _ours(pool.quote_exact_output, token_in, token_out, amount) == (
                None if want_in is None else want_in[0]
            )
            # the same swaps with a price limit 3-300 tick spacings away (on the valid side)
            step = (pool.tick_spacing * ppm % 300 + 3) * (-1 if token_in == 0 else 1)
            limit = get_sqrt_ratio_at_tick(max(-887272, min(887272, pool.tick + step)))
            limited = (a.address, b.address, amount, fee, limit)
            want = _on_chain(quoter.functions.quoteExactInputSingle, limited)
            assert _ours(_out, pool, token_in, token_out, amount, limit) == (
                None if want is None else want[0]
            )
            want = _on_chain(quoter.functions.quoteExactOutputSingle, limited)
            assert _ours(_in, pool, token_in, token_out, amount, limit) == (None if want is None else want[0])


def _out(pool: V3PoolState, token_in: int, token_out: int, amount: int, limit: int) -> int:
    return pool.quote_exact_input(token_in, token_out, amount, sqrt_price_limit_x96=limit)


def _in(pool: V3PoolState, token_in: int, token_out: int, amount: int, limit: int) -> int:
    return pool.quote_exact_output(token_in, token_out, amount, sqrt_price_limit_x96=limit)


# -- Balancer V2 weighted -------------------------------------------------------------------------


@given(
    decimals=st.lists(st.sampled_from([6, 8, 18]), min_size=2, max_size=3),
    data=st.data(),
)
@EXAMPLES
def test_balancer_matches_vault_query_batch_swap(
    chain: DexChain, decimals: list[int], data: st.DataObject
) -> None:
    n = len(decimals)
    cuts = sorted(data.draw(st.lists(st.integers(1, 97), min_size=n - 1, max_size=n - 1, unique=True)))
    weights = [(b - a) * 10**16 for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]
    if min(weights) < 10**16:
        return
    balances = [data.draw(st.integers(10**3, 10**12)) * 10**d for d in decimals]
    swap_fee = data.draw(st.integers(10**12, 10**17))
    pool_id, tokens = chain.new_weighted_pool(decimals, balances, weights, swap_fee)
    vault = chain.contracts["balancer_vault"]
    _, on_chain_balances, _ = vault.functions.getPoolTokens(pool_id).call()
    # weights and decimals in the Vault's (sorted) token order, read back from the chain
    pool = WeightedPoolState(
        tuple(on_chain_balances),
        tuple(_pool_weights(chain, pool_id)),
        tuple(10 ** (18 - t.functions.decimals().call()) for t in tokens),
        swap_fee,
    )
    sender = chain.owner
    funds = (sender, False, sender, False)
    assets = [t.address for t in tokens]
    for _ in range(3):
        i = data.draw(st.integers(0, n - 1))
        j = data.draw(st.sampled_from([k for k in range(n) if k != i]))
        ppm = data.draw(st.integers(1, 350_000))  # beyond 30 % the Vault refuses (BAL#304/305)
        amount_in = max(1, on_chain_balances[i] * ppm // 1_000_000)
        swaps = [(pool_id, i, j, amount_in, b"")]
        deltas = _on_chain(vault.functions.queryBatchSwap, 0, swaps, assets, funds)
        assert _ours(pool.quote_exact_input, i, j, amount_in) == (None if deltas is None else -deltas[j])
        amount_out = max(1, on_chain_balances[j] * ppm // 1_000_000)
        swaps = [(pool_id, i, j, amount_out, b"")]
        deltas = _on_chain(vault.functions.queryBatchSwap, 1, swaps, assets, funds)
        assert _ours(pool.quote_exact_output, i, j, amount_out) == (None if deltas is None else deltas[i])


def _pool_weights(chain: DexChain, pool_id: bytes) -> list[int]:
    from nautilus_ext_testkit.chain.protocols import load

    address, _ = chain.contracts["balancer_vault"].functions.getPool(pool_id).call()
    pool = chain.w3.eth.contract(address=address, abi=load("WeightedPool").abi)
    return [int(w) for w in pool.functions.getNormalizedWeights().call()]


# -- Curve (against a Vyper reproduction) -------------------------------------------------------------


@given(
    decimals=st.tuples(st.sampled_from([6, 18]), st.sampled_from([6, 18])),
    value=st.integers(10**3, 10**10),
    skew=st.tuples(st.integers(20, 500), st.integers(20, 500)),
    a=st.integers(1, 5000),
    a_precision=st.sampled_from([1, 100]),
    fee=st.integers(0, 5 * 10**7),
    sizes=st.lists(st.integers(1, 2_000_000), min_size=3, max_size=3),
)
@EXAMPLES
def test_curve_matches_the_vyper_reproduction(
    chain: DexChain,
    decimals: tuple[int, int],
    value: int,
    skew: tuple[int, int],
    a: int,
    a_precision: int,
    fee: int,
    sizes: list[int],
) -> None:
    balances = [value * 10**d * s // 100 for d, s in zip(decimals, skew, strict=True)]
    rates = [10 ** (36 - d) for d in decimals]
    amp = (a + 1) * a_precision
    contract = chain.new_stableswap_repro(balances, rates, amp, a_precision, fee)
    pool = StableSwapState(tuple(balances), tuple(rates), amp, fee, a_precision)
    for i, j in ((0, 1), (1, 0)):
        for ppm in sizes:
            dx = max(1, balances[i] * ppm // 1_000_000)
            want = _on_chain(contract.functions.get_dy, i, j, dx)
            assert _ours(pool.get_dy, i, j, dx) == want
