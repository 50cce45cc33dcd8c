"""
Build a TradingNode from a live YAML config *without* the safety layer, for adapter tests only.

Production code has no such path: :func:`nautilus_ext.live.node.build_live_node` always installs
the gate in LIVE. Tests of a venue adapter itself (does NautilusTrader's native client speak to
the fake exchange?) use this to see the adapter's raw behaviour, the way the OKX native test
builds its node from ``TradingNodeConfig`` directly.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from nautilus_trader.live.node import TradingNode

from nautilus_ext.live.config import LiveNodeConfig
from nautilus_ext.live.node import build_trading_node_config

REPO = Path(__file__).resolve().parents[2]
SAFETY_SECTION: dict[str, Any] = {
    "config_path": str(REPO / "configs" / "safety" / "default.yaml"),
    "control_port": 0,
}
"""A valid safety section (LIVE configs must have one to validate)."""


def unguarded_node(config: LiveNodeConfig, loop: asyncio.AbstractEventLoop) -> TradingNode:
    """Return a built node with the config's clients and strategies but no safety gate."""
    node_config, factories = build_trading_node_config(config)
    node = TradingNode(config=node_config, loop=loop)
    for name, (data_factory, exec_factory) in factories.items():
        node.add_data_client_factory(name, data_factory)
        node.add_exec_client_factory(name, exec_factory)
    node.build()
    return node
