"""
Load the published protocol artifacts (ABI, creation and runtime bytecode) from the npm cache.

Each :class:`Artifact` names its package and file; :func:`load` reads it and links libraries.
:func:`runtime_matches` compares a deployed contract's runtime code with the artifact's
``deployedBytecode``: libraries are linked into the artifact first, and the only bytes allowed
to differ are immutables, which the compiler leaves as zero words in ``deployedBytecode`` and
the constructor fills in (addresses, chain id, domain separators).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from typing import Final

from nautilus_ext_testkit.chain import artifacts as npm


@dataclass(frozen=True, slots=True)
class Artifact:
    """
    One contract's published artifact.

    Parameters
    ----------
    name : str
        Contract name.
    abi : list[dict[str, Any]]
        ABI.
    bytecode : str
        Creation code (``0x`` hex, libraries linked).
    deployed_bytecode : str
        Runtime code as published (``0x`` hex, libraries linked, immutables zeroed).
    source : str
        ``package@version:path`` it came from.
    """

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    source: str


_AAVE: Final[str] = "artifacts/contracts/"
_PATHS: Final[dict[str, tuple[npm.NpmPackage, str]]] = {
    "UniswapV2Factory": (npm.UNISWAP_V2_CORE, "build/UniswapV2Factory.json"),
    "UniswapV2Pair": (npm.UNISWAP_V2_CORE, "build/UniswapV2Pair.json"),
    "UniswapV2Router02": (npm.UNISWAP_V2_PERIPHERY, "build/UniswapV2Router02.json"),
    "WETH9": (npm.UNISWAP_V2_PERIPHERY, "build/WETH9.json"),
    "UniswapV3Factory": (
        npm.UNISWAP_V3_CORE,
        "artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json",
    ),
    "UniswapV3Pool": (npm.UNISWAP_V3_CORE, "artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json"),
    "SwapRouter": (npm.UNISWAP_V3_PERIPHERY, "artifacts/contracts/SwapRouter.sol/SwapRouter.json"),
    "QuoterV2": (npm.UNISWAP_V3_PERIPHERY, "artifacts/contracts/lens/QuoterV2.sol/QuoterV2.json"),
    "NonfungiblePositionManager": (
        npm.UNISWAP_V3_PERIPHERY,
        "artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json",
    ),
    "PoolAddressesProvider": (
        npm.AAVE_CORE_V3,
        _AAVE + "protocol/configuration/PoolAddressesProvider.sol/PoolAddressesProvider.json",
    ),
    "ACLManager": (npm.AAVE_CORE_V3, _AAVE + "protocol/configuration/ACLManager.sol/ACLManager.json"),
    "Pool": (npm.AAVE_CORE_V3, _AAVE + "protocol/pool/Pool.sol/Pool.json"),
    "PoolConfigurator": (
        npm.AAVE_CORE_V3,
        _AAVE + "protocol/pool/PoolConfigurator.sol/PoolConfigurator.json",
    ),
    "DefaultReserveInterestRateStrategy": (
        npm.AAVE_CORE_V3,
        _AAVE
        + "protocol/pool/DefaultReserveInterestRateStrategy.sol/DefaultReserveInterestRateStrategy.json",
    ),
    "AToken": (npm.AAVE_CORE_V3, _AAVE + "protocol/tokenization/AToken.sol/AToken.json"),
    "VariableDebtToken": (
        npm.AAVE_CORE_V3,
        _AAVE + "protocol/tokenization/VariableDebtToken.sol/VariableDebtToken.json",
    ),
    "StableDebtToken": (
        npm.AAVE_CORE_V3,
        _AAVE + "protocol/tokenization/StableDebtToken.sol/StableDebtToken.json",
    ),
    "AaveOracle": (npm.AAVE_CORE_V3, _AAVE + "misc/AaveOracle.sol/AaveOracle.json"),
    "InitializableImmutableAdminUpgradeabilityProxy": (
        npm.AAVE_CORE_V3,
        _AAVE + "protocol/libraries/aave-upgradeability/InitializableImmutableAdminUpgradeabilityProxy.sol/"
        "InitializableImmutableAdminUpgradeabilityProxy.json",
    ),
    "AaveProtocolDataProvider": (
        npm.AAVE_CORE_V3,
        _AAVE + "misc/AaveProtocolDataProvider.sol/AaveProtocolDataProvider.json",
    ),
    "MockAggregator": (
        npm.AAVE_CORE_V3,
        _AAVE + "mocks/oracle/CLAggregators/MockAggregator.sol/MockAggregator.json",
    ),
    "MintableERC20": (npm.AAVE_CORE_V3, _AAVE + "mocks/tokens/MintableERC20.sol/MintableERC20.json"),
    "Vault": (npm.BALANCER_V2_DEPLOYMENTS, "dist/tasks/20210418-vault/artifact/Vault.json"),
    "Authorizer": (npm.BALANCER_V2_DEPLOYMENTS, "dist/tasks/20210418-authorizer/artifact/Authorizer.json"),
    "WeightedPoolFactory": (
        npm.BALANCER_V2_DEPLOYMENTS,
        "dist/tasks/20210418-weighted-pool/bytecode/WeightedPoolFactory.json",
    ),
    "WeightedPool": (
        npm.BALANCER_V2_DEPLOYMENTS,
        "dist/tasks/20210418-weighted-pool/bytecode/WeightedPool.json",
    ),
    "GPv2Settlement": (npm.COW_CONTRACTS, "deployments/mainnet/GPv2Settlement.json"),
    "GPv2AllowListAuthentication": (
        npm.COW_CONTRACTS,
        "deployments/mainnet/GPv2AllowListAuthentication_Implementation.json",
    ),
}
for _lib in (
    "BorrowLogic",
    "BridgeLogic",
    "EModeLogic",
    "FlashLoanLogic",
    "LiquidationLogic",
    "PoolLogic",
    "SupplyLogic",
    "ConfiguratorLogic",
):
    _PATHS[_lib] = (npm.AAVE_CORE_V3, _AAVE + f"protocol/libraries/logic/{_lib}.sol/{_lib}.json")

AAVE_POOL_LIBRARIES: Final[tuple[str, ...]] = (
    "BorrowLogic",
    "BridgeLogic",
    "EModeLogic",
    "LiquidationLogic",
    "PoolLogic",
    "SupplyLogic",
    "FlashLoanLogic",
)
"""Libraries the Pool links, in an order that deploys FlashLoanLogic after BorrowLogic."""


def _hex(code: Any) -> str:
    if isinstance(code, dict):
        code = code["object"]
    text = str(code)
    return text if text.startswith("0x") else "0x" + text


def _link(
    code: str, references: dict[str, dict[str, list[dict[str, int]]]], libraries: dict[str, str]
) -> str:
    raw = code.removeprefix("0x")
    for refs in references.values():
        for lib, places in refs.items():
            if lib not in libraries:
                raise KeyError(f"library {lib} not deployed")  # load(name) without libraries skips linking
            address = libraries[lib].lower().removeprefix("0x")
            for place in places:
                start = 2 * place["start"]
                raw = raw[:start] + address + raw[start + 2 * place["length"] :]
    return "0x" + raw


def load(name: str, libraries: dict[str, str] | None = None) -> Artifact:
    """
    Read one artifact from the npm cache, linking ``libraries`` (name -> address) into it.

    Without ``libraries`` a contract that links some keeps the placeholders (enough for its ABI;
    deploying it fails).

    Morpho Blue (and its mocks) come from the solc-js output compiled at fetch time.
    """
    if name in {"Morpho", "IrmMock", "OracleMock", "ERC20Mock"}:
        source = "Morpho.sol" if name == "Morpho" else f"mocks/{name}.sol"
        out = npm.morpho_contracts()[source][name]
        return Artifact(
            name,
            out["abi"],
            _hex(out["evm"]["bytecode"]["object"]),
            _hex(out["evm"]["deployedBytecode"]["object"]),
            f"{npm.MORPHO_BLUE.name}@{npm.MORPHO_BLUE.version}:src/{source} (solc {npm.SOLC_MORPHO.version})",
        )
    package, path = _PATHS[name]
    data = json.loads((npm.package_dir(package) / path).read_text())
    libs = libraries
    if "creationCode" in data:  # Balancer's bytecode/ files: no runtime code published
        creation, runtime = _hex(data["creationCode"]), "0x"
        data["abi"] = json.loads((npm.package_dir(package) / path.replace("/bytecode/", "/abi/")).read_text())
    elif "evm" in data:  # Uniswap V2's waffle build
        creation, runtime = _hex(data["evm"]["bytecode"]), _hex(data["evm"]["deployedBytecode"])
    else:
        creation, runtime = _hex(data["bytecode"]), _hex(data["deployedBytecode"])
    if libs is not None:  # without libraries (an ABI lookup) the code keeps its placeholders
        creation = _link(creation, data.get("linkReferences") or {}, libs)
        runtime = _link(runtime, data.get("deployedLinkReferences") or {}, libs)
    return Artifact(name, data["abi"], creation, runtime, f"{package.name}@{package.version}:{path}")


@dataclass(frozen=True, slots=True)
class RuntimeComparison:
    """
    How a deployed runtime code compares with its artifact.

    Parameters
    ----------
    matches : bool
        Same length, and every differing byte lies where the artifact has a zero byte
        (an immutable slot).
    immutable_words : int
        Separate runs of differing bytes (immutables the constructor filled in).
    artifact_sha256 : str
        Hash of the artifact's runtime code.
    chain_masked_sha256 : str
        Hash of the chain's code with the immutable bytes zeroed: equals ``artifact_sha256``
        when ``matches``.
    """

    matches: bool
    immutable_words: int
    artifact_sha256: str
    chain_masked_sha256: str


def runtime_matches(chain_code: bytes, artifact: Artifact) -> RuntimeComparison:
    """Compare deployed runtime code with the artifact's (see the module docstring)."""
    published = bytes.fromhex(artifact.deployed_bytecode.removeprefix("0x"))
    masked = bytearray(chain_code)
    ok = len(chain_code) == len(published)
    windows = 0
    last = -64
    if ok:
        for i, (got, want) in enumerate(zip(chain_code, published, strict=True)):
            if got != want:
                if want != 0:
                    ok = False
                    break
                masked[i] = 0
                if i - last >= 32:
                    windows += 1
                last = i
    return RuntimeComparison(
        matches=ok and bytes(masked) == published,
        immutable_words=windows,
        artifact_sha256=hashlib.sha256(published).hexdigest(),
        chain_masked_sha256=hashlib.sha256(bytes(masked)).hexdigest(),
    )


__all__ = ["AAVE_POOL_LIBRARIES", "Artifact", "RuntimeComparison", "load", "runtime_matches"]
