"""DEX adapter config rules, swap bounds, the oracle guard and revert classification (pure)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from nautilus_ext.adapters.dex import ApprovalMode
from nautilus_ext.adapters.dex import DexConfig
from nautilus_ext.adapters.dex import PoolKind
from nautilus_ext.adapters.dex import PoolSnapshot
from nautilus_ext.adapters.dex import SwapBelowMinimum
from nautilus_ext.adapters.dex import SwapDeadlineExpired
from nautilus_ext.adapters.dex import check_oracle
from nautilus_ext.adapters.dex import plan_swap
from nautilus_ext.adapters.dex.errors import classify_swap_revert
from nautilus_ext.adapters.dex.execution import min_amount_out
from nautilus_ext.adapters.dex.providers import DexPool
from nautilus_ext.adapters.dex.providers import pool_key
from nautilus_ext.dex import V2PoolState
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.errors import TransactionReverted

A = "0x" + "11" * 20
B = "0x" + "22" * 20


def _config(**over: Any) -> DexConfig:
    data: dict[str, Any] = {
        "chain_id": 31337,
        "tokens": [
            {"symbol": "WETH", "address": A, "decimals": 18},
            {"symbol": "DAI", "address": B, "decimals": 18},
        ],
        "max_fee_per_gas_wei": 10**11,
    }
    return DexConfig(**(data | over))


def test_config_round_trips_and_defaults_to_exact_approvals() -> None:
    cfg = _config()
    assert DexConfig.model_validate_json(cfg.model_dump_json()) == cfg
    assert cfg.approval is ApprovalMode.EXACT
    assert cfg.spot_asset_key("DAI") == "WALLET-ETH:SPOT_ASSET:DAI@ETHEREUM"


@pytest.mark.parametrize(
    ("over", "needle"),
    [
        (
            {
                "tokens": [
                    {"symbol": "WETH", "address": A, "decimals": 18},
                    {"symbol": "WETH", "address": B, "decimals": 18},
                ]
            },
            "repeat",
        ),
        (
            {
                "tokens": [
                    {"symbol": "WETH", "address": A, "decimals": 18},
                    {"symbol": "DAI", "address": A, "decimals": 18},
                ]
            },
            "share an address",
        ),
        ({"tokens": [{"symbol": "weth", "address": A, "decimals": 18}]}, "pattern"),
        ({"uniswap_v2_router": "0x1234"}, "20-byte address"),
        ({"balancer_pool_ids": ["0x" + "00" * 32]}, "need balancer_vault"),
        ({"balancer_vault": A, "balancer_pool_ids": ["0x12"]}, "32 bytes"),
        ({"max_slippage": Decimal(1)}, "less than 1"),
        ({"max_fee_per_gas_wei": 0}, "greater than 0"),
        ({"unknown": 1}, "Extra inputs"),
    ],
)
def test_each_config_rule_can_fail(over: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValidationError, match=needle):
        _config(**over)
    with pytest.raises(ValidationError):
        DexConfig(chain_id=1, tokens=[])  # no fee cap: money settings are never defaulted


def _snapshot(cfg: DexConfig) -> PoolSnapshot:
    tokens = (cfg.token("WETH"), cfg.token("DAI"))
    pool = DexPool(
        kind=PoolKind.UNISWAP_V2,
        address=A,
        tokens=tokens,
        fee_tier=3000,
        pool_id=None,
        key=pool_key(cfg, PoolKind.UNISWAP_V2, tokens, 3000),
    )
    return PoolSnapshot(
        pool=pool, state=V2PoolState(100 * 10**18, 200_000 * 10**18), block_number=7, block_timestamp=0
    )


def test_plan_bounds_the_output_by_slippage_and_the_oracle_guards_it() -> None:
    cfg = _config()
    plan = plan_swap(_snapshot(cfg), "WETH", "DAI", 10**18, max_slippage=Decimal("0.01"), deadline=99)
    assert plan.quote_out == (997 * 10**18 * 200_000 * 10**18) // (100 * 10**18 * 1000 + 997 * 10**18)
    assert plan.min_out == min_amount_out(plan.quote_out, Decimal("0.01")) < plan.quote_out
    assert (plan.block_number, plan.deadline) == (7, 99)
    assert Decimal(0) < plan.price_impact < Decimal("0.011")
    # the oracle agrees: passes; the oracle says the pool pays 10 % too little: refused
    assert check_oracle(plan, Decimal(2000), Decimal("0.05")) < Decimal("0.05")
    with pytest.raises(RiskBlocked) as caught:
        check_oracle(plan, Decimal(2200), Decimal("0.05"))
    assert caught.value.details["rule"] == "ORACLE_DEVIATION"
    with pytest.raises(InvalidOrder):
        plan_swap(_snapshot(cfg), "WETH", "USDC", 10**18, max_slippage=Decimal("0.01"), deadline=99)
    with pytest.raises(InvalidOrder):
        plan_swap(_snapshot(cfg), "WETH", "DAI", 0, max_slippage=Decimal("0.01"), deadline=99)


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT", SwapBelowMinimum),
        ("Too little received", SwapBelowMinimum),
        ("BAL#507", SwapBelowMinimum),
        ("UniswapV2Router: EXPIRED", SwapDeadlineExpired),
        ("Transaction too old", SwapDeadlineExpired),
        ("BAL#508", SwapDeadlineExpired),
        ("SPL", TransactionReverted),
    ],
)
def test_router_reverts_are_classified_by_cause(reason: str, kind: type[TransactionReverted]) -> None:
    error = classify_swap_revert(reason, "swap")
    assert type(error) is kind
    assert error.code is ErrorCode.TRANSACTION_REVERTED
    assert error.details["reason"] == reason


def test_public_api_is_pinned() -> None:
    import nautilus_ext.adapters.dex as dex

    assert sorted(dex.__all__) == sorted(
        [
            "ApprovalMode",
            "DexClients",
            "DexConfig",
            "DexPool",
            "DexPoolProvider",
            "DexPoolStateFeed",
            "DexPoolStateData",
            "DexPoolStateReader",
            "DexToken",
            "InsufficientAllowance",
            "PoolKind",
            "PoolSnapshot",
            "SwapBelowMinimum",
            "SwapDeadlineExpired",
            "SwapEvent",
            "SwapPlan",
            "build_dex_clients",
            "check_oracle",
            "plan_swap",
            "router_call",
            "swap_trade_tick",
        ]
    )
