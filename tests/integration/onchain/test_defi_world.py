"""The deployed DeFi world is usable: pools priced and liquid, lenders funded, the settlement live."""

from __future__ import annotations

import pytest

from nautilus_ext_testkit.chain.stack import ETHER
from nautilus_ext_testkit.chain.stack import EvmStack
from nautilus_ext_testkit.chain.world import E_MODE_ETH
from nautilus_ext_testkit.chain.world import FLASH_LOAN_PREMIUM_BPS

USDC_PER_ETH = 3000 * 10**6


@pytest.mark.parametrize("fee", [500, 3000])
def test_uniswap_v3_pools_quote_near_the_oracle_price_across_ticks(session_stack: EvmStack, fee: int) -> None:
    c = session_stack.contracts
    params = (c["weth"].address, c["usdc"].address, ETHER, fee, 0)
    out, _, crossed, _ = c["uniswap_v3_quoter"].functions.quoteExactInputSingle(params).call()
    cost = fee * USDC_PER_ETH // 1_000_000
    assert USDC_PER_ETH - cost - USDC_PER_ETH // 100 < out < USDC_PER_ETH
    assert crossed == 0
    # a large sell has price impact: the average price falls below the 1 ETH quote
    big = (c["weth"].address, c["usdc"].address, 100 * ETHER, fee, 0)
    assert c["uniswap_v3_quoter"].functions.quoteExactInputSingle(big).call()[0] < 100 * out
    # three positions per pool (narrow, medium, wide) held by the liquidity provider
    assert c["uniswap_v3_positions"].functions.balanceOf(session_stack.liquidity_provider).call() == 6
    assert c[f"uniswap_v3_pool_{fee}"].functions.liquidity().call() > 0


def test_aave_market_is_configured_like_mainnet(session_stack: EvmStack) -> None:
    c = session_stack.contracts
    pool = c["pool"]
    category = pool.functions.getEModeCategoryData(E_MODE_ETH).call()
    assert tuple(category[:3]) == (9300, 9500, 10100)
    assert pool.functions.FLASHLOAN_PREMIUM_TOTAL().call() == FLASH_LOAN_PREMIUM_BPS
    reserves = pool.functions.getReservesList().call()
    assert len(reserves) == 5
    weth = pool.functions.getReserveData(c["weth"].address).call()
    # utilisation: non-zero supply and borrow rates
    assert weth[2] > 0
    assert weth[4] > 0


def test_morpho_blue_holds_the_flash_liquidity(session_stack: EvmStack) -> None:
    c = session_stack.contracts
    assert c["weth"].functions.balanceOf(c["morpho"].address).call() == 5_000 * ETHER


def test_balancer_weighted_pool_and_cow_settlement_are_live(session_stack: EvmStack) -> None:
    c = session_stack.contracts
    pool_id = c["balancer_weighted_pool"].functions.getPoolId().call()
    tokens, balances, _ = c["balancer_vault"].functions.getPoolTokens(pool_id).call()
    assert {t.lower() for t in tokens} == {c["weth"].address.lower(), c["usdc"].address.lower()}
    assert all(b > 0 for b in balances)
    settlement = c["cow_settlement"]
    assert settlement.functions.vault().call() == c["balancer_vault"].address
    assert settlement.functions.authenticator().call() == c["cow_authenticator"].address
