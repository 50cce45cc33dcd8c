"""
A ccxt-backed NautilusTrader adapter: any ccxt.pro exchange as a Nautilus data and
execution client, with canonical instrument keys and the project's error taxonomy.
"""

from adapters.ccxt.config import CcxtDataClientConfig
from adapters.ccxt.config import CcxtExecClientConfig
from adapters.ccxt.data import CcxtDataClient
from adapters.ccxt.data import FeedStatus
from adapters.ccxt.data import StreamKind
from adapters.ccxt.execution import CcxtExecutionClient
from adapters.ccxt.factories import CcxtLiveDataClientFactory
from adapters.ccxt.factories import CcxtLiveExecClientFactory
from adapters.ccxt.providers import CcxtInstrumentProvider

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
