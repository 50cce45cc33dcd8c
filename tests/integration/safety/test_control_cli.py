"""The operator CLI against a real local control endpoint: authenticated, audited, one thread
owning the gate."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest
from nautilus_trader.common.component import TestClock
from typer.testing import CliRunner

from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.audit.schemas import CommandOutcome
from nautilus_ext.audit.schemas import Mode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.orders import Order
from nautilus_ext.safety import SafetyEvent
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.cli import app
from nautilus_ext.safety.cli import send
from nautilus_ext.safety.control import ControlEndpoint

from .test_executor_gate import _config

TOKEN = "t" * 40


class Node:
    """A gate, its endpoint and an owner thread that pumps queued commands."""

    def __init__(self) -> None:
        self.clock = TestClock()
        self.clock.set_time(1_709_251_200 * 1_000_000_000)
        self.events: list[SafetyEvent] = []
        self.gate = SafetyGate(_config(Mode.LIVE), self.clock, sink=self.events.append)
        self.endpoint = ControlEndpoint(self.gate, TOKEN, reply_timeout_secs=5)
        self._stop = threading.Event()
        self._owner = threading.Thread(target=self._pump, daemon=True)

    def _pump(self) -> None:
        while not self._stop.is_set():
            if not self.endpoint.process_pending():
                self._stop.wait(0.005)

    def __enter__(self) -> Node:
        self.endpoint.start()
        self._owner.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._owner.join(timeout=5)
        self.endpoint.stop()


@pytest.fixture
def node() -> Iterator[Node]:
    with Node() as n:
        yield n


def _cli(node: Node, *args: str, token: str = TOKEN) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        [
            args[0],
            "--url",
            node.endpoint.url,
            *(["--actor", "alice"] if args[0] != "status" else []),
            *args[1:],
        ],
        env={"NAUTILUS_EXT_CONTROL_TOKEN": token},
    )
    return result.exit_code, result.output


def test_arm_confirm_status_disarm_kill(node: Node) -> None:
    code, out = _cli(node, "arm", "--ttl", "60")
    assert code == 0, out
    assert node.gate.arming.is_armed()
    order = Order(
        operation_id="op-1",
        operation="trade",
        instrument_key="BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN",
        venue="BINANCE-FUTURES",
        side="BUY",
        amount=Decimal("0.1"),
    )
    intent = node.gate.stage(order)
    code, out = _cli(node, "confirm", "0" * 64)
    assert code == 1
    assert "RISK_BLOCKED" in out
    assert not node.gate.arming.is_armed()  # max_failed_confirmations is 0: a wrong hash disarms
    assert _cli(node, "arm", "--ttl", "60")[0] == 0
    code, out = _cli(node, "confirm", intent.intent_hash)
    assert code == 0, out
    assert node.gate.arming.release_check(order) is None
    code, out = _cli(node, "status")
    assert code == 0
    assert '"armed": true' in out
    code, out = _cli(node, "disarm")
    assert code == 0
    assert not node.gate.arming.is_armed()
    code, out = _cli(node, "kill", "--strategy", "S-1")
    assert code == 0
    assert node.gate.halts.killed("S-1") is not None
    assert node.gate.safe is None
    code, out = _cli(node, "kill")
    assert code == 0
    assert node.gate.safe is not None
    code, out = _cli(node, "resume", "--incident", "INC-1")
    assert code == 1
    assert "SAFE_MODE" in out
    commands = [(e.command, e.outcome, e.actor) for e in node.events if e.command is not None]
    assert (CommandKind.ARM, CommandOutcome.ACCEPTED, "alice") in commands
    assert (CommandKind.CONFIRM, CommandOutcome.REJECTED, "alice") in commands
    assert (CommandKind.KILL, CommandOutcome.ACCEPTED, "alice") in commands


def test_wrong_token_is_refused_and_recorded(node: Node) -> None:
    code, out = _cli(node, "arm", "--ttl", "60", token="x" * 40)
    assert code == 1
    assert "UNAUTHORIZED" in out
    assert not node.gate.arming.is_armed()
    status, reply = send(node.endpoint.url, "", {"command": "status"})
    assert status == 401
    assert reply["ok"] is False
    refused = [e for e in node.events if e.actor == "unauthenticated"]
    for _ in range(100):
        if refused:
            break
        threading.Event().wait(0.01)
        refused = [e for e in node.events if e.actor == "unauthenticated"]
    assert refused[0].command is CommandKind.ARM
    assert refused[0].outcome is CommandOutcome.REJECTED


def test_missing_token_env_fails_fast(node: Node) -> None:
    result = CliRunner().invoke(
        app, ["status", "--url", node.endpoint.url], env={"NAUTILUS_EXT_CONTROL_TOKEN": ""}
    )
    assert result.exit_code == 2


def test_endpoint_refuses_weak_token_and_public_host(node: Node) -> None:
    with pytest.raises(InvalidConfig, match="at least"):
        ControlEndpoint(node.gate, "short")
    with pytest.raises(InvalidConfig, match="loopback"):
        ControlEndpoint(node.gate, TOKEN, host="0.0.0.0")


def test_unanswered_command_times_out(node: Node) -> None:
    lonely = ControlEndpoint(node.gate, TOKEN, reply_timeout_secs=0.2)
    lonely.start()
    try:
        status, reply = send(lonely.url, TOKEN, {"command": "status"})
    finally:
        lonely.stop()
    assert status == 504
    assert reply["error"] == "TIMEOUT"


def test_repeated_bad_tokens_lock_everyone_out(node: Node) -> None:
    guarded = ControlEndpoint(node.gate, TOKEN, reply_timeout_secs=1, max_auth_failures=2, lockout_secs=60)
    guarded.start()
    try:
        statuses = [send(guarded.url, "y" * 40, {"command": "status"})[0] for _ in range(3)]
        assert statuses == [401, 401, 401]
        status, reply = send(guarded.url, TOKEN, {"command": "status"})
    finally:
        guarded.stop()
    assert status == 429  # even the right token waits out the lockout
    assert reply["error"] == "LOCKED_OUT"


def test_recovery_checks_over_the_endpoint(node: Node) -> None:
    # SAFE mode can be left over the endpoint alone: limits confirmed by hash, an incident ref
    assert _cli(node, "kill")[0] == 0
    code, out = _cli(node, "confirm-limits", "0" * 64)
    assert code == 1
    assert "INVALID_CONFIG" in out
    code, out = _cli(node, "resume", "--incident", "INC-7")
    assert code == 1
    assert "risk limits not confirmed" in out
    limits_hash = node.gate.config.limits_hash()
    code, out = _cli(node, "confirm-limits", limits_hash)
    assert code == 0, out
    code, out = _cli(node, "reset-risk-baselines")
    assert code == 0, out
    code, out = _cli(node, "resume", "--incident", "INC-7")
    assert code == 1
    assert "no market data has been received" in out
    node.gate.on_market_data("BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN")
    code, out = _cli(node, "resume", "--incident", "INC-7")
    assert code == 0, out
    assert node.gate.safe is None
    assert not node.gate.arming.is_armed()  # a fresh human arm is still needed
    commands = [(e.command, e.outcome, e.message) for e in node.events if e.command is CommandKind.RESUME]
    assert (CommandKind.RESUME, CommandOutcome.REJECTED, "limits hash does not match") in commands
    assert (CommandKind.RESUME, CommandOutcome.ACCEPTED, "limits confirmed") in commands


def test_every_control_command_is_a_cli_command_with_help() -> None:
    # the endpoint's commands and the top-level CLI's cannot drift apart again
    from nautilus_ext.cli import app as main_app
    from nautilus_ext.safety.control import COMMANDS

    for command in COMMANDS:
        result = CliRunner().invoke(main_app, [command.replace("_", "-"), "--help"])
        assert result.exit_code == 0, (command, result.output)
        assert "Usage:" in result.output


def test_resume_when_not_safe_says_so(node: Node) -> None:
    code, out = _cli(node, "resume", "--incident", "INC-0")
    assert code == 1
    assert "SAFE mode left" not in out
    assert "not in SAFE mode: nothing to resume" in out
    assert "node: not in SAFE mode" in out
    rejected = [e for e in node.events if e.command is CommandKind.RESUME]
    assert rejected[-1].outcome is CommandOutcome.REJECTED


def test_failed_resume_prints_that_the_node_stays_safe(node: Node) -> None:
    code, out = _cli(node, "kill", "--reason", "drill")
    assert code == 0, out
    assert "killed everything: SAFE mode entered" in out
    assert "before resume: risk limits not confirmed by hash since SAFE mode began" in out
    code, out = _cli(node, "resume", "--incident", "INC-1")
    assert code == 1
    assert "node: SAFE mode (global kill by alice: drill" in out
    assert "SAFE mode left" not in out
    code, out = _cli(node, "status", "--brief")
    assert code == 0, out
    assert "node: SAFE mode" in out
    assert f"limits hash: {node.gate.config.limits_hash()}" in out


def test_strategy_kill_is_released_from_the_cli(node: Node) -> None:
    code, out = _cli(node, "release", "--strategy", "S-1", "--incident", "INC-2")
    assert code == 1
    assert "strategy S-1 is not killed" in out
    code, out = _cli(node, "kill", "--strategy", "S-1")
    assert code == 0, out
    assert "killed strategy S-1" in out
    assert "killed strategies: S-1" in out
    assert "node: not in SAFE mode" in out
    # a loss still at the strategy's limit would kill it again at the next PnL update
    node.gate.update_pnl("S-1", -node.gate.config.risk.strategy_loss_limit)
    code, out = _cli(node, "release", "--strategy", "S-1", "--incident", "INC-2")
    assert code == 1
    assert "is still at the limit" in out
    assert node.gate.halts.killed("S-1") is not None
    assert _cli(node, "reset-risk-baselines")[0] == 0
    code, out = _cli(node, "release", "--strategy", "S-1", "--incident", "INC-2")
    assert code == 0, out
    assert "strategy S-1 released (incident INC-2)" in out
    assert "killed strategies" not in out
    assert node.gate.halts.killed("S-1") is None
    released = [e for e in node.events if e.strategy_id == "S-1" and e.command is CommandKind.RESUME]
    assert released[-1].outcome is CommandOutcome.ACCEPTED
    assert released[-1].message == "strategy kill released (incident INC-2)"


def test_a_release_during_safe_mode_says_the_node_is_still_safe(node: Node) -> None:
    assert _cli(node, "kill", "--strategy", "S-1")[0] == 0
    assert _cli(node, "kill")[0] == 0
    code, out = _cli(node, "release", "--strategy", "S-1", "--incident", "INC-3")
    assert code == 0, out
    assert "strategy S-1 released (incident INC-3); the node is still in SAFE mode" in out
    assert "may place new orders" not in out
    assert "node: SAFE mode" in out
