"""
Operator commands for a running node's safety gate: ``arm --ttl``, ``confirm <hash>``,
``disarm``, ``status``, ``kill [--strategy]``, ``release --strategy``, ``confirm-limits <hash>``,
``reset-risk-baselines`` and ``resume`` (one per command of
:data:`~nautilus_ext.safety.control.COMMANDS`).

After every command the CLI prints the node's state as the node reports it (SAFE or not and
why, armed or not, killed strategies, what still blocks a resume), also when the command
failed: the operator never has to guess whether the node left SAFE mode.

Each command is one authenticated request to the node's local
:class:`~nautilus_ext.safety.control.ControlEndpoint`. The token comes from the environment
variable ``NAUTILUS_EXT_CONTROL_TOKEN`` only (never a command-line argument, which would land in
shell history and process listings); the endpoint URL from ``--url`` or
``NAUTILUS_EXT_CONTROL_URL``. The node writes every command and its outcome to the audit log.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Annotated
from typing import Any
from typing import Final

import typer

TOKEN_ENV: Final = "NAUTILUS_EXT_CONTROL_TOKEN"
URL_ENV: Final = "NAUTILUS_EXT_CONTROL_URL"
DEFAULT_URL: Final = "http://127.0.0.1:8765"

app = typer.Typer(
    help="Arm, confirm, disarm, kill and inspect a running node's safety gate.", no_args_is_help=True
)

UrlOption = Annotated[
    str | None, typer.Option("--url", help=f"Control endpoint (default ${URL_ENV} or {DEFAULT_URL}).")
]
ActorOption = Annotated[str | None, typer.Option("--actor", help="Who issues the command (default $USER).")]


def send(
    url: str, token: str, body: dict[str, Any], timeout_secs: float = 10.0
) -> tuple[int, dict[str, Any]]:
    """
    POST one command to the control endpoint; return the HTTP status and the JSON reply.

    Parameters
    ----------
    url : str
        Endpoint base URL.
    token : str
        The bearer token.
    body : dict
        The command.
    timeout_secs : float
        Network timeout, seconds.
    """
    try:
        request = urllib.request.Request(
            f"{url.rstrip('/')}/command",
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=timeout_secs) as response:
            return int(response.status), _reply(url, int(response.status), response.read())
    except urllib.error.HTTPError as e:
        return int(e.code), _reply(url, int(e.code), e.read())
    except (urllib.error.URLError, OSError, ValueError) as e:
        # ValueError: a URL urllib cannot use ("no host given", an unknown scheme)
        reason = getattr(e, "reason", None) or e
        return 0, {
            "ok": False,
            "error": "VENUE_UNAVAILABLE",
            "message": f"control endpoint {url} unreachable: {reason}",
        }


def _reply(url: str, status: int, data: bytes) -> dict[str, Any]:
    # anything but the endpoint's JSON object means --url points at something else
    try:
        reply = json.loads(data)
    except (ValueError, RecursionError):
        reply = None
    if not isinstance(reply, dict):
        return {
            "ok": False,
            "error": "INVALID_CONFIG",
            "message": f"{url} is not a nautilus-ext control endpoint (HTTP {status}, no JSON object "
            "in the reply): check --url or $" + URL_ENV,
        }
    return reply


def _call(url: str | None, body: dict[str, Any]) -> dict[str, Any]:
    token = os.environ.get(TOKEN_ENV)
    if not token:
        typer.echo(f"error: set {TOKEN_ENV} to the node's control token", err=True)
        raise typer.Exit(2)
    status, reply = send(url or os.environ.get(URL_ENV) or DEFAULT_URL, token, body)
    if status != 200 or not reply.get("ok"):
        typer.echo(f"error: {reply.get('error', status)}: {reply.get('message', '')}", err=True)
        state = reply.get("state")
        if isinstance(state, dict):
            for line in state_lines(state):
                typer.echo(line, err=True)
        raise typer.Exit(1)
    return reply


def state_lines(state: dict[str, Any]) -> list[str]:
    """Return the lines that say where the node stands (a reply's ``state``; see ``node_state``)."""
    if state.get("safe"):
        lines = [f"node: SAFE mode ({state.get('safe_reason')}): no new risk, cancels and hedges only"]
    else:
        lines = ["node: not in SAFE mode"]
    if state.get("armed"):
        lines.append(f"arm: armed until {state.get('arm_expires_at_ns')} ns")
    elif state.get("mode") == "LIVE":
        lines.append("arm: NOT armed: LIVE orders need a human arm (nautilus-ext arm --ttl SECONDS)")
    else:
        lines.append("arm: not armed")
    killed = state.get("killed_strategies") or []
    if killed:
        lines.append(f"killed strategies: {', '.join(killed)} (nautilus-ext release --strategy ID)")
    if state.get("safe"):
        problems = state.get("recovery_problems") or []
        if problems:
            lines += [f"before resume: {p}" for p in problems]
        else:
            lines.append("recovery checks pass: nautilus-ext resume --incident REF")
    return lines


def _echo_state(reply: dict[str, Any]) -> None:
    state = reply.get("state")
    if isinstance(state, dict):
        for line in state_lines(state):
            typer.echo(line)


def _actor(actor: str | None) -> str:
    return actor or os.environ.get("USER") or "operator"


@app.command()
def arm(
    ttl: Annotated[int, typer.Option("--ttl", help="Time-to-live of the arm, seconds.")],
    auto_confirm: Annotated[
        list[str] | None, typer.Option("--auto-confirm", help="Enable a configured auto-confirm policy.")
    ] = None,
    url: UrlOption = None,
    actor: ActorOption = None,
) -> None:
    """Arm LIVE execution for --ttl seconds (one-shot: disarm before arming again)."""
    reply = _call(
        url, {"command": "arm", "ttl_secs": ttl, "actor": _actor(actor), "auto_confirm": auto_confirm or []}
    )
    typer.echo(f"armed until {reply['expires_at_ns']} ns (arm {reply['arm_id']})")
    _echo_state(reply)


@app.command()
def confirm(
    intent_hash: Annotated[str, typer.Argument(help="The staged intent's content hash.")],
    url: UrlOption = None,
    actor: ActorOption = None,
) -> None:
    """Confirm the staged intent with exactly this hash."""
    reply = _call(url, {"command": "confirm", "intent_hash": intent_hash, "actor": _actor(actor)})
    typer.echo(f"confirmed {reply['operation_id']} ({reply['intent_hash']})")
    _echo_state(reply)


@app.command()
def disarm(url: UrlOption = None, actor: ActorOption = None) -> None:
    """Withdraw the arm and every confirmation."""
    reply = _call(url, {"command": "disarm", "actor": _actor(actor)})
    typer.echo("disarmed" if reply["was_armed"] else "was not armed")
    _echo_state(reply)


@app.command()
def kill(
    strategy: Annotated[str | None, typer.Option("--strategy", help="Kill one strategy only.")] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (goes to the audit log).")] = "operator kill",
    url: UrlOption = None,
    actor: ActorOption = None,
) -> None:
    """Engage the kill switch: globally (SAFE mode) or for one strategy; cancel its working orders."""
    reply = _call(url, {"command": "kill", "strategy_id": strategy, "reason": reason, "actor": _actor(actor)})
    if strategy is None:
        typer.echo(f"killed everything: SAFE mode entered ({reply['code']}/{reply['rule']})")
    else:
        typer.echo(
            f"killed strategy {strategy} ({reply['code']}/{reply['rule']}): its new risk is blocked, "
            "reduce-only orders and cancels pass"
        )
    for line in reply.get("cancelled") or []:
        typer.echo(f"cancelled: {line}")
    for line in reply.get("not_cancelled") or []:
        typer.echo(f"NOT cancelled: {line}")
    _echo_state(reply)


@app.command("cancel-all")
def cancel_all(
    venue: Annotated[str | None, typer.Option("--venue", help="Cancel at this venue only.")] = None,
    strategy: Annotated[str | None, typer.Option("--strategy", help="Cancel this strategy's only.")] = None,
    url: UrlOption = None,
    actor: ActorOption = None,
) -> None:
    """Cancel working orders (all, or of one venue and/or strategy) without a kill or a halt."""
    reply = _call(
        url, {"command": "cancel_all", "venue": venue, "strategy_id": strategy, "actor": _actor(actor)}
    )
    typer.echo(
        f"cancel-all at {venue or 'every venue'} for {strategy or 'every strategy'}: "
        f"{len(reply.get('cancelled') or [])} cancel(s) sent"
    )
    for line in reply.get("cancelled") or []:
        typer.echo(f"cancelled: {line}")
    for line in reply.get("not_cancelled") or []:
        typer.echo(f"NOT cancelled: {line}")
    _echo_state(reply)


@app.command()
def flatten(
    strategy: Annotated[str, typer.Option("--strategy", help="The Nautilus strategy id to flatten.")],
    url: UrlOption = None,
    actor: ActorOption = None,
) -> None:
    """Emergency flatten: close a strategy's open positions with reduce-only orders through the gate."""
    reply = _call(url, {"command": "flatten", "strategy_id": strategy, "actor": _actor(actor)})
    typer.echo(f"flatten {strategy}: {len(reply.get('sent') or [])} closing order(s) sent")
    for line in reply.get("sent") or []:
        typer.echo(f"sent: {line}")
    _echo_state(reply)


@app.command()
def release(
    strategy: Annotated[str, typer.Option("--strategy", help="The killed strategy to release.")],
    incident: Annotated[str, typer.Option("--incident", help="Incident report reference.")],
    url: UrlOption = None,
    actor: ActorOption = None,
) -> None:
    """Release a per-strategy kill (its loss must be back inside its limit: see reset-risk-baselines)."""
    reply = _call(
        url, {"command": "release", "strategy_id": strategy, "incident_ref": incident, "actor": _actor(actor)}
    )
    if (reply.get("state") or {}).get("safe"):
        typer.echo(f"strategy {strategy} released (incident {incident}); the node is still in SAFE mode")
    else:
        typer.echo(f"strategy {strategy} released (incident {incident}): it may place new orders again")
    _echo_state(reply)


@app.command("confirm-limits")
def confirm_limits(
    limits_hash: Annotated[str, typer.Argument(help="The hash of the limits in force (see status).")],
    url: UrlOption = None,
    actor: ActorOption = None,
) -> None:
    """Confirm the risk limits in force by their hash (a check before leaving SAFE mode)."""
    reply = _call(url, {"command": "confirm_limits", "limits_hash": limits_hash, "actor": _actor(actor)})
    typer.echo(f"limits {limits_hash} confirmed")
    _echo_state(reply)


@app.command("reset-risk-baselines")
def reset_risk_baselines(url: UrlOption = None, actor: ActorOption = None) -> None:
    """Count losses afresh from current PnL (after a loss limit tripped and was reviewed)."""
    reply = _call(url, {"command": "reset_risk_baselines", "actor": _actor(actor)})
    typer.echo("risk loss baselines reset to the current PnL")
    _echo_state(reply)


@app.command()
def resume(
    incident: Annotated[str, typer.Option("--incident", help="Incident report reference.")],
    url: UrlOption = None,
    actor: ActorOption = None,
) -> None:
    """Leave SAFE mode after the recovery checks (then arm again)."""
    reply = _call(url, {"command": "resume", "incident_ref": incident, "actor": _actor(actor)})
    typer.echo(f"SAFE mode left (incident {incident})")
    _echo_state(reply)


@app.command()
def status(
    url: UrlOption = None,
    brief: Annotated[
        bool, typer.Option("--brief", help="Print where the node stands in a few lines instead of JSON.")
    ] = False,
) -> None:
    """Print the gate's status as JSON (staged intents, positions, limits hash, feed ages...)."""
    full = _call(url, {"command": "status"})["status"]
    if not brief:
        typer.echo(json.dumps(full, indent=2, sort_keys=True))
        return
    safe = full.get("safe")
    state = {
        "mode": full.get("mode"),
        "safe": safe is not None,
        "safe_reason": None if safe is None else f"{safe['message']} ({safe['code']}/{safe['rule']})",
        "armed": full.get("armed"),
        "arm_expires_at_ns": full.get("arm_expires_at_ns"),
        "killed_strategies": full.get("killed_strategies"),
        "recovery_problems": full.get("recovery_problems"),
    }
    for line in state_lines(state):
        typer.echo(line)
    typer.echo(f"limits hash: {full.get('limits_hash')}")
    for intent in full.get("staged") or []:
        typer.echo(
            f"staged: {intent['intent_hash']} {intent['side']} {intent['amount']} {intent['instrument_key']} "
            f"({intent['operation_id']}, strategy {intent['strategy_id']})"
        )


__all__ = ["DEFAULT_URL", "TOKEN_ENV", "URL_ENV", "app", "send", "state_lines"]
