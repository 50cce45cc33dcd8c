"""Bundle structure rules, spell encoding, error translation and configuration validation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_abi.abi import decode
from eth_tester.exceptions import TransactionFailed
from eth_tester.exceptions import ValidationError as EthTesterValidationError
from eth_utils.crypto import keccak
from pydantic import ValidationError
from web3.exceptions import ContractLogicError
from web3.exceptions import ProviderConnectionError
from web3.exceptions import TimeExhausted
from web3.exceptions import Web3Exception

from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import ExternalError
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.onchain.bundles import AtomicBundle
from nautilus_ext.onchain.bundles import BundleKind
from nautilus_ext.onchain.bundles import BundleStep
from nautilus_ext.onchain.bundles import StepKind
from nautilus_ext.onchain.bundles import TargetRange
from nautilus_ext.onchain.bundles import describe_revert
from nautilus_ext.onchain.bundles import failing_step
from nautilus_ext.onchain.bundles import refuse_cowswap
from nautilus_ext.onchain.chain import buffered_gas_limit
from nautilus_ext.onchain.chain import translate_exception
from nautilus_ext.onchain.config import OnchainConfig
from nautilus_ext.onchain.config import TokenConfig
from nautilus_ext.onchain.spells import Spell
from nautilus_ext.onchain.spells import aave_borrow
from nautilus_ext.onchain.spells import aave_deposit
from nautilus_ext.onchain.spells import flash_borrow_and_cast
from nautilus_ext.onchain.spells import flash_payback

TOKEN = "0x" + "11" * 20
DSA = "0x" + "22" * 20


def _entry() -> AtomicBundle:
    return AtomicBundle(
        kind=BundleKind.LEVERAGED_LENDING_ENTRY,
        steps=(
            BundleStep(StepKind.FLASH_BORROW, "WETH", 90, None, "MORPHO"),
            BundleStep(StepKind.SUPPLY, "WETH", 100, aave_deposit("AAVE-V3-A", TOKEN, 100), "AAVE_V3"),
            BundleStep(StepKind.BORROW, "WETH", 90, aave_borrow("AAVE-V3-A", TOKEN, 90), "AAVE_V3"),
            BundleStep(StepKind.FLASH_REPAY, "WETH", 90, flash_payback("INSTAPOOL-C", TOKEN, 90), "MORPHO"),
        ),
        flash_connector="INSTAPOOL-C",
        flash_route=10,
    )


def test_spell_calldata_is_selector_plus_abi_args() -> None:
    spell = aave_borrow("AAVE-V3-A", TOKEN, 5)
    # borrow(address,uint256,uint256,uint256,uint256), the AAVE-V3-A connector's signature
    assert spell.calldata[:4] == keccak(text="borrow(address,uint256,uint256,uint256,uint256)")[:4]
    assert decode(["address", "uint256", "uint256", "uint256", "uint256"], spell.calldata[4:]) == (
        TOKEN,
        5,
        2,
        0,
        0,
    )
    with pytest.raises(InvalidOrder, match="takes 4 arguments"):
        Spell("AAVE-V3-A", "deposit(address,uint256,uint256,uint256)", (TOKEN, 1))


def test_flash_bundle_wraps_inner_spells() -> None:
    bundle = _entry()
    spells = bundle.spells(TOKEN)
    assert [s.connector for s in spells] == ["INSTAPOOL-C"]
    token, amount, route, data, extra = decode(
        ["address", "uint256", "uint256", "bytes", "bytes"], spells[0].calldata[4:]
    )
    assert (token, amount, route, extra) == (TOKEN, 90, 10, b"")
    names, datas = decode(["string[]", "bytes[]"], data)
    assert list(names) == ["AAVE-V3-A", "AAVE-V3-A", "INSTAPOOL-C"]
    assert list(datas) == [s.spell.calldata for s in bundle.steps[1:] if s.spell is not None]


def test_bundle_structure_rules() -> None:
    steps = _entry().steps
    with pytest.raises(InvalidOrder, match="last step"):
        AtomicBundle(BundleKind.ORDER_GROUP, (steps[0], steps[3], steps[1]), flash_connector="INSTAPOOL-C")
    with pytest.raises(InvalidOrder, match="at most one flash loan"):
        AtomicBundle(BundleKind.ORDER_GROUP, (steps[0], steps[1]), flash_connector="INSTAPOOL-C")
    short = BundleStep(StepKind.FLASH_REPAY, "WETH", 89, flash_payback("INSTAPOOL-C", TOKEN, 89), "MORPHO")
    with pytest.raises(InvalidOrder, match="repaid in full"):
        AtomicBundle(BundleKind.ORDER_GROUP, (*steps[:3], short), flash_connector="INSTAPOOL-C")
    with pytest.raises(InvalidOrder, match="at least one step"):
        AtomicBundle(BundleKind.ORDER_GROUP, ())
    with pytest.raises(InvalidOrder, match="slippage bound"):
        BundleStep(StepKind.SWAP, "WEETH", 1, aave_deposit("X", TOKEN, 1), "UNISWAP-V2")
    with pytest.raises(InvalidOrder, match="nest"):
        flash_borrow_and_cast(
            "INSTAPOOL-C",
            TOKEN,
            1,
            10,
            [
                flash_borrow_and_cast("INSTAPOOL-C", TOKEN, 1, 10, [aave_deposit("A", TOKEN, 1)]),
                flash_payback("INSTAPOOL-C", TOKEN, 1),
            ],
        )


def test_failing_step_names_the_step_from_the_revert_reason() -> None:
    bundle = _entry()
    assert failing_step(bundle, "COLLATERAL_CANNOT_COVER_NEW_BORROW") == (
        "3:BORROW WETH",
        ["3:BORROW WETH"],
    )
    assert failing_step(bundle, "amount-paid-less")[0] == "4:FLASH_REPAY WETH"
    assert failing_step(bundle, "something else") == ("unknown", [])


def test_failing_step_reads_aave_v3_numeric_error_codes() -> None:
    """The deployed AAVE v3 reverts with Errors.sol's numeric codes, not the constant names."""
    bundle = _entry()
    assert failing_step(bundle, "36") == ("3:BORROW WETH", ["3:BORROW WETH"])
    assert failing_step(bundle, "34")[0] == "3:BORROW WETH"
    assert describe_revert("36") == "36 (COLLATERAL_CANNOT_COVER_NEW_BORROW)"
    assert describe_revert("51") == "51 (SUPPLY_CAP_EXCEEDED)"
    assert describe_revert("Too much slippage") == "Too much slippage"
    # a number that is not an AAVE code, or one inside other text, is not translated
    assert failing_step(bundle, "360") == ("unknown", [])


