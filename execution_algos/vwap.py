"""
VWAP: children follow an intraday volume profile learned from the catalog's trade ticks.

The profile is the traded volume per time-of-day bucket (``bucket_secs`` wide, UTC), summed
over every day of the instrument's trade ticks in a ``ParquetDataCatalog``. The horizon is cut
into buckets; each gets ``parent * profile[bucket] / sum(profile over the horizon)`` (whole lots,
each child at least the minimum size; zero-volume buckets get nothing). Live trade ticks are
added to the profile as they arrive, so later parents use what the session has shown. With no
profile volume at all over the horizon the schedule falls back to even (TWAP) slices and says
so in the report. Execution (catch-up, final policy, ``max_slippage``) is the scheduled
runtime's.

Per-order parameters: ``horizon_secs``, ``final_policy``, ``max_slippage``, ``slippage_action``.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.execution_algos.base import Parent
from nautilus_ext.execution_algos.common import allocate_units
from nautilus_ext.execution_algos.common import min_units
from nautilus_ext.execution_algos.common import param_int
from nautilus_ext.execution_algos.common import require_positive
from nautilus_ext.execution_algos.common import to_units
from nautilus_ext.execution_algos.scheduled import ScheduledExecAlgorithm
from nautilus_ext.execution_algos.scheduled import ScheduledExecAlgorithmConfig

NS_PER_SEC = 1_000_000_000
SECS_PER_DAY = 86_400


class VWAPExecAlgorithmConfig(ScheduledExecAlgorithmConfig, frozen=True):
    """
    Configuration of :class:`VWAPExecAlgorithm`.

    Parameters
    ----------
    horizon_secs : int, default 600
        Time over which the parent is worked, in seconds (orders may override).
    bucket_secs : int, default 60
        Width of a profile bucket, in seconds (divides a day).
    profile_catalog_path : str, optional
        ``ParquetDataCatalog`` whose trade ticks give the profile (else live ticks only).
    """

    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("VWAP")
    horizon_secs: int = 600
    bucket_secs: int = 60
    profile_catalog_path: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.bucket_secs <= 0 or SECS_PER_DAY % self.bucket_secs:
            raise InvalidConfig(f"bucket_secs must divide a day, got {self.bucket_secs}")
        if self.horizon_secs < self.bucket_secs:
            raise InvalidConfig(
                f"horizon_secs {self.horizon_secs} is shorter than bucket_secs {self.bucket_secs}"
            )


def bucket_of_day(ts_ns: int, bucket_secs: int) -> int:
    """Return the time-of-day bucket (UTC) of a timestamp."""
    return (ts_ns // NS_PER_SEC) % SECS_PER_DAY // bucket_secs


def volume_profile(trades: Iterable[tuple[int, Decimal]], bucket_secs: int) -> dict[int, Decimal]:
    """Sum traded size per time-of-day bucket from ``(ts_ns, size)`` prints."""
    profile: dict[int, Decimal] = {}
    for ts, size in trades:
        b = bucket_of_day(ts, bucket_secs)
        profile[b] = profile.get(b, Decimal(0)) + size
    return profile


def vwap_schedule(
    total: Decimal,
    *,
    start_ns: int,
    horizon_secs: int,
    bucket_secs: int,
    profile: Mapping[int, Decimal],
    lot: Decimal,
    min_size: Decimal | None = None,
) -> tuple[list[tuple[int, Decimal]], bool]:
    """
    Return the VWAP slices ``[(offset_ns, size)]`` and whether the profile was used.

    Slices start at each bucket of the horizon (the first at offset 0); sizes are whole lots,
    each at least ``min_size``, summing to ``total``. When the profile has no volume over the
    horizon, the sizes are even and the flag is False.

    Raises
    ------
    InvalidOrder
        If ``total`` is off the lot grid or below the minimum, or parameters are bad.
    """
    require_positive("horizon_secs", horizon_secs)
    require_positive("bucket_secs", bucket_secs)
    if horizon_secs < bucket_secs:
        raise InvalidOrder(f"horizon_secs {horizon_secs} is shorter than bucket_secs {bucket_secs}")
    units = to_units(total, lot)
    floor_units = min_units(lot, min_size)
    if units < floor_units:
        raise InvalidOrder(f"parent {total} is below the minimum size {min_size}")
    n = horizon_secs // bucket_secs
    bucket_ns = bucket_secs * NS_PER_SEC
    weights = [
        profile.get(bucket_of_day(start_ns + k * bucket_ns, bucket_secs), Decimal(0)) for k in range(n)
    ]
    used = any(w > 0 for w in weights)
    if not used:
        weights = [Decimal(1)] * n
    alloc = allocate_units(units, weights, floor_units)
    return [(k * bucket_ns, a * lot) for k, a in enumerate(alloc) if a > 0], used


def load_profile(catalog_path: str, instrument_id: InstrumentId, bucket_secs: int) -> dict[int, Decimal]:
    """Read the instrument's trade ticks from a ``ParquetDataCatalog`` into a volume profile."""
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    ticks = ParquetDataCatalog(catalog_path).trade_ticks(instrument_ids=[str(instrument_id)])
    return volume_profile(((t.ts_event, t.size.as_decimal()) for t in ticks), bucket_secs)


class VWAPExecAlgorithm(ScheduledExecAlgorithm):
    """Volume-weighted average price execution (see the module docstring)."""

    algorithm_name = "VWAP"

    def __init__(self, config: VWAPExecAlgorithmConfig | None = None) -> None:
        config = config or VWAPExecAlgorithmConfig()
        super().__init__(config)
        self._defaults = config
        self.profiles: dict[InstrumentId, dict[int, Decimal]] = {}

    def _profile(self, instrument_id: InstrumentId) -> dict[int, Decimal]:
        if instrument_id not in self.profiles:
            path = self._defaults.profile_catalog_path
            bucket = self._defaults.bucket_secs
            self.profiles[instrument_id] = load_profile(path, instrument_id, bucket) if path else {}
            self.subscribe_trade_ticks(instrument_id)
        return self.profiles[instrument_id]

    def on_trade_tick(self, tick: TradeTick) -> None:
        profile = self.profiles.get(tick.instrument_id)
        if profile is not None:
            b = bucket_of_day(tick.ts_event, self._defaults.bucket_secs)
            profile[b] = profile.get(b, Decimal(0)) + tick.size.as_decimal()

    def plan(self, parent: Parent, params: dict[str, Any]) -> tuple[list[tuple[int, Decimal]], int]:
        horizon = param_int(params, "horizon_secs", self._defaults.horizon_secs)
        profile = dict(
            self._profile(parent.primary.instrument_id)
        )  # a snapshot: live ticks do not move this plan
        slices, used = vwap_schedule(
            parent.total,
            start_ns=self.clock.timestamp_ns(),
            horizon_secs=horizon,
            bucket_secs=self._defaults.bucket_secs,
            profile=profile,
            lot=parent.lot,
            min_size=parent.min_size,
        )
        if not used:
            self.log.warning(
                f"VWAP {parent.primary.client_order_id}: no profile volume over the horizon; even slices"
            )
        parent.state["profile_used"] = used
        return slices, horizon * NS_PER_SEC
