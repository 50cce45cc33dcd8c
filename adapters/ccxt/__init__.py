"""
A ccxt-backed NautilusTrader adapter: any ccxt.pro exchange as a Nautilus data and
execution client, with canonical instrument keys and the project's error taxonomy.
"""

from nautilus_ext.adapters.ccxt.config import CcxtDataClientConfig
from nautilus_ext.adapters.ccxt.config import CcxtExecClientConfig
from nautilus_ext.adapters.ccxt.data import CcxtDataClient
from nautilus_ext.adapters.ccxt.data import FeedStatus
from nautilus_ext.adapters.ccxt.data import StreamKind
from nautilus_ext.adapters.ccxt.execution import CcxtExecutionClient
from nautilus_ext.adapters.ccxt.factories import CcxtLiveDataClientFactory
from nautilus_ext.adapters.ccxt.factories import CcxtLiveExecClientFactory
from nautilus_ext.adapters.ccxt.providers import CcxtInstrumentProvider

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
