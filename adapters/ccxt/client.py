"""Create the ccxt.pro exchange object of a config (the adapter's only transport)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import ccxt.pro as ccxtpro
from ccxt.base import errors as ccxt_errors

from nautilus_ext.adapters.ccxt.config import CcxtDataClientConfig
from nautilus_ext.adapters.ccxt.config import CcxtExecClientConfig
from nautilus_ext.adapters.ccxt.constants import DEFAULT_EXCHANGE_OPTIONS
from nautilus_ext.adapters.ccxt.constants import EXACT_ERROR_OVERRIDES
from nautilus_ext.adapters.ccxt.constants import MARKET_TYPE_DEFAULT_EXCHANGES
from nautilus_ext.adapters.ccxt.constants import MARKET_TYPES_FILTERED_LOCALLY
from nautilus_ext.adapters.ccxt.constants import REST_HOST_LABEL_IN_PATH
from nautilus_ext.adapters.ccxt.constants import URL_ROUTED_ERROR_FAMILY
from nautilus_ext.adapters.ccxt.constants import WS_HOST_LABEL_IN_PATH
from nautilus_ext.adapters.ccxt.credentials import CcxtCredentials
from nautilus_ext.errors import InvalidConfig


def point_urls(
    urls: dict[str, Any],
    rest_base: str,
    ws_base: str,
    *,
    ws_host_label: bool = False,
    rest_host_label: bool = False,
) -> dict[str, Any]:
    """
    Return a copy of ccxt's ``urls['api']`` with every REST URL replaced by ``rest_base`` +
    its original path and every WebSocket URL by ``ws_base`` + its original path (so one local
    server can tell Bybit's ``/v5/public/linear`` from ``/v5/private``, and Binance's
    ``/fapi/v1`` from ``/fapi/v2``). With ``ws_host_label`` a WebSocket path starts with the
    original host's first label (``wss://fstream.asterdex.com/ws`` -> ``<ws_base>/fstream/ws``),
    for ccxt exchanges that read the market type from the host name. With ``rest_host_label``
    a REST URL does the same and keeps its trailing slash (``https://trades.grvt.io/`` ->
    ``<rest_base>/trades/``), for exchanges whose hosts share paths and whose ccxt appends
    paths without a leading slash (GRVT).
    """
    out: dict[str, Any] = {}
    for name, value in urls.items():
        if isinstance(value, dict):
            out[name] = point_urls(
                value, rest_base, ws_base, ws_host_label=ws_host_label, rest_host_label=rest_host_label
            )
        elif isinstance(value, str) and value.startswith(("ws://", "wss://")):
            parts = urlsplit(value.replace("{hostname}", "h"))
            label = "/" + (parts.hostname or "").split(".")[0] if ws_host_label else ""
            out[name] = ws_base.rstrip("/") + label + parts.path
        elif isinstance(value, str) and rest_host_label:
            parts = urlsplit(value.replace("{hostname}", "h"))
            label = (parts.hostname or "").split(".")[0]
            out[name] = rest_base.rstrip("/") + "/" + label + (parts.path or "/")
        elif isinstance(value, str):
            out[name] = rest_base.rstrip("/") + urlsplit(value.replace("{hostname}", "h")).path.rstrip("/")
        else:
            out[name] = value
    return out


def create_exchange(
    config: CcxtDataClientConfig | CcxtExecClientConfig,
    credentials: CcxtCredentials | None = None,
) -> Any:
    """
    Return a configured ``ccxt.pro`` exchange (not yet connected; ccxt connects lazily).

    Raises
    ------
    InvalidConfig
        If ccxt has no (pro) exchange of that id.
    """
    klass = getattr(ccxtpro, config.exchange_id, None)
    if klass is None:
        raise InvalidConfig(f"ccxt.pro has no exchange {config.exchange_id!r}")
    options: dict[str, Any] = dict(DEFAULT_EXCHANGE_OPTIONS.get(config.exchange_id, {}))
    if config.market_types is not None and config.exchange_id not in MARKET_TYPES_FILTERED_LOCALLY:
        options["fetchMarkets"] = {"types": list(config.market_types)}
        if config.exchange_id in MARKET_TYPE_DEFAULT_EXCHANGES and len(config.market_types) == 1:
            options["defaultType"] = config.market_types[0]
    options.update(config.exchange_options or {})
    params: dict[str, Any] = {
        "enableRateLimit": config.enable_rate_limit,
        "timeout": config.timeout_ms,
        "options": options,
    }
    if credentials is not None:
        params.update(credentials.as_ccxt_config())
    exchange = klass(params)
    if config.testnet:
        exchange.set_sandbox_mode(True)
    if config.rest_url_override is not None and config.ws_url_override is not None:
        exchange.urls["api"] = point_urls(
            exchange.urls["api"],
            config.rest_url_override,
            config.ws_url_override,
            ws_host_label=config.exchange_id in WS_HOST_LABEL_IN_PATH,
            rest_host_label=config.exchange_id in REST_HOST_LABEL_IN_PATH,
        )
        keep_error_table(exchange, config.exchange_id)
    apply_error_overrides(exchange, config.exchange_id)
    return exchange


def keep_error_table(exchange: Any, exchange_id: str) -> None:
    """
    Keep ccxt's per-market error table when the URLs point elsewhere.

    ccxt's Binance picks the error table of a market family from the request's host name
    (``https://fapi.binance.com/`` -> the linear table, where ``-2019`` is
    ``InsufficientFunds`` and ``-5022`` is ``OrderNotFillable``). A local URL matches no host,
    so those codes would fall through to generic errors; put the family's table in front of
    the common one, which is what the real host name selects.
    """
    family = URL_ROUTED_ERROR_FAMILY.get(exchange_id)
    if family is None:
        return
    for kind in ("exact", "broad"):
        specific = exchange.exceptions.get(family, {}).get(kind, {})
        exchange.exceptions[kind] = {**exchange.exceptions.get(kind, {}), **specific}


def apply_error_overrides(exchange: Any, exchange_id: str) -> None:
    """Replace ccxt's exception class for the venue error codes in ``EXACT_ERROR_OVERRIDES``."""
    overrides = EXACT_ERROR_OVERRIDES.get(exchange_id, {})
    if overrides:
        exact = dict(exchange.exceptions.get("exact", {}))
        exact.update({code: getattr(ccxt_errors, name) for code, name in overrides.items()})
        exchange.exceptions["exact"] = exact
