"""
Every check a live node's configuration must pass before anything is built or started.

``nautilus-ext live``, ``live --check`` and ``live-validate`` run the same function,
:func:`check_live_config` (``build_live_node`` runs it too), so a file that validates is a file
the node accepts, and a bad file fails the same way from every command: an
:class:`~nautilus_ext.errors.InvalidConfig` naming the file or the field, never a traceback.

What is checked, in order:

* the YAML schema (:func:`~nautilus_ext.live.config.load_live_config`);
* the safety document: readable, a mapping, valid, of the node's mode;
* DRY_RUN starting balances (``"<amount> <CURRENCY>"``, positive);
* ccxt exchange ids (known to ccxt.pro);
* strategies: both import paths resolve and the strategy config parses (with the settings the
  node injects: mode, audit root);
* the execution algorithm overrides;
* the audit root (a directory, or creatable) and the record root (a new recording);
* the NautilusTrader node config itself (client configs, native market types);
* the control token (set, long enough) and port (free) when the node has an endpoint, and in
  LIVE each venue's credentials for its key scope (:mod:`nautilus_ext.adapters.ccxt.credentials`,
  Betfair's variables, NautilusTrader's variables for the other native adapters).

Error messages name variables and fields, never their values.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.live.config import LiveNodeConfig
from nautilus_ext.live.config import VenueConfig
from nautilus_ext.live.config import load_live_config
from nautilus_ext.live.config import load_safety_config
from nautilus_ext.mode import Mode

_BALANCE: Final = re.compile(r"^\s*(\S+)\s+([A-Z0-9]{2,16})\s*$")

NATIVE_CREDENTIAL_ENV: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    # venue: (mainnet variables, testnet variables), as NautilusTrader's adapters read them
    "BINANCE": (("BINANCE_API_KEY", "BINANCE_API_SECRET"), ("BINANCE_API_KEY", "BINANCE_API_SECRET")),
    "BYBIT": (("BYBIT_API_KEY", "BYBIT_API_SECRET"), ("BYBIT_TESTNET_API_KEY", "BYBIT_TESTNET_API_SECRET")),
    "OKX": (("OKX_API_KEY", "OKX_API_SECRET", "OKX_API_PASSPHRASE"),) * 2,
    "DERIBIT": (
        ("DERIBIT_API_KEY", "DERIBIT_API_SECRET"),
        ("DERIBIT_TESTNET_API_KEY", "DERIBIT_TESTNET_API_SECRET"),
    ),
    "HYPERLIQUID": (("HYPERLIQUID_PK",), ("HYPERLIQUID_TESTNET_PK",)),
}
"""Environment variables NautilusTrader's native adapters read their keys from."""


@dataclass(frozen=True)
class CheckedLiveConfig:
    """
    A live configuration that passed every check.

    Attributes
    ----------
    config : LiveNodeConfig
        The node's configuration.
    safety : SafetyConfig or None
        The validated safety configuration (``None`` without a safety section).
    """

    config: LiveNodeConfig
    safety: Any


def validate_live_file(path: str | Path, environ: Mapping[str, str] | None = None) -> CheckedLiveConfig:
    """
    Load ``path`` and run :func:`check_live_config` on it.

    Raises
    ------
    InvalidConfig
        The first problem found, its message starting with the file name.
    """
    config = load_live_config(path)
    try:
        return check_live_config(config, environ)
    except NautilusExtError as e:
        raise InvalidConfig(f"{path}: {e.message}", venue=e.venue, details=e.details) from None