def test_cowswap_is_refused() -> None:
    step = BundleStep(StepKind.SWAP, "WEETH", 1, aave_deposit("X", TOKEN, 1), "cowswap")
    with pytest.raises(InvalidOrder) as caught:
        refuse_cowswap([step])
    assert caught.value.details["rule"] == "COWSWAP_IN_ATOMIC_BUNDLE"


def test_target_range() -> None:
    target = TargetRange(Decimal("0.85"), Decimal("0.9"), Decimal("1.02"))
    assert target.violations(Decimal("0.88"), Decimal("1.1")) == []
    assert len(target.violations(Decimal("0.91"), Decimal("1.01"))) == 2
    with pytest.raises(InvalidOrder):
        TargetRange(Decimal("0.9"), Decimal("0.8"), Decimal("1.1"))


def test_gas_limit_buffer_is_twenty_percent_rounded_up() -> None:
    assert buffered_gas_limit(650_000) == 780_000
    assert buffered_gas_limit(7) == 9
    with pytest.raises(ValueError, match="positive"):
        buffered_gas_limit(0)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (
            TransactionFailed("execution reverted: Too much slippage"),
            ErrorCode.TRANSACTION_REVERTED,
        ),
        (ContractLogicError("execution reverted: 36"), ErrorCode.TRANSACTION_REVERTED),
        (TimeExhausted("no receipt"), ErrorCode.VENUE_UNAVAILABLE),
        (ProviderConnectionError("down"), ErrorCode.VENUE_UNAVAILABLE),
        (ConnectionError("refused"), ErrorCode.VENUE_UNAVAILABLE),
        (Web3Exception("weird"), ErrorCode.VENUE_UNAVAILABLE),
        (EthTesterValidationError("bad tx"), ErrorCode.VENUE_UNAVAILABLE),
        (
            ValueError({"code": -32000, "message": "insufficient funds for gas * price + value"}),
            ErrorCode.INSUFFICIENT_BALANCE,
        ),
        (RuntimeError("anything"), ErrorCode.VENUE_UNAVAILABLE),
    ],
)
def test_every_dependency_error_is_mapped(exc: Exception, code: ErrorCode) -> None:
    mapped = translate_exception(exc, step="borrow WETH")
    assert isinstance(mapped, ExternalError)
    assert mapped.code is code
    assert mapped.details["step"] == "borrow WETH"


def test_revert_reason_is_extracted() -> None:
    mapped = translate_exception(TransactionFailed("execution reverted: Too much slippage"), step="s")
    assert mapped.details["reason"] == "Too much slippage"


def _config(**overrides: object) -> OnchainConfig:
    fields: dict[str, object] = {
        "chain": "ETHEREUM",
        "chain_id": 1,
        "tokens": (TokenConfig(symbol="WETH", address=TOKEN, decimals=18),),
        "flash_route": 10,
    }
    for name in (
        "aave_pool",
        "aave_oracle",
        "morpho",
        "flash_aggregator",
        "dsa",
        "lido_steth",
        "lido_wsteth",
        "etherfi_liquidity_pool",
        "etherfi_eeth",
        "etherfi_weeth",
        "swap_router",
    ):
        fields[name] = DSA
    fields.update(overrides)
    return OnchainConfig.model_validate(fields)


def test_config_validation_rules_can_fail() -> None:
    assert _config().token("weth").decimals == 18
    with pytest.raises(ValidationError, match="20-byte hex address"):
        _config(dsa="0x1234")
    with pytest.raises(ValidationError, match="must include WETH"):
        _config(tokens=(TokenConfig(symbol="USDT", address=TOKEN, decimals=6),))
    with pytest.raises(ValidationError, match="duplicate"):
        _config(tokens=(TokenConfig(symbol="WETH", address=TOKEN, decimals=18),) * 2)
    with pytest.raises(ValidationError, match="upper case"):
        TokenConfig(symbol="weth", address=TOKEN, decimals=18)
    with pytest.raises(ValidationError, match="Extra inputs"):
        _config(surprise=1)
    with pytest.raises(KeyError, match="not configured"):
        _config().token("DAI")
    assert OnchainConfig.model_validate_json(_config().model_dump_json()) == _config()


def test_a_non_positive_gas_price_cap_is_a_config_error() -> None:
    from nautilus_ext.errors import InvalidConfig
    from nautilus_ext.onchain.chain import ChainGateway

    for bad in (0, -1):
        with pytest.raises(InvalidConfig, match="max_fee_per_gas_wei must be positive"):
            ChainGateway(object(), max_fee_per_gas_wei=bad)
