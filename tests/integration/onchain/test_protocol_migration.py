"""Protocol migration: move a leveraged position to another AAVE-v3 market in one transaction."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.onchain.bundles import StepKind
from nautilus_ext.onchain.chain import ChainGateway
from nautilus_ext.onchain.executor import AtomicBundleExecutor
from nautilus_ext.onchain.planner import BundlePlanner
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext_testkit.chain.gates import backtest_bundle_gate
from nautilus_ext_testkit.chain.stack import ETHER
from nautilus_ext_testkit.chain.stack import EvmStack
from nautilus_ext_testkit.chain.stack import deploy_second_market


@pytest.mark.slow
def test_migration_moves_collateral_and_debt(stack: EvmStack) -> None:
    config = deploy_second_market(stack)
    clients = OnchainClients(ChainGateway(stack.w3, local_setup=True), config)
    weth = stack.contracts["weth"]
    stack.tx(weth.functions.deposit(), sender=stack.user, value=5 * ETHER)
    stack.tx(weth.functions.transfer(config.dsa, 5 * ETHER), sender=stack.user)
    executor = AtomicBundleExecutor(clients, stack.user, gate=backtest_bundle_gate(clients))
    executor.execute(
        BundlePlanner(clients).leveraged_staking_entry(5 * ETHER, Decimal("0.9")), timestamp_ns=0
    )
    dsa = config.dsa
    collateral = stack.contracts["a_weeth"].functions.balanceOf(dsa).call()

    bundle = BundlePlanner(clients).protocol_migration("AAVE_V3_PRIME")
    assert [s.kind for s in bundle.steps] == [
        StepKind.SET_EMODE,
        StepKind.FLASH_BORROW,
        StepKind.REPAY,
        StepKind.WITHDRAW,
        StepKind.SUPPLY,
        StepKind.BORROW,
        StepKind.FLASH_REPAY,
    ]
    result = executor.execute(bundle, timestamp_ns=1)

    c = stack.contracts
    assert clients.aave.scaled_balances("WEETH", dsa) == (0, 0)
    assert clients.aave.scaled_balances("WETH", dsa) == (0, 0)
    assert c["aave_v3_prime_a_weeth"].functions.balanceOf(dsa).call() == collateral
    flash = next(s for s in bundle.steps if s.kind is StepKind.FLASH_BORROW).amount
    assert c["aave_v3_prime_debt_weth"].functions.balanceOf(dsa).call() == flash
    assert abs(result.ltv - Decimal("0.9")) < Decimal("0.002")
    with pytest.raises(InvalidOrder, match="not configured"):
        BundlePlanner(clients).protocol_migration("NOWHERE")
