"""The carry report of a strategy-driven backtest with a position store (``store:`` in the YAML)."""

from __future__ import annotations

from pathlib import Path

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.persistence import Database
from nautilus_ext.persistence import render_url
from nautilus_ext.persistence.records import PositionRecords
from nautilus_ext.reports.carry import CarryReport
from nautilus_ext.reports.carry import write_carry_report


def run_carry_report(spec: BacktestSpec) -> CarryReport | None:
    """
    Write ``<output_dir>/<run_id>-carry.html`` over the positions the run's strategy stored.

    Only the positions of the strategy's ``strategy_name`` opened within the run's window count
    (a store shared with other runs keeps theirs). Returns None when the spec keeps no store or
    turns the report off.
    """
    url = spec.store_url()
    if url is None or spec.store is None or not spec.store.carry_report:
        return None
    config = spec.strategy.config if spec.strategy is not None else {}
    name = config.get("strategy_name")
    database = Database.open(url)
    try:
        history = PositionRecords(database).history(
            None if name is None else [str(name)], since=spec.start, until=spec.end
        )
    finally:
        database.close()
    return write_carry_report(
        Path(spec.output_dir) / f"{spec.run_id}-carry.html",
        history,
        title=f"Carry report: backtest {spec.run_id}",
        meta={
            "store": render_url(url),
            "strategy": str(name or "all"),
            "catalog": spec.catalog,
            "span": f"{spec.start.isoformat()} -> {spec.end.isoformat()}",
        },
    )


__all__ = ["run_carry_report"]
