"""
Records the basis engine reads and writes: the hourly :class:`Snapshot` (its source), the
:class:`BasisEvent` log (its sink), counters, hedge legs, and the data a run needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from decimal import ROUND_DOWN
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from typing import Final

from nautilus_ext.basis.config import EffectiveConfig
from nautilus_ext.basis.data import MarketData
from nautilus_ext.basis.data import Requirements
from nautilus_ext.basis.ledger import CONTEXT
from nautilus_ext.basis.ledger import ZERO
from nautilus_ext.onchain.calculators.staking import RewardToken

WEI: Final = Decimal("1e-18")
USDT_UNIT: Final = Decimal("1e-6")
CEX_UNIT: Final = Decimal("1e-8")
LOT: Final[dict[str, Decimal]] = {"ETH": Decimal("0.001"), "BTC": Decimal("0.0001")}
DIVERGENCE_FLAG: Final = Decimal("0.005")
DIVERGENCE_ALERT: Final = Decimal("0.01")
E18: Final = 10**18
EMODE_ID: Final = 1
REWARD_VENUE: Final = {RewardToken.EIGEN: "EIGENLAYER", RewardToken.ETHFI: "ETHERFI"}
DECIMALS: Final = {"USDT": 6}


def down(x: Decimal, unit: Decimal) -> Decimal:
    return x.quantize(unit, rounding=ROUND_DOWN, context=CONTEXT)


def cex_round(x: Decimal) -> Decimal:
    """Round a CEX cash amount (fee, funding) to 1e-8 USDT, half to even, as the venues book it."""
    return x.quantize(CEX_UNIT, rounding=ROUND_HALF_EVEN, context=CONTEXT)


def to_wei(x: Decimal) -> int:
    return int(down(x, WEI).scaleb(18, context=CONTEXT))


def from_units(units: int, decimals: int = 18) -> Decimal:
    return Decimal(units).scaleb(-decimals, context=CONTEXT)


def requirements(cfg: EffectiveConfig) -> Requirements:
    """Return the data series a run of ``cfg`` needs (decision 9: rewards need their schedules)."""
    mode = cfg.mode
    spot = {"ETH"}
    spot.add(mode.asset)
    reserves: list[str] = []
    if mode.lending.enabled:
        reserves.append(mode.lending.asset)
    if mode.leverage.enabled:
        reserves += [mode.staking.lst, "WETH"]
    perps: tuple[tuple[str, str], ...] = ()
    if mode.basis_trade.enabled:
        perps = tuple((v.venue, mode.asset) for v in mode.basis_trade.hedge_venues)
    tokens: tuple[str, ...] = ()
    if mode.staking.enabled:
        tokens = {
            "base_only": (),
            "base_eigen": ("EIGEN",),
            "base_eigen_seasonal": ("EIGEN", "ETHFI"),
        }[str(mode.staking.rewards_mode)]
    return Requirements(
        spot_assets=tuple(sorted(spot)),
        perps=perps,
        reserves=tuple(reserves),
        oracles=(mode.staking.lst,) if mode.staking.enabled else (),
        gas=True,
        reward_tokens=tokens,
    )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """All market inputs of one hour (decision 5: one snapshot prices every event of the hour)."""

    index: int
    ts: datetime
    spot: dict[str, Decimal]
    perp_mark: dict[tuple[str, str], Decimal]
    funding_rate: dict[tuple[str, str], Decimal | None]
    liquidity_index: dict[str, int]
    borrow_index: dict[str, int]
    oracle: dict[str, Decimal]
    gas_price_gwei: Decimal
    token_price: dict[str, Decimal]


def snapshots(data: MarketData) -> Iterator[Snapshot]:
    """Yield the hourly snapshots of a backtest's data (the backtest source)."""
    for i, ts in enumerate(data.hours):
        yield Snapshot(
            index=i,
            ts=ts,
            spot={k: v[i] for k, v in data.spot.items()},
            perp_mark={k: v[i] for k, v in data.perp_mark.items()},
            funding_rate={k: v[i] for k, v in data.funding_rate.items()},
            liquidity_index={k: v[i] for k, v in data.liquidity_index.items()},
            borrow_index={k: v[i] for k, v in data.borrow_index.items()},
            oracle={k: v[i] for k, v in data.oracle.items()},
            gas_price_gwei=data.gas_price_gwei[i],
            token_price={k: v[i] for k, v in data.token_price.items()},
        )


@dataclass(frozen=True, slots=True)
class BasisEvent:
    """
    One event-log row (decisions 5, 13, 22).

    ``order`` is global; ``iteration`` groups a sequential loop's events, ``parent`` points to
    the ``ATOMIC_TRANSACTION`` wrapper of a bundle. ``value`` is the event's P&L effect or cost
    in the share-class currency where it has one. ``severity`` is ``info``, ``warning``,
    ``alert`` or ``liquidation``. The last three fields are live-only (``None`` in backtests).
    """

    timestamp: datetime
    order: int
    event: str
    venue: str
    asset: str = ""
    amount: Decimal = ZERO
    iteration: int | None = None
    parent: int | None = None
    bundle: str | None = None
    value: Decimal = ZERO
    severity: str = "info"
    note: str = ""
    status: str = "completed"
    completion_timestamp: datetime | None = None
    tx_hash: str | None = None
    confirmation_blocks: int | None = None
    # decision 13: every event carries the balance sheet and risk figures right after it
    balances: str = ""
    health_factor: Decimal | None = None
    margin_ratio: Decimal | None = None


@dataclass(slots=True)
class Counters:
    """Rebalances, liquidations and flags of a run."""

    margin_support: int = 0
    hedge_adjustment: int = 0
    emergency_deleverage: int = 0
    aave_liquidations: int = 0
    cex_liquidations: int = 0
    divergence_flags: int = 0
    arbitrage_alerts: int = 0
    margin_warnings: int = 0
    gas_eth: Decimal = ZERO
    gas_value: Decimal = ZERO

    @property
    def rebalances(self) -> int:
        """All rebalancing actions."""
        return self.margin_support + self.hedge_adjustment + self.emergency_deleverage


@dataclass(slots=True)
class HedgeLeg:
    """A perpetual venue of the hedge with its registry constants (decision 30)."""

    venue: str
    allocation: Decimal
    taker_fee: Decimal
    maintenance_margin: Decimal
    liquidation_fee: Decimal
    lot_size: Decimal


@dataclass(slots=True)
class EngineState:
    """What the engine keeps between hours besides the ledger."""

    supply_scaled: dict[str, int] = field(default_factory=dict)
    debt_scaled: dict[str, int] = field(default_factory=dict)
    lst_history: list[tuple[int, Decimal]] = field(default_factory=list)
    margin_band: dict[str, str] = field(default_factory=dict)
    last_ns: int = 0


__all__ = [
    "CEX_UNIT",
    "DIVERGENCE_ALERT",
    "DIVERGENCE_FLAG",
    "LOT",
    "USDT_UNIT",
    "WEI",
    "BasisEvent",
    "Counters",
    "EngineState",
    "HedgeLeg",
    "Snapshot",
    "cex_round",
    "down",
    "from_units",
    "requirements",
    "snapshots",
    "to_wei",
]
