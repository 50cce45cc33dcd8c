"""
A ccxt-backed NautilusTrader adapter: any ccxt.pro exchange as a Nautilus data and
execution client, with canonical instrument keys and the project's error taxonomy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from nautilus_ext.adapters.ccxt.config import CcxtDataClientConfig
    from nautilus_ext.adapters.ccxt.config import CcxtExecClientConfig
    from nautilus_ext.adapters.ccxt.data import CcxtDataClient
    from nautilus_ext.adapters.ccxt.data import FeedStatus
    from nautilus_ext.adapters.ccxt.data import StreamKind
    from nautilus_ext.adapters.ccxt.execution import CcxtExecutionClient
    from nautilus_ext.adapters.ccxt.factories import CcxtLiveDataClientFactory
    from nautilus_ext.adapters.ccxt.factories import CcxtLiveExecClientFactory
    from nautilus_ext.adapters.ccxt.providers import CcxtInstrumentProvider

# re-exported lazily (PEP 562): the venue registry imports this package's registration module,
# which must not load the clients (and their third-party libraries) until a node builds them
_EXPORTS = {
    "CcxtDataClientConfig": "nautilus_ext.adapters.ccxt.config",
    "CcxtExecClientConfig": "nautilus_ext.adapters.ccxt.config",
    "CcxtDataClient": "nautilus_ext.adapters.ccxt.data",
    "FeedStatus": "nautilus_ext.adapters.ccxt.data",
    "StreamKind": "nautilus_ext.adapters.ccxt.data",
    "CcxtExecutionClient": "nautilus_ext.adapters.ccxt.execution",
    "CcxtLiveDataClientFactory": "nautilus_ext.adapters.ccxt.factories",
    "CcxtLiveExecClientFactory": "nautilus_ext.adapters.ccxt.factories",
    "CcxtInstrumentProvider": "nautilus_ext.adapters.ccxt.providers",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "CcxtDataClient",
    "CcxtDataClientConfig",
    "CcxtExecClientConfig",
    "CcxtExecutionClient",
    "CcxtInstrumentProvider",
    "CcxtLiveDataClientFactory",
    "CcxtLiveExecClientFactory",
    "FeedStatus",
    "StreamKind",
]
