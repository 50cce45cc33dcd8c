"""
``nautilus-ext carry demo``: the funding carry backtest on generated data, in one command.

Generates seeded synthetic Tardis-format L2 books, trades and derivative tickers for the two
perpetuals of :data:`~nautilus_ext.catalogs.synthetic.DEMO_VENUES` over the window of the backtest
YAML (``configs/backtests/funding_carry.yaml`` by default), builds the catalog where the YAML
expects it (unless it is there already), and runs the YAML: the backtest report and the carry
report are written to its ``output_dir``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.runner import BacktestOutcome
from nautilus_ext.errors import InvalidConfig

_log = logging.getLogger(__name__)
CARRY_CONFIG = "backtests/funding_carry.yaml"
"""The shipped funding-carry backtest (in the configuration directory)."""


def generate_carry_data(
    spec: BacktestSpec, *, seed: int = 7, book_updates_per_sec: float = 0.1, levels: int = 10
) -> Path:
    """
    Generate the two demo perpetuals over ``spec``'s window and build ``spec.catalog``; return it.

    Raises
    ------
    InvalidConfig
        If the catalog is remote (``gs://``): generate locally and upload with ``catalog build``.
    """
    from nautilus_ext.catalogs.build import build_catalog
    from nautilus_ext.catalogs.synthetic import DEMO_VENUES
    from nautilus_ext.catalogs.synthetic import write_synthetic_tardis

    if "://" in spec.catalog:
        raise InvalidConfig(f"carry demo: catalog {spec.catalog} is remote; point the YAML at a local path")
    catalog = Path(spec.catalog)
    hours = (spec.end - spec.start).total_seconds() / 3600
    with tempfile.TemporaryDirectory(prefix="nautilus-ext-carry-") as raw:
        files = write_synthetic_tardis(
            raw,
            venues=DEMO_VENUES,
            start=spec.start,
            hours=hours,
            seed=seed,
            book_updates_per_sec=book_updates_per_sec,
            trades_per_sec=book_updates_per_sec,
            levels=levels,
        )
        shutil.rmtree(catalog, ignore_errors=True)
        inputs = [path for kinds in files.values() for path in kinds.values()]
        build_catalog("tardis", inputs, catalog, progress=False)
    return catalog


def run_carry_demo(
    config: Path, *, regenerate: bool = False, seed: int = 7, say: Callable[[str], None] | None = None
) -> tuple[BacktestOutcome, Path]:
    """
    Run the carry backtest ``config``, generating its catalog first when missing (or asked to).

    Returns the outcome and the backtest report's path (the carry report is
    ``outcome.carry_report``).
    """
    from nautilus_ext.backtest.service import run_and_report

    say = say or _log.info
    spec = BacktestSpec.from_yaml(config)
    if regenerate or not Path(spec.catalog).is_dir():
        say(f"[1/2] generating the demo perps' books, trades and funding into {spec.catalog}")
        generate_carry_data(spec, seed=seed)
    else:
        say(f"[1/2] using the catalog {spec.catalog}")
    say(f"[2/2] running {config} through BacktestNode")
    return run_and_report(spec)


__all__ = ["CARRY_CONFIG", "generate_carry_data", "run_carry_demo"]
