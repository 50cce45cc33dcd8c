"""
Backtest the Kelly value-betting example over real Betfair historical stream files.

1. Build a ``ParquetDataCatalog`` from the stream files (each market's definitions kept beside).
2. For each market in the catalog, run a strategy-driven backtest of
   :class:`~nautilus_ext.strategies.kelly_betting.KellyValueBettingStrategy` over every runner,
   from the first data to the market's close, with a seeded toy model as its signal source.
3. Settle each market at its CLOSED definition, and write the Kelly report (edge vs outcome,
   bankroll over time, P&L by market) beside each run's own backtest report.

One run per market keeps the simulated span short (a market's data covers a day or two).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.reports.betting import MarketPnL

log = logging.getLogger(__name__)
STRATEGY = "nautilus_ext.strategies.kelly_betting:KellyValueBettingStrategy"
CONFIG = "nautilus_ext.strategies.kelly_betting:KellyValueBettingConfig"
TOY_MODEL = "nautilus_ext.strategies.kelly_betting:toy_model"


@dataclass
class KellyDemoResult:
    """What the demo produced: the report, the settled markets and the decisions."""

    report: Path
    markets: list[MarketPnL] = field(default_factory=list)
    decisions: list[dict[str, object]] = field(default_factory=list)


def run_kelly_demo(
    files: list[Path],
    output: Path,
    *,
    bankroll: Decimal = Decimal(1000),
    edge_threshold: str = "0.02",
    kelly_fraction: str = "0.25",
    signal_callable: str = TOY_MODEL,
    say: Callable[[str], object] = print,
) -> KellyDemoResult:
    """
    Build a catalog from ``files``, backtest the Kelly strategy per market, write the report.

    Raises
    ------
    InvalidData
        If a stream file cannot be loaded.
    InvalidConfig
        If the files hold no market with a canonical key.
    """
    from nautilus_ext.backtest.service import run_and_report
    from nautilus_ext.catalogs.betfair import read_market_entries
    from nautilus_ext.catalogs.build import build_catalog
    from nautilus_ext.catalogs.target import parse_target
    from nautilus_ext.reports.kelly import read_decisions
    from nautilus_ext.reports.kelly import write_kelly_report

    output.mkdir(parents=True, exist_ok=True)
    catalog = output / "catalog"
    summary = build_catalog("betfair", files, catalog, progress=False)
    say(f"catalog: {summary.source_records:,} stream messages -> {sum(summary.rows.values()):,} rows")
    entries = read_market_entries(parse_target(catalog))
    keys_by_market: dict[str, set[str]] = {}
    for iid, key in summary.instruments.items():
        if key is not None:
            keys_by_market.setdefault("1." + iid.split("-")[1], set()).add(key)
    if not keys_by_market:
        raise InvalidConfig(f"no Betfair market with a canonical key in {', '.join(map(str, files))}")
    markets: list[MarketPnL] = []
    decisions: list[dict[str, object]] = []
    for market_id, keys in sorted(keys_by_market.items()):
        start, end = _span(entries.get(market_id), summary.ts_min or 0, summary.ts_max or 0)
        run_id = f"kelly-{market_id.replace('.', '-')}"
        decisions_path = output / f"{run_id}.decisions.jsonl"
        spec = BacktestSpec.model_validate(
            {
                "run_id": run_id,
                "kind": "strategy",
                "catalog": str(catalog),
                "start": start,
                "end": end,
                "instruments": sorted(keys),
                "venues": [
                    {"venue": "BETFAIR", "starting_balances": [f"{bankroll} GBP"], "account_type": "BETTING"}
                ],
                "strategy": {
                    "strategy_path": STRATEGY,
                    "config_path": CONFIG,
                    "config": {
                        "signal_callable": signal_callable,
                        "edge_threshold": edge_threshold,
                        "kelly_fraction": kelly_fraction,
                        "bankroll": str(bankroll),
                        "decisions_path": str(decisions_path),
                        "trade_data": False,
                    },
                },
                "output_dir": str(output),
                "safety": {"config": _safety(), "tick_interval_ms": 10_000},
            }
        )
        outcome, report = run_and_report(spec)
        markets.extend(outcome.betting)
        decisions.extend(read_decisions(decisions_path))
        say(f"{market_id}: {len(outcome.results)} bets, report {report}")
    path = write_kelly_report(
        output / "kelly_report.html",
        title="Kelly value betting over Betfair historical files",
        decisions=decisions,
        markets=markets,
        bankroll=bankroll,
    )
    (output / "kelly_summary.json").write_text(
        json.dumps(
            {
                "markets": [
                    {"market_id": m.market_id, "settled": m.settled, "net_pnl": str(m.net_pnl)}
                    for m in markets
                ],
                "bets": len(decisions),
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    return KellyDemoResult(report=path, markets=markets, decisions=decisions)


def _span(entry: dict[str, object] | None, ts_min: int, ts_max: int) -> tuple[datetime, datetime]:
    # from the market's first definition to a minute after its last one (its close)
    first = int(str((entry or {}).get("first_ts", ts_min)))
    last = int(str((entry or {}).get("ts", ts_max)))
    start = datetime.fromtimestamp(first / 1e9, tz=UTC)
    end = datetime.fromtimestamp(last / 1e9, tz=UTC) + timedelta(minutes=1)
    return start, end


def _safety() -> dict[str, object]:
    # the shipped Betfair limits (liability per market, event and day; Betfair's rules), with
    # the feed-age bounds widened for historical files: their books update every minute or so
    import yaml

    from nautilus_ext.instruments.registry import default_config_dir

    data = yaml.safe_load((default_config_dir() / "safety" / "betfair.yaml").read_text(encoding="utf-8"))
    data["oms"]["market_data_max_age_ms"] = 3_600_000
    data["oms"]["ws_max_age_ms"] = 3_600_000
    return dict(data)


__all__ = ["KellyDemoResult", "run_kelly_demo"]
