"""
``nautilus-ext ib contracts ROOT`` and ``nautilus-ext ib account``: IB tooling over ``ib_async``.

The gateway comes from ``--host``/``--port``/``--client-id`` or ``IB_HOST``/``IB_PORT``/
``IB_CLIENT_ID`` (defaults: 127.0.0.1, 4002 = IB Gateway paper, 901). Nothing secret is
printed: IB authenticates at the gateway, and account ids are masked.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from nautilus_ext.errors import NautilusExtError

app = typer.Typer(help="Interactive Brokers: contracts and account over the TWS API.", no_args_is_help=True)

Host = Annotated[str, typer.Option("--host", envvar="IB_HOST", help="Gateway host.")]
Port = Annotated[
    int, typer.Option("--port", envvar="IB_PORT", help="Gateway API port (4001 live, 4002 paper).")
]
ClientId = Annotated[int, typer.Option("--client-id", envvar="IB_CLIENT_ID", help="API client id.")]
Timeout = Annotated[float, typer.Option("--timeout", help="Seconds to wait for the gateway.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _fail(e: NautilusExtError) -> typer.Exit:
    typer.echo(f"error: [{e.code}] {e.message}", err=True)
    return typer.Exit(code=2)


@app.command("contracts")
def contracts(
    root: Annotated[str, typer.Argument(help="Futures root / trading class: ES, NQ, 6E, CL, ZN, GC, RTY.")],
    host: Host = "127.0.0.1",
    port: Port = 4002,
    client_id: ClientId = 901,
    timeout: Timeout = 10.0,
    as_json: AsJson = False,
) -> None:
    """List the tradable months of a futures root with multipliers and last trade dates."""
    # ib_async loads only when an ib command runs (the CLI starts without it)
    from nautilus_ext.adapters.interactive_brokers.tools import GatewayAddress
    from nautilus_ext.adapters.interactive_brokers.tools import list_contracts

    try:
        rows = list_contracts(root, GatewayAddress(host, port, client_id, timeout))
    except NautilusExtError as e:
        raise _fail(e) from e
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in rows], indent=2))
        return
    typer.echo(
        f"{'local symbol':<14}{'last trade':<12}{'month':<8}{'multiplier':>11}  "
        f"{'class':<6}{'exchange':<9}key"
    )
    for r in rows:
        typer.echo(
            f"{r.local_symbol:<14}{r.last_trade_date:<12}{r.contract_month:<8}{r.multiplier:>11}  "
            f"{r.trading_class:<6}{r.exchange:<9}{r.instrument_key}"
        )


@app.command("account")
def account(
    host: Host = "127.0.0.1",
    port: Port = 4002,
    client_id: ClientId = 901,
    timeout: Timeout = 10.0,
    as_json: AsJson = False,
) -> None:
    """Show each managed account's balances and margin."""
    from nautilus_ext.adapters.interactive_brokers.tools import GatewayAddress
    from nautilus_ext.adapters.interactive_brokers.tools import account_summary

    try:
        summaries = account_summary(GatewayAddress(host, port, client_id, timeout))
    except NautilusExtError as e:
        raise _fail(e) from e
    if as_json:
        payload = [
            {"account": s.account, "currency": s.currency, "values": {k: str(v) for k, v in s.values.items()}}
            for s in summaries
        ]
        typer.echo(json.dumps(payload, indent=2))
        return
    for s in summaries:
        typer.echo(f"account {s.account} ({s.currency})")
        for tag, value in s.values.items():
            typer.echo(f"  {tag:<18}{value:>20,.2f}")
