"""
ABI fragments of the mainnet protocols, for exactly the functions this module calls.

Written from the protocols' published interfaces (AAVE v3.0 ``IPool``/``IAaveOracle``/
``IScaledBalanceToken``, Morpho Blue ``IMorpho.flashLoan``, Lido ``stETH``/``wstETH``, EtherFi
``LiquidityPool``/``weETH``, Instadapp ``InstaImplementationM1.cast``, Uniswap V2
``Router02``). A test checks the local stand-ins expose the same signatures.
"""

from __future__ import annotations

from typing import Any

AbiEntry = dict[str, Any]
Param = tuple[str, str] | tuple[str, str, list[Any]]


def _params(params: list[Param]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for param in params:
        entry: dict[str, Any] = {"name": param[1], "type": param[0]}
        if len(param) == 3:
            entry["components"] = _params(param[2])
        out.append(entry)
    return out


def fn(
    name: str,
    inputs: list[Param],
    outputs: list[Param] | None = None,
    mutability: str = "nonpayable",
) -> AbiEntry:
    """Build one ABI function entry from ``(type, name)`` pairs (tuples carry components)."""
    return {
        "type": "function",
        "name": name,
        "inputs": _params(inputs),
        "outputs": _params(outputs or []),
        "stateMutability": mutability,
    }


_U = "uint256"
_A = "address"

ERC20_ABI: list[AbiEntry] = [
    fn("balanceOf", [(_A, "account")], [(_U, "")], "view"),
    fn("decimals", [], [("uint8", "")], "view"),
    fn("approve", [(_A, "spender"), (_U, "amount")], [("bool", "")]),
    fn("transfer", [(_A, "to"), (_U, "amount")], [("bool", "")]),
    fn("allowance", [(_A, "owner"), (_A, "spender")], [(_U, "")], "view"),
]

WETH_ABI: list[AbiEntry] = [
    *ERC20_ABI,
    fn("deposit", [], [], "payable"),
    fn("withdraw", [(_U, "wad")]),
]

SCALED_TOKEN_ABI: list[AbiEntry] = [
    fn("balanceOf", [(_A, "account")], [(_U, "")], "view"),
    fn("decimals", [], [("uint8", "")], "view"),
    fn("scaledBalanceOf", [(_A, "user")], [(_U, "")], "view"),
    fn("scaledTotalSupply", [], [(_U, "")], "view"),
]

_RESERVE_DATA: list[Param] = [
    ("tuple", "configuration", [(_U, "data")]),
    ("uint128", "liquidityIndex"),
    ("uint128", "currentLiquidityRate"),
    ("uint128", "variableBorrowIndex"),
    ("uint128", "currentVariableBorrowRate"),
    ("uint128", "currentStableBorrowRate"),
    ("uint40", "lastUpdateTimestamp"),
    ("uint16", "id"),
    (_A, "aTokenAddress"),
    (_A, "stableDebtTokenAddress"),
    (_A, "variableDebtTokenAddress"),
    (_A, "interestRateStrategyAddress"),
    ("uint128", "accruedToTreasury"),
    ("uint128", "unbacked"),
    ("uint128", "isolationModeTotalDebt"),
]

AAVE_POOL_ABI: list[AbiEntry] = [
    fn("supply", [(_A, "asset"), (_U, "amount"), (_A, "onBehalfOf"), ("uint16", "referralCode")]),
    fn("withdraw", [(_A, "asset"), (_U, "amount"), (_A, "to")], [(_U, "")]),
    fn(
        "borrow",
        [
            (_A, "asset"),
            (_U, "amount"),
            (_U, "interestRateMode"),
            ("uint16", "referralCode"),
            (_A, "onBehalfOf"),
        ],
    ),
    fn(
        "repay",
        [(_A, "asset"), (_U, "amount"), (_U, "interestRateMode"), (_A, "onBehalfOf")],
        [(_U, "")],
    ),
    fn("setUserEMode", [("uint8", "categoryId")]),
    fn("getUserEMode", [(_A, "user")], [(_U, "")], "view"),
    fn(
        "getEModeCategoryData",
        [("uint8", "id")],
        [
            (
                "tuple",
                "",
                [
                    ("uint16", "ltv"),
                    ("uint16", "liquidationThreshold"),
                    ("uint16", "liquidationBonus"),
                    (_A, "priceSource"),
                    ("string", "label"),
                ],
            )
        ],
        "view",
    ),
    fn("getReserveData", [(_A, "asset")], [("tuple", "", _RESERVE_DATA)], "view"),
    fn("getReserveNormalizedIncome", [(_A, "asset")], [(_U, "")], "view"),
    fn("getReserveNormalizedVariableDebt", [(_A, "asset")], [(_U, "")], "view"),
    fn("getReservesList", [], [("address[]", "")], "view"),
    fn(
        "getUserAccountData",
        [(_A, "user")],
        [
            (_U, "totalCollateralBase"),
            (_U, "totalDebtBase"),
            (_U, "availableBorrowsBase"),
            (_U, "currentLiquidationThreshold"),
            (_U, "ltv"),
            (_U, "healthFactor"),
        ],
        "view",
    ),
]

AAVE_ORACLE_ABI: list[AbiEntry] = [
    fn("getAssetPrice", [(_A, "asset")], [(_U, "")], "view"),
    fn("BASE_CURRENCY_UNIT", [], [(_U, "")], "view"),
]

MORPHO_ABI: list[AbiEntry] = [
    fn("flashLoan", [(_A, "token"), (_U, "assets"), ("bytes", "data")]),
]

LIDO_STETH_ABI: list[AbiEntry] = [
    *ERC20_ABI,
    fn("submit", [(_A, "_referral")], [(_U, "")], "payable"),
    fn("getTotalPooledEther", [], [(_U, "")], "view"),
    fn("getTotalShares", [], [(_U, "")], "view"),
    fn("getSharesByPooledEth", [(_U, "_ethAmount")], [(_U, "")], "view"),
    fn("getPooledEthByShares", [(_U, "_sharesAmount")], [(_U, "")], "view"),
]

LIDO_WSTETH_ABI: list[AbiEntry] = [
    *ERC20_ABI,
    fn("wrap", [(_U, "_stETHAmount")], [(_U, "")]),
    fn("unwrap", [(_U, "_wstETHAmount")], [(_U, "")]),
    fn("stEthPerToken", [], [(_U, "")], "view"),
]

ETHERFI_POOL_ABI: list[AbiEntry] = [
    fn("deposit", [], [(_U, "")], "payable"),
    fn("getTotalPooledEther", [], [(_U, "")], "view"),
    fn("sharesForAmount", [(_U, "_amount")], [(_U, "")], "view"),
    fn("amountForShare", [(_U, "_share")], [(_U, "")], "view"),
]

ETHERFI_EETH_ABI: list[AbiEntry] = [
    *ERC20_ABI,
    fn("totalShares", [], [(_U, "")], "view"),
]

ETHERFI_WEETH_ABI: list[AbiEntry] = [
    *ERC20_ABI,
    fn("wrap", [(_U, "_eETHAmount")], [(_U, "")]),
    fn("unwrap", [(_U, "_weETHAmount")], [(_U, "")]),
    fn("getRate", [], [(_U, "")], "view"),
]

INSTA_ACCOUNT_ABI: list[AbiEntry] = [
    fn(
        "cast",
        [("string[]", "_targetNames"), ("bytes[]", "_datas"), (_A, "_origin")],
        [("bytes32", "")],
        "payable",
    ),
    fn("isAuth", [(_A, "user")], [("bool", "")], "view"),
]

UNISWAP_V2_ROUTER_ABI: list[AbiEntry] = [
    fn("getAmountsOut", [(_U, "amountIn"), ("address[]", "path")], [("uint256[]", "")], "view"),
    fn("getAmountsIn", [(_U, "amountOut"), ("address[]", "path")], [("uint256[]", "")], "view"),
]

__all__ = [
    "AAVE_ORACLE_ABI",
    "AAVE_POOL_ABI",
    "ERC20_ABI",
    "ETHERFI_EETH_ABI",
    "ETHERFI_POOL_ABI",
    "ETHERFI_WEETH_ABI",
    "INSTA_ACCOUNT_ABI",
    "LIDO_STETH_ABI",
    "LIDO_WSTETH_ABI",
    "MORPHO_ABI",
    "SCALED_TOKEN_ABI",
    "UNISWAP_V2_ROUTER_ABI",
    "WETH_ABI",
    "fn",
]
