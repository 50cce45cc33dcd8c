"""
Implementation shortfall: the Almgren-Chriss optimal trajectory, front-loaded by urgency.

Almgren & Chriss (2000), "Optimal execution of portfolio transactions": with linear temporary
impact ``eta`` and volatility ``sigma``, a trader with risk aversion ``lambda`` holding ``X``
at time 0 and done at ``T`` holds

    x(t) = X * sinh(kappa * (T - t)) / sinh(kappa * T),   kappa = sqrt(lambda * sigma^2 / eta)

Here ``sigma`` is in bps per square-root second, ``eta`` in bps per (fraction of the parent
per second), and ``lambda`` comes from the order's ``urgency`` (LOW/MEDIUM/HIGH, table below)
unless ``risk_aversion`` is given. ``kappa -> 0`` is TWAP; a larger ``kappa`` trades more at
the start, paying impact to cut price risk. Each interval's child is the drop in ``x`` over
it, in whole lots (each at least the minimum size); execution (catch-up, final policy,
``max_slippage``) is the scheduled runtime's. Shortfall against the decision (arrival) price is
the result's ``slippage_bps`` and the report's ``arrival_price``.

Per-order parameters: ``horizon_secs``, ``interval_secs``, ``urgency``, ``risk_aversion``,
``volatility_bps_per_sqrt_sec``, ``impact_eta_bps``, ``final_policy``, ``max_slippage``,
``slippage_action``.
"""

from __future__ import annotations

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
from nautilus_ext.execution_algos.common import param_str
from nautilus_ext.execution_algos.common import require_positive
from nautilus_ext.execution_algos.common import to_units
from nautilus_ext.execution_algos.scheduled import ScheduledExecAlgorithm
from nautilus_ext.execution_algos.scheduled import ScheduledExecAlgorithmConfig

NS_PER_SEC: Final = 1_000_000_000

RISK_AVERSION_BY_URGENCY: Final[dict[str, Decimal]] = {
    "LOW": Decimal("0.0001"),
    "MEDIUM": Decimal("0.001"),
    "HIGH": Decimal("0.01"),
}
"""Almgren-Chriss ``lambda`` per urgency (default sigma and eta: kappa*T about 0.3, 0.95, 3 over 300 s)."""


class ISExecAlgorithmConfig(ScheduledExecAlgorithmConfig, frozen=True):
    """
    Configuration of :class:`ISExecAlgorithm` (defaults; orders may override).

    Parameters
    ----------
    horizon_secs : int, default 300
        Time by which the parent should be done, in seconds.
    interval_secs : int, default 30
        Time between children, in seconds.
    volatility_bps_per_sqrt_sec : str, default "1"
        Price volatility, in bps per square-root second.
    impact_eta_bps : str, default "100"
        Temporary impact, in bps per (fraction of the parent traded per second).
    """

    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("IS")
    horizon_secs: int = 300
    interval_secs: int = 30
    volatility_bps_per_sqrt_sec: str = "1"
    impact_eta_bps: str = "100"

    def __post_init__(self) -> None:
        super().__post_init__()
        try:
            require_positive("horizon_secs", self.horizon_secs)
            require_positive("interval_secs", self.interval_secs)
            require_positive("volatility_bps_per_sqrt_sec", Decimal(self.volatility_bps_per_sqrt_sec))
            require_positive("impact_eta_bps", Decimal(self.impact_eta_bps))
            if self.interval_secs > self.horizon_secs:
                raise InvalidOrder(
                    f"interval_secs {self.interval_secs} is longer than horizon_secs {self.horizon_secs}"
                )
        except InvalidOrder as e:
            raise InvalidConfig(e.message) from None


def ac_kappa(risk_aversion: Decimal, volatility: Decimal, eta: Decimal) -> Decimal:
    """Return ``kappa = sqrt(lambda * sigma^2 / eta)`` (per second)."""
    if risk_aversion < 0:
        raise InvalidOrder(f"risk_aversion must be non-negative, got {risk_aversion}")
    require_positive("volatility", volatility)
    require_positive("eta", eta)
    return (risk_aversion * volatility * volatility / eta).sqrt()


