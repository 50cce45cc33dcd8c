"""The backtest venue, driven by the calculators, lands exactly where the chain lands."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_ext.errors import TransactionReverted
from nautilus_ext.onchain.calculators.accounting import GasLedger
from nautilus_ext.onchain.calculators.accounting import ShareClass
from nautilus_ext.onchain.calculators.events import OnchainEventType
from nautilus_ext.onchain.executor import AtomicBundleExecutor
from nautilus_ext.onchain.planner import BundlePlanner
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext.onchain.simulation import GasModel
from nautilus_ext.onchain.simulation import SimReserve
from nautilus_ext.onchain.simulation import SimulatedOnchainVenue
from nautilus_ext_testkit.chain.gates import backtest_bundle_gate
from nautilus_ext_testkit.chain.stack import ETHER
from nautilus_ext_testkit.chain.stack import EvmStack

GAS = GasModel(gas_price_wei=20 * 10**9, atomic_entry_gas=650_000, per_transaction_gas=100_000)


def _venue_from_chain(clients: OnchainClients, stack: EvmStack) -> SimulatedOnchainVenue:
    aave = clients.aave
    reserves = []
    for symbol in ("WETH", "WEETH", "WSTETH", "USDT"):
        snap = aave.reserve(symbol)
        liquidity = clients.erc20.balance_of(symbol, snap.a_token)
        reserves.append(
            SimReserve(symbol, snap.configuration, snap.index_state, aave.asset_price(symbol), liquidity)
        )
    return SimulatedOnchainVenue(
        reserves=reserves,
        lst_pools={"WEETH": clients.lst("ETHERFI").pool_state()},
        gas=GAS,
        gas_ledger=GasLedger(ShareClass.USDT, Decimal(0)),
        start_timestamp=max(r.state.last_update_timestamp for r in reserves),
    )


def test_atomic_entry_in_the_simulator_matches_the_chain_to_the_wei(
    stack: EvmStack, clients: OnchainClients
) -> None:
    venue = _venue_from_chain(clients, stack)
    weth = stack.contracts["weth"]
    stack.tx(weth.functions.deposit(), sender=stack.user, value=10 * ETHER)
    stack.tx(weth.functions.transfer(stack.config.dsa, 10 * ETHER), sender=stack.user)
    result = AtomicBundleExecutor(clients, stack.user, gate=backtest_bundle_gate(clients)).execute(
        BundlePlanner(clients).leveraged_staking_entry(10 * ETHER, Decimal("0.9")), timestamp_ns=0
    )
    mined = int(stack.w3.eth.get_block(result.receipt.block_number)["timestamp"])

    venue.advance(mined)
    venue.set_e_mode(clients.aave.e_mode_category(1))
    venue.deposit_to_wallet("WETH", 10 * ETHER)
    events = venue.leveraged_entry(
        10 * ETHER, Decimal("0.9"), lst_symbol="WEETH", atomic=True, timestamp_ns=0, min_step_wei=1
    )

    dsa = stack.config.dsa
    assert venue.scaled_balances("WEETH") == clients.aave.scaled_balances("WEETH", dsa)
    assert venue.scaled_balances("WETH")[1] == clients.aave.scaled_balances("WETH", dsa)[1]
    assert venue.account_data() == result.account
    assert [e.event for e in events] == [e.event for e in result.events]
    assert venue.gas_ledger.gas_debt_eth == Decimal("0.013")  # 650k gas at 20 gwei


def test_sequential_loop_and_failed_bundle(stack: EvmStack, clients: OnchainClients) -> None:
    venue = _venue_from_chain(clients, stack)
    venue.set_e_mode(clients.aave.e_mode_category(1))
    venue.deposit_to_wallet("WETH", 20 * ETHER)
    events = venue.leveraged_entry(
        10 * ETHER,
        Decimal("0.9"),
        lst_symbol="WEETH",
        atomic=False,
        timestamp_ns=5,
        min_step_wei=ETHER // 2,
    )
    assert {e.iteration for e in events} == set(range(1, events[-1].iteration + 1))  # type: ignore[operator]
    assert sum(e.event is OnchainEventType.GAS_FEE_PAID for e in events) > 20
    ltv_after_loop = venue.account_data().current_ltv()
    assert Decimal("0.85") < ltv_after_loop < Decimal("0.9")

    # Without e-mode the same atomic entry cannot borrow: nothing changes, gas is not charged.
    venue.set_e_mode(None)
    before = (venue.wallet_balance("WETH"), venue.scaled_balances("WEETH"), venue.account_data())
    debt_before = venue.gas_ledger.gas_debt_eth
    with pytest.raises(TransactionReverted, match="COLLATERAL_CANNOT_COVER_NEW_BORROW"):
        venue.leveraged_entry(
            10 * ETHER, Decimal("0.9"), lst_symbol="WEETH", atomic=True, timestamp_ns=6, min_step_wei=1
        )
    assert (venue.wallet_balance("WETH"), venue.scaled_balances("WEETH"), venue.account_data()) == before
    assert venue.gas_ledger.gas_debt_eth == debt_before
