"""
What a recorded LIVE or DRY_RUN session's manifest says about the node (written at start).

The replay (:func:`nautilus_ext.replay.session.replay_session`) reads it back; building it needs
the live node's configuration, so it lives with the node assembly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nautilus_ext.audit.hashing import canonical_config_json
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.live.config import load_safety_config
from nautilus_ext.live.dry_run import DryRunExecClientConfig
from nautilus_ext.replay.recorder import CATALOG_DIR
from nautilus_ext.replay.recorder import MANIFEST_FORMAT
from nautilus_ext.replay.session import VENUE_FIELDS
from nautilus_ext.replay.session import strategy_version_hash


def session_manifest(config: Any, node_config: Any) -> str:
    """
    Return the static manifest (JSON) of a DRY_RUN session about to be recorded.

    Parameters
    ----------
    config : LiveNodeConfig
        The validated YAML.
    node_config : TradingNodeConfig
        The node config built from it (effective strategy settings, simulated venues).

    Raises
    ------
    InvalidConfig
        If a strategy is not a unified strategy or has no audit log.
    """
    strategies = []
    for index, entry in enumerate(node_config.strategies):
        settings = dict(entry.config)
        audit_root = settings.get("audit_root")
        if not audit_root:
            raise InvalidConfig(f"strategy {index} ({entry.strategy_path}) has no audit_root to replay")
        if "://" not in str(audit_root):
            settings["audit_root"] = str(Path(audit_root).resolve())
        strategies.append(
            {
                "strategy_path": entry.strategy_path,
                "config_path": entry.config_path,
                "config": json.loads(canonical_config_json(settings)),
                "version_hash": strategy_version_hash(entry.strategy_path),
            }
        )
    venues = []
    for venue in config.venues:
        exec_client = node_config.exec_clients[venue.venue]
        if not isinstance(exec_client, DryRunExecClientConfig):
            # LIVE: the replay simulates the venue with the DRY_RUN defaults, starting from the
            # account the recorder finds when the session starts (``accounts`` in the manifest)
            exec_client = DryRunExecClientConfig(venue=venue.venue, starting_balances=[])
        exec_cfg = json.loads(canonical_config_json(exec_client))
        entry = {k: exec_cfg.get(k) for k in VENUE_FIELDS}
        if str(config.mode) == "LIVE":
            entry["starting_balances"] = None
        venues.append(entry)
    safety = load_safety_config(config)
    manifest = {
        "format": MANIFEST_FORMAT,
        "mode": str(config.mode),
        "trader_id": config.trader_id,
        "strategies": strategies,
        "exec_algorithms": {
            "enabled": config.exec_algorithms.enabled,
            "overrides": config.exec_algorithms.overrides,
        },
        "venues": venues,
        "catalog": CATALOG_DIR,
        "safety": None
        if safety is None
        else {
            "config": json.loads(canonical_config_json(safety)),
            "tick_interval_ms": config.safety.tick_interval_ms,
        },
    }
    return json.dumps(manifest, sort_keys=True)


__all__ = ["session_manifest"]
