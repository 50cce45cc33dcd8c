"""Every algorithm config: JSON round trip, and each cross-field rule can fail."""

from __future__ import annotations

import pytest

from nautilus_ext import execution_algos
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.execution_algos.base import SmartExecAlgorithmConfig
from nautilus_ext.execution_algos.limit_then_market import LimitThenMarketExecAlgorithmConfig
from nautilus_ext.execution_algos.pov import POVExecAlgorithmConfig
from nautilus_ext.execution_algos.shortfall import ISExecAlgorithmConfig
from nautilus_ext.execution_algos.sor import SORExecAlgorithmConfig
from nautilus_ext.execution_algos.twap import TWAPExecAlgorithmConfig
from nautilus_ext.execution_algos.vwap import VWAPExecAlgorithmConfig

CONFIGS = [
    TWAPExecAlgorithmConfig,
    LimitThenMarketExecAlgorithmConfig,
    POVExecAlgorithmConfig,
    VWAPExecAlgorithmConfig,
]


@pytest.mark.parametrize("cls", CONFIGS)
def test_config_round_trips_through_json(cls: type[SmartExecAlgorithmConfig]) -> None:
    config = cls()
    assert cls.parse(config.json()) == config
    custom = cls.parse(cls(slippage_action="STOP").json())
    assert custom.slippage_action == "STOP"


@pytest.mark.parametrize(
    ("cls", "bad"),
    [
        (TWAPExecAlgorithmConfig, {"interval_secs": 0}),
        (TWAPExecAlgorithmConfig, {"horizon_secs": 10, "interval_secs": 20}),
        (TWAPExecAlgorithmConfig, {"size_jitter": "0.7"}),
        (TWAPExecAlgorithmConfig, {"time_jitter": "1"}),
        (TWAPExecAlgorithmConfig, {"slippage_action": "IGNORE"}),
        (TWAPExecAlgorithmConfig, {"final_policy": "HOPE"}),
        (TWAPExecAlgorithmConfig, {"max_child_rejects": 0}),
        (LimitThenMarketExecAlgorithmConfig, {"timeout_secs": 0}),
        (LimitThenMarketExecAlgorithmConfig, {"reprice_interval_secs": -1}),
        (LimitThenMarketExecAlgorithmConfig, {"max_reprices": -1}),
        (LimitThenMarketExecAlgorithmConfig, {"ticks_inside": 0}),
        (POVExecAlgorithmConfig, {"participation": "0"}),
        (POVExecAlgorithmConfig, {"participation": "1.5"}),
        (POVExecAlgorithmConfig, {"min_child": "0.5", "max_child": "0.1"}),
        (POVExecAlgorithmConfig, {"max_duration_secs": 0}),
        (POVExecAlgorithmConfig, {"final_policy": "DUMP"}),
        (VWAPExecAlgorithmConfig, {"bucket_secs": 7}),
        (ISExecAlgorithmConfig, {"volatility_bps_per_sqrt_sec": "0"}),
        (SORExecAlgorithmConfig, {"max_rounds": 0}),
        (SORExecAlgorithmConfig, {"stale_book_secs": -1}),
        (ISExecAlgorithmConfig, {"impact_eta_bps": "-1"}),
        (ISExecAlgorithmConfig, {"horizon_secs": 10, "interval_secs": 20}),
        (VWAPExecAlgorithmConfig, {"horizon_secs": 30, "bucket_secs": 60}),
    ],
)
def test_config_rules_fail(cls: type, bad: dict[str, object]) -> None:
    with pytest.raises(InvalidConfig):
        cls(**bad)


def test_every_implemented_algorithm_is_importable() -> None:
    configs = execution_algos.importable_exec_algorithm_configs()
    assert {c.exec_algorithm_path for c in configs} == {
        p for p, _ in execution_algos.ALGORITHM_PATHS.values()
    }
    assert frozenset(execution_algos.ALGORITHM_PATHS) == execution_algos.IMPLEMENTED_ALGORITHMS


def test_public_api_is_pinned() -> None:
    assert execution_algos.__all__ == [
        "ALGORITHM_PATHS",
        "ALGO_OUTCOME_TOPIC",
        "EXIT_TAG",
        "IMPLEMENTED_ALGORITHMS",
        "AlgoOutcome",
        "AlgoReport",
        "FinalPolicy",
        "SlippageAction",
        "StopReason",
        "importable_exec_algorithm_configs",
        "outcome_topic",
    ]
