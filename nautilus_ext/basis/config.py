"""
Mode and share-class configuration of the basis strategy (seed 003 decisions 8, 11, 25, 26, 33, 39).

Files::

    configs/modes/<mode>.yaml                 one of the six modes (ModeConfig)
    configs/share_classes/<class>.yaml        usdt_stable, eth_directional (ShareClassConfig)
    configs/venues/*.yaml                     the project's venue registry (codes, fees, margins)

Loading is fail-fast: unknown keys, missing keys and unknown venue codes raise
:class:`~nautilus_ext.errors.InvalidConfig`. :func:`resolve` then applies the CLI overrides
(``a.b.c=value``; the CLI is the user's last word, decision 25) and the cross-file rules of
decision 26: a contradiction fails naming both settings, a derivable setting is corrected and
the correction logged as a warning and kept in :attr:`EffectiveConfig.corrections`, which the
backtest writes next to its results.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from enum import StrEnum
from enum import unique
from pathlib import Path
from typing import Annotated
from typing import Any
from typing import Final

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.errors import describe_problems
from nautilus_ext.errors import read_yaml_file
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.instruments.registry import default_config_dir
from nautilus_ext.onchain.calculators.accounting import ShareClass
from nautilus_ext.onchain.calculators.staking import RewardsMode

log = logging.getLogger(__name__)

MODE_NAMES: Final[tuple[str, ...]] = (
    "pure_lending",
    "btc_basis",
    "eth_staking_only",
    "eth_leveraged",
    "usdt_market_neutral_no_leverage",
    "usdt_market_neutral",
)
"""The six modes of decision 39, in the order ``basis compare`` prints them."""

Fraction = Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False)]
NonNegative = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]


@unique
class LoopExecution(StrEnum):
    """How a leverage loop executes (decision 10)."""

    ATOMIC = "atomic"  # one flash-loan bundle: 6-7 events, one gas fee
    SEQUENTIAL = "sequential"  # stake/supply/borrow repeated: one gas fee per transaction


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShareClassConfig(_Model):
    """
    A share class (``configs/share_classes/*.yaml``, decision 8 and 12).

    Parameters
    ----------
    name : str
        File stem (``usdt_stable``).
    currency : ShareClass
        ``USDT`` (capital and P&L in USD, columns ``*_usd``) or ``ETH`` (``*_eth``).
    market_neutral : bool
        Whether the class requires hedged (delta-neutral) strategies (decision 11).
    gas_reserve_eth : Decimal
        ETH kept unstaked in the wallet to pay gas. A USDT class starts with 0 ETH and carries
        gas as a debt (decision 12); an ETH class pays gas from this reserve.
    description : str
        Free text.
    """

    name: str
    currency: ShareClass
    market_neutral: bool
    gas_reserve_eth: NonNegative
    description: str = ""


class LendingConfig(_Model):
    """Supply-only lending (``pure_lending``): ``asset`` supplied to the lending venue."""

    enabled: bool
    asset: str


class StakingConfig(_Model):
    """Liquid staking: ETH converted to ``lst`` at the oracle rate (decisions 9, 20, 31)."""

    enabled: bool
    lst: str = Field(pattern=r"^(WEETH|WSTETH)$")
    venue: str
    rewards_mode: RewardsMode


class LeverageConfig(_Model):
    """
    The AAVE leverage loop (decision 10).

    Parameters
    ----------
    enabled : bool
        Supply the LST and borrow WETH against it.
    target_ltv : Decimal
        Debt/collateral (ETH terms) the loop aims at and deleveraging returns to.
    execution : LoopExecution
        ``atomic`` flash bundle or ``sequential`` loop.
    max_iterations : int, optional
        Sequential loop limit (``None`` until the next borrow is below ``min_step_eth``; ``0``:
        stake and supply once, no borrow).
    min_step_eth : Decimal
        Smallest borrow the sequential loop still performs.
    flash_venue : str
        Venue of the flash loan of atomic bundles (registry code).
    """

    enabled: bool
    target_ltv: Fraction
    execution: LoopExecution
    max_iterations: int | None = Field(ge=0)
    min_step_eth: NonNegative
    flash_venue: str


class AaveConfig(_Model):
    """
    The lending market (AAVE v3) risk parameters used by the simulation (e-mode for ETH assets).

    Parameters
    ----------
    venue : str
        Registry code (``AAVE_V3_ETH``).
    ltv_bps, liquidation_threshold_bps, liquidation_bonus_bps : int
        E-mode parameters of the LST/WETH category.
    close_factor : Decimal
        Share of the debt a liquidator may repay when HF is between the threshold and 1.
    full_close_below_hf : Decimal
        Below this health factor the whole debt may be liquidated (AAVE v3: 0.95).
    """

    venue: str
    ltv_bps: int = Field(gt=0, lt=10_000)
    liquidation_threshold_bps: int = Field(gt=0, lt=10_000)
    liquidation_bonus_bps: int = Field(ge=10_000, lt=12_000)
    close_factor: Fraction
    full_close_below_hf: NonNegative


class HedgeVenue(_Model):
    """One CEX of the hedge with its share of the short (decision 16)."""

    venue: str
    allocation: Fraction


class BasisTradeConfig(_Model):
    """
    The CEX legs: spot bought on ``spot_venue`` and perpetual shorts across ``hedge_venues``.

    Parameters
    ----------
    enabled : bool
        Hedge with perpetual shorts.
    spot_venue : str
        Where spot is bought (decision 15: Binance).
    hedge_venues : list[HedgeVenue]
        Perpetual venues and allocations (must sum to 1).
    target_margin_ratio : Decimal
        Margin (account equity / short notional) the entry and margin rebalances aim at.
    """

    enabled: bool
    spot_venue: str
    hedge_venues: list[HedgeVenue]
    target_margin_ratio: Annotated[Decimal, Field(gt=0, le=5, allow_inf_nan=False)]


class RebalancingConfig(_Model):
    """
    Triggers of the Rebalancing Specification and decision 30.

    Parameters
    ----------
    enabled : bool
        Act on triggers (``False``: only log them).
    margin_warning_threshold, margin_urgent_threshold : Decimal
        Margin ratio bands; urgent triggers the margin-support flow.
    delta_drift_threshold : Decimal
        Net delta / hedged exposure above which the hedge is adjusted.
    health_factor_threshold : Decimal
        Health factor below which AAVE is deleveraged to the target LTV.
    """

    enabled: bool
    margin_warning_threshold: Fraction
    margin_urgent_threshold: Fraction
    delta_drift_threshold: Fraction
    health_factor_threshold: Annotated[Decimal, Field(gt=1, allow_inf_nan=False)]


class GasConfig(_Model):
    """Gas units per operation; the gas price comes from the data every hour."""

    atomic_entry: int = Field(ge=0)
    atomic_deleverage: int = Field(ge=0)
    per_transaction: int = Field(ge=0)


class ModeConfig(_Model):
    """
    One strategy mode (``configs/modes/*.yaml``).

    Parameters
    ----------
    mode : str
        One of :data:`MODE_NAMES` (the file stem).
    asset : str
        ``ETH`` or ``BTC``: the asset whose delta the mode manages.
    lending, staking, leverage, basis_trade : sections
        Which legs run.
    aave : AaveConfig
        Lending market parameters.
    rebalancing : RebalancingConfig
        Triggers.
    gas : GasConfig
        Gas units per operation.
    swap_fee : Decimal
        Fee of the LST -> ETH swap used when deleveraging.
    """

    mode: str
    description: str = ""
    asset: str = Field(pattern=r"^(ETH|BTC)$")
    lending: LendingConfig
    staking: StakingConfig
    leverage: LeverageConfig
    basis_trade: BasisTradeConfig
    aave: AaveConfig
    rebalancing: RebalancingConfig
    gas: GasConfig
    swap_fee: Fraction


@dataclass(frozen=True, slots=True)
class RunRequest:
    """The required run parameters (decision 25): mode, share class, capital and period."""

    mode: str
    share_class: str
    capital: Decimal
    start: str
    end: str


@dataclass(slots=True)
class EffectiveConfig:
    """
    The configuration a run uses after overrides and corrections.

    Attributes
    ----------
    mode : ModeConfig
    share_class : ShareClassConfig
    capital : Decimal
        Initial capital in the share class's currency.
    start, end : str
        ISO dates (UTC), ``end`` exclusive.
    overrides : dict[str, str]
        CLI overrides applied (dotted path -> value).
    corrections : list[str]
        Derivable settings corrected (each also logged as a warning).
    venues : dict[str, dict[str, str]]
        The registry entries of the venues the mode uses (fees and margins), as written.
    """

    mode: ModeConfig
    share_class: ShareClassConfig
    capital: Decimal
    start: str
    end: str
    overrides: dict[str, str] = field(default_factory=dict)
    corrections: list[str] = field(default_factory=list)
    venues: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (decimals as strings)."""
        return {
            "mode": self.mode.model_dump(mode="json"),
            "share_class": self.share_class.model_dump(mode="json"),
            "capital": str(self.capital),
            "start": self.start,
            "end": self.end,
            "overrides": dict(self.overrides),
            "corrections": list(self.corrections),
            "venues": self.venues,
        }


def _load_model(cls: type[_Model], path: Path) -> Any:
    raw = read_yaml_file(path)
    if not isinstance(raw, dict):
        raise InvalidConfig(f"{path}: expected a mapping at the top level")
    return raw


def _validate(cls: type[_Model], raw: dict[str, Any], where: str) -> Any:
    try:
        return cls.model_validate(raw)
    except ValidationError as e:
        raise InvalidConfig(f"{where}: {describe_problems(e, root=where)}") from None


def _file(kind: str, name: str, config_dir: Path) -> Path:
    folder = config_dir / kind
    path = folder / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
        raise InvalidConfig(f"{kind} {name!r} not found in {folder} (known: {', '.join(known) or 'none'})")
    return path


def load_share_class(name: str, config_dir: Path | None = None) -> ShareClassConfig:
    """Load and validate ``share_classes/<name>.yaml``."""
    path = _file("share_classes", name, config_dir or default_config_dir())
    model: ShareClassConfig = _validate(ShareClassConfig, _load_model(ShareClassConfig, path), path.name)
    if model.name != name:
        raise InvalidConfig(f"{path.name}: name {model.name!r} must match the file stem {name!r}")
    return model


def _set_path(raw: dict[str, Any], dotted: str, value: str) -> None:
    parts = dotted.split(".")
    node: Any = raw
    for part in parts[:-1]:
        if not isinstance(node, dict) or part not in node:
            raise InvalidConfig(f"override {dotted}: no setting {part!r} in the mode file")
        node = node[part]
    if not isinstance(node, dict) or parts[-1] not in node:
        raise InvalidConfig(f"override {dotted}: no setting {parts[-1]!r} in the mode file")
    if value.lower() in ("null", "none"):
        node[parts[-1]] = None
    elif value.lower() in ("true", "false"):
        node[parts[-1]] = value.lower() == "true"
    else:
        node[parts[-1]] = value


def resolve(
    request: RunRequest,
    overrides: dict[str, str] | None = None,
    *,
    config_dir: Path | None = None,
    registry: InstrumentRegistry | None = None,
) -> EffectiveConfig:
    """
    Load the mode and share class, apply CLI overrides, check and correct (decision 26).

    Parameters
    ----------
    request : RunRequest
        Mode, share class, capital and period.
    overrides : dict[str, str], optional
        Dotted mode settings -> values from the command line; they win over the YAML.
    config_dir : Path, optional
        Root holding ``modes/``, ``share_classes/`` and ``venues/`` (default: the repo's).
    registry : InstrumentRegistry, optional
        Venue registry (default: loaded from ``config_dir``).

    Raises
    ------
    InvalidConfig
        On unknown or missing keys, unknown venues, or contradictory settings (the message
        names both settings).
    """
    root = config_dir or default_config_dir()
    if request.mode not in MODE_NAMES:
        raise InvalidConfig(f"mode {request.mode!r} is not one of {', '.join(MODE_NAMES)}")
    if request.capital <= 0:
        raise InvalidConfig(f"capital {request.capital} must be positive")
    share = load_share_class(request.share_class, root)
    path = _file("modes", request.mode, root)
    raw = copy.deepcopy(_load_model(ModeConfig, path))
    applied: dict[str, str] = {}
    for dotted, value in (overrides or {}).items():
        _set_path(raw, dotted, value)
        applied[dotted] = value
    mode: ModeConfig = _validate(ModeConfig, raw, path.name)
    if mode.mode != request.mode:
        raise InvalidConfig(f"{path.name}: mode {mode.mode!r} must match the file stem {request.mode!r}")
    registry = registry or InstrumentRegistry.from_directory(root)
    corrections: list[str] = []
    mode = _check_rules(mode, share, corrections)
    venues = _check_venues(mode, registry)
    return EffectiveConfig(
        mode=mode,
        share_class=share,
        capital=request.capital,
        start=request.start,
        end=request.end,
        overrides=applied,
        corrections=corrections,
        venues=venues,
    )


def _correct(mode: ModeConfig, corrections: list[str], message: str, **sections: Any) -> ModeConfig:
    log.warning("config corrected: %s", message)
    corrections.append(message)
    return mode.model_copy(update=sections)


def _check_rules(mode: ModeConfig, share: ShareClassConfig, corrections: list[str]) -> ModeConfig:
    name = f"share_class {share.name}"
    # derivable: a directional (ETH) class never hedges (decision 11, 26)
    if not share.market_neutral and mode.basis_trade.enabled:
        mode = _correct(
            mode,
            corrections,
            f"{name} is directional: basis_trade.enabled true -> false (an ETH class never hedges)",
            basis_trade=mode.basis_trade.model_copy(update={"enabled": False}),
        )
    # derivable: a loop limited to zero iterations borrows nothing
    if mode.leverage.enabled and mode.leverage.max_iterations == 0:
        mode = _correct(
            mode,
            corrections,
            "leverage.max_iterations 0 means no borrow: leverage.enabled true -> false",
            leverage=mode.leverage.model_copy(update={"enabled": False}),
        )
    # contradictions: fail naming both settings
    if share.market_neutral and mode.staking.enabled and not mode.basis_trade.enabled:
        raise InvalidConfig(
            f"{name} (market_neutral: true) contradicts staking.enabled: true with "
            "basis_trade.enabled: false: USDT staking requires hedging"
        )
    if share.currency is ShareClass.ETH and mode.lending.enabled and mode.lending.asset != "WETH":
        raise InvalidConfig(
            f"{name} (currency ETH) contradicts lending.asset: {mode.lending.asset}: "
            "the ETH class holds no stablecoin"
        )
    if share.currency is ShareClass.ETH and mode.asset != "ETH":
        raise InvalidConfig(f"{name} (currency ETH) contradicts asset: {mode.asset}")
    legs = (mode.lending.enabled, mode.staking.enabled, mode.basis_trade.enabled)
    if not any(legs):
        raise InvalidConfig(
            f"{name} leaves no leg to run: lending.enabled, staking.enabled and "
            "basis_trade.enabled are all false"
        )
    if mode.lending.enabled and (mode.staking.enabled or mode.basis_trade.enabled):
        raise InvalidConfig(
            "lending.enabled: true contradicts staking.enabled or basis_trade.enabled: pure lending only"
        )
    if mode.leverage.enabled and not mode.staking.enabled:
        raise InvalidConfig(
            "leverage.enabled: true contradicts staking.enabled: false (the loop supplies the LST)"
        )
    if mode.asset == "BTC" and mode.staking.enabled:
        raise InvalidConfig("asset: BTC contradicts staking.enabled: true (only ETH is staked)")
    if mode.staking.lst == "WSTETH" and mode.staking.rewards_mode is not RewardsMode.BASE_ONLY:
        raise InvalidConfig(
            f"staking.lst: WSTETH contradicts staking.rewards_mode: {mode.staking.rewards_mode} "
            "(wstETH supports base_only)"
        )
    aave = mode.aave
    if aave.ltv_bps >= aave.liquidation_threshold_bps:
        raise InvalidConfig(
            f"aave.ltv_bps {aave.ltv_bps} must be below "
            f"aave.liquidation_threshold_bps {aave.liquidation_threshold_bps}"
        )
    if mode.leverage.enabled:
        ltv = mode.leverage.target_ltv
        if ltv * 10_000 >= aave.ltv_bps:
            raise InvalidConfig(
                f"leverage.target_ltv {ltv} is not below aave.ltv_bps {aave.ltv_bps}: the borrow would revert"
            )
        hf_at_target = Decimal(aave.liquidation_threshold_bps) / 10_000 / ltv
        if hf_at_target <= mode.rebalancing.health_factor_threshold:
            raise InvalidConfig(
                f"leverage.target_ltv {ltv} gives health factor {hf_at_target:.4f}, not above "
                f"rebalancing.health_factor_threshold {mode.rebalancing.health_factor_threshold}: "
                "every hour would deleverage"
            )
    reb = mode.rebalancing
    if reb.margin_urgent_threshold >= reb.margin_warning_threshold:
        raise InvalidConfig(
            f"rebalancing.margin_urgent_threshold {reb.margin_urgent_threshold} must be below "
            f"rebalancing.margin_warning_threshold {reb.margin_warning_threshold}"
        )
    if mode.basis_trade.enabled:
        total = sum((v.allocation for v in mode.basis_trade.hedge_venues), Decimal(0))
        if not mode.basis_trade.hedge_venues or total != 1:
            raise InvalidConfig(f"basis_trade.hedge_venues allocations sum to {total}, must sum to 1")
        if mode.basis_trade.target_margin_ratio <= reb.margin_warning_threshold:
            raise InvalidConfig(
                f"basis_trade.target_margin_ratio {mode.basis_trade.target_margin_ratio} must be above "
                f"rebalancing.margin_warning_threshold {reb.margin_warning_threshold}"
            )
    return mode


def _venue_row(registry: InstrumentRegistry, code: str, setting: str) -> dict[str, str]:
    try:
        spec = registry.venue(code)
    except InvalidInstrumentKey:
        raise InvalidConfig(f"{setting}: venue {code!r} is not in configs/venues") from None
    return {
        "family": str(spec.family),
        "taker_fee": str(spec.taker_fee),
        "maintenance_margin": "" if spec.maintenance_margin is None else str(spec.maintenance_margin),
        "liquidation_fee": "" if spec.liquidation_fee is None else str(spec.liquidation_fee),
    }


def _check_venues(mode: ModeConfig, registry: InstrumentRegistry) -> dict[str, dict[str, str]]:
    venues: dict[str, dict[str, str]] = {}
    venues[mode.aave.venue] = _venue_row(registry, mode.aave.venue, "aave.venue")
    if mode.staking.enabled:
        venues[mode.staking.venue] = _venue_row(registry, mode.staking.venue, "staking.venue")
    if mode.leverage.enabled and mode.leverage.execution is LoopExecution.ATOMIC:
        venues[mode.leverage.flash_venue] = _venue_row(
            registry, mode.leverage.flash_venue, "leverage.flash_venue"
        )
    if mode.basis_trade.enabled:
        bt = mode.basis_trade
        venues[bt.spot_venue] = _venue_row(registry, bt.spot_venue, "basis_trade.spot_venue")
        for i, hv in enumerate(bt.hedge_venues):
            row = _venue_row(registry, hv.venue, f"basis_trade.hedge_venues[{i}].venue")
            if not row["maintenance_margin"] or not row["liquidation_fee"]:
                raise InvalidConfig(
                    f"basis_trade.hedge_venues[{i}].venue {hv.venue}: configs/venues has no "
                    "maintenance_margin/liquidation_fee for it"
                )
            key = f"{hv.venue}:PERPETUAL:{mode.asset}-USDT@LIN"
            try:
                perp = registry.get(key)
            except InvalidInstrumentKey:
                raise InvalidConfig(
                    f"basis_trade.hedge_venues[{i}].venue {hv.venue}: configs/instruments has no {key}"
                ) from None
            contract = perp.contract_size or Decimal(1)
            if perp.size_increment is None:
                raise InvalidConfig(f"{key}: configs/instruments gives no size_increment")
            row["instrument_key"] = key
            row["nautilus_instrument_id"] = perp.nautilus_instrument_id or ""
            row["contract_size"] = str(contract)
            row["lot_size"] = str(perp.size_increment * contract)  # in the asset (ETH, BTC)
            mm = Decimal(row["maintenance_margin"])
            if mode.rebalancing.margin_urgent_threshold <= mm:
                raise InvalidConfig(
                    f"rebalancing.margin_urgent_threshold {mode.rebalancing.margin_urgent_threshold} must be "
                    f"above {hv.venue} maintenance_margin {mm} (configs/venues)"
                )
            venues[hv.venue] = row
    return venues


__all__ = [
    "MODE_NAMES",
    "AaveConfig",
    "BasisTradeConfig",
    "EffectiveConfig",
    "GasConfig",
    "HedgeVenue",
    "LendingConfig",
    "LeverageConfig",
    "LoopExecution",
    "ModeConfig",
    "RebalancingConfig",
    "RunRequest",
    "ShareClassConfig",
    "StakingConfig",
    "load_share_class",
    "resolve",
]
