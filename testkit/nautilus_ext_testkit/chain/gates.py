"""
Safety gates for the local EVM: a BACKTEST bundle gate with wide limits, and a config builder.

The on-chain executor needs a :class:`~nautilus_ext.onchain.gated.BundleGate`; tests and the
gas benchmark that exercise protocol mechanics (not the safety rules) use
:func:`backtest_bundle_gate`, which still applies every check (dirty positions, SAFE mode,
kills, risk matrix, rate limits) with limits far above the stand-in positions, and reads
positions back after every mined bundle.
"""

from __future__ import annotations

from typing import Any

from nautilus_ext.audit.context import Clock
from nautilus_ext.audit.context import WallClock
from nautilus_ext.mode import Mode
from nautilus_ext.onchain.gated import BundleGate
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext.safety.config import SafetyConfig
from nautilus_ext.safety.events import EventSink
from nautilus_ext.safety.events import log_sink
from nautilus_ext.safety.gate import SafetyGate


def safety_config(mode: Mode, **risk: Any) -> SafetyConfig:
    """
    Return a safety config for the stand-in stack; ``risk`` overrides risk-matrix fields.

    Sizes are whole tokens; the defaults sit far above any stand-in position.
    """
    return SafetyConfig.parse(
        {
            "mode": mode,
            "arming": {"max_ttl_secs": 600, "intent_ttl_secs": 600, "max_failed_confirmations": 3},
            "risk": {
                "max_position": "1000000",
                "strategy_loss_limit": "1000000",
                "portfolio_loss_limit": "3000000",
                "max_daily_loss": "2000000",
                "drawdown_throttle": "500000",
                "drawdown_size_factor": "0.5",
                "cooldown_secs": 30,
                "max_trade_size": "1000000",
                "max_slippage": "0.05",
                "max_latency_ms": 5000,
                **risk,
            },
            "oms": {
                "dirty_max_age_ms": 3_600_000,
                "reconcile_interval_ms": 5000,
                "reconcile_grace_ms": 0,
                "mismatch_rel_threshold": "0.001",
                "mismatch_abs_tolerance": "0.000001",
                "mismatch_persist_ms": 0,
                "market_data_max_age_ms": 60_000,
                "ws_max_age_ms": 60_000,
                "order_rate_limit": 100,
                "order_rate_window_ms": 1000,
                "flipflop_max_cycles": 3,
                "flipflop_window_ms": 60_000,
            },
        }
    )


def backtest_bundle_gate(
    clients: OnchainClients,
    *,
    strategy_id: str = "onchain-test",
    clock: Clock | None = None,
    sink: EventSink = log_sink,
) -> BundleGate:
    """
    Return a BACKTEST bundle gate over ``clients`` that has adopted the chain's positions.

    Mined bundles are read back from chain at once, so consecutive bundles pass the dirty
    check exactly when the chain confirms what the previous one did.
    """
    gate = SafetyGate(safety_config(Mode.BACKTEST), clock or WallClock(), sink=sink)
    bundle_gate = BundleGate(gate, clients, strategy_id=strategy_id, reconcile_after_execution=True)
    bundle_gate.adopt_chain_positions("test-setup")
    return bundle_gate


__all__ = ["backtest_bundle_gate", "safety_config"]
