"""``nautilus-ext submit``: send unified Orders to a node's intake from a file or stdin."""

from __future__ import annotations

import json
import os
import sys
import threading
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Annotated
from typing import Any

import typer

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NautilusExtError

if TYPE_CHECKING:
    from nautilus_ext.client.client import IntakeClient
    from nautilus_ext.client.client import ResultEvent

DEFAULT_TOKEN_ENV = "NAUTILUS_EXT_INTAKE_TOKEN"


def split_orders(text: str) -> list[str]:
    """
    Return one JSON text per Order from a JSON array, a single object, or JSON lines.

    An entry that is not JSON is passed on as it is: the node answers it ``INVALID_ORDER``, like
    any other malformed Order.
    """
    stripped = text.strip()
    if not stripped:
        raise InvalidOrder("no orders in the input")
    try:
        parsed = json.loads(stripped, parse_float=Decimal)
    except json.JSONDecodeError:
        return [line for line in stripped.splitlines() if line.strip()]  # JSON lines
    items = parsed if isinstance(parsed, list) else [parsed]
    return [json.dumps(item, default=_exact) for item in items]


def _exact(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def submit_command(
    source: Annotated[
        str, typer.Argument(help="Orders file (JSON array, object or JSON lines), or - for stdin")
    ],
    url: Annotated[str, typer.Option(help="host:port of the node's intake")] = "127.0.0.1:50551",
    token_env: Annotated[
        str, typer.Option(help="Environment variable holding the token")
    ] = DEFAULT_TOKEN_ENV,
    follow: Annotated[bool, typer.Option(help="Stream results until every accepted order is final")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds --follow waits at most")] = 60.0,
    ca: Annotated[str | None, typer.Option(help="TLS: the server's CA certificate")] = None,
    cert: Annotated[str | None, typer.Option(help="mTLS: client certificate")] = None,
    key: Annotated[str | None, typer.Option(help="mTLS: client key")] = None,
) -> None:
    """Submit unified Orders to a live node over gRPC; print one JSON line per ack (and result)."""
    # imported here: `nautilus-ext --help` needs neither gRPC nor the generated stubs
    from nautilus_ext.client.client import IntakeClient

    try:
        text = sys.stdin.read() if source == "-" else _read(Path(source))
        orders = split_orders(text)
        token = os.environ.get(token_env)
        if not token:
            raise InvalidConfig(f"set {token_env} to the intake token of this client")
        with IntakeClient(url, token, root_cert_path=ca, cert_path=cert, key_path=key) as client:
            acks = client.submit(orders)
            for ack in acks:
                typer.echo(json.dumps({"ack": _as_dict(ack)}))
            refused = [a for a in acks if not a.accepted]
            if follow:
                _follow(client, acks, timeout)
    except NautilusExtError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from None
    if refused:
        raise typer.Exit(code=1)


def _follow(client: IntakeClient, acks: list[Any], timeout: float) -> None:
    fresh = [a for a in acks if a.accepted and not a.duplicate]
    if not fresh:
        return
    pending = {a.operation_id for a in fresh}
    after = min(a.cursor for a in fresh)
    by_strategy: dict[str, set[str]] = {}
    for op in pending:
        sid = str(client.get_order(op).summary.get("strategy_id") or "")
        by_strategy.setdefault(sid, set()).add(op)
    timer = threading.Timer(timeout, client.close)  # a stream never ends by itself
    timer.start()
    try:
        for sid, ops in by_strategy.items():
            for event in client.stream_results(sid, after_cursor=after):
                if event.operation_id not in ops:
                    continue
                typer.echo(json.dumps({"event": _event_dict(event)}))
                if event.final:
                    ops.discard(event.operation_id)
                if not ops:
                    break
    finally:
        timer.cancel()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise InvalidOrder(f"cannot read orders file {path}: {e.strerror or e}") from None


def _as_dict(ack: Any) -> dict[str, Any]:
    return {
        "operation_id": ack.operation_id,
        "accepted": ack.accepted,
        "duplicate": ack.duplicate,
        "status": ack.status,
        "code": ack.code,
        "message": ack.message,
        "cursor": ack.cursor,
    }


def _event_dict(e: ResultEvent) -> dict[str, Any]:
    return {
        "cursor": e.cursor,
        "operation_id": e.operation_id,
        "kind": e.kind,
        "status": e.status,
        "code": e.code,
        "message": e.message,
        "payload": e.payload,
        "final": e.final,
    }
