"""
NautilusTrader's native Deribit adapter, with its execution WebSocket pointable at another server.

NautilusTrader 1.231's ``DeribitExecutionClient`` builds its WebSocket client from the
environment alone and ignores ``DeribitExecClientConfig.base_url_ws`` (its data client honours
it). :class:`DeribitUrlLiveExecClientFactory` builds the same client with the configured URL, so a
node can run against a local stand-in (the fake exchange) or a proxy.
"""

from nautilus_ext.adapters.deribit.factories import DeribitUrlExecutionClient
from nautilus_ext.adapters.deribit.factories import DeribitUrlLiveExecClientFactory

__all__ = [
    "DeribitUrlExecutionClient",
    "DeribitUrlLiveExecClientFactory",
]
