"""
Seed 001 section 16.1 from the operator's CLI, end to end against a LIVE node on the fake
exchange: kill -> SAFE -> confirm limits by hash -> reset baselines -> fresh data and reconciled
positions -> incident reference -> resume -> human re-arm; then a per-strategy kill released the
same way. Every step is a ``nautilus-ext`` command, and each says where the node stands.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from nautilus_ext.audit import iter_records
from nautilus_ext.cli import app
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.live.config import load_live_config
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.node_harness import NodeHarness
from nautilus_ext_testkit.node_harness import start_live_node
from tests.integration.live.test_live_safety_node import IID
from tests.integration.live.test_live_safety_node import KEY
from tests.integration.live.test_live_safety_node import TOKEN
from tests.integration.live.test_live_safety_node import _order
from tests.integration.live.test_live_safety_node import _yaml
from tests.integration.live.test_live_safety_node import exchange

__all__ = ["exchange"]  # the fixture

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]


class Operator:
    """Runs ``nautilus-ext`` commands against one node's control endpoint."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self, *args: str) -> tuple[int, str]:
        actor = [] if args[0] == "status" else ["--actor", "alice"]
        result = CliRunner().invoke(
            app, [*args, "--url", self.url, *actor], env={"NAUTILUS_EXT_CONTROL_TOKEN": TOKEN}
        )
        return result.exit_code, result.output

    def ok(self, *args: str) -> str:
        code, out = self(*args)
        assert code == 0, (args, out)
        return out

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = json.loads(self.ok("status"))
        return status


def _trade(h: NodeHarness, op: Operator, unified: UnifiedExecutionStrategy, op_id: str) -> None:
    # a unified order is staged, confirmed by its hash over the CLI, fills at the venue, and the
    # venue's position snapshot confirms it
    held = h.call(lambda: unified.submit_unified(_order(op_id, "0.010")))
    assert held.reason.startswith("AWAITING_CONFIRMATION"), held.reason
    (staged,) = [i for i in op.status()["staged"] if i["operation_id"] == op_id]
    brief = op.ok("status", "--brief")
    assert f"staged: {staged['intent_hash']} BUY 0.010 {KEY} ({op_id}, strategy S-LIVE)" in brief
    assert f"confirmed {op_id}" in op.ok("confirm", staged["intent_hash"])
    eventually(
        lambda: unified.results[op_id].status is ExecutionStatus.FILLED, 10, message=f"{op_id} not filled"
    )
    gate = unified.safety_gate
    assert gate is not None
    eventually(lambda: gate.oms.dirty_since(KEY) is None, 10, message=f"{op_id} never reconciled")


