"""
The DEX adapter: pool discovery, pool state over web3 and swap planning for Uniswap V2/V3 and
Balancer V2 weighted pools.

- :mod:`~nautilus_ext.adapters.dex.config`: :class:`DexConfig` (tokens, contracts, swap bounds).
- :mod:`~nautilus_ext.adapters.dex.providers`: :class:`DexPoolProvider` (factories, registry).
- :mod:`~nautilus_ext.adapters.dex.data`: :class:`DexPoolStateReader`, :class:`DexPoolStateFeed`.
- :mod:`~nautilus_ext.adapters.dex.execution`: :func:`plan_swap`, :func:`check_oracle`,
  :func:`router_call` (sending goes through the safety gate in :mod:`nautilus_ext.onchain.swaps`).
- :mod:`~nautilus_ext.adapters.dex.parsing`: ``Swap`` logs, their ``TradeTick`` form, pool state
  as Nautilus custom data.
- :mod:`~nautilus_ext.adapters.dex.errors`: typed swap errors.
"""

from nautilus_ext.adapters.dex.config import DexConfig
from nautilus_ext.adapters.dex.config import DexToken
from nautilus_ext.adapters.dex.constants import ApprovalMode
from nautilus_ext.adapters.dex.constants import PoolKind
from nautilus_ext.adapters.dex.data import DexPoolStateFeed
from nautilus_ext.adapters.dex.data import DexPoolStateReader
from nautilus_ext.adapters.dex.data import PoolSnapshot
from nautilus_ext.adapters.dex.errors import InsufficientAllowance
from nautilus_ext.adapters.dex.errors import SwapBelowMinimum
from nautilus_ext.adapters.dex.errors import SwapDeadlineExpired
from nautilus_ext.adapters.dex.execution import SwapPlan
from nautilus_ext.adapters.dex.execution import check_oracle
from nautilus_ext.adapters.dex.execution import plan_swap
from nautilus_ext.adapters.dex.execution import router_call
from nautilus_ext.adapters.dex.factories import DexClients
from nautilus_ext.adapters.dex.factories import build_dex_clients
from nautilus_ext.adapters.dex.parsing import DexPoolStateData
from nautilus_ext.adapters.dex.parsing import SwapEvent
from nautilus_ext.adapters.dex.parsing import swap_trade_tick
from nautilus_ext.adapters.dex.providers import DexPool
from nautilus_ext.adapters.dex.providers import DexPoolProvider

__all__ = [
    "ApprovalMode",
    "DexClients",
    "DexConfig",
    "DexPool",
    "DexPoolProvider",
    "DexPoolStateData",
    "DexPoolStateFeed",
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
