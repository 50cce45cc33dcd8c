"""
Protocol clients against the stand-ins: ABI identity, AAVE index accrual and account data to
the wei, LST staking, and the AAVE scenario scripts of aave-v3-core (../shared/data).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.errors import InsufficientBalance
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import TransactionReverted
from nautilus_ext.onchain import abi
from nautilus_ext.onchain.calculators.aave import accrue
from nautilus_ext.onchain.calculators.aave import balance_of_scaled
from nautilus_ext.onchain.calculators.aave import normalized_debt
from nautilus_ext.onchain.calculators.aave import normalized_income
from nautilus_ext.onchain.calculators.aave import scaled_amount
from nautilus_ext.onchain.calculators.aave import user_account_data
from nautilus_ext.onchain.calculators.lst import stake_and_wrap
from nautilus_ext.onchain.chain import ChainGateway
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext_testkit.chain.compile import CompiledContract
from nautilus_ext_testkit.chain.protocols import load
from nautilus_ext_testkit.chain.stack import ETHER
from nautilus_ext_testkit.chain.stack import EvmStack

RESERVES = ["WETH", "USDT", "WEETH", "WSTETH"]


def _signatures(entries: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    def types(params: list[dict[str, Any]]) -> str:
        out = []
        for p in params:
            if p["type"].startswith("tuple"):
                out.append("(" + types(p["components"]) + ")" + p["type"][5:])
            else:
                out.append(p["type"])
        return ",".join(out)

    return {
        f"{e['name']}({types(e['inputs'])})": (types(e["outputs"]), e["stateMutability"])
        for e in entries
        if e["type"] == "function"
    }


@pytest.mark.parametrize(
    ("fragment", "contract"),
    [
        (abi.AAVE_POOL_ABI, "Pool"),
        (abi.AAVE_ORACLE_ABI, "AaveOracle"),
        (abi.SCALED_TOKEN_ABI, "AToken"),
        (abi.SCALED_TOKEN_ABI, "VariableDebtToken"),
        (abi.MORPHO_ABI, "Morpho"),
        (abi.UNISWAP_V2_ROUTER_ABI, "UniswapV2Router02"),
        (abi.WETH_ABI, "WETH9"),
        (abi.ERC20_ABI, "MintableERC20"),
    ],
)
def test_our_abis_match_the_published_protocol_abis(fragment: list[dict[str, Any]], contract: str) -> None:
    """Every function our clients call exists in the published artifact with the same outputs."""
    ours = _signatures(fragment)
    theirs = _signatures(load(contract).abi)
    for signature, (outputs, _mutability) in ours.items():
        assert signature in theirs, f"{contract} lacks {signature}"
        assert theirs[signature][0] == outputs, f"{contract}.{signature} returns {theirs[signature][0]}"


@pytest.mark.parametrize(
    ("fragment", "contract"),
    [
        (abi.LIDO_STETH_ABI, "RebasingLst"),
        (abi.LIDO_WSTETH_ABI, "WrappedLst"),
        (abi.ETHERFI_POOL_ABI, "RebasingLst"),
        (abi.ETHERFI_EETH_ABI, "RebasingLst"),
        (abi.ETHERFI_WEETH_ABI, "WrappedLst"),
        (abi.INSTA_ACCOUNT_ABI, "InstaAccount"),
    ],
)
def test_stand_ins_expose_the_protocol_abis(
    fragment: list[dict[str, Any]],
    contract: str,
    compiled_contracts: dict[str, CompiledContract],
) -> None:
    ours = _signatures(fragment)
    theirs = _signatures(compiled_contracts[contract].abi)
    for signature, (outputs, _mutability) in ours.items():
        assert signature in theirs, f"{contract} lacks {signature}"
        assert theirs[signature][0] == outputs, f"{contract}.{signature} returns {theirs[signature][0]}"


def test_supply_borrow_and_accrual_match_calculators(stack: EvmStack, clients: OnchainClients) -> None:
    aave = clients.aave
    user = stack.user
    c = stack.contracts
    stack.tx(c["weth"].functions.deposit(), sender=user, value=50 * ETHER)
    aave.supply(user, "WETH", 50 * ETHER)
    reserve = aave.reserve("WETH")
    receipt = aave.borrow(user, "WETH", 20 * ETHER)
    mined = int(stack.w3.eth.get_block(receipt.block_number)["timestamp"])
    state = accrue(reserve.index_state, mined)
    _, scaled_debt = aave.scaled_balances("WETH", user)
    assert scaled_debt == scaled_amount(20 * ETHER, state.variable_borrow_index)

    # A year and a bit later the indices have moved exactly as the calculators say.
    now = stack.time_travel(400 * 24 * 3600)
    snapshot = aave.reserve("WETH")
    assert c["pool"].functions.getReserveNormalizedIncome(reserve.asset).call() == normalized_income(
        snapshot.index_state, now
    )
    assert c["pool"].functions.getReserveNormalizedVariableDebt(reserve.asset).call() == (
        normalized_debt(snapshot.index_state, now)
    )
    scaled_supply, scaled_debt = aave.scaled_balances("WETH", user)
    assert c["a_weth"].functions.balanceOf(user).call() == balance_of_scaled(
        scaled_supply, normalized_income(snapshot.index_state, now)
    )
    expected = user_account_data(aave.user_positions(user, RESERVES, now))
    assert aave.account_data(user) == expected
    assert expected.total_debt_base > 20 * 3000 * 10**8  # interest accrued

    # Repaying everything clears the debt; withdrawing everything clears the supply.
    stack.tx(c["weth"].functions.deposit(), sender=user, value=5 * ETHER)
    aave.repay(user, "WETH", 2**256 - 1)
    aave.withdraw(user, "WETH", 2**256 - 1)
    assert aave.scaled_balances("WETH", user) == (0, 0)
    assert aave.account_data(user).health_factor == 2**256 - 1


def test_revert_and_bad_input_are_typed(stack: EvmStack, clients: OnchainClients) -> None:
    aave = clients.aave
    with pytest.raises(TransactionReverted) as caught:
        aave.borrow(stack.user, "WETH", ETHER)
    assert caught.value.details == {
        "step": "borrow WETH",
        "reason": "34 (COLLATERAL_BALANCE_IS_ZERO)",
    }
    with pytest.raises(InvalidOrder, match="not configured"):
        aave.supply(stack.user, "DOGE", 1)
    with pytest.raises(InsufficientBalance):
        clients.erc20.transfer("WETH", stack.user, stack.owner, ETHER)


def test_lst_staking_matches_share_math(stack: EvmStack, clients: OnchainClients) -> None:
    for protocol in ("LIDO", "ETHERFI"):
        lst = clients.lst(protocol)
        before = lst.pool_state()
        predicted = stake_and_wrap(before, 7 * ETHER + 123)
        lst.stake(stack.user, 7 * ETHER + 123)
        assert lst.pool_state() == predicted.pool_after
        rebasing = clients.erc20.balance_of(lst.rebasing_symbol, stack.user)
        assert rebasing == predicted.rebasing_balance
        lst.wrap(stack.user, rebasing)
        assert clients.erc20.balance_of(lst.wrapped_symbol, stack.user) == predicted.wrapped_amount
        lst.unwrap(stack.user, predicted.wrapped_amount)
        assert clients.erc20.balance_of(lst.wrapped_symbol, stack.user) == 0


# -- aave-v3-core scenario scripts -----------------------------------------------------------

SCENARIOS = "aave-v3-core/test-suites/helpers/scenarios"


def _replay(stack: EvmStack, scenario: dict[str, Any]) -> list[tuple[str, str, str]]:
    """
    Replay a scenario's deposit/withdraw/borrow actions through the module's clients.

    DAI is played by USDT (6 decimals here), USDC by USDT as well; the stand-in has variable
    debt only, so ``stable`` borrows run at the variable rate (the scenarios' expectations
    tested here concern amounts, balances and health factor, not the rate mode). Returns
    ``(description, expected, actual)`` per action.
    """
    gateway = ChainGateway(stack.w3, local_setup=True)
    clients = OnchainClients(gateway, stack.config)
    aave = clients.aave
    pool = gateway.contract(stack.config.aave_pool, abi.AAVE_POOL_ABI)
    accounts = stack.w3.eth.accounts
    symbols = {"DAI": "USDT", "USDC": "USDT", "WETH": "WETH"}
    rate_modes = {"variable": 2, "stable": 2, "none": 0, "invalid": 3}
    outcomes: list[tuple[str, str, str]] = []
    for story in scenario["stories"]:
        for action in story["actions"]:
            args = action["args"]
            symbol = symbols[args["reserve"]]
            decimals = stack.config.token(symbol).decimals
            user = accounts[3 + int(args["user"])]
            raw = args.get("amount")
            amount = 0 if raw is None else (2**256 - 1 if raw == "-1" else int(Decimal(raw) * 10**decimals))
            try:
                if action["name"] == "mint":
                    if symbol == "WETH":
                        stack.tx(stack.contracts["weth"].functions.deposit(), sender=user, value=amount)
                    else:
                        stack.tx(stack.contracts["usdt"].functions.mint(user, amount))
                elif action["name"] == "approve":
                    token = stack.contracts[symbol.lower()]
                    stack.tx(token.functions.approve(stack.config.aave_pool, 2**256 - 1), sender=user)
                elif action["name"] == "deposit":
                    on_behalf = accounts[3 + int(args.get("onBehalfOf", args["user"]))]
                    gateway.send(
                        pool.functions.supply(stack.config.token(symbol).address, amount, on_behalf, 0),
                        step="deposit",
                        sender=user,
                    )
                elif action["name"] == "withdraw":
                    aave.withdraw(user, symbol, amount)
                elif action["name"] == "borrow":
                    gateway.send(
                        pool.functions.borrow(
                            stack.config.token(symbol).address,
                            amount,
                            rate_modes[args["borrowRateMode"]],
                            0,
                            user,
                        ),
                        step="borrow",
                        sender=user,
                    )
                else:
                    raise AssertionError(f"unexpected action {action['name']}")
                actual = "success"
            except TransactionReverted:
                actual = "revert"
            outcomes.append((f"{story['description']} / {action['name']}", action["expected"], actual))
    return outcomes


@pytest.mark.slow
@pytest.mark.parametrize("name", ["deposit.json", "withdraw-negatives.json", "borrow-negatives.json"])
def test_aave_scenarios_succeed_and_revert_where_the_protocol_does(
    name: str, stack: EvmStack, shared_data: Path
) -> None:
    scenario = json.loads((shared_data / SCENARIOS / name).read_text())
    outcomes = _replay(stack, scenario)
    assert outcomes
    mismatches = [o for o in outcomes if o[1] != o[2]]
    assert mismatches == []
