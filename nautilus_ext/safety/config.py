"""
Validated safety configuration (seed 001, sections 8.6, 8.7 and 12).

Every threshold is explicit: no field that changes money has a silent default. Money and sizes
are :class:`~decimal.Decimal`; durations carry their unit in the name (``_secs``, ``_ms``).
Unknown keys are refused (``extra="forbid"``) and :meth:`SafetyConfig.parse` raises the
project's :class:`~nautilus_ext.errors.InvalidConfig` naming every failing field.

The config hash (:meth:`SafetyConfig.limits_hash`) is what an operator confirms before
re-arming after SAFE mode (seed 001, section 16.1, "risk limits reset/confirmed").
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated
from typing import Any
from typing import Self

from pydantic import BaseModel
from pydantic import BeforeValidator
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError
from pydantic import model_validator

from nautilus_ext.audit.hashing import config_hash
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import field_problems
from nautilus_ext.mode import Mode
from nautilus_ext.safety.betting import BettingConfig


def _refuse_float(value: Any) -> Any:
    # a float has already lost precision: thresholds are Decimals, ints or decimal strings
    if isinstance(value, float):
        raise ValueError("floats are not accepted: pass a Decimal, an int or a decimal string")
    return value


PositiveDecimal = Annotated[Decimal, BeforeValidator(_refuse_float), Field(gt=0, allow_inf_nan=False)]
NonNegativeDecimal = Annotated[Decimal, BeforeValidator(_refuse_float), Field(ge=0, allow_inf_nan=False)]
Fraction = Annotated[Decimal, BeforeValidator(_refuse_float), Field(gt=0, lt=1, allow_inf_nan=False)]
SizeFactor = Annotated[Decimal, BeforeValidator(_refuse_float), Field(gt=0, le=1, allow_inf_nan=False)]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Name = Annotated[str, Field(min_length=1, max_length=256)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class AutoConfirmPolicy(_Strict):
    """
    A rule that confirms staged intents without a human, once enabled by an arm.

    A policy does nothing on its own: :meth:`nautilus_ext.safety.arming.ArmingController.arm`
    must name it, so it is active only for that arm's lifetime and is written to the audit log.

    Parameters
    ----------
    name : str
        The policy name an arm command refers to.
    strategies : list[str]
        Strategy ids whose intents the policy may confirm (non-empty).
    max_amount : Decimal
        Largest order amount (in the order's own units) the policy may confirm.
    """

    name: Name
    strategies: tuple[Name, ...] = Field(min_length=1)
    max_amount: PositiveDecimal


class ArmingConfig(_Strict):
    """
    Arming and confirmation (seed 001, section 8.6).

    Parameters
    ----------
    max_ttl_secs : int
        Longest time-to-live an arm may ask for, seconds.
    intent_ttl_secs : int
        How long a staged intent waits for confirmation, seconds.
    max_failed_confirmations : int
        Wrong-hash confirmations tolerated per arm; one more disarms (lockout on abuse).
    auto_confirm : list[AutoConfirmPolicy]
        Policies an arm may enable by name (default none).
    """

    max_ttl_secs: PositiveInt
    intent_ttl_secs: PositiveInt
    max_failed_confirmations: NonNegativeInt
    auto_confirm: tuple[AutoConfirmPolicy, ...] = ()

    @model_validator(mode="after")
    def _unique_policy_names(self) -> Self:
        names = [p.name for p in self.auto_confirm]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"auto_confirm: policy names repeat: {', '.join(repeated)}")
        return self


class RiskConfig(_Strict):
    """
    The risk policy matrix (seed 001, section 12); amounts in the account's quote currency.

    Parameters
    ----------
    max_position : Decimal
        Largest absolute position per asset (order units) when the asset has no override.
    max_position_by_asset : dict[str, Decimal]
        Per-asset overrides of ``max_position`` (canonical instrument key text).
    strategy_loss_limit : Decimal
        Loss (positive number) at which a strategy is killed and an alert raised.
    portfolio_loss_limit : Decimal
        Total loss over all strategies at which everything halts (SAFE mode).
    max_daily_loss : Decimal
        Loss since the start of the UTC day at which orders are blocked and the kill switch fires.
    drawdown_throttle : Decimal
        Drawdown of a strategy's PnL from its peak at which its order size is reduced.
    drawdown_size_factor : Decimal
        Multiplier (0, 1] applied to ``max_trade_size`` for a strategy in drawdown.
    cooldown_secs : int
        Delay after a strategy enters drawdown before it may place new orders, seconds.
    max_trade_size : Decimal
        Largest amount of one order (order units) when the asset has no override.
    max_trade_size_by_asset : dict[str, Decimal]
        Per-asset overrides of ``max_trade_size``.
    max_slippage : Decimal
        Largest slippage per order, a fraction of the arrival price (both the order's own
        ``max_slippage`` and the pre-trade estimate must stay within it).
    max_latency_ms : int
        Venue round-trip latency above which new orders to the venue are blocked, ms.
    max_latency_ms_by_venue : dict[str, int]
        Per-venue overrides of ``max_latency_ms``.
    allowed_assets_by_venue : dict[str, list[str]]
        Per-venue allowlist of assets (canonical instrument key text; seed 001, section 15).
        Empty (the default): no allowlist. Otherwise an order on an asset not listed under its
        venue, or to a venue not listed at all, is blocked (``RISK_BLOCKED``, rule
        ``asset_not_allowed``).
    read_only_venues : list[str]
        Venues whose keys are read-only: every order to them is blocked (``RISK_BLOCKED``,
        rule ``read_only_venue``). A live node adds each venue configured with
        ``key_scope: read``.
    """

    max_position: PositiveDecimal
    max_position_by_asset: dict[Name, PositiveDecimal] = Field(default_factory=dict)
    strategy_loss_limit: PositiveDecimal
    portfolio_loss_limit: PositiveDecimal
    max_daily_loss: PositiveDecimal
    drawdown_throttle: PositiveDecimal
    drawdown_size_factor: SizeFactor
    cooldown_secs: NonNegativeInt
    max_trade_size: PositiveDecimal
    max_trade_size_by_asset: dict[Name, PositiveDecimal] = Field(default_factory=dict)
    max_slippage: Fraction
    max_latency_ms: PositiveInt
    max_latency_ms_by_venue: dict[Name, PositiveInt] = Field(default_factory=dict)
    allowed_assets_by_venue: dict[Name, tuple[Name, ...]] = Field(default_factory=dict)
    read_only_venues: tuple[Name, ...] = ()

    def asset_allowed(self, venue: str, asset: str) -> bool:
        """Return whether ``asset`` may be traded on ``venue`` (always, without an allowlist)."""
        if not self.allowed_assets_by_venue:
            return True
        return asset in self.allowed_assets_by_venue.get(venue, ())

    def position_limit(self, asset: str) -> Decimal:
        """Return the absolute position limit of ``asset``."""
        return self.max_position_by_asset.get(asset, self.max_position)

    def trade_size_limit(self, asset: str) -> Decimal:
        """Return the largest amount of one order on ``asset``."""
        return self.max_trade_size_by_asset.get(asset, self.max_trade_size)

    def latency_limit_ms(self, venue: str) -> int:
        """Return the latency bound of ``venue``, ms."""
        return self.max_latency_ms_by_venue.get(venue, self.max_latency_ms)


class OmsConfig(_Strict):
    """
    OMS safeguard thresholds (seed 001, sections 4.7 and 8.7).

    Parameters
    ----------
    dirty_max_age_ms : int
        How long a position may stay dirty after a fill before SAFE mode, ms.
    reconcile_interval_ms : int
        How often each position is compared with a REST snapshot, ms.
    reconcile_grace_ms : int
        Window after a fill during which a disagreeing snapshot is not a mismatch, ms.
    mismatch_rel_threshold : Decimal
        Relative difference (a fraction of the larger absolute position) still counted as a match.
    mismatch_abs_tolerance : Decimal
        Absolute difference still counted as a match (covers positions at or near zero).
    mismatch_persist_ms : int
        How long a mismatch outside the grace window may persist before SAFE mode, ms.
    market_data_max_age_ms : int
        Market data older than this blocks new orders (MARKET_DATA_STALE), ms.
    ws_max_age_ms : int
        A venue WebSocket silent for longer than this blocks new orders (WS_STALE), ms.
    order_rate_limit : int
        Most new orders per asset within ``order_rate_window_ms``.
    order_rate_window_ms : int
        The rate limit window, ms.
    flipflop_max_cycles : int
        Place-then-cancel cycles per asset within ``flipflop_window_ms`` that enter SAFE mode.
    flipflop_window_ms : int
        The flip-flop detector's rolling window, ms.
    """

    dirty_max_age_ms: PositiveInt
    reconcile_interval_ms: PositiveInt
    reconcile_grace_ms: NonNegativeInt
    mismatch_rel_threshold: Annotated[
        Decimal, BeforeValidator(_refuse_float), Field(ge=0, lt=1, allow_inf_nan=False)
    ]
    mismatch_abs_tolerance: NonNegativeDecimal
    mismatch_persist_ms: NonNegativeInt
    market_data_max_age_ms: PositiveInt
    ws_max_age_ms: PositiveInt
    order_rate_limit: PositiveInt
    order_rate_window_ms: PositiveInt
    flipflop_max_cycles: PositiveInt
    flipflop_window_ms: PositiveInt


class SafetyConfig(_Strict):
    """
    The whole safety layer's configuration (one per run).

    Parameters
    ----------
    mode : Mode
        BACKTEST, DRY_RUN, LIVE or REPLAY; only LIVE requires arming and confirmation.
    arming : ArmingConfig
        Arming and confirmation.
    risk : RiskConfig
        The risk policy matrix.
    oms : OmsConfig
        OMS safeguards.
    betting : BettingConfig, optional
        Betting limits (liability per market, event and day) and Betfair's pre-trade rules;
        with it, a bet's liability replaces its net stake in the position limit.
    """

    mode: Mode
    arming: ArmingConfig
    risk: RiskConfig
    oms: OmsConfig
    betting: BettingConfig | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> SafetyConfig:
        """
        Validate a mapping (for example a YAML document) into a config.

        Raises
        ------
        InvalidConfig
            If a field is missing, unknown or out of range; ``details['errors']`` lists each.
        """
        try:
            return cls.model_validate(dict(data))
        except ValidationError as e:
            errors = [f"{loc}: {msg}" for loc, msg in field_problems(e, "config")]
            raise InvalidConfig(
                f"invalid safety config: {'; '.join(errors)}", details={"errors": errors}
            ) from None

    def limits_hash(self) -> str:
        """Return the SHA-256 of the canonical config (what an operator confirms to re-arm)."""
        return config_hash(self)


__all__ = [
    "ArmingConfig",
    "AutoConfirmPolicy",
    "OmsConfig",
    "RiskConfig",
    "SafetyConfig",
]
