"""
Gas of the atomic leveraged staking entry versus the sequential loop reaching the same leverage.

Both run on the local EVM (py-evm, Vyper stand-ins with the protocols' ABIs) through the
module's own clients: the atomic path is one Instadapp cast wrapping a Morpho flash loan
(planned by ``BundlePlanner``); the sequential path is one wallet doing
stake → wrap → supply → borrow → unwrap per iteration (approvals granted once up front), one
transaction per step, until the
next borrow would be below 0.5 % of the flash amount. Gas is what the local EVM charged; the
stand-ins are simpler than mainnet contracts, so read the ratio rather than the absolute
numbers (seed 000 quotes ~0.7-1.2M gas versus 15M+ on mainnet).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from nautilus_ext.onchain.calculators.leverage import leverage_targets
from nautilus_ext.onchain.calculators.leverage import sequential_loop_schedule
from nautilus_ext.onchain.chain import ChainGateway
from nautilus_ext.onchain.clients import WethClient
from nautilus_ext.onchain.executor import AtomicBundleExecutor
from nautilus_ext.onchain.planner import BundlePlanner
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext_testkit.chain.gates import backtest_bundle_gate
from nautilus_ext_testkit.chain.stack import ETHER
from nautilus_ext_testkit.chain.stack import deploy_stack

EQUITY = 10 * ETHER
TARGET_LTV = Decimal("0.9")


def main() -> None:
    """Run both paths on fresh chains and print gas side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1] if __doc__ else None)
    # one bundle each way is already the smallest run: --smoke changes nothing
    parser.add_argument("--smoke", action="store_true", help="accepted for `make bench-smoke`")
    parser.parse_args()
    cache = Path(tempfile.gettempdir()) / "nautilus-ext-vyper-cache"
    targets = leverage_targets(EQUITY, TARGET_LTV)

    # Atomic: one cast (e-mode + flash loan wrapping unwrap/stake/wrap/supply/borrow/repay).
    stack = deploy_stack(cache)
    weth = stack.contracts["weth"]
    stack.tx(weth.functions.deposit(), sender=stack.user, value=EQUITY)
    stack.tx(weth.functions.transfer(stack.config.dsa, EQUITY), sender=stack.user)
    clients = OnchainClients(ChainGateway(stack.w3, local_setup=True), stack.config)
    # the safety gate is built once at start-up; its per-bundle decision is inside the timing
    executor = AtomicBundleExecutor(clients, stack.user, gate=backtest_bundle_gate(clients))
    started = time.perf_counter()
    bundle = BundlePlanner(clients).leveraged_staking_entry(EQUITY, TARGET_LTV, protocol="ETHERFI")
    result = executor.execute(bundle, timestamp_ns=0)
    atomic_secs = time.perf_counter() - started
    atomic_gas = result.receipt.gas_used

    # Sequential: a plain wallet loops, one transaction per step.
    stack = deploy_stack(cache)
    clients = OnchainClients(ChainGateway(stack.w3, local_setup=True), stack.config)
    wallet = stack.user
    aave, etherfi, weth_client = (
        clients.aave,
        clients.lst("ETHERFI"),
        WethClient(clients.gateway, clients.config),
    )
    schedule = sequential_loop_schedule(EQUITY, TARGET_LTV, min_step_wei=targets.flash // 200)
    started = time.perf_counter()
    receipts = [aave.set_user_e_mode(wallet, stack.config.e_mode_category)]
    # One unlimited approval per spender up front, as a careful wallet would.
    for symbol, spender in (
        ("EETH", stack.config.etherfi_weeth),
        ("WEETH", stack.config.aave_pool),
    ):
        approval = clients.erc20.ensure_allowance(symbol, wallet, spender, 2**256 - 1)
        if approval is not None:
            receipts.append(approval)
    for step in schedule:
        receipts.append(etherfi.stake(wallet, step.stake))
        eeth = clients.erc20.balance_of("EETH", wallet)
        receipts.append(etherfi.wrap(wallet, eeth))
        weeth = clients.erc20.balance_of("WEETH", wallet)
        receipts.append(aave.supply(wallet, "WEETH", weeth))
        if step.borrow:
            receipts.append(aave.borrow(wallet, "WETH", step.borrow))
            receipts.append(weth_client.unwrap(wallet, step.borrow))
    sequential_secs = time.perf_counter() - started
    sequential_gas = sum(r.gas_used for r in receipts)
    sequential_ltv = aave.account_data(wallet).current_ltv()
    borrowed = sum(s.borrow for s in schedule)

    print("Leveraged staking entry, E = 10 ETH, target LTV 0.9 (local EVM, Vyper stand-ins)")
    print(f"{'':24}{'atomic flash':>16}{'sequential loop':>18}")
    print(f"{'transactions':24}{1:>16}{len(receipts):>18}")
    print(f"{'iterations':24}{1:>16}{len(schedule):>18}")
    print(f"{'gas used':24}{atomic_gas:>16,}{sequential_gas:>18,}")
    print(f"{'borrowed WETH':24}{targets.borrow / 1e18:>16.4f}{borrowed / 1e18:>18.4f}")
    print(f"{'final LTV':24}{float(result.ltv):>16.4f}{float(sequential_ltv):>18.4f}")
    print(f"{'wall time (s)':24}{atomic_secs:>16.2f}{sequential_secs:>18.2f}")
    print(f"gas ratio sequential / atomic: {sequential_gas / atomic_gas:.1f}x")


if __name__ == "__main__":
    main()
