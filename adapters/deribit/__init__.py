"""
NautilusTrader's native Deribit adapter, with its execution WebSocket pointable at another server.

NautilusTrader 1.231's ``DeribitExecutionClient`` builds its WebSocket client from the
environment alone and ignores ``DeribitExecClientConfig.base_url_ws`` (its data client honours
it). :class:`DeribitUrlLiveExecClientFactory` builds the same client with the configured URL, so a
node can run against a local stand-in (the fake exchange) or a proxy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from nautilus_ext.adapters.deribit.factories import DeribitUrlExecutionClient
    from nautilus_ext.adapters.deribit.factories import DeribitUrlLiveExecClientFactory

# re-exported lazily (PEP 562): the venue registry imports this package's registration module,
# which must not load the clients (and their third-party libraries) until a node builds them
_EXPORTS = {
    "DeribitUrlExecutionClient": "nautilus_ext.adapters.deribit.factories",
    "DeribitUrlLiveExecClientFactory": "nautilus_ext.adapters.deribit.factories",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "DeribitUrlExecutionClient",
    "DeribitUrlLiveExecClientFactory",
]
