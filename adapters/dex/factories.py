"""Build the DEX adapter's pieces from one config and one node connection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nautilus_ext.adapters.dex.config import DexConfig
from nautilus_ext.adapters.dex.data import DexPoolStateFeed
from nautilus_ext.adapters.dex.data import DexPoolStateReader
from nautilus_ext.adapters.dex.providers import DexPool
from nautilus_ext.adapters.dex.providers import DexPoolProvider
from nautilus_ext.adapters.dex.rpc import translate
from nautilus_ext.errors import InvalidConfig


@dataclass(frozen=True, slots=True)
class DexClients:
    """The adapter's discovery and state reading over one node."""

    config: DexConfig
    provider: DexPoolProvider
    reader: DexPoolStateReader

    def feed(self, pools: list[DexPool]) -> DexPoolStateFeed:
        """Return a per-block state feed over ``pools``."""
        return DexPoolStateFeed(self.reader, pools, stale_after_blocks=self.config.stale_after_blocks)


def build_dex_clients(w3: Any, config: DexConfig) -> DexClients:
    """
    Return the discovery provider and state reader for ``config`` over ``w3``.

    Raises
    ------
    InvalidConfig
        The node's chain id differs from ``config.chain_id``.
    VenueUnavailable
        The node does not answer.
    """
    try:
        chain_id = int(w3.eth.chain_id)
    except Exception as e:
        raise translate(e, step="eth_chainId") from e
    if chain_id != config.chain_id:
        raise InvalidConfig(f"DEX config is for chain {config.chain_id}, the node is chain {chain_id}")
    return DexClients(
        config=config, provider=DexPoolProvider(w3, config), reader=DexPoolStateReader(w3, config)
    )


__all__ = ["DexClients", "build_dex_clients"]
