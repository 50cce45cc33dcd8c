"""
Gas of the atomic leveraged staking bundles versus sequential wallet loops, on real AAVE v3.

Everything runs on Anvil with the protocols' published bytecode (AAVE v3 Pool and its linked
libraries, Morpho Blue as the flash lender, Uniswap V2 for the weETH → WETH swap; see
``nautilus_ext_testkit.chain.world``); only EtherFi's eETH/weETH and the Instadapp DSA, its
connectors and flash aggregator are Vyper stand-ins (no published bytecode). Through the
module's own clients:

- **entry**: one Instadapp cast wrapping a Morpho flash loan (``BundlePlanner``) versus one
  wallet looping stake → wrap → supply → borrow → unwrap, one transaction per step, until the
  next borrow would be below 0.5 % of the flash amount (same target LTV);
- **partial unwind** (repay 90 % of the equity's worth of debt at the same LTV) and
  **full unwind**: one flash cast versus a wallet looping withdraw weETH → swap on Uniswap V2
  → repay WETH, withdrawing each time as much as keeps the health factor at 1.02.

The wallet path starts from the same position, entered atomically by the wallet's own DSA
equivalent (the wallet's loop entry). ``--smoke`` uses 1 ETH of equity instead of 10. Also
printed: Anvil's start time from the dumped state and the world's one-off deployment time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from nautilus_ext.onchain.calculators.leverage import leverage_targets
from nautilus_ext.onchain.calculators.leverage import sequential_loop_schedule
from nautilus_ext.onchain.chain import ChainGateway
from nautilus_ext.onchain.chain import TxReceipt
from nautilus_ext.onchain.clients import WethClient
from nautilus_ext.onchain.executor import AtomicBundleExecutor
from nautilus_ext.onchain.planner import BundlePlanner
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext_testkit.chain.gates import backtest_bundle_gate
from nautilus_ext_testkit.chain.stack import ETHER
from nautilus_ext_testkit.chain.stack import EvmStack
from nautilus_ext_testkit.chain.stack import deploy_stack

TARGET_LTV = Decimal("0.9")
_HF_FLOOR_BPS = 10_200  # the wallet loop keeps its health factor at 1.02 while unwinding


def _atomic_entry(stack: EvmStack, clients: OnchainClients, equity: int) -> int:
    weth = stack.contracts["weth"]
    stack.tx(weth.functions.deposit(), sender=stack.user, value=equity)
    stack.tx(weth.functions.transfer(stack.config.dsa, equity), sender=stack.user)
    executor = AtomicBundleExecutor(clients, stack.user, gate=backtest_bundle_gate(clients))
    bundle = BundlePlanner(clients).leveraged_staking_entry(equity, TARGET_LTV, protocol="ETHERFI")
    return int(executor.execute(bundle, timestamp_ns=0).receipt.gas_used)


def _atomic(stack: EvmStack, clients: OnchainClients, bundle: Any) -> int:
    executor = AtomicBundleExecutor(clients, stack.user, gate=backtest_bundle_gate(clients))
    return int(executor.execute(bundle, timestamp_ns=0).receipt.gas_used)


def _sequential_entry(stack: EvmStack, clients: OnchainClients, equity: int) -> tuple[list[TxReceipt], int]:
    wallet = stack.user
    aave, etherfi = clients.aave, clients.lst("ETHERFI")
    weth_client = WethClient(clients.gateway, clients.config)
    targets = leverage_targets(equity, TARGET_LTV)
    schedule = sequential_loop_schedule(equity, TARGET_LTV, min_step_wei=targets.flash // 200)
    receipts = [aave.set_user_e_mode(wallet, stack.config.e_mode_category)]
    for symbol, spender in (("EETH", stack.config.etherfi_weeth), ("WEETH", stack.config.aave_pool)):
        approval = clients.erc20.ensure_allowance(symbol, wallet, spender, 2**256 - 1)
        if approval is not None:
            receipts.append(approval)
    for step in schedule:
        receipts.append(etherfi.stake(wallet, step.stake))
        receipts.append(etherfi.wrap(wallet, clients.erc20.balance_of("EETH", wallet)))
        receipts.append(aave.supply(wallet, "WEETH", clients.erc20.balance_of("WEETH", wallet)))
        if step.borrow:
            receipts.append(aave.borrow(wallet, "WETH", step.borrow))
            receipts.append(weth_client.unwrap(wallet, step.borrow))
    return receipts, len(schedule)


def _sequential_unwind(stack: EvmStack, clients: OnchainClients, repay_total: int | None) -> list[TxReceipt]:
    """Withdraw weETH (HF kept at 1.02) → swap on Uniswap V2 → repay, until ``repay_total`` is repaid."""
    wallet, aave, gateway = stack.user, clients.aave, clients.gateway
    weth, weeth = stack.contracts["weth"], stack.contracts["weeth"]
    router = stack.contracts["router"]
    receipts: list[TxReceipt] = []
    for symbol, spender in (("WEETH", router.address), ("WETH", stack.config.aave_pool)):
        approval = clients.erc20.ensure_allowance(symbol, wallet, spender, 2**256 - 1)
        if approval is not None:
            receipts.append(approval)
    repaid = 0
    price_weeth = aave.asset_price("WEETH")
    for _ in range(200):
        account = aave.account_data(wallet)
        debt_left = account.total_debt_base
        if debt_left == 0 or (repay_total is not None and repaid >= repay_total):
            break
        lt = account.current_liquidation_threshold_bps
        free_base = account.total_collateral_base - debt_left * _HF_FLOOR_BPS // lt if debt_left else 0
        amount = free_base * 10**18 // price_weeth
        if repay_total is None and account.total_collateral_base - free_base <= 0:
            amount = 2**256 - 1
        receipts.append(aave.withdraw(wallet, "WEETH", amount))
        sell = clients.erc20.balance_of("WEETH", wallet)
        deadline = 2**40
        receipts.append(
            gateway.send(
                router.functions.swapExactTokensForTokens(
                    sell, 0, [weeth.address, weth.address], wallet, deadline
                ),
                step="swap weETH",
                sender=wallet,
            )
        )
        got = clients.erc20.balance_of("WETH", wallet)
        want = got if repay_total is None else min(got, repay_total - repaid)
        receipts.append(aave.repay(wallet, "WETH", want if account.total_debt_base else 0))
        repaid += want
    if repay_total is None:
        left = aave.account_data(wallet)
        if left.total_debt_base == 0 and left.total_collateral_base > 0:
            receipts.append(aave.withdraw(wallet, "WEETH", 2**256 - 1))
    return receipts


def main(argv: list[str] | None = None) -> None:
    """Run every scenario from the same snapshot and print gas side by side."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="1 ETH of equity (quick check)")
    args = parser.parse_args(argv)
    equity = (1 if args.smoke else 10) * ETHER
    cache = Path(tempfile.gettempdir()) / "nautilus-ext-vyper-cache"
    started = time.perf_counter()
    stack = deploy_stack(cache)
    stack_secs = time.perf_counter() - started
    try:
        clients = OnchainClients(ChainGateway(stack.w3, local_setup=True), stack.config)
        base = stack.snapshot()
        rows: list[tuple[str, int, int, int]] = []

        atomic_entry = _atomic_entry(stack, clients, equity)
        entered = stack.snapshot()
        planner = BundlePlanner(clients)
        repay = equity * 9 // 10
        atomic_partial = _atomic(
            stack, clients, planner.partial_unwind(repay, TARGET_LTV, max_slippage=Decimal("0.01"))
        )
        stack.revert_to(entered)
        atomic_full = _atomic(
            stack, clients, BundlePlanner(clients).full_unwind(max_slippage=Decimal("0.05"))
        )

        stack.revert_to(base)
        entry_receipts, iterations = _sequential_entry(stack, clients, equity)
        seq_ltv = clients.aave.account_data(stack.user).current_ltv()
        wallet_entered = stack.snapshot()
        partial_receipts = _sequential_unwind(stack, clients, repay)
        stack.revert_to(wallet_entered)
        full_receipts = _sequential_unwind(stack, clients, None)
        full_left = clients.aave.account_data(stack.user).total_debt_base

        rows.append(("entry", atomic_entry, sum(r.gas_used for r in entry_receipts), len(entry_receipts)))
        rows.append(
            (
                "partial unwind",
                atomic_partial,
                sum(r.gas_used for r in partial_receipts),
                len(partial_receipts),
            )
        )
        rows.append(("full unwind", atomic_full, sum(r.gas_used for r in full_receipts), len(full_receipts)))
    finally:
        stack.close()

    print(
        f"Leveraged weETH staking, E = {equity // ETHER} ETH, target LTV {TARGET_LTV} "
        "(Anvil; real AAVE v3 + Morpho Blue flash loan + Uniswap V2; EtherFi/Instadapp stand-ins)"
    )
    print(f"{'':18}{'atomic gas':>12}{'sequential gas':>16}{'seq. txs':>10}{'ratio':>8}")
    for name, atomic, seq, txs in rows:
        print(f"{name:18}{atomic:>12,}{seq:>16,}{txs:>10}{seq / atomic:>7.1f}x")
    print(f"sequential entry: {iterations} loop iterations, final LTV {float(seq_ltv):.4f}")
    print(f"sequential full unwind debt left: {full_left} (base units)")
    print(
        f"chain fixture start (Anvil --load-state + contract objects): {stack_secs:.2f} s, "
        f"of which Anvil {stack.node.start_seconds:.3f} s"
    )


if __name__ == "__main__":
    main()
