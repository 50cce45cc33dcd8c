"""Validated YAML configuration of a backtest run (``configs/backtests/*.yaml``)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Annotated
from typing import Any
from typing import Final
from typing import Literal
from typing import Self

from pydantic import AwareDatetime
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError
from pydantic import field_validator
from pydantic import model_validator

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import describe_problems
from nautilus_ext.errors import read_yaml_file
from nautilus_ext.mode import Mode
from nautilus_ext.mode import require_mode

if TYPE_CHECKING:
    from nautilus_ext.safety.config import SafetyConfig

# funding_rates / mark_prices: derived from the catalog's Tardis derivative tickers (backtest.perp_data)
DataKind = Literal["order_book_deltas", "trade_ticks", "quote_ticks", "funding_rates", "mark_prices"]
_DEFAULT_DATA: tuple[DataKind, ...] = ("order_book_deltas", "trade_ticks")
NonNegativeMs = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
# a recorded run keeps its spec beside its audit log under this name (REPLAY re-runs it)
RUN_FILE = "run.json"


class LatencySpec(BaseModel):
    """Simulated venue latencies in milliseconds (order-to-venue and venue-to-fill)."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    base_ms: NonNegativeMs = Decimal(0)
    insert_ms: NonNegativeMs = Decimal(0)
    update_ms: NonNegativeMs = Decimal(0)
    cancel_ms: NonNegativeMs = Decimal(0)


class DexVenueSpec(BaseModel):
    """
    A DEX venue: fills by the pool math on the catalog's pool states, gas as the commission
    (:mod:`nautilus_ext.backtest.dex_venue`). Gas in gas units per swap; ``gas_token_price`` is
    ETH in the quote currency for pairs whose base is not ETH/WETH.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    gas_units_v2: int = Field(default=110_000, gt=0)
    gas_units_v3: int = Field(default=140_000, gt=0)
    gas_token_price: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = None


class VenueSimSpec(BaseModel):
    """One simulated venue: canonical venue code, account and latency (``dex:`` for a DEX venue)."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    venue: str
    starting_balances: list[str] = Field(min_length=1)
    account_type: Literal["MARGIN", "CASH", "BETTING"] = "MARGIN"
    oms_type: Literal["NETTING", "HEDGING"] = "NETTING"
    book_type: Literal["L1_MBP", "L2_MBP", "L3_MBO"] = "L2_MBP"
    latency: LatencySpec = LatencySpec()
    dex: DexVenueSpec | None = None


class BetfairCommissionSpec(BaseModel):
    """
    Betfair commission on each market's net winnings at settlement.

    ``rate`` is a fraction (``0.05`` = 5%); left out, each market's own base rate applies (the
    stream's ``marketBaseRate``). ``discount`` is the account's discount, a fraction of the rate.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    rate: Annotated[Decimal, Field(ge=0, lt=1, allow_inf_nan=False)] | None = None
    discount: Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False)] = Decimal(0)


class StrategySpec(BaseModel):
    """A Nautilus strategy for strategy-driven backtests (importable paths)."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    strategy_path: str = Field(pattern=r"^[\w.]+:\w+$")
    config_path: str = Field(pattern=r"^[\w.]+:\w+$")
    config: dict[str, Any] = Field(default_factory=dict)


