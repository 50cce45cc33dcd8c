"""
Configs of the Betfair clients that can be pointed at another server.

They are NautilusTrader's ``BetfairDataClientConfig``/``BetfairExecClientConfig`` plus where to
connect and which environment variables hold the secrets. ``username``/``password``/``app_key``
of the parent configs must stay ``None``: secrets never enter a config.
"""

from __future__ import annotations

from nautilus_trader.adapters.betfair.config import BetfairDataClientConfig
from nautilus_trader.adapters.betfair.config import BetfairExecClientConfig

from nautilus_ext.adapters.betfair.credentials import DEFAULT_APP_KEY_ENV
from nautilus_ext.adapters.betfair.credentials import DEFAULT_CERTS_DIR_ENV
from nautilus_ext.adapters.betfair.credentials import DEFAULT_PASSWORD_ENV
from nautilus_ext.adapters.betfair.credentials import DEFAULT_USERNAME_ENV
from nautilus_ext.adapters.betfair.urls import parse_stream_url
from nautilus_ext.errors import InvalidConfig


def _check(config: BetfairUrlDataClientConfig | BetfairUrlExecClientConfig) -> None:
    for name in ("username", "password", "app_key"):
        if getattr(config, name) is not None:
            raise InvalidConfig(f"Betfair config: {name} must be None; name its variable in {name}_env")
    if config.base_url_http is not None and not config.base_url_http.startswith(("http://", "https://")):
        raise InvalidConfig(f"Betfair config: base_url_http {config.base_url_http!r} is not an http(s) URL")
    parse_stream_url(config.stream_url)  # raises InvalidConfig on a bad address


class BetfairUrlDataClientConfig(BetfairDataClientConfig, kw_only=True, frozen=True):
    """
    ``BetfairDataClientConfig`` with configurable endpoints and credential variables.

    Parameters
    ----------
    base_url_http : str, optional
        One origin for every Betfair REST/JSON-RPC host (identity, betting, accounts,
        navigation); paths are Betfair's. ``None``: Betfair's own hosts.
    stream_url : str, optional
        The Exchange Stream API, ``tls://host:port`` or (local stand-ins only) ``tcp://host:port``.
        ``None``: ``stream-api.betfair.com:443`` over TLS.
    username_env, password_env, app_key_env, certs_dir_env : str
        Environment variables holding the login, the application key and the certificates
        directory (default NautilusTrader's ``BETFAIR_*``).
    """

    base_url_http: str | None = None
    stream_url: str | None = None
    username_env: str = DEFAULT_USERNAME_ENV
    password_env: str = DEFAULT_PASSWORD_ENV
    app_key_env: str = DEFAULT_APP_KEY_ENV
    certs_dir_env: str = DEFAULT_CERTS_DIR_ENV

    def __post_init__(self) -> None:
        _check(self)


class BetfairUrlExecClientConfig(BetfairExecClientConfig, kw_only=True, frozen=True):
    """
    ``BetfairExecClientConfig`` with configurable endpoints and credential variables.

    Parameters
    ----------
    base_url_http : str, optional
        As :class:`BetfairUrlDataClientConfig`.
    stream_url : str, optional
        As :class:`BetfairUrlDataClientConfig` (the order stream).
    username_env, password_env, app_key_env, certs_dir_env : str
        As :class:`BetfairUrlDataClientConfig`.
    """

    base_url_http: str | None = None
    stream_url: str | None = None
    username_env: str = DEFAULT_USERNAME_ENV
    password_env: str = DEFAULT_PASSWORD_ENV
    app_key_env: str = DEFAULT_APP_KEY_ENV
    certs_dir_env: str = DEFAULT_CERTS_DIR_ENV

    def __post_init__(self) -> None:
        _check(self)
