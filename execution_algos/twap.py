"""
TWAP: split the parent evenly over a horizon, one IOC child per interval.

Differences from NautilusTrader's example TWAP: sizes are whole lots and at least the venue's
minimum size (slices are merged rather than sent too small), optional seeded size and time
randomisation, catch-up of children that came back unfilled, a final ``SWEEP``/``LEAVE``
policy, and the shared ``max_slippage`` guard. The parent is never sent to the venue.

Per-order parameters (``exec_algorithm_params``, strings): ``horizon_secs``, ``interval_secs``,
``size_jitter``, ``time_jitter``, ``seed``, ``final_policy``, ``max_slippage``,
``slippage_action``, ``arrival_price``.
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_trader.model.identifiers import ExecAlgorithmId

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.execution_algos.base import Parent
from nautilus_ext.execution_algos.common import allocate_units
from nautilus_ext.execution_algos.common import min_units
from nautilus_ext.execution_algos.common import param_decimal
from nautilus_ext.execution_algos.common import param_int
from nautilus_ext.execution_algos.common import require_positive
from nautilus_ext.execution_algos.common import to_units
from nautilus_ext.execution_algos.scheduled import ScheduledExecAlgorithm
from nautilus_ext.execution_algos.scheduled import ScheduledExecAlgorithmConfig

NS_PER_SEC: Final = 1_000_000_000


class TWAPExecAlgorithmConfig(ScheduledExecAlgorithmConfig, frozen=True):
    """
    Configuration of :class:`TWAPExecAlgorithm` (defaults; each order may override them).

    Parameters
    ----------
    horizon_secs : int, default 300
        Time over which the parent is worked, in seconds.
    interval_secs : int, default 30
        Time between children, in seconds.
    size_jitter : str, default "0"
        Fraction of a slice moved at random to its neighbour (0 to 0.5), keeping the total.
    time_jitter : str, default "0"
        Fraction of the interval by which each child is delayed at random (0 to 0.9).
    seed : int, default 0
        Seed of the randomisation (same seed, same schedule).
    """

    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("TWAP")
    horizon_secs: int = 300
    interval_secs: int = 30
    size_jitter: str = "0"
    time_jitter: str = "0"
    seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        try:
            check_twap_params(
                self.horizon_secs, self.interval_secs, Decimal(self.size_jitter), Decimal(self.time_jitter)
            )
        except InvalidOrder as e:
            raise InvalidConfig(e.message) from None


def check_twap_params(
    horizon_secs: int, interval_secs: int, size_jitter: Decimal, time_jitter: Decimal
) -> None:
    """
    Raise :class:`InvalidOrder` unless the TWAP parameters are consistent.
    """
    require_positive("horizon_secs", horizon_secs)
    require_positive("interval_secs", interval_secs)
    if interval_secs > horizon_secs:
        raise InvalidOrder(f"interval_secs {interval_secs} is longer than horizon_secs {horizon_secs}")
    if not Decimal(0) <= size_jitter <= Decimal("0.5"):
        raise InvalidOrder(f"size_jitter must be within [0, 0.5], got {size_jitter}")
    if not Decimal(0) <= time_jitter <= Decimal("0.9"):
        raise InvalidOrder(f"time_jitter must be within [0, 0.9], got {time_jitter}")


def twap_schedule(
    total: Decimal,
    *,
    horizon_secs: int,
    interval_secs: int,
    lot: Decimal,
    min_size: Decimal | None = None,
    size_jitter: Decimal = Decimal(0),
    time_jitter: Decimal = Decimal(0),
    seed: int = 0,
) -> list[tuple[int, Decimal]]:
    """
    Return the TWAP slices ``[(offset_ns, size)]``: whole lots, each at least ``min_size``.

    ``horizon_secs // interval_secs`` slices start at offsets ``0, interval, 2*interval...``;
    a parent too small for that many tradable slices gets fewer (merged) slices. Size jitter
    moves up to ``size_jitter`` of a slice to the next one (never below the minimum); time
    jitter delays each slice but the first by up to ``time_jitter`` of the interval. The sizes
    always sum to ``total`` exactly.

    Raises
    ------
    InvalidOrder
        If ``total`` is not a multiple of ``lot``, is below ``min_size``, or parameters are bad.
    """
    check_twap_params(horizon_secs, interval_secs, size_jitter, time_jitter)
    units = to_units(total, lot)
    floor_units = min_units(lot, min_size)
    if units < floor_units:
        raise InvalidOrder(f"parent {total} is below the minimum size {min_size}")
    slots = horizon_secs // interval_secs
    # a parent too small for one tradable child per interval gets fewer, wider-spaced children
    n = min(slots, units // floor_units)
    alloc = allocate_units(units, [Decimal(1)] * n, floor_units)
    rng = random.Random(seed)
    if size_jitter > 0:
        for a in range(n - 1):
            room = int(Decimal(alloc[a]) * size_jitter)
            move = rng.randint(-min(room, alloc[a + 1] - floor_units), min(room, alloc[a] - floor_units))
            alloc[a] -= move
            alloc[a + 1] += move
    spacing_ns = interval_secs * NS_PER_SEC * slots // n
    out = []
    for i, a in enumerate(alloc):
        delay = 0
        if i > 0 and time_jitter > 0:
            delay = int(
                Decimal(spacing_ns)
                * time_jitter
                * Decimal(rng.random()).quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)
            )
        out.append((i * spacing_ns + delay, a * lot))
    return out


class TWAPExecAlgorithm(ScheduledExecAlgorithm):
    """Time-weighted average price execution (see the module docstring)."""

    algorithm_name = "TWAP"

    def __init__(self, config: TWAPExecAlgorithmConfig | None = None) -> None:
        config = config or TWAPExecAlgorithmConfig()
        super().__init__(config)
        self._defaults = config

    def plan(self, parent: Parent, params: dict[str, Any]) -> tuple[list[tuple[int, Decimal]], int]:
        d = self._defaults
        horizon = param_int(params, "horizon_secs", d.horizon_secs)
        interval = param_int(params, "interval_secs", d.interval_secs)
        seed = param_int(params, "seed", d.seed)
        slices = twap_schedule(
            parent.total,
            horizon_secs=horizon,
            interval_secs=interval,
            lot=parent.lot,
            min_size=parent.min_size,
            size_jitter=param_decimal(params, "size_jitter", Decimal(d.size_jitter)) or Decimal(0),
            time_jitter=param_decimal(params, "time_jitter", Decimal(d.time_jitter)) or Decimal(0),
            seed=seed,
        )
        return slices, horizon * NS_PER_SEC
