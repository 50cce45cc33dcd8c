"""
NautilusTrader ExecAlgorithms selected by routing when an Order enables smart execution.

One algorithm per module: its config and pure schedule functions, then the ``ExecAlgorithm``.
Importing this package does not import the Nautilus runtime.

=========================  ===============================================
routing ``Algorithm``      module
=========================  ===============================================
TWAP                       :mod:`nautilus_ext.execution_algos.twap`
LIMIT_THEN_MARKET          :mod:`nautilus_ext.execution_algos.limit_then_market`
POV                        :mod:`nautilus_ext.execution_algos.pov`
VWAP                       :mod:`nautilus_ext.execution_algos.vwap`
IS                         :mod:`nautilus_ext.execution_algos.shortfall`
SOR_CEFI                   :mod:`nautilus_ext.execution_algos.sor`
TPSL                       :mod:`nautilus_ext.execution_algos.tpsl` (the exit algorithm: takes the entry too)
ATOMIC_LEGS                :mod:`nautilus_ext.execution_algos.atomic_legs` (atomic groups: ``submit_group``)
=========================  ===============================================
"""

from __future__ import annotations

from typing import Any
from typing import Final

from nautilus_ext.execution_algos.common import ALGO_OUTCOME_TOPIC
from nautilus_ext.execution_algos.common import EXIT_TAG
from nautilus_ext.execution_algos.common import AlgoOutcome
from nautilus_ext.execution_algos.common import AlgoReport
from nautilus_ext.execution_algos.common import FinalPolicy
from nautilus_ext.execution_algos.common import SlippageAction
from nautilus_ext.execution_algos.common import StopReason
from nautilus_ext.execution_algos.common import outcome_topic

ALGORITHM_PATHS: Final[dict[str, tuple[str, str]]] = {
    "TWAP": (
        "nautilus_ext.execution_algos.twap:TWAPExecAlgorithm",
        "nautilus_ext.execution_algos.twap:TWAPExecAlgorithmConfig",
    ),
    "LIMIT_THEN_MARKET": (
        "nautilus_ext.execution_algos.limit_then_market:LimitThenMarketExecAlgorithm",
        "nautilus_ext.execution_algos.limit_then_market:LimitThenMarketExecAlgorithmConfig",
    ),
    "POV": (
        "nautilus_ext.execution_algos.pov:POVExecAlgorithm",
        "nautilus_ext.execution_algos.pov:POVExecAlgorithmConfig",
    ),
    "VWAP": (
        "nautilus_ext.execution_algos.vwap:VWAPExecAlgorithm",
        "nautilus_ext.execution_algos.vwap:VWAPExecAlgorithmConfig",
    ),
    "IS": (
        "nautilus_ext.execution_algos.shortfall:ISExecAlgorithm",
        "nautilus_ext.execution_algos.shortfall:ISExecAlgorithmConfig",
    ),
    "SOR_CEFI": (
        "nautilus_ext.execution_algos.sor:SORExecAlgorithm",
        "nautilus_ext.execution_algos.sor:SORExecAlgorithmConfig",
    ),
    "ATOMIC_LEGS": (
        "nautilus_ext.execution_algos.atomic_legs:AtomicLegsExecAlgorithm",
        "nautilus_ext.execution_algos.atomic_legs:AtomicLegsExecAlgorithmConfig",
    ),
    "TPSL": (
        "nautilus_ext.execution_algos.tpsl:TPSLExecAlgorithm",
        "nautilus_ext.execution_algos.tpsl:TPSLExecAlgorithmConfig",
    ),
}
"""Routing algorithm name -> (ExecAlgorithm path, config path), for ``ImportableExecAlgorithmConfig``."""

IMPLEMENTED_ALGORITHMS: Final = frozenset(ALGORITHM_PATHS)
"""Routing algorithm names that have an ExecAlgorithm here (the executor hands those over)."""


def importable_exec_algorithm_configs(overrides: dict[str, dict[str, Any]] | None = None) -> list[Any]:
    """Return one ``ImportableExecAlgorithmConfig`` per implemented algorithm (config overrides by name)."""
    from nautilus_trader.config import ImportableExecAlgorithmConfig

    return [
        ImportableExecAlgorithmConfig(
            exec_algorithm_path=path, config_path=config_path, config=dict((overrides or {}).get(name, {}))
        )
        for name, (path, config_path) in ALGORITHM_PATHS.items()
    ]


__all__ = [
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
