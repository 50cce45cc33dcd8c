"""
NautilusTrader ExecAlgorithms selected by routing when an Order enables smart execution.

One algorithm per module: its config and pure schedule functions, then the ``ExecAlgorithm``.
Importing this package does not import the Nautilus runtime.

=========================  ===============================================
routing ``Algorithm``      module
=========================  ===============================================
TWAP                       :mod:`execution_algos.twap`
LIMIT_THEN_MARKET          :mod:`execution_algos.limit_then_market`
POV                        :mod:`execution_algos.pov`
VWAP                       :mod:`execution_algos.vwap`
IS                         :mod:`execution_algos.shortfall`
SOR_CEFI                   :mod:`execution_algos.sor`
TPSL                       :mod:`execution_algos.tpsl` (the exit algorithm: takes the entry too)
ATOMIC_LEGS                :mod:`execution_algos.atomic_legs` (atomic groups, via ``submit_group``)
=========================  ===============================================
"""

from __future__ import annotations

from typing import Any
from typing import Final

from execution_algos.common import EXIT_TAG
from execution_algos.common import REPORT_KEY_PREFIX
from execution_algos.common import AlgoReport
from execution_algos.common import FinalPolicy
from execution_algos.common import SlippageAction
from execution_algos.common import StopReason

ALGORITHM_PATHS: Final[dict[str, tuple[str, str]]] = {
    "TWAP": ("execution_algos.twap:TWAPExecAlgorithm", "execution_algos.twap:TWAPExecAlgorithmConfig"),
    "LIMIT_THEN_MARKET": (
        "execution_algos.limit_then_market:LimitThenMarketExecAlgorithm",
        "execution_algos.limit_then_market:LimitThenMarketExecAlgorithmConfig",
    ),
    "POV": ("execution_algos.pov:POVExecAlgorithm", "execution_algos.pov:POVExecAlgorithmConfig"),
    "VWAP": ("execution_algos.vwap:VWAPExecAlgorithm", "execution_algos.vwap:VWAPExecAlgorithmConfig"),
    "IS": ("execution_algos.shortfall:ISExecAlgorithm", "execution_algos.shortfall:ISExecAlgorithmConfig"),
    "SOR_CEFI": ("execution_algos.sor:SORExecAlgorithm", "execution_algos.sor:SORExecAlgorithmConfig"),
    "ATOMIC_LEGS": (
        "execution_algos.atomic_legs:AtomicLegsExecAlgorithm",
        "execution_algos.atomic_legs:AtomicLegsExecAlgorithmConfig",
    ),
    "TPSL": ("execution_algos.tpsl:TPSLExecAlgorithm", "execution_algos.tpsl:TPSLExecAlgorithmConfig"),
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


def algo_report_reason(cache: Any, primary_id: str) -> str:
    """Return ``"<STOP_REASON>: detail"`` for a parent an algorithm stopped early, else ``""``."""
    raw = cache.get(REPORT_KEY_PREFIX + primary_id)
    if raw is None:
        return ""
    report = AlgoReport.from_json(raw)
    if report.stop_reason in (None, StopReason.COMPLETED):
        return ""
    return f"{report.stop_reason}: {report.detail}"


__all__ = [
    "ALGORITHM_PATHS",
    "EXIT_TAG",
    "IMPLEMENTED_ALGORITHMS",
    "REPORT_KEY_PREFIX",
    "AlgoReport",
    "FinalPolicy",
    "SlippageAction",
    "StopReason",
    "algo_report_reason",
    "importable_exec_algorithm_configs",
]