class StoreSpec(BaseModel):
    """
    The position store of a strategy that keeps its positions there (funding carry, perp spread).

    Attributes
    ----------
    db_url : str, optional
        The store the strategy writes (its config's ``db_url``). Default: the SQLite file
        ``<output_dir>/<run_id>.db``, recreated at every run so a report shows this run only.
    carry_report : bool
        Write the carry report (:mod:`nautilus_ext.reports.carry`) of the run's positions to
        ``<output_dir>/<run_id>-carry.html``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    db_url: str | None = None
    carry_report: bool = True


BACKTEST_SAFETY_DEFAULT: Final = "safety/backtest_default.yaml"
"""The safety limits a backtest without a ``safety:`` section runs under (in the config dir)."""


class BacktestSafetySection(BaseModel):
    """
    The run's safety layer: the same gate and chokepoint as a LIVE or DRY_RUN node.

    Attributes
    ----------
    config_path : str, optional
        A safety YAML (``configs/safety/*.yaml``: arming, risk, oms), the same schema a live node
        reads; relative paths resolve against the backtest YAML's folder. Point it at your live
        limits (``configs/safety/default.yaml``) to see what they would have blocked.
    config : dict, optional
        The same, inline (exactly one of ``config_path`` and ``config``).
    tick_interval_ms : int
        How often (simulated time) strategy PnL reaches the loss limits and time-based
        transitions run, as the live node's safety timer does.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    config_path: str | None = None
    config: dict[str, Any] | None = None
    tick_interval_ms: int = Field(default=1_000, gt=0)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.config_path is None) == (self.config is None):
            raise ValueError("safety: give exactly one of config_path and config")
        return self

    def load(self, mode: str) -> SafetyConfig:
        """
        Return the validated safety config in ``mode`` (BACKTEST or REPLAY).

        The document's ``mode`` may be omitted; if given it must be BACKTEST or REPLAY (a LIVE
        file's limits are reused by leaving its mode out).

        Raises
        ------
        InvalidConfig
            If the file is missing or invalid, or names a live mode.
        """
        from nautilus_ext.safety.config import SafetyConfig

        if self.config_path is not None:
            path = Path(self.config_path)
            data = read_yaml_file(path, f"safety config {path}")
            if not isinstance(data, dict):
                raise InvalidConfig(f"safety config {path}: expected a mapping")
        else:
            data = dict(self.config or {})
        named = data.pop("mode", None)
        if named is not None and str(named) not in ("BACKTEST", "REPLAY"):
            raise InvalidConfig(
                f"safety config mode {named} is not a backtest mode: leave `mode` out to reuse "
                "a live file's limits in a backtest"
            )
        return SafetyConfig.parse({**data, "mode": mode})


def default_safety_section() -> BacktestSafetySection:
    """Return the section applied when a backtest YAML has none (``configs/safety/backtest_default.yaml``)."""
    from nautilus_ext.instruments.registry import default_config_dir

    return BacktestSafetySection(config_path=str(default_config_dir() / BACKTEST_SAFETY_DEFAULT))


class BacktestSpec(BaseModel):
    """
    One backtest run.

    ``kind: orders`` replays pre-generated unified Orders (``orders``: a JSON-lines file or a
    storage root holding the ``orders`` cluster); ``kind: strategy`` runs ``strategy``, a
    Nautilus strategy that emits unified Orders through ``UnifiedExecutionStrategy``.

    Every order passes the same safety gate and chokepoint as in LIVE and DRY_RUN: ``safety``
    names the limits (:class:`BacktestSafetySection`); without it the shipped
    ``configs/safety/backtest_default.yaml`` applies.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    run_id: str = Field(default="backtest", pattern=r"^[A-Za-z0-9_.-]+$")
    kind: Literal["orders", "strategy"]
    catalog: str
    start: AwareDatetime
    end: AwareDatetime
    instruments: list[str] = Field(min_length=1)
    venues: list[VenueSimSpec] = Field(min_length=1)
    data: list[DataKind] = Field(default_factory=lambda: list(_DEFAULT_DATA))
    orders: str | None = None
    strategy: StrategySpec | None = None
    registry_dir: str | None = None
    output_dir: str = "out"
    results_root: str | None = None
    audit_root: str | None = None
    mode: Mode = Mode.BACKTEST
    log_level: Literal["ERROR", "WARNING", "INFO", "DEBUG"] = "ERROR"
    # transaction-cost analysis in the report: time bucket (seconds) and aggregate weighting
    tca_bucket_secs: int = Field(default=3600, gt=0)
    tca_weighting: Literal["QUANTITY", "NOTIONAL"] = "QUANTITY"
    # funding-aware backtests: settle perp funding from the catalog's derivative_ticker data
    settle_funding: bool = True
    safety: BacktestSafetySection | None = None
    # Betfair markets traded in the run settle at their CLOSED definition (nautilus_ext.backtest.betting)
    betfair_commission: BetfairCommissionSpec = BetfairCommissionSpec()
    # strategies keeping positions in the store: where, and the carry report over them
    store: StoreSpec | None = None

    def store_url(self) -> str | None:
        """Return the store a ``store:`` run writes (the default SQLite file of the run), or None."""
        if self.store is None:
            return None
        if self.store.db_url is not None:
            return self.store.db_url
        return f"sqlite:///{(Path(self.output_dir) / f'{self.run_id}.db').resolve()}"

    def safety_section(self) -> BacktestSafetySection:
        """Return the run's safety section (the documented default when the YAML has none)."""
        return self.safety if self.safety is not None else default_safety_section()

    @field_validator("mode")
    @classmethod
    def _backtest_modes(cls, mode: Mode) -> Mode:
        return require_mode(mode, (Mode.BACKTEST, Mode.REPLAY), "a backtest")

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems = []
        if self.end <= self.start:
            problems.append(f"end {self.end.isoformat()} must be after start {self.start.isoformat()}")
        if self.kind == "orders" and not self.orders:
            problems.append("orders: required for kind 'orders'")
        if self.kind == "strategy" and self.strategy is None:
            problems.append("strategy: required for kind 'strategy'")
        if not self.data:
            problems.append("data: list at least one data kind")
        if self.store is not None and self.kind != "strategy":
            problems.append("store: only a strategy-driven backtest (kind 'strategy') keeps positions")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @classmethod
    def from_yaml(cls, path: str | Path) -> BacktestSpec:
        """
        Load and validate a YAML file; relative paths resolve against the file's folder.

        Raises
        ------
        InvalidConfig
            If the file cannot be read or fails validation (the message names each field).
        """
        file = Path(path)
        raw = read_yaml_file(file)
        if not isinstance(raw, dict):
            raise InvalidConfig(f"{file}: expected a mapping at the top level")
        for name in ("catalog", "orders", "output_dir", "registry_dir", "results_root", "audit_root"):
            value = raw.get(name)
            if isinstance(value, str) and "://" not in value and not Path(value).is_absolute():
                raw[name] = str((file.parent / value).resolve())
        safety = raw.get("safety")
        if isinstance(safety, dict):
            limits = safety.get("config_path")
            if isinstance(limits, str) and not Path(limits).is_absolute():
                raw["safety"] = {**safety, "config_path": str((file.parent / limits).resolve())}
        try:
            return cls.model_validate(raw)
        except ValidationError as e:
            raise InvalidConfig(f"{file}: {describe_problems(e, 'file')}") from None

    def save(self, audit_root: str | Path) -> Path:
        """Record this spec as ``<audit_root>/run.json`` beside the run's audit log; return the file."""
        path = Path(audit_root) / RUN_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        return path

    @classmethod
    def load_recorded(cls, audit_root: str | Path) -> BacktestSpec:
        """
        Read the spec a run recorded with :meth:`save` under ``audit_root``.

        Raises
        ------
        InvalidConfig
            If ``audit_root`` holds no recorded run, or the recorded spec does not validate.
        """
        root = Path(audit_root)
        run_file = root / RUN_FILE
        if not run_file.is_file():
            raise InvalidConfig(f"{root} holds no recorded run ({RUN_FILE} is missing)")
        try:
            return cls.model_validate_json(run_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise InvalidConfig(f"{run_file}: {e}") from None
