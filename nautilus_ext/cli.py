"""
The ``nautilus-ext`` command line.

Subcommands: ``demo`` (the main job), ``backtest``, ``instrument``, ``route``, ``catalog``
(build/info), ``audit`` (verify/show), ``dex`` (check-vectors), ``funding``
(collect/backfill/gaps) and ``cme`` (rolls/session). Heavy imports (NautilusTrader, pandas) happen inside
commands so ``--help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from nautilus_ext.adapters.interactive_brokers.cli import app as ib_app
from nautilus_ext.audit.cli import app as audit_app
from nautilus_ext.backtest.basis_legs import replay_cex_command
from nautilus_ext.backtest.carry_cli import app as carry_app
from nautilus_ext.basis.cli import app as basis_app
from nautilus_ext.catalogs.cli import app as catalog_app
from nautilus_ext.catalogs.downloads.cli import app as data_app
from nautilus_ext.client.cli import submit_command
from nautilus_ext.dex.cli import app as dex_app
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.funding.cli import app as funding_app
from nautilus_ext.live.cli import live as live_command
from nautilus_ext.live.cli import live_validate as live_validate_command
from nautilus_ext.onchain.cli import app as onchain_app
from nautilus_ext.safety import cli as safety_cli
from nautilus_ext.tradfi.cli import app as cme_app

app = typer.Typer(
    name="nautilus-ext",
    help="Unified multi-venue execution layer for NautilusTrader.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(catalog_app, name="catalog", help="Build and inspect Parquet data catalogs.")
app.add_typer(data_app, name="data", help="Download Tardis, Databento and Betfair data into catalogs.")
app.add_typer(audit_app, name="audit", help="Verify and query the append-only audit log.")
app.add_typer(funding_app, name="funding", help="Funding rates: collect, backfill, find gaps.")
app.add_typer(carry_app, name="carry", help="Funding carry: the carry report and the carry backtest.")
app.command("live", help="Run a TradingNode from validated YAML (configs/live/, LIVE or DRY_RUN).")(
    live_command
)
app.command("live-validate", help="Validate a live YAML file without building a node.")(live_validate_command)
app.add_typer(onchain_app, name="onchain", help="On-chain calculators (leverage, health factor).")
# the CEX-leg replay runs a Nautilus BacktestEngine (backtest layer, above basis)
basis_app.command("replay-cex", help="Replay a run's CEX legs as Nautilus positions and compare.")(
    replay_cex_command
)


BASIS_LIVE_STRATEGY = "nautilus_ext.strategies.basis_live:BasisLiveStrategy"


@basis_app.command("live")
def basis_live(
    config: Annotated[Path, typer.Option("--config", help="A configs/live/basis_*.yaml file.")],
    check: Annotated[bool, typer.Option("--check", help="Validate and build, do not run.")] = False,
) -> None:
    """Run the basis engine as a live/DRY_RUN service (a live YAML with a BasisLiveStrategy)."""
    from nautilus_ext.errors import InvalidConfig
    from nautilus_ext.live.config import load_live_config

    try:
        loaded = load_live_config(config)
    except NautilusExtError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from None
    if not any(s.strategy_path == BASIS_LIVE_STRATEGY for s in loaded.strategies):
        missing = InvalidConfig(f"{config}: no strategy entry runs {BASIS_LIVE_STRATEGY}")
        typer.echo(f"error: {missing}", err=True)
        raise typer.Exit(code=2)
    live_command(config, check)


app.add_typer(basis_app, name="basis", help="Basis/yield strategy of seed 003: backtest, compare, data.")
app.add_typer(dex_app, name="dex", help="DEX pool math (Uniswap V2/V3, Curve, Balancer).")
app.add_typer(ib_app, name="ib", help="Interactive Brokers: tradable contracts and account (ib_async).")
app.add_typer(cme_app, name="cme", help="CME futures: roll calendars and trading hours.")
# safety commands act on a running node through its authenticated local control endpoint: every
# command of the safety CLI is registered here (a test checks each control command has one)
for _command in safety_cli.app.registered_commands:
    assert _command.callback is not None
    _name = _command.name or _command.callback.__name__.replace("_", "-")
    app.command(_name, rich_help_panel="Safety (running node)")(_command.callback)
# order intake client (issue 24): `nautilus-ext submit orders.json --url HOST:PORT [--follow]`
app.command("submit", rich_help_panel="Live node")(submit_command)
instrument_app = typer.Typer(help="Canonical instrument keys.", no_args_is_help=True)
app.add_typer(instrument_app, name="instrument")


def _fail(e: NautilusExtError) -> typer.Exit:
    typer.echo(f"error: {e}", err=True)
    return typer.Exit(code=2)


@instrument_app.command("parse")
def instrument_parse(key: Annotated[str, typer.Argument(help="Canonical key text")]) -> None:
    """Parse a canonical instrument key and print its typed views as JSON."""
    from nautilus_ext.instruments import InstrumentKey

    try:
        k = InstrumentKey.parse(key)
    except NautilusExtError as e:
        raise _fail(e) from None
    views = {
        "canonical": str(k),
        "asset_class": k.asset_class,
        "venue": k.venue,
        "instrument_type": k.instrument_type,
        "payload": k.payload,
        "suffix": k.suffix,
        "role": k.role,
        "is_routing": k.is_routing,
        "is_position": k.is_position,
        "is_venue_bound": k.is_venue_bound,
        "base_asset": k.base_asset,
        "quote_asset": k.quote_asset,
        "settle_asset": k.settle_asset,
        "expiry": k.expiry.isoformat() if k.expiry else None,
        "strike": None if k.strike is None else str(k.strike),
        "option_kind": k.option_kind,
        "pool_fee_tier": k.pool_fee_tier,
        "chain": k.chain,
        "settlement": k.settlement,
        "league": k.league,
        "kickoff": k.kickoff.isoformat() if k.kickoff else None,
        "fixture": k.fixture,
        "goal_line": None if k.goal_line is None else str(k.goal_line),
    }
    typer.echo(
        json.dumps(
            {n: (str(v) if v is not None and not isinstance(v, bool) else v) for n, v in views.items()},
            indent=2,
        )
    )


@instrument_app.command("nautilus-id")
def instrument_nautilus_id(
    key: Annotated[str, typer.Argument(help="Canonical key text")],
    selection: Annotated[str | None, typer.Option(help="Betting selection (HOME, OVER...)")] = None,
) -> None:
    """Print the NautilusTrader InstrumentId of a canonical key."""
    from nautilus_ext.adapters.symbology import to_instrument_id
    from nautilus_ext.instruments.registry import InstrumentRegistry

    try:
        typer.echo(str(to_instrument_id(key, InstrumentRegistry.default(), selection=selection)))
    except NautilusExtError as e:
        raise _fail(e) from None


def _read_order_text(argument: str) -> str:
    """Return the order JSON of ``route``'s argument: the text itself, or ``@file``'s content."""
    from nautilus_ext.errors import InvalidOrder

    if not argument.startswith("@"):
        return argument
    path = Path(argument[1:])
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise InvalidOrder(f"order file {path} is not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise InvalidOrder(f"cannot read order file {path}: {e.strerror or e}") from None


@app.command("route")
def route_command(
    order_json: Annotated[str, typer.Argument(help="A unified Order as JSON text, or @file.json")],
) -> None:
    """Validate and route a unified Order; print the Route as JSON."""
    from nautilus_ext.instruments.registry import InstrumentRegistry
    from nautilus_ext.orders import Order
    from nautilus_ext.routing import route

    try:
        text = _read_order_text(order_json)
        r = route(Order.from_json(text), InstrumentRegistry.default())
    except NautilusExtError as e:
        raise _fail(e) from None
    typer.echo(
        json.dumps(
            {
                "operation_id": r.operation_id,
                "family": r.family,
                "venue": r.venue,
                "candidates": [{"key": str(c.key), "family": c.family} for c in r.candidates],
                "algorithm": None
                if r.algorithm is None
                else {"name": r.algorithm.name, "params": {k: str(v) for k, v in r.algorithm.params.items()}},
                "exit_algorithm": None if r.exit_algorithm is None else r.exit_algorithm.name,
                "source_venue": r.source_venue,
                "target_venue": r.target_venue,
                "reason": r.reason,
            },
            indent=2,
        )
    )


@app.command("backtest")
def backtest_command(
    config: Annotated[Path, typer.Argument(help="Backtest YAML (see configs/backtests/)")],
) -> None:
    """Run an orders-driven or strategy-driven backtest from a validated YAML file."""
    from nautilus_ext.backtest.config import BacktestSpec
    from nautilus_ext.backtest.service import run_and_report

    try:
        spec = BacktestSpec.from_yaml(config)
        outcome, report = run_and_report(spec)
    except NautilusExtError as e:
        raise _fail(e) from None
    typer.echo(
        f"{len(outcome.results)} orders, {outcome.events_processed} events in {outcome.elapsed_secs:.2f}s"
    )
    gate = outcome.gate
    if gate is not None:
        denials = ", ".join(f"{code}/{rule}: {n}" for (code, rule), n in sorted(gate.denials.items()))
        typer.echo(
            f"safety gate: {gate.allowed} allowed, {gate.denied} denied{f' ({denials})' if denials else ''}"
        )
    typer.echo(f"report: {report}")
    if outcome.carry_report is not None:
        typer.echo(f"carry report: {outcome.carry_report}")


@app.command("replay")
def replay_command(
    audit_root: Annotated[
        Path,
        typer.Argument(
            help="A recorded DRY_RUN or LIVE session (its record.root, holds manifest.json) "
            "or the audit root of a recorded backtest (holds run.json)"
        ),
    ],
    workdir: Annotated[Path, typer.Option(help="Where the replay writes its own log")] = Path(
        "replay_output"
    ),
) -> None:
    """Re-run a recorded run in REPLAY mode; print "identical" or the first divergence."""
    from nautilus_ext.backtest.runner import replay_run
    from nautilus_ext.replay.recorder import MANIFEST_FILE
    from nautilus_ext.replay.session import replay_session

    try:
        if (audit_root / MANIFEST_FILE).is_file():
            result = replay_session(audit_root, workdir)
        else:
            result = replay_run(audit_root, workdir)
    except NautilusExtError as e:
        raise _fail(e) from None
    if result.identical:
        typer.echo(f"identical ({result.compared} events)")
        return
    d = result.divergence
    assert d is not None  # not identical means a divergence
    typer.echo(f"diverged at event {d.index} ({d.event_type}) field {d.field}: {d.left!r} != {d.right!r}")
    raise typer.Exit(code=1)


@app.command("demo")
def demo_command(
    output: Annotated[Path, typer.Option(help="Output folder")] = Path("demo_output"),
    hours: Annotated[int, typer.Option(min=1, max=24, help="Hours of generated market data")] = 3,
    seed: Annotated[int, typer.Option(help="Random seed of the generated data")] = 7,
    dex_recording: Annotated[
        Path | None,
        typer.Option(help="pool recorded on the local chain (python -m nautilus_ext_testkit.chain.demo_dex)"),
    ] = None,
) -> None:
    """Build a sample two-venue catalog, run an orders-driven backtest, write the HTML report."""
    from nautilus_ext.backtest.demo import run_demo

    try:
        report = run_demo(output, hours=hours, seed=seed, say=typer.echo, dex_recording=dex_recording)
    except NautilusExtError as e:
        raise _fail(e) from None
    typer.echo(f"report: {report.resolve()}")


@app.command("kelly-demo")
def kelly_demo_command(
    files: Annotated[list[Path], typer.Argument(help="Betfair historical stream files (.bz2)")],
    output: Annotated[Path, typer.Option(help="Output folder")] = Path("kelly_output"),
    bankroll: Annotated[str, typer.Option(help="Starting bankroll (GBP)")] = "1000",
    edge_threshold: Annotated[str, typer.Option(help="Model minus implied probability to bet")] = "0.02",
    kelly_fraction: Annotated[str, typer.Option(help="Fraction of the full Kelly stake")] = "0.25",
) -> None:
    """Backtest the Kelly value-betting example (seeded toy model) over Betfair stream files."""
    from decimal import Decimal
    from decimal import InvalidOperation

    from nautilus_ext.backtest.kelly_demo import run_kelly_demo
    from nautilus_ext.errors import InvalidConfig

    try:
        try:
            start = Decimal(bankroll)
        except InvalidOperation:
            raise InvalidConfig(f"--bankroll {bankroll!r} is not a number") from None
        result = run_kelly_demo(
            files,
            output,
            bankroll=start,
            edge_threshold=edge_threshold,
            kelly_fraction=kelly_fraction,
            say=typer.echo,
        )
    except NautilusExtError as e:
        raise _fail(e) from None
    typer.echo(f"report: {result.report.resolve()}")


def main() -> None:  # pragma: no cover - console entry point
    """Run the CLI."""
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover - ``python -m nautilus_ext.cli``
    main()