def _sinh(x: Decimal) -> Decimal:
    return (x.exp() - (-x).exp()) / 2


def ac_holdings(kappa: Decimal, horizon_secs: int, times_secs: list[int]) -> list[Decimal]:
    """Return the fraction held at each time: ``sinh(kappa (T - t)) / sinh(kappa T)`` (linear at kappa 0)."""
    horizon = Decimal(horizon_secs)
    if kappa == 0:
        return [(horizon - Decimal(t)) / horizon for t in times_secs]
    denom = _sinh(kappa * horizon)
    return [_sinh(kappa * (horizon - Decimal(t))) / denom for t in times_secs]


def is_schedule(
    total: Decimal,
    *,
    horizon_secs: int,
    interval_secs: int,
    kappa: Decimal,
    lot: Decimal,
    min_size: Decimal | None = None,
) -> list[tuple[int, Decimal]]:
    """
    Return the Almgren-Chriss slices ``[(offset_ns, size)]``: child ``k`` at ``k * interval``
    trades the drop in holdings over ``[k, k+1) * interval``. Sizes are non-increasing in
    expectation, whole lots, at least ``min_size``, and sum to ``total``.

    Raises
    ------
    InvalidOrder
        If ``total`` is off the lot grid or below the minimum, or parameters are bad.
    """
    require_positive("horizon_secs", horizon_secs)
    require_positive("interval_secs", interval_secs)
    if interval_secs > horizon_secs:
        raise InvalidOrder(f"interval_secs {interval_secs} is longer than horizon_secs {horizon_secs}")
    units = to_units(total, lot)
    floor_units = min_units(lot, min_size)
    if units < floor_units:
        raise InvalidOrder(f"parent {total} is below the minimum size {min_size}")
    n = horizon_secs // interval_secs
    # the last child closes the horizon: holdings at n*interval (<= T) are forced to zero
    held = [*ac_holdings(kappa, horizon_secs, [k * interval_secs for k in range(n)]), Decimal(0)]
    weights = [max(held[k] - held[k + 1], Decimal(0)) for k in range(n)]
    alloc = allocate_units(units, weights, floor_units)
    interval_ns = interval_secs * NS_PER_SEC
    return [(k * interval_ns, a * lot) for k, a in enumerate(alloc) if a > 0]


class ISExecAlgorithm(ScheduledExecAlgorithm):
    """Implementation shortfall along the Almgren-Chriss trajectory (see the module docstring)."""

    algorithm_name = "IS"

    def __init__(self, config: ISExecAlgorithmConfig | None = None) -> None:
        config = config or ISExecAlgorithmConfig()
        super().__init__(config)
        self._defaults = config

    def plan(self, parent: Parent, params: dict[str, Any]) -> tuple[list[tuple[int, Decimal]], int]:
        d = self._defaults
        horizon = param_int(params, "horizon_secs", d.horizon_secs)
        interval = param_int(params, "interval_secs", d.interval_secs)
        urgency = param_str(params, "urgency", "MEDIUM").upper()
        if urgency not in RISK_AVERSION_BY_URGENCY:
            raise InvalidOrder(f"urgency must be LOW, MEDIUM or HIGH, got {urgency!r}")
        risk_aversion = param_decimal(params, "risk_aversion", RISK_AVERSION_BY_URGENCY[urgency])
        sigma = param_decimal(params, "volatility_bps_per_sqrt_sec", Decimal(d.volatility_bps_per_sqrt_sec))
        eta = param_decimal(params, "impact_eta_bps", Decimal(d.impact_eta_bps))
        kappa = ac_kappa(risk_aversion or Decimal(0), sigma or Decimal(0), eta or Decimal(0))
        parent.state["kappa"] = kappa
        slices = is_schedule(
            parent.total,
            horizon_secs=horizon,
            interval_secs=interval,
            kappa=kappa,
            lot=parent.lot,
            min_size=parent.min_size,
        )
        return slices, horizon * NS_PER_SEC
