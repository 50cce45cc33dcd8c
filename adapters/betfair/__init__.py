"""
NautilusTrader's native Betfair adapter, pointable at another server, with venue positions.

NautilusTrader 1.231's Betfair clients take their REST/JSON-RPC URLs from ``betfair_parser``'s
global ``ENDPOINTS`` and open the Exchange Stream API on ``stream-api.betfair.com:443`` with TLS
forced on; none of it is configurable, and the execution client reports no positions. This
package keeps NautilusTrader's clients and overrides exactly:

* the URL of each HTTP request (:class:`BetfairUrlHttpClient`: Betfair's path on
  ``base_url_http``);
* the stream host, port and TLS of the market and order streams (``stream_url``,
  ``tls://host:port`` or ``tcp://host:port`` for a local stand-in);
* ``generate_position_status_reports``: the net matched stake per selection from
  ``listCurrentOrders``;
* credentials: read at client creation from environment variables the config names,
  never stored in a config; no client cache keyed on credentials.

The bettor's side of Betfair lives beside the clients, as pure modules: ``markets`` (market
definitions, canonical selections both ways), ``settlement`` (BACK/LAY settlement, non-runners
and reduction factors, dead heats, commission, liability), ``rules`` (price ladder, minimum
stake and payout, persistence, transactions per hour) and ``cleared`` (``listClearedOrders``
reconciled against our settlement).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from nautilus_ext.adapters.betfair.config import BetfairUrlDataClientConfig
    from nautilus_ext.adapters.betfair.config import BetfairUrlExecClientConfig
    from nautilus_ext.adapters.betfair.credentials import BetfairCredentials
    from nautilus_ext.adapters.betfair.data import BetfairUrlDataClient
    from nautilus_ext.adapters.betfair.execution import BetfairUrlExecutionClient
    from nautilus_ext.adapters.betfair.execution import net_matched
    from nautilus_ext.adapters.betfair.factories import BetfairUrlLiveDataClientFactory
    from nautilus_ext.adapters.betfair.factories import BetfairUrlLiveExecClientFactory
    from nautilus_ext.adapters.betfair.http import BetfairUrlHttpClient
    from nautilus_ext.adapters.betfair.urls import StreamAddress
    from nautilus_ext.adapters.betfair.urls import parse_stream_url
    from nautilus_ext.adapters.betfair.urls import rewrite_url

# re-exported lazily (PEP 562): the venue registry imports this package's registration module,
# which must not load the clients (and their third-party libraries) until a node builds them
_EXPORTS = {
    "BetfairUrlDataClientConfig": "nautilus_ext.adapters.betfair.config",
    "BetfairUrlExecClientConfig": "nautilus_ext.adapters.betfair.config",
    "BetfairCredentials": "nautilus_ext.adapters.betfair.credentials",
    "BetfairUrlDataClient": "nautilus_ext.adapters.betfair.data",
    "BetfairUrlExecutionClient": "nautilus_ext.adapters.betfair.execution",
    "net_matched": "nautilus_ext.adapters.betfair.execution",
    "BetfairUrlLiveDataClientFactory": "nautilus_ext.adapters.betfair.factories",
    "BetfairUrlLiveExecClientFactory": "nautilus_ext.adapters.betfair.factories",
    "BetfairUrlHttpClient": "nautilus_ext.adapters.betfair.http",
    "StreamAddress": "nautilus_ext.adapters.betfair.urls",
    "parse_stream_url": "nautilus_ext.adapters.betfair.urls",
    "rewrite_url": "nautilus_ext.adapters.betfair.urls",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "BetfairCredentials",
    "BetfairUrlDataClient",
    "BetfairUrlDataClientConfig",
    "BetfairUrlExecClientConfig",
    "BetfairUrlExecutionClient",
    "BetfairUrlHttpClient",
    "BetfairUrlLiveDataClientFactory",
    "BetfairUrlLiveExecClientFactory",
    "StreamAddress",
    "net_matched",
    "parse_stream_url",
    "rewrite_url",
]