def test_recovery_procedure_runs_from_the_cli(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_API_KEY", "fake-key")
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_API_SECRET", "fake-secret")
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)
    h, live_node = start_live_node(load_live_config(_yaml(tmp_path, exchange)))
    try:
        safety = live_node.safety
        assert safety is not None
        assert safety.control is not None
        op = Operator(safety.control.url)
        unified = h.strategy(UnifiedExecutionStrategy)
        node = h.node
        assert node is not None
        eventually(
            lambda: (
                node.is_running() and node.cache.account_for_venue(IID.venue) and node.cache.order_book(IID)
            ),
            20,
            message="live node did not start",
        )
        eventually(lambda: not safety.gate.oms.feed_problems(), 10, message="feeds never healthy")
        assert "arm: armed until" in op.ok("arm", "--ttl", "300")
        _trade(h, op, unified, "op-1")

        # 1-2. the kill: SAFE mode, disarmed; the CLI says so and lists what blocks a resume
        out = op.ok("kill", "--reason", "drill")
        assert "killed everything: SAFE mode entered (SAFE_MODE/kill_switch)" in out
        assert "node: SAFE mode (global kill by alice: drill (SAFE_MODE/kill_switch))" in out
        assert "arm: NOT armed" in out
        assert "before resume: risk limits not confirmed by hash since SAFE mode began" in out
        refused = h.call(lambda: unified.submit_unified(_order("op-safe", "0.010")))
        assert refused.status is ExecutionStatus.REJECTED
        # 3. a resume now is refused and the node stays SAFE (the CLI says so)
        code, out = op("resume", "--incident", "INC-1")
        assert code == 1
        assert "cannot leave SAFE mode" in out
        assert "node: SAFE mode" in out
        assert "SAFE mode left" not in out
        assert safety.gate.safe is not None
        # 4a. limits confirmed by the hash the node reports (a wrong hash is refused)
        code, out = op("confirm-limits", "0" * 64)
        assert code == 1
        assert "limits hash does not match" in out
        limits_hash = op.status()["limits_hash"]
        out = op.ok("confirm-limits", limits_hash)
        assert f"limits {limits_hash} confirmed" in out
        assert "risk limits not confirmed" not in out
        # 4b. loss baselines reset after review
        assert "risk loss baselines reset to the current PnL" in op.ok("reset-risk-baselines")
        # 4c. fresh market data and positions reconciled to the venue since the kill
        eventually(
            lambda: "recovery checks pass: nautilus-ext resume --incident REF" in op.ok("status", "--brief"),
            15,
            message="fresh data and a matching venue snapshot never came",
        )
        status = op.status()
        assert status["recovery_problems"] == []
        assert Decimal(status["positions"][KEY]) == Decimal("0.010")
        assert all(age < 5000 for key, age in status["feed_age_ms"].items() if key.startswith("md:"))
        # 4d-5. the incident reference and the resume: SAFE left, and LIVE needs a human re-arm
        out = op.ok("resume", "--incident", "INC-1")
        assert "SAFE mode left (incident INC-1)" in out
        assert "node: not in SAFE mode" in out
        assert "arm: NOT armed: LIVE orders need a human arm" in out
        assert safety.gate.safe is None
        unarmed = h.call(lambda: unified.submit_unified(_order("op-unarmed", "0.010")))
        assert "not armed" in unarmed.reason
        assert "arm: armed until" in op.ok("arm", "--ttl", "300")
        _trade(h, op, unified, "op-2")

        # a per-strategy kill, released the same way
        out = op.ok("kill", "--strategy", "S-LIVE", "--reason", "strategy drill")
        assert "killed strategy S-LIVE (RISK_BLOCKED/kill_switch)" in out
        assert "node: not in SAFE mode" in out
        assert "killed strategies: S-LIVE" in out
        blocked = h.call(lambda: unified.submit_unified(_order("op-killed", "0.010")))
        assert blocked.status is ExecutionStatus.REJECTED
        assert "S-LIVE" in blocked.reason
        code, out = op("release", "--strategy", "S-LIVE", "--incident", " ")
        assert code == 1
        assert "no incident report reference" in out
        assert "killed strategies: S-LIVE" in out
        out = op.ok("release", "--strategy", "S-LIVE", "--incident", "INC-2")
        assert "strategy S-LIVE released (incident INC-2)" in out
        assert "killed strategies" not in out
        _trade(h, op, unified, "op-3")
        # the real console entry point agrees (a fresh process, the same control path)
        brief = subprocess.run(
            [sys.executable, "-m", "nautilus_ext.cli", "status", "--brief", "--url", op.url],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "testkit")])},
        )
        assert brief.returncode == 0, brief.stderr
        assert "node: not in SAFE mode" in brief.stdout
        assert safety.gate.oms.position(KEY) == Decimal("0.030")
    finally:
        h.stop()
    events = [r.event for r in iter_records(str(tmp_path / "audit" / "safety"))]
    messages = [e["details"].get("message") for e in events if e["event_type"] == "COMMAND"]
    assert "limits confirmed" in messages
    assert "risk loss baselines reset to current PnL" in messages
    assert "SAFE mode left (incident INC-1)" in messages
    assert "strategy kill released (incident INC-2)" in messages
