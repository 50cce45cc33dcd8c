"""Validated YAML configuration of a backtest run (``configs/backtests/*.yaml``)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated
from typing import Any
from typing import Literal
from typing import Self

import yaml
from pydantic import AwareDatetime
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError
from pydantic import model_validator

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import describe_problems

DataKind = Literal["order_book_deltas", "trade_ticks", "quote_ticks"]
_DEFAULT_DATA: tuple[DataKind, ...] = ("order_book_deltas", "trade_ticks")
NonNegativeMs = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]


class LatencySpec(BaseModel):
    """Simulated venue latencies in milliseconds (order-to-venue and venue-to-fill)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_ms: NonNegativeMs = Decimal(0)
    insert_ms: NonNegativeMs = Decimal(0)
    update_ms: NonNegativeMs = Decimal(0)
    cancel_ms: NonNegativeMs = Decimal(0)


class VenueSimSpec(BaseModel):
    """One simulated venue: canonical venue code, account and latency."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    venue: str
    starting_balances: list[str] = Field(min_length=1)
    account_type: Literal["MARGIN", "CASH", "BETTING"] = "MARGIN"
    oms_type: Literal["NETTING", "HEDGING"] = "NETTING"
    book_type: Literal["L1_MBP", "L2_MBP", "L3_MBO"] = "L2_MBP"
    latency: LatencySpec = LatencySpec()


class StrategySpec(BaseModel):
    """A Nautilus strategy for strategy-driven backtests (importable paths)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strategy_path: str = Field(pattern=r"^[\w.]+:\w+$")
    config_path: str = Field(pattern=r"^[\w.]+:\w+$")
    config: dict[str, Any] = Field(default_factory=dict)


class BacktestSpec(BaseModel):
    """
    One backtest run.

    ``kind: orders`` replays pre-generated unified Orders (``orders``: a JSON-lines file or a
    storage root holding the ``orders`` cluster); ``kind: strategy`` runs ``strategy``, a
    Nautilus strategy that emits unified Orders through ``UnifiedExecutionStrategy``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

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
    mode: Literal["BACKTEST", "REPLAY"] = "BACKTEST"
    log_level: Literal["ERROR", "WARNING", "INFO", "DEBUG"] = "ERROR"
    # transaction-cost analysis in the report: time bucket (seconds) and aggregate weighting
    tca_bucket_secs: int = Field(default=3600, gt=0)
    tca_weighting: Literal["QUANTITY", "NOTIONAL"] = "QUANTITY"

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
        try:
            raw = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError, UnicodeDecodeError) as e:
            raise InvalidConfig(f"{file}: cannot read YAML: {e}") from None
        except RecursionError:
            raise InvalidConfig(f"{file}: cannot read YAML: nested too deeply") from None
        if not isinstance(raw, dict):
            raise InvalidConfig(f"{file}: expected a mapping at the top level")
        for name in ("catalog", "orders", "output_dir", "registry_dir", "results_root", "audit_root"):
            value = raw.get(name)
            if isinstance(value, str) and "://" not in value and not Path(value).is_absolute():
                raw[name] = str((file.parent / value).resolve())
        try:
            return cls.model_validate(raw)
        except ValidationError as e:
            raise InvalidConfig(f"{file}: {describe_problems(e, 'file')}") from None
