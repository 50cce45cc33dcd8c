"""Run a backtest spec end to end: run, store results day-chunked, write the HTML report."""

from __future__ import annotations

import logging
from pathlib import Path

from nautilus_ext.backtest.carry_report import run_carry_report
from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.runner import BacktestOutcome
from nautilus_ext.backtest.runner import run_backtest
from nautilus_ext.execution.results import group_storage_rows
from nautilus_ext.execution.results import to_storage_rows
from nautilus_ext.reports.backtest_report import write_report
from nautilus_ext.reports.tca import Weighting

log = logging.getLogger(__name__)


def run_and_report(spec: BacktestSpec) -> tuple[BacktestOutcome, Path]:
    """
    Run ``spec``, write its execution results (if ``results_root`` is set) and its report.

    Returns
    -------
    tuple[BacktestOutcome, Path]
        The outcome and the path of the HTML report (``<output_dir>/<run_id>.html``).
    """
    outcome = run_backtest(spec)
    if spec.results_root:
        from nautilus_ext.storage import ClusterStore

        rows = [row for r in outcome.results for row in to_storage_rows(r, spec.run_id)]
        legs = {r.operation_id: r for r in outcome.results}
        rows += [row for g in outcome.groups for row in group_storage_rows(g, legs, spec.run_id)]
        written = ClusterStore(spec.results_root).write_results(rows, part=spec.run_id)
        log.info("wrote %d execution-result rows to %d file(s)", len(rows), len(written))
        if outcome.betting:
            from nautilus_ext.reports.betting import betting_rows

            bet_rows = betting_rows(outcome.betting, spec.run_id)
            written = ClusterStore(spec.results_root).write_betting_pnl(bet_rows, part=spec.run_id)
            log.info("wrote %d betting P&L rows to %d file(s)", len(bet_rows), len(written))
    fill_models = sorted({str(r.fill_model) for r in outcome.results if r.venue is not None})
    report = write_report(
        Path(spec.output_dir) / f"{spec.run_id}.html",
        title=f"Backtest {spec.run_id}",
        results=outcome.results,
        groups=outcome.groups,
        account_reports=outcome.account_reports,
        positions_report=outcome.positions_report,
        tca_bucket_secs=spec.tca_bucket_secs,
        tca_weighting=Weighting(spec.tca_weighting),
        funding_payments=outcome.funding_payments,
        gate=outcome.gate,
        instruments=outcome.instruments,
        betting=outcome.betting,
        meta={
            "kind": spec.kind,
            "catalog": spec.catalog,
            "span": f"{spec.start.isoformat()} -> {spec.end.isoformat()}",
            "events": str(outcome.events_processed),
            "run time": f"{outcome.elapsed_secs:.2f}s",
            "fill model": ", ".join(fill_models) or "n/a",
            "latency (ms, insert)": ", ".join(
                f"{v.venue}={v.latency.insert_ms + v.latency.base_ms}" for v in spec.venues
            ),
        },
    )
    carry = run_carry_report(spec)  # strategies keeping positions in the store (``store:``)
    if carry is not None:
        outcome.carry_report = carry.path
    return outcome, report
