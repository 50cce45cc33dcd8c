"""
Run a basis backtest: resolve the configuration, load or generate data, drive the engine.

The backtest source is :func:`~nautilus_ext.basis.engine.snapshots` over stored or generated
:class:`~nautilus_ext.basis.data.MarketData`; the sinks are the engine's in-memory event log,
hourly rows and balance sheet, which :mod:`nautilus_ext.basis.outputs` writes.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from nautilus_ext.basis.config import EffectiveConfig
from nautilus_ext.basis.data import Rows
from nautilus_ext.basis.data import build_market_data
from nautilus_ext.basis.data import parse_day
from nautilus_ext.basis.data import read_tables
from nautilus_ext.basis.engine import BasisEngine
from nautilus_ext.basis.engine import requirements
from nautilus_ext.basis.engine import snapshots
from nautilus_ext.basis.generator import generate
from nautilus_ext.basis.ledger import COMPONENTS
from nautilus_ext.basis.ledger import CONTEXT

HOURS_PER_YEAR = 8760


@dataclass(slots=True)
class BacktestResult:
    """A finished run: the engine (events, hourly rows, balance sheet) and its summary."""

    config: EffectiveConfig
    engine: BasisEngine
    summary: dict[str, Any]


def load_tables(
    cfg: EffectiveConfig, data_dir: Path | None, *, seed: int = 3, stress: bool = True
) -> dict[str, Rows]:
    """
    Read the stored tables for the period, or generate them when ``data_dir`` is None (seeded,
    with or without the stress window).
    """
    start, end = parse_day(cfg.start), parse_day(cfg.end)
    if data_dir is None:
        return generate(start, end, seed=seed, stress=stress)
    return read_tables(data_dir, start, end)


def run_backtest(
    cfg: EffectiveConfig,
    tables: dict[str, Rows],
    *,
    progress: Callable[[int], None] | None = None,
) -> BacktestResult:
    """
    Check the data against what the mode needs, run every hour and summarise.

    Raises
    ------
    InvalidConfig
        When a series the mode needs is missing (named in the message).
    """
    start, end = parse_day(cfg.start), parse_day(cfg.end)
    data = build_market_data(tables, start, end, requirements(cfg))
    engine = BasisEngine(cfg)
    engine.set_distributions(data.distributions)
    engine.run(snapshots(data), progress=progress)
    return BacktestResult(cfg, engine, summarise(engine))


def _float(x: Decimal | None) -> float | None:
    return None if x is None else float(x)


def summarise(engine: BasisEngine) -> dict[str, Any]:
    """Headline figures: return, APY, max drawdown, worst HF, gas, rebalances, liquidations."""
    cfg = engine.cfg
    ccy = engine.ccy
    rows = engine.hourly
    capital = cfg.capital
    with decimal.localcontext(CONTEXT):
        equities = [r[f"equity_{ccy}"] for r in rows]
        final = equities[-1]
        peak = equities[0]
        max_dd = Decimal(0)
        for e in equities:
            peak = max(peak, e)
            if peak > 0:
                max_dd = max(max_dd, (peak - e) / peak)
        total_return = final / capital - 1
        hours = max(len(rows) - 1, 1)
        apy = math.exp(math.log(max(float(final / capital), 1e-12)) * HOURS_PER_YEAR / hours) - 1
        # worst seen, including the hour's market move before rebalancing or liquidation acted
        hfs = [
            v for r in rows for v in (r["health_factor"], r["health_factor_before_actions"]) if v is not None
        ]
        margins = [
            v
            for r in rows
            for v in (r["min_margin_ratio"], r["min_margin_ratio_before_actions"])
            if v is not None
        ]
        c = engine.counters
        components = {k: str(sum((r[f"{k}_{ccy}"] for r in rows), Decimal(0))) for k in COMPONENTS}
    return {
        "mode": cfg.mode.mode,
        "share_class": cfg.share_class.name,
        "currency": ccy.upper(),
        "start": cfg.start,
        "end": cfg.end,
        "hours": len(rows),
        "initial_capital": str(capital),
        "final_equity": str(final),
        "total_return": float(total_return),
        "apy": apy,
        "max_drawdown": float(max_dd),
        "worst_health_factor": _float(min(hfs)) if hfs else None,
        "min_margin_ratio": _float(min(margins)) if margins else None,
        "gas_spent_eth": str(c.gas_eth),
        f"gas_spent_{ccy}": str(c.gas_value),
        "rebalances": {
            "total": c.rebalances,
            "margin_support": c.margin_support,
            "hedge_adjustment": c.hedge_adjustment,
            "emergency_deleverage": c.emergency_deleverage,
        },
        "liquidations": {"aave": c.aave_liquidations, "cex": c.cex_liquidations},
        "flags": {
            "price_divergence": c.divergence_flags,
            "arbitrage_alerts": c.arbitrage_alerts,
            "margin_warnings": c.margin_warnings,
        },
        "pnl_components": components,
        "events": len(engine.events),
        "corrections": list(cfg.corrections),
        "cex_legs": (
            "exact perpetual/funding accounting in the basis engine; `nautilus-ext basis replay-cex` "
            "replays them as NautilusTrader positions and compares"
        ),
    }


__all__ = ["BacktestResult", "load_tables", "run_backtest", "summarise"]
