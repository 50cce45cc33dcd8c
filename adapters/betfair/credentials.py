"""
Betfair credentials, read from environment variables whose names the config gives.

The defaults are NautilusTrader's own variables (``BETFAIR_USERNAME``, ``BETFAIR_PASSWORD``,
``BETFAIR_APP_KEY``, ``BETFAIR_CERTS_DIR``). Values never enter a config object (configs are
logged and serialised) and :class:`BetfairCredentials` redacts them in ``repr``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Final

from nautilus_ext.errors import InvalidConfig

DEFAULT_USERNAME_ENV: Final = "BETFAIR_USERNAME"
DEFAULT_PASSWORD_ENV: Final = "BETFAIR_PASSWORD"
DEFAULT_APP_KEY_ENV: Final = "BETFAIR_APP_KEY"
DEFAULT_CERTS_DIR_ENV: Final = "BETFAIR_CERTS_DIR"


@dataclass(frozen=True)
class BetfairCredentials:
    """
    A Betfair login (username, password, application key) and the optional certificates directory.

    Parameters
    ----------
    username, password, app_key : str
        The account login and the application key (``X-Application``).
    certs_dir : str, optional
        Directory of the SSL certificates the stream client trusts.
    """

    username: str = field(repr=False)
    password: str = field(repr=False)
    app_key: str = field(repr=False)
    certs_dir: str | None = None

    def __repr__(self) -> str:
        return f"BetfairCredentials(username=<redacted>, certs_dir={self.certs_dir!r})"

    @classmethod
    def from_env(
        cls,
        *,
        username_env: str = DEFAULT_USERNAME_ENV,
        password_env: str = DEFAULT_PASSWORD_ENV,
        app_key_env: str = DEFAULT_APP_KEY_ENV,
        certs_dir_env: str = DEFAULT_CERTS_DIR_ENV,
        environ: Mapping[str, str] | None = None,
    ) -> BetfairCredentials:
        """
        Read the credentials from the named variables.

        Raises
        ------
        InvalidConfig
            Naming every required variable that is unset or empty.
        """
        env = os.environ if environ is None else environ
        names = {"username": username_env, "password": password_env, "app_key": app_key_env}
        missing = [name for name in names.values() if not env.get(name)]
        if missing:
            raise InvalidConfig(f"Betfair needs credentials: set {', '.join(missing)}")
        return cls(
            username=env[username_env],
            password=env[password_env],
            app_key=env[app_key_env],
            certs_dir=env.get(certs_dir_env) or None,
        )
