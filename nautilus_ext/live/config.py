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
from enum import StrEnum
from enum import unique
from pathlib import Path
from typing import Any
from typing import Literal

import yaml
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError
from pydantic import model_validator

from nautilus_ext.errors import InvalidConfig


@unique
class LiveMode(StrEnum):
    """How orders are executed."""

    LIVE = "LIVE"  # real orders on the venue
    DRY_RUN = "DRY_RUN"  # live market data, simulated execution, no orders leave the process


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VenueConfig(_Strict):
    """
    One venue of the node.

    Attributes
    ----------
    venue : str
        The Nautilus venue name (``BYBIT``, ``HYPERLIQUID`` ...).
    adapter : {"ccxt", "native"}
        Which adapter serves it (native only where NautilusTrader ships one for Python).
    exchange_id : str, optional
        The ccxt exchange id (required for ``ccxt``).
    market_types : list[str], optional
        ccxt market types to load (``[linear]`` on Bybit, ``[swap]`` on Hyperliquid).
    testnet : bool
        Use the venue's testnet.
    rest_url_override, ws_url_override : str, optional
        Point the adapter at another server (the fake exchange in tests): any ccxt venue, and
        the native adapters in ``NATIVE_URL_OVERRIDE_VENUES``.
    enable_rate_limit : bool
        ccxt's client-side throttle (keep on against real venues).
    timeout_ms : int
        Per-request timeout (milliseconds).
    instrument_ids : list[str], optional
        Load only these instruments (default: every market of ``market_types``).
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
    instrument_ids: list[str] | None = None

    @model_validator(mode="after")
    def _check(self) -> VenueConfig:
        if self.adapter == "ccxt" and not self.exchange_id:
            raise ValueError(f"venue {self.venue}: adapter 'ccxt' needs exchange_id")
        if self.adapter == "native" and self.venue not in NATIVE_VENUES:
            raise ValueError(
                f"venue {self.venue}: no native NautilusTrader adapter in this build "
                f"(native: {sorted(NATIVE_VENUES)}); use adapter: ccxt"
            )
        overridden = self.rest_url_override or self.ws_url_override
        if self.adapter == "native" and overridden and self.venue not in NATIVE_URL_OVERRIDE_VENUES:
            raise ValueError(
                f"venue {self.venue}: the native adapter takes no URL overrides "
                f"(only {sorted(NATIVE_URL_OVERRIDE_VENUES)} do)"
            )
        if (self.rest_url_override is None) != (self.ws_url_override is None):
            raise ValueError(f"venue {self.venue}: set both URL overrides or neither")
        return self


NATIVE_VENUES = frozenset({"BYBIT", "HYPERLIQUID", "DERIBIT"})
"""Venues whose native adapter this module can wire (others: add them here when needed)."""

NATIVE_URL_OVERRIDE_VENUES = frozenset({"DERIBIT"})
"""Native venues whose configs take base URLs (the overrides are the server's base URL)."""


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
    latency_ms: int = Field(default=0, ge=0)
    instruments_timeout_secs: float = Field(default=30.0, gt=0)


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
    mode : LiveMode
        ``LIVE`` sends real orders and requires ``allow_live_orders: true``; ``DRY_RUN``
        simulates execution on live data.
    """

    mode: LiveMode
    trader_id: str = Field(default="TRADER-001", pattern=r"^[A-Za-z0-9_]+-[0-9]+$")
    allow_live_orders: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    venues: list[VenueConfig] = Field(min_length=1)
    dry_run: DryRunConfig | None = None
    strategies: list[StrategyEntry] = Field(default_factory=list)
    timeout_connection_secs: float = Field(default=30.0, gt=0)
    timeout_reconciliation_secs: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> LiveNodeConfig:
        names = [v.venue for v in self.venues]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate venue in {names}")
        if self.mode is LiveMode.LIVE and not self.allow_live_orders:
            raise ValueError("mode LIVE sends real orders: set allow_live_orders: true to confirm")
        if self.mode is LiveMode.LIVE and self.dry_run is not None:
            raise ValueError("dry_run settings are only valid with mode DRY_RUN")
        if self.mode is LiveMode.DRY_RUN and self.dry_run is None:
            raise ValueError("mode DRY_RUN needs a dry_run section (starting_balances ...)")
        if self.mode is LiveMode.DRY_RUN and self.allow_live_orders:
            raise ValueError("allow_live_orders contradicts mode DRY_RUN")
        return self


def load_live_config(path: str | Path) -> LiveNodeConfig:
    """
    Read and validate a live YAML file.

    Raises
    ------
    InvalidConfig
        If the file is missing, is not YAML, or fails validation (the message names the file).
    """
    file = Path(path)
    try:
        raw = yaml.safe_load(file.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise InvalidConfig(f"{file}: cannot read: {e}") from e
    try:
        return LiveNodeConfig.model_validate(raw)
    except ValidationError as e:
        raise InvalidConfig(f"{file}: {e}", details={"errors": e.errors()}) from e
