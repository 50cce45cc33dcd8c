"""
The local chain runs the protocols' published bytecode.

For every contract deployed from an npm artifact the runtime code on Anvil is compared with the
artifact's ``deployedBytecode``: the logic libraries the Pool, FlashLoanLogic and the
PoolConfigurator link are filled in from their deployed addresses first; what may still differ
are immutables only (zero bytes in ``deployedBytecode`` that the constructor fills in, e.g. the
Pool's ADDRESSES_PROVIDER, the Router's factory/WETH, the Vault's WETH and authorizer, Morpho's
DOMAIN_SEPARATOR), and the masked chain code must then hash to the artifact's code.
"""

from __future__ import annotations

import pytest

from nautilus_ext_testkit.chain.protocols import load
from nautilus_ext_testkit.chain.protocols import runtime_matches
from nautilus_ext_testkit.chain.stack import EvmStack
from nautilus_ext_testkit.chain.world import REAL_PROTOCOL_KEYS

EXPECTED_SOURCES = {
    "pool_impl": "@aave/core-v3@1.19.3",
    "router": "@uniswap/v2-periphery@1.1.0-beta.0",
    "uniswap_v2_factory": "@uniswap/v2-core@1.0.1",
    "uniswap_v3_factory": "@uniswap/v3-core@1.0.1",
    "uniswap_v3_positions": "@uniswap/v3-periphery@1.4.4",
    "balancer_vault": "@balancer-labs/v2-deployments@3.2.0",
    "cow_settlement": "@cowprotocol/contracts@1.8.0",
    "morpho": "@morpho-org/morpho-blue@1.0.0",
}


def _libraries(stack: EvmStack) -> dict[str, str]:
    return {
        key.removeprefix("lib_"): c.address for key, c in stack.contracts.items() if key.startswith("lib_")
    }


def test_every_published_contract_runs_its_artifacts_runtime_code(session_stack: EvmStack) -> None:
    stack = session_stack
    libraries = _libraries(stack)
    assert set(REAL_PROTOCOL_KEYS) <= set(stack.artifacts)
    checked = 0
    for key, name in stack.artifacts.items():
        artifact = load(name, libraries)
        code = bytes(stack.w3.eth.get_code(stack.contracts[key].address))
        result = runtime_matches(code, artifact)
        assert result.matches, (key, name, artifact.source, len(code))
        assert result.chain_masked_sha256 == result.artifact_sha256
        checked += 1
    assert checked >= 40
    for key, source in EXPECTED_SOURCES.items():
        assert load(stack.artifacts[key], libraries).source.startswith(source)


@pytest.mark.parametrize(
    ("key", "immutables"),
    [("weth", 0), ("uniswap_v2_factory", 0), ("router", 2), ("morpho", 1)],
)
def test_immutables_are_the_only_difference(session_stack: EvmStack, key: str, immutables: int) -> None:
    """Contracts without immutables match byte for byte; the others differ only there."""
    stack = session_stack
    artifact = load(stack.artifacts[key], _libraries(stack))
    code = bytes(stack.w3.eth.get_code(stack.contracts[key].address))
    result = runtime_matches(code, artifact)
    assert result.matches
    assert result.immutable_words >= immutables
    if immutables == 0:
        assert code == bytes.fromhex(artifact.deployed_bytecode.removeprefix("0x"))


def test_a_tampered_runtime_code_does_not_match(session_stack: EvmStack) -> None:
    stack = session_stack
    artifact = load("UniswapV2Router02")
    code = bytearray(stack.w3.eth.get_code(stack.contracts["router"].address))
    code[100] ^= 0xFF
    assert not runtime_matches(bytes(code), artifact).matches
    assert not runtime_matches(bytes(code[:-1]), artifact).matches


def test_the_pool_is_the_real_aave_v3_behind_its_proxy(session_stack: EvmStack) -> None:
    stack = session_stack
    pool = stack.contracts["pool"]
    provider = stack.contracts["addresses_provider"]
    assert pool.functions.POOL_REVISION().call() == 1  # core-v3 1.19.3 Pool.sol
    assert pool.functions.ADDRESSES_PROVIDER().call() == provider.address
    assert pool.functions.FLASHLOAN_PREMIUM_TOTAL().call() == 5
    slot = int("360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc", 16)
    impl = stack.w3.eth.get_storage_at(pool.address, slot)[-20:]
    assert "0x" + impl.hex() == stack.contracts["pool_impl"].address.lower()
