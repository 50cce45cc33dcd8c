"""
``nautilus-ext live <config.yaml>``: run a TradingNode in LIVE or DRY_RUN mode.

``live``, ``live --check`` and ``live-validate`` run the same checks first
(:func:`nautilus_ext.live.validation.check_live_config`): a bad file is refused by each with
``[CODE] <file>: <field>: <problem>`` on stderr and exit code 2, before anything is built.

A node that does not start (a venue refused its keys, the network is down: NautilusTrader logs
the cause and keeps its loop running with nothing trading) is stopped by ``live`` once its
connection, reconciliation and portfolio timeouts have passed, and the command exits with
``[VENUE_UNAVAILABLE]`` and code 1. The safety control endpoint opens its port only when the
node has started, so an operator's ``status`` meanwhile is refused at once
(``VENUE_UNAVAILABLE: control endpoint unreachable``) instead of hanging.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated
from typing import Any
from typing import NoReturn

import typer

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import VenueUnavailable
from nautilus_ext.live.config import LiveNodeConfig
from nautilus_ext.live.validation import CheckedLiveConfig
from nautilus_ext.live.validation import validate_live_file
from nautilus_ext.mode import Mode

app = typer.Typer(help="Live trading: TradingNode in LIVE or DRY_RUN mode.", no_args_is_help=True)

START_MARGIN_SECS = 5.0
"""Slack on top of the node's own start timeouts before ``live`` gives up on a start, seconds."""


def _fail(e: NautilusExtError, exit_code: int = 2) -> NoReturn:
    typer.echo(f"[{e.code}] {e.message}", err=True)
    raise typer.Exit(code=exit_code) from None


def _validated(config_path: Path) -> CheckedLiveConfig:
    try:
        return validate_live_file(config_path)
    except NautilusExtError as e:
        _fail(e)


@app.command("live")
def live(
    config_path: Annotated[Path, typer.Argument(help="A configs/live/*.yaml file.")],
    check: Annotated[bool, typer.Option("--check", help="Validate and build, do not run.")] = False,
) -> None:
    """Validate ``config_path``, build the node and run it until interrupted."""
    config = _validated(config_path).config
    venues = ", ".join(f"{v.venue}({v.adapter}, {v.key_scope} key)" for v in config.venues)
    typer.echo(f"mode={config.mode} trader_id={config.trader_id} venues={venues}")
    if config.mode is Mode.LIVE:
        typer.echo("LIVE: real orders will be sent", err=True)
    from nautilus_ext.live.node import build_live_node  # heavy import: only when needed

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        node = build_live_node(config, loop).node
    except NautilusExtError as e:
        _fail(e)
    except Exception as e:  # the checks passed, NautilusTrader still refused: say what, no traceback
        _fail(InvalidConfig(f"{config_path}: building the node failed: {type(e).__name__}: {e}"))
    if check:
        typer.echo("configuration OK; node built")
        node.dispose()
        return
    try:
        run_until_stopped(node, config, loop)
    except NautilusExtError as e:
        _fail(e, exit_code=1)
    finally:
        node.dispose()


def run_until_stopped(node: Any, config: LiveNodeConfig, loop: asyncio.AbstractEventLoop) -> None:
    """
    Run ``node`` until it stops; stop it if it has not started within its start timeouts.

    Raises
    ------
    VenueUnavailable
        If the node did not start (its trader never ran): nothing was traded.
    """
    deadline_secs = (
        config.timeout_connection_secs
        + (config.timeout_reconciliation_secs if config.mode is Mode.LIVE else 0.0)
        + 5.0  # the node's portfolio timeout (live.node.build_trading_node_config)
        + START_MARGIN_SECS
    )
    failed: list[bool] = []

    async def watch_start() -> None:
        started = loop.time()
        while loop.time() - started < deadline_secs:
            if node.trader.is_running:
                return
            await asyncio.sleep(0.1)
        failed.append(True)
        await node.stop_async()

    watcher = loop.create_task(watch_start())
    try:
        node.run()
    finally:
        if not watcher.done():
            watcher.cancel()
    if failed:
        raise VenueUnavailable(
            f"the node did not start within {deadline_secs:g}s: a venue client did not connect or "
            "reconcile (authentication or network: see the log above); nothing was traded",
        )


@app.command("live-validate")
def live_validate(
    config_path: Annotated[Path, typer.Argument(help="A configs/live/*.yaml file.")],
) -> None:
    """Run every check ``live`` runs before it starts anything (no node is built)."""
    config = _validated(config_path).config
    typer.echo(f"OK mode={config.mode} venues={[v.venue for v in config.venues]}")