def check_live_config(config: LiveNodeConfig, environ: Mapping[str, str] | None = None) -> CheckedLiveConfig:
    """
    Run every check (see the module docstring) on a loaded config; build and start nothing.

    Parameters
    ----------
    config : LiveNodeConfig
        The loaded config.
    environ : Mapping[str, str], optional
        The environment (default ``os.environ``): the control token and credentials.

    Raises
    ------
    InvalidConfig
        The first problem found, naming the field or variable.
    """
    env = os.environ if environ is None else environ
    safety = load_safety_config(config)
    _check_balances(config)
    for i, venue in enumerate(config.venues):
        _check_venue(i, venue)
    _check_strategies(config)
    _check_exec_algorithms(config)
    if config.audit is not None and "://" not in config.audit.root:
        _check_directory("audit.root", Path(config.audit.root))
    if config.record is not None:
        _check_record(Path(config.record.root))
    _check_node_config(config)
    # then what comes from the environment
    if config.safety is not None and config.safety.control_port is not None:
        _check_control(config.safety.control_port, config.safety.control_token_env, env)
    if config.metrics is not None and config.metrics.port != 0:
        _check_port_free("metrics.port", config.metrics.host, config.metrics.port)
    if config.web is not None:
        if not env.get(config.web.users_env):
            raise InvalidConfig(
                f"web: the console needs its users in ${config.web.users_env} (name:role:secret)"
            )
        if config.web.port != 0:
            _check_port_free("web.port", config.web.host, config.web.port)
    if config.telegram is not None and not env.get(config.telegram.token_env):
        raise InvalidConfig(f"telegram: the bot needs its token in ${config.telegram.token_env}")
    if config.mode is Mode.LIVE:
        for i, venue in enumerate(config.venues):
            _check_credentials(i, venue, env)
    return CheckedLiveConfig(config=config, safety=safety)


def _check_balances(config: LiveNodeConfig) -> None:
    from nautilus_trader.model.objects import Money

    if config.dry_run is None:
        return
    for i, text in enumerate(config.dry_run.starting_balances):
        field = f"dry_run.starting_balances[{i}]"
        match = _BALANCE.match(text)
        if match is None:
            raise InvalidConfig(f"{field}: expected '<amount> <CURRENCY>' (for example '100000 USDT')")
        try:
            amount = Decimal(match.group(1))
            money = Money.from_str(text.strip())
        except (ArithmeticError, ValueError):
            raise InvalidConfig(f"{field}: the amount is not a finite decimal in range") from None
        if not amount.is_finite() or amount <= 0 or money.as_decimal() <= 0:
            raise InvalidConfig(f"{field}: a starting balance must be positive")


def _check_venue(index: int, venue: VenueConfig) -> None:
    if venue.adapter != "ccxt":
        return
    import ccxt.pro as ccxtpro

    if venue.exchange_id not in ccxtpro.exchanges:
        raise InvalidConfig(
            f"venues[{index}].exchange_id: ccxt.pro has no exchange {venue.exchange_id!r}",
            venue=venue.venue,
        )


def _check_strategies(config: LiveNodeConfig) -> None:
    import msgspec
    from nautilus_trader.common.config import resolve_config_path
    from nautilus_trader.common.config import resolve_path

    from nautilus_ext.live.node import _strategy_settings

    for i, entry in enumerate(config.strategies):
        for field, path, resolve in (
            ("strategy_path", entry.strategy_path, resolve_path),
            ("config_path", entry.config_path, resolve_config_path),
        ):
            try:
                resolve(path)
            except (ImportError, AttributeError, ValueError, TypeError) as e:
                raise InvalidConfig(
                    f"strategies[{i}].{field}: cannot import {path!r} ({type(e).__name__}: {e})"
                ) from None
        try:
            settings = _strategy_settings(config, i, entry.config_path, entry.config)
            config_class = resolve_config_path(entry.config_path)
            config_class.parse(msgspec.json.encode(settings))
        except Exception as e:  # the strategy's own config class: any failure is a bad config
            raise InvalidConfig(f"strategies[{i}].config: {_first_line(e)}") from None


def _check_exec_algorithms(config: LiveNodeConfig) -> None:
    import msgspec
    from nautilus_trader.common.config import resolve_config_path

    from nautilus_ext.execution_algos import ALGORITHM_PATHS

    if not config.exec_algorithms.enabled:
        return
    for name, settings in config.exec_algorithms.overrides.items():
        try:
            parsed = resolve_config_path(ALGORITHM_PATHS[name][1]).parse(msgspec.json.encode(settings))
            parsed.validate()
        except NautilusExtError as e:
            raise InvalidConfig(f"exec_algorithms.overrides.{name}: {e.message}") from None
        except Exception as e:  # the algorithm's own config class refused the override
            raise InvalidConfig(f"exec_algorithms.overrides.{name}: {_first_line(e)}") from None


