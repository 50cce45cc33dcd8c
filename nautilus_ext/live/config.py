"""
The YAML schema of ``configs/live/*.yaml`` (pydantic v2, unknown keys refused).

Example::

    mode: DRY_RUN
    trader_id: TRADER-001
    venues:
      - venue: BYBIT
        adapter: ccxt
        exchange_id: bybit
        market_types: [linear]
    dry_run:
      starting_balances: ["100000 USDT"]
    strategies:
      - strategy_path: my_pkg.strategies:MyStrategy
        config_path: my_pkg.strategies:MyStrategyConfig
        config: {instrument_id: BTCUSDT-LINEAR.BYBIT}
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError
from pydantic import field_validator
from pydantic import model_validator

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import field_problems
from nautilus_ext.errors import read_yaml_file
from nautilus_ext.mode import Mode
from nautilus_ext.mode import require_mode


class _Strict(BaseModel):
    # inputs never reach an error message: a secret typed into the YAML must not be echoed
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


_ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"


class BetfairSection(_Strict):
    """
    Native Betfair settings of a venue.

    Attributes
    ----------
    account_currency : str
        The account's currency (checked against the account at connect).
    market_ids, event_type_ids, country_codes, market_types : list, optional
        The market filter: instruments loaded from the navigation tree and catalogue, and the
        market stream subscription. At least one must be given (never every Betfair market).
    username_env, password_env, app_key_env, certs_dir_env : str
        Environment variables holding the login, application key and certificates directory.
    keep_alive_secs : int, default 36000
        How often the data client renews the session (Betfair expires idle sessions after
        hours: 12 for most jurisdictions, 4 for some).
    """

    account_currency: str = Field(pattern=r"^[A-Z]{3}$")
    market_ids: list[str] | None = None
    event_type_ids: list[int] | None = None
    country_codes: list[str] | None = None
    market_types: list[str] | None = None
    username_env: str = Field(default="BETFAIR_USERNAME", pattern=_ENV_NAME)
    password_env: str = Field(default="BETFAIR_PASSWORD", pattern=_ENV_NAME)
    app_key_env: str = Field(default="BETFAIR_APP_KEY", pattern=_ENV_NAME)
    certs_dir_env: str = Field(default="BETFAIR_CERTS_DIR", pattern=_ENV_NAME)
    request_account_state_secs: int = Field(default=300, ge=0)
    keep_alive_secs: int = Field(default=36_000, gt=0)

    @model_validator(mode="after")
    def _filtered(self) -> BetfairSection:
        if not (self.market_ids or self.event_type_ids or self.country_codes or self.market_types):
            raise ValueError(
                "betfair: give a market filter (market_ids, event_type_ids, country_codes or market_types)"
            )
        return self


class InteractiveBrokersSection(_Strict):
    """
    Native Interactive Brokers settings of a venue (TWS or IB Gateway over the TWS API socket).

    Attributes
    ----------
    host : str
        The gateway host (default ``127.0.0.1``).
    port : int
        The gateway's API port (IB defaults: 4001 live / 4002 paper Gateway, 7496/7497 TWS).
    client_id : int
        The API client id (one session per id at a gateway).
    account_env : str
        Environment variable holding the account id (``TWS_ACCOUNT``): never in the YAML.
    instrument_keys : list[str]
        Canonical keys of the CME Group futures/options to load from IB contract details.
    connection_timeout_secs, request_timeout_secs : int
        Connection and per-request timeouts (seconds).
    """

    host: str = "127.0.0.1"
    port: int = Field(gt=0, lt=65536)
    client_id: int = Field(default=1, ge=0)
    account_env: str = Field(default="TWS_ACCOUNT", pattern=_ENV_NAME)
    instrument_keys: list[str] = Field(min_length=1)
    connection_timeout_secs: int = Field(default=60, gt=0)
    request_timeout_secs: int = Field(default=30, gt=0)

    @model_validator(mode="after")
    def _keys(self) -> InteractiveBrokersSection:
        from nautilus_ext.adapters.interactive_brokers.contracts import to_ib_contract

        for key in self.instrument_keys:
            to_ib_contract(key)  # raises InvalidInstrumentKey (a ValueError) naming the key
        return self


class VenueConfig(_Strict):
    """
    One venue of the node.

    Attributes
    ----------
    venue : str
        The Nautilus venue name (``BYBIT``, ``HYPERLIQUID`` ...).
    adapter : {"ccxt", "native"}
        Which adapter serves it (native only for venues a family in ``adapters/`` registers).
    exchange_id : str, optional
        The ccxt exchange id (required for ``ccxt``).
    market_types : list[str], optional
        ccxt market types to load (``[linear]`` on Bybit, ``[swap]`` on Hyperliquid); for
        native OKX the instrument types (``spot``/``margin``/``swap``/``future``/``option``).
    testnet : bool
        Use the venue's testnet.
    rest_url_override, ws_url_override : str, optional
        Point the adapter at another server (the fake exchange in tests): any ccxt venue, and
        native adapters whose NautilusTrader config takes base URLs (registered with
        ``url_overrides`` in :mod:`nautilus_ext.adapters.registry`). ``ws_url_override`` is
        the server root; each adapter appends its venue's WebSocket paths.
    enable_rate_limit : bool
        ccxt's client-side throttle (keep on against real venues).
    timeout_ms : int
        Per-request timeout (milliseconds).
    instrument_ids : list[str], optional
        Load only these instruments (default: every market of ``market_types``).
    betfair : BetfairSection, optional
        Native ``BETFAIR`` only (required there): account currency, market filter and the
        names of the credential variables. Its ``rest_url_override`` is one origin for every
        Betfair REST/JSON-RPC host; its ``ws_url_override`` the Exchange Stream API
        (``tls://host:port``, or ``tcp://host:port`` for a local stand-in).
    interactive_brokers : InteractiveBrokersSection, optional
        Native ``INTERACTIVE_BROKERS`` only (required there): gateway address, client id, the
        account variable and the contracts to load.
    key_scope : {"trade", "read"}
        Which key the venue uses (seed 001, section 15). ``read``: a data/status-only venue;
        ccxt reads ``NAUTILUS_EXT_<EXCHANGE>_READ_API_KEY``/``_READ_API_SECRET`` and refuses
        the exchange's trade key there, and the safety gate denies every order to the venue
        (``RISK_BLOCKED``, rule ``read_only_venue``) before anything is sent. ``trade``
        (default): the trade key ``NAUTILUS_EXT_<EXCHANGE>_API_KEY``/``_API_SECRET``. Native
        adapters read NautilusTrader's own variables for either scope (point them at a
        read-only key yourself); the gate's refusal applies to them as well.
    """

    venue: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_-]*$")
    adapter: Literal["ccxt", "native"]
    exchange_id: str | None = None
    market_types: list[str] | None = None
    testnet: bool = False
    rest_url_override: str | None = None
    ws_url_override: str | None = None
    enable_rate_limit: bool = True
    timeout_ms: int = Field(default=10_000, gt=0)
    fill_poll_interval_ms: int = Field(default=2_000, ge=0)
    position_poll_interval_ms: int = Field(default=2_000, ge=0)
    margin_poll_interval_ms: int = Field(default=5_000, ge=0)
    funding_poll_interval_ms: int = Field(default=60_000, ge=0)
    instrument_ids: list[str] | None = None
    betfair: BetfairSection | None = None
    interactive_brokers: InteractiveBrokersSection | None = None
    key_scope: Literal["trade", "read"] = "trade"

    @model_validator(mode="after")
    def _check(self) -> VenueConfig:
        if (self.betfair is not None) != (self.adapter == "native" and self.venue == "BETFAIR"):
            raise ValueError(
                f"venue {self.venue}: a betfair section goes with (and only with) native BETFAIR"
            )
        if (self.interactive_brokers is not None) != (
            self.adapter == "native" and self.venue == "INTERACTIVE_BROKERS"
        ):
            raise ValueError(
                f"venue {self.venue}: an interactive_brokers section goes with (and only with)"
                " native INTERACTIVE_BROKERS"
            )
        if self.adapter == "ccxt" and not self.exchange_id:
            raise ValueError(f"venue {self.venue}: adapter 'ccxt' needs exchange_id")
        # which venues exist is the adapters' registry's to say (a new venue registers itself)
        from nautilus_ext.adapters.registry import UnknownVenue
        from nautilus_ext.adapters.registry import family_for

        try:
            family = family_for(self.adapter, self.venue)
        except UnknownVenue as e:
            hint = "; use adapter: ccxt" if self.adapter == "native" else ""
            raise ValueError(e.message + hint) from None
        if (self.rest_url_override or self.ws_url_override) and not family.url_overrides:
            raise ValueError(f"venue {self.venue}: the {family.name} adapter takes no URL overrides")
        if (self.rest_url_override is None) != (self.ws_url_override is None):
            raise ValueError(f"venue {self.venue}: set both URL overrides or neither")
        return self


class FillModelConfig(_Strict):
    """Parameters of Nautilus's backtest ``FillModel`` used by DRY_RUN's simulated venue."""

    prob_fill_on_limit: float = Field(default=1.0, ge=0, le=1)
    prob_slippage: float = Field(default=0.0, ge=0, le=1)
    random_seed: int | None = 42


class DryRunConfig(_Strict):
    """Simulated execution settings (DRY_RUN only)."""

    starting_balances: list[str] = Field(min_length=1)
    default_leverage: Decimal = Field(default=Decimal(1), gt=0)
    fill_model: FillModelConfig = FillModelConfig()
    instruments_timeout_secs: float = Field(default=30.0, gt=0)


class SafetySection(_Strict):
    """
    The node's safety layer (required in LIVE): the gate, its control endpoint and its timer.

    Attributes
    ----------
    config_path : str, optional
        A safety YAML (``configs/safety/*.yaml``: arming, risk, oms). Relative paths are
        resolved from the live YAML's directory.
    config : dict, optional
        The same, inline (exactly one of ``config_path`` and ``config``).
    control_port : int, optional
        Port of the local control endpoint (``nautilus-ext arm/confirm/...``); 0 picks one;
        ``null`` runs without one (DRY_RUN only: LIVE is armed through it).
    control_token_env : str
        Environment variable holding the control token (never the token itself).
    tick_interval_ms : int
        How often time-based transitions run and operator commands are processed.
    """

    config_path: str | None = None
    config: dict[str, Any] | None = None
    control_port: int | None = Field(default=8765, ge=0, le=65_535)
    control_token_env: str = Field(default="NAUTILUS_EXT_CONTROL_TOKEN", pattern=r"^[A-Z_][A-Z0-9_]*$")
    tick_interval_ms: int = Field(default=200, gt=0)

    @model_validator(mode="after")
    def _one_source(self) -> SafetySection:
        if (self.config_path is None) == (self.config is None):
            raise ValueError("safety: give exactly one of config_path and config")
        return self


class AuditSection(_Strict):
    """
    Where the node's append-only audit logs go (local path or ``gs://``).

    Each log has a single writer: the safety gate writes ``<root>/safety``, the n-th unified
    strategy of ``strategies`` writes ``<root>/strategies/<n>`` (unless its config sets
    ``audit_root``).
    """

    root: str = Field(min_length=1)
    fsync: bool = True


class RecordSection(_Strict):
    """
    Record a DRY_RUN or LIVE session for REPLAY (:mod:`nautilus_ext.replay.recorder`).

    Every market data object the simulated venue and the strategies receive is written to a
    NautilusTrader ``ParquetDataCatalog`` under ``<root>/catalog``, with a run manifest
    ``<root>/manifest.json``; unified strategies then time their decisions by the data
    (``decision_clock: data``) so that ``nautilus-ext replay <root>`` can reproduce them. With a
    safety section, the operator commands (arm, confirm, kill, resume ...) are recorded as
    issued (``<root>/commands.jsonl``) and the venue's own events that the gate reads (position
    snapshots, feed status, fill gaps) with their arrival times (``<root>/venue_events.jsonl``);
    a LIVE session's accounts at the start become the replay's simulated venue.

    Attributes
    ----------
    root : str
        Local directory of the recording (created; must be empty or absent).
    flush_every : int
        Write buffered data to the catalog every this many items (bounds memory).
    """

    root: str = Field(min_length=1)
    flush_every: int = Field(default=100_000, gt=0)

    @model_validator(mode="after")
    def _local(self) -> RecordSection:
        if "://" in self.root:
            raise ValueError(f"record.root must be a local directory, got {self.root!r}")
        return self


class MetricsSection(_Strict):
    """
    Export the node's Prometheus metrics at ``http://<host>:<port>/metrics`` (opt-in).

    The node runs ``nautilus_ext.operator.actor:PrometheusMetricsActor`` (loaded by its import
    path like a strategy); ``deploy/grafana/`` holds dashboards for these metrics.

    Attributes
    ----------
    host : str
        Address to bind (default loopback; anything else needs ``allow_remote: true``).
    port : int
        TCP port (0 picks a free one).
    allow_remote : bool
        Permit a non-loopback ``host`` (metrics name strategies, venues and positions).
    refresh_interval_ms : int
        How often positions, PnL, balances and margin are read from the cache.
    """

    host: str = "127.0.0.1"
    port: int = Field(default=9464, ge=0, le=65_535)
    allow_remote: bool = False
    refresh_interval_ms: int = Field(default=1_000, gt=0)

    @model_validator(mode="after")
    def _loopback(self) -> MetricsSection:
        if self.host not in ("127.0.0.1", "localhost") and not self.allow_remote:
            raise ValueError("metrics.host: binds to loopback unless metrics.allow_remote is true")
        return self


class WebSection(_Strict):
    """
    Serve the web console at ``http://<host>:<port>/`` (opt-in).

    The node runs ``nautilus_ext.operator.web.actor:WebConsoleActor`` (loaded by its import path
    like a strategy). Users and secrets come from the environment only (``users_env``:
    ``name:role:secret`` entries, ``role`` ``viewer`` or ``operator``); actions go through the
    safety layer's control path and are audited as ``web:<user>``.

    Attributes
    ----------
    host : str
        Address to bind (default loopback; anything else needs ``allow_remote: true``).
    port : int
        TCP port (0 picks a free one).
    allow_remote : bool
        Permit a non-loopback ``host`` (put TLS in front and set ``secure_cookies``).
    users_env : str
        Environment variable holding the users.
    session_ttl_secs : int
        Absolute session lifetime, seconds.
    max_login_failures : int
        Failed logins per client address before a lockout.
    lockout_secs : int
        Lockout duration, seconds.
    secure_cookies : bool
        Mark cookies ``Secure`` (behind TLS).
    """

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65_535)
    allow_remote: bool = False
    users_env: str = Field(default="NAUTILUS_EXT_WEB_USERS", pattern=r"^[A-Z_][A-Z0-9_]*$")
    session_ttl_secs: int = Field(default=3600, gt=0)
    max_login_failures: int = Field(default=5, gt=0)
    lockout_secs: int = Field(default=300, gt=0)
    secure_cookies: bool = False

    @model_validator(mode="after")
    def _loopback(self) -> WebSection:
        if self.host not in ("127.0.0.1", "localhost", "::1") and not self.allow_remote:
            raise ValueError("web.host: binds to loopback unless web.allow_remote is true")
        return self


class TelegramSection(_Strict):
    """
    Run the Telegram control plane (opt-in; seed 001, section 20).

    The node runs ``nautilus_ext.operator.telegram.bot:TelegramBotActor``. The bot token comes
    from ``token_env`` only; commands are accepted from allowlisted users in allowlisted chats.

    Attributes
    ----------
    token_env : str
        Environment variable holding the bot token.
    allowed_user_ids, allowed_chat_ids : list[int]
        The allowlists (both required).
    alert_chat_ids : list[int]
        Chats alerts go to (default: the allowed chats).
    api_base_url : str
        Bot API base URL (a local Bot API server, say).
    max_commands_per_minute : int
        Commands per user per minute before a lockout.
    lockout_secs : int
        Lockout duration, seconds.
    """

    token_env: str = Field(default="NAUTILUS_EXT_TELEGRAM_TOKEN", pattern=r"^[A-Z_][A-Z0-9_]*$")
    allowed_user_ids: list[int] = Field(min_length=1)
    allowed_chat_ids: list[int] = Field(min_length=1)
    alert_chat_ids: list[int] = Field(default_factory=list)
    api_base_url: str = "https://api.telegram.org/bot"
    max_commands_per_minute: int = Field(default=20, gt=0)
    lockout_secs: int = Field(default=300, gt=0)
    poll_timeout_secs: int = Field(default=10, gt=0)


class ExecAlgorithmsSection(_Strict):
    """The project's execution algorithms, registered on the node (all of them by default)."""

    enabled: bool = True
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)


class StrategyEntry(_Strict):
    """An importable strategy (``module:Class``) and its config."""

    strategy_path: str = Field(pattern=r"^[\w.]+:\w+$")
    config_path: str = Field(pattern=r"^[\w.]+:\w+$")
    config: dict[str, Any] = Field(default_factory=dict)


class LiveNodeConfig(_Strict):
    """
    A live or dry-run TradingNode.

    Attributes
    ----------
    mode : Mode
        ``LIVE`` sends real orders and requires ``allow_live_orders: true``; ``DRY_RUN``
        simulates execution on live data.
    """

    mode: Mode
    trader_id: str = Field(default="TRADER-001", pattern=r"^[A-Za-z0-9_]+-[0-9]+$")
    allow_live_orders: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    venues: list[VenueConfig] = Field(min_length=1)
    dry_run: DryRunConfig | None = None
    strategies: list[StrategyEntry] = Field(default_factory=list)
    safety: SafetySection | None = None
    audit: AuditSection | None = None
    record: RecordSection | None = None
    metrics: MetricsSection | None = None
    web: WebSection | None = None
    telegram: TelegramSection | None = None
    exec_algorithms: ExecAlgorithmsSection = ExecAlgorithmsSection()
    timeout_connection_secs: float = Field(default=30.0, gt=0)
    timeout_reconciliation_secs: float = Field(default=10.0, gt=0)

    @field_validator("mode")
    @classmethod
    def _live_modes(cls, mode: Mode) -> Mode:
        return require_mode(mode, (Mode.LIVE, Mode.DRY_RUN), "a live node")

    @model_validator(mode="after")
    def _check(self) -> LiveNodeConfig:
        names = [v.venue for v in self.venues]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate venue in {names}")
        if self.record is not None:
            self._check_record()
        if self.mode is Mode.LIVE and not self.allow_live_orders:
            raise ValueError("mode LIVE sends real orders: set allow_live_orders: true to confirm")
        if self.mode is Mode.LIVE and self.dry_run is not None:
            raise ValueError("dry_run settings are only valid with mode DRY_RUN")
        if self.mode is Mode.DRY_RUN and self.dry_run is None:
            raise ValueError("mode DRY_RUN needs a dry_run section (starting_balances ...)")
        if self.mode is Mode.DRY_RUN and self.allow_live_orders:
            raise ValueError("allow_live_orders contradicts mode DRY_RUN")
        if self.mode is Mode.LIVE and self.safety is None:
            raise ValueError("mode LIVE needs a safety section: nothing reaches a venue except through it")
        if self.mode is Mode.LIVE and self.safety is not None and self.safety.control_port is None:
            raise ValueError("mode LIVE needs safety.control_port: arming and confirmation go through it")
        unknown = set(self.exec_algorithms.overrides) - _algorithm_names()
        if unknown:
            raise ValueError(
                f"exec_algorithms.overrides: unknown algorithm(s) {sorted(unknown)} "
                f"(known: {sorted(_algorithm_names())})"
            )
        return self

    def _check_record(self) -> None:
        # what a replay cannot reproduce is refused here, not discovered as a divergence later.
        # LIVE and safety-gated sessions are recorded too: the operator commands and the venue's
        # own events (position snapshots, feed status, fill gaps) go into the recording
        if self.audit is None:
            raise ValueError("record: needs an audit section (the replay compares the audit logs)")
        if not self.strategies:
            raise ValueError("record: no strategies to replay")


def _algorithm_names() -> set[str]:
    from nautilus_ext.execution_algos import ALGORITHM_PATHS

    return set(ALGORITHM_PATHS)


def load_live_config(path: str | Path) -> LiveNodeConfig:
    """
    Read and validate a live YAML file.

    Raises
    ------
    InvalidConfig
        If the file is missing, is not YAML, or fails validation (the message names the file).
    """
    file = Path(path)
    raw = _read_yaml(file, "")
    if not isinstance(raw, dict):
        raise InvalidConfig(f"{file}: expected a mapping at the top level")
    try:
        config = LiveNodeConfig.model_validate(raw)
    except ValidationError as e:
        problems = field_problems(e, "file")
        raise InvalidConfig(
            f"{file}: {'; '.join(f'{loc}: {msg}' for loc, msg in problems)}",
            details={"errors": [f"{loc}: {msg}" for loc, msg in problems]},
        ) from None
    safety = config.safety
    if safety is not None and safety.config_path is not None and not Path(safety.config_path).is_absolute():
        resolved = str((file.parent / safety.config_path).resolve())
        config = config.model_copy(update={"safety": safety.model_copy(update={"config_path": resolved})})
    return config


def load_safety_config(config: LiveNodeConfig) -> Any:
    """
    Return the node's validated :class:`~nautilus_ext.safety.SafetyConfig` (``None`` without one).

    The safety document's ``mode`` may be omitted (the node's mode is used); if given it must
    equal the node's mode.

    Raises
    ------
    InvalidConfig
        If the safety YAML is missing or invalid, or names another mode.
    """
    from nautilus_ext.safety.config import SafetyConfig

    section = config.safety
    if section is None:
        return None
    if section.config_path is not None:
        path = Path(section.config_path)
        data = _read_yaml(path, "safety.config_path: ")
        if not isinstance(data, dict):
            raise InvalidConfig(f"safety.config_path: {path}: expected a mapping")
        where = f"safety.config_path: {path}"
    else:
        data = dict(section.config or {})
        where = "safety.config"
    mode = str(data.setdefault("mode", str(config.mode)))
    if mode != str(config.mode):
        raise InvalidConfig(f"{where}: mode {mode} does not match the node mode {config.mode}")
    read_only = sorted(v.venue for v in config.venues if v.key_scope == "read")
    risk = data.get("risk")
    if read_only and isinstance(risk, dict):
        # venues configured with read-only keys: the gate denies every order to them
        known = risk.get("read_only_venues") or []
        if isinstance(known, list | tuple):
            data = {**data, "risk": {**risk, "read_only_venues": sorted({*map(str, known), *read_only})}}
    try:
        return SafetyConfig.parse(data)
    except InvalidConfig as e:
        raise InvalidConfig(f"{where}: {e.message}", details=e.details) from None


def _read_yaml(path: Path, field: str) -> Any:
    return read_yaml_file(path, f"{field}{path}")
