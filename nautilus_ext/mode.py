"""
The run mode (seed 001, section 3): the one ``Mode`` enum of the whole project.

Modes change sources and sinks, never strategy code. Each configuration accepts the modes it
can run: a backtest spec BACKTEST or REPLAY, a live node LIVE or DRY_RUN; the safety gate and
the audit log take any of the four.
"""

from __future__ import annotations

from enum import StrEnum
from enum import unique


@unique
class Mode(StrEnum):
    """How a run sources its data and where its orders go."""

    BACKTEST = "BACKTEST"  # historical simulation over a catalog
    DRY_RUN = "DRY_RUN"  # live market data, simulated execution
    LIVE = "LIVE"  # real orders to a venue
    REPLAY = "REPLAY"  # deterministic re-run over recorded data and decisions


def require_mode(mode: Mode, allowed: tuple[Mode, ...], what: str) -> Mode:
    """
    Return ``mode`` if ``what`` can run in it; raise ``ValueError`` naming the modes it can.

    For pydantic validators: the ``ValueError`` becomes the configuration's typed error.
    """
    if mode not in allowed:
        names = " or ".join(m.value for m in allowed)
        raise ValueError(f"{what} runs in mode {names}, not {mode.value}")
    return mode


__all__ = ["Mode", "require_mode"]