def _check_directory(field: str, path: Path) -> None:
    # the directory or the first ancestor that exists must be a writable directory
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        if probe == path:
            raise InvalidConfig(f"{field}: {path} exists and is not a directory")
        raise InvalidConfig(f"{field}: {path} cannot be created: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InvalidConfig(f"{field}: {probe} is not writable")


def _check_record(root: Path) -> None:
    from nautilus_ext.replay.recorder import check_record_root

    _check_directory("record.root", root)
    check_record_root(root)


def _check_control(port: int, token_env: str, env: Mapping[str, str]) -> None:
    from nautilus_ext.safety.control import MIN_TOKEN_LENGTH

    token = env.get(token_env)
    if not token:
        raise InvalidConfig(
            f"safety.control_token_env: the control endpoint needs a token in ${token_env} "
            f"(at least {MIN_TOKEN_LENGTH} characters; never put it in a config file)"
        )
    if len(token) < MIN_TOKEN_LENGTH:
        raise InvalidConfig(
            f"safety.control_token_env: ${token_env} holds {len(token)} characters, "
            f"fewer than the {MIN_TOKEN_LENGTH} required"
        )
    if port == 0:
        return
    _check_port_free("safety.control_port", "127.0.0.1", port)


def _check_port_free(field: str, host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # as the servers bind (SO_REUSEADDR): a port held only by closing connections is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as e:
            raise InvalidConfig(f"{field}: {host}:{port} is not free ({e.strerror})") from None


def _check_credentials(index: int, venue: VenueConfig, env: Mapping[str, str]) -> None:
    field = f"venues[{index}]"
    if venue.adapter == "ccxt":
        from nautilus_ext.adapters.ccxt.credentials import check_credentials

        assert venue.exchange_id is not None  # enforced by VenueConfig
        try:
            check_credentials(venue.exchange_id, venue.key_scope, env)
        except InvalidConfig as e:
            raise InvalidConfig(f"{field}: {e.message}", venue=venue.venue) from None
        return
    if venue.venue == "BETFAIR":
        from nautilus_ext.adapters.betfair.credentials import BetfairCredentials

        section = venue.betfair
        assert section is not None  # enforced by VenueConfig
        try:
            BetfairCredentials.from_env(
                username_env=section.username_env,
                password_env=section.password_env,
                app_key_env=section.app_key_env,
                certs_dir_env=section.certs_dir_env,
                environ=env,
            )
        except InvalidConfig as e:
            raise InvalidConfig(f"{field}.betfair: {e.message}", venue=venue.venue) from None
        return
    if venue.venue == "INTERACTIVE_BROKERS":
        # IB authenticates at the gateway (TWS/IB Gateway login), not per API session: the
        # API needs only the account id, from the variable the section names
        ib = venue.interactive_brokers
        assert ib is not None  # enforced by VenueConfig
        if not env.get(ib.account_env):
            raise InvalidConfig(
                f"{field}.interactive_brokers: set the IB account id in ${ib.account_env}", venue=venue.venue
            )
        return
    mainnet, testnet = NATIVE_CREDENTIAL_ENV[venue.venue]
    missing = [name for name in (testnet if venue.testnet else mainnet) if not env.get(name)]
    if missing:
        raise InvalidConfig(
            f"{field}: native {venue.venue} reads its keys from NautilusTrader's variables: set "
            f"{', '.join(missing)}",
            venue=venue.venue,
        )


def _check_node_config(config: LiveNodeConfig) -> None:
    from nautilus_ext.live.node import build_trading_node_config

    try:
        build_trading_node_config(config)
    except NautilusExtError as e:
        raise InvalidConfig(e.message, venue=e.venue) from None
    except Exception as e:  # NautilusTrader refused a client config built from this file
        raise InvalidConfig(f"venues: NautilusTrader refused a client config: {_first_line(e)}") from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


__all__ = [
    "NATIVE_CREDENTIAL_ENV",
    "CheckedLiveConfig",
    "check_live_config",
    "validate_live_file",
]
