"""
A LIVE node with read-only keys, and a LIVE node that cannot start (issue 13, items 6 and 14).

* ``key_scope: read``: the node runs on the read variables only (data, account, status over
  the control endpoint) and every order to the venue is DENIED ``RISK_BLOCKED``
  (``read_only_venue``) before anything is sent.
* A venue that cannot be reached at start: ``nautilus-ext live`` stops the node once its start
  timeouts have passed and exits ``[VENUE_UNAVAILABLE]`` with code 1; meanwhile the control
  port is never bound, so an operator's ``status`` is refused at once instead of hanging.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.live.config import load_live_config
from nautilus_ext.safety.cli import send
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.node_harness import start_live_node

from .test_live_safety_node import IID
from .test_live_safety_node import TOKEN
from .test_live_safety_node import _order
from .test_live_safety_node import _yaml

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def exchange() -> Iterator[FakeExchange]:
    from decimal import Decimal

    ex = FakeExchange()
    ex.start_in_thread()
    ex.call(
        lambda: ex.bybit.engine.seed_book(
            "BTCUSDT", bids=[(Decimal("49999.9"), Decimal(2))], asks=[(Decimal("50000.1"), Decimal(2))]
        )
    )
    yield ex
    ex.stop_thread()


def test_read_only_node_runs_on_read_keys_and_sends_nothing(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NAUTILUS_EXT_BYBIT_API_KEY", "NAUTILUS_EXT_BYBIT_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_READ_API_KEY", "fake-key")  # the key the fake knows
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_READ_API_SECRET", "fake-secret")
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)
    path = _yaml(tmp_path, exchange)
    data = yaml.safe_load(path.read_text())
    data["venues"][0]["key_scope"] = "read"
    data["strategies"] = data["strategies"][:1]
    path.write_text(yaml.safe_dump(data))
    config = load_live_config(path)
    h, live_node = start_live_node(config)
    try:
        safety = live_node.safety
        assert safety is not None
        assert safety.control is not None
        assert "BYBIT" in safety.gate.config.risk.read_only_venues
        node = h.node
        assert node is not None
        eventually(
            lambda: node.is_running() and node.cache.account_for_venue(IID.venue), 20, message="no account"
        )
        status, reply = send(safety.control.url, TOKEN, {"command": "status"})
        assert status == 200, reply
        unified = h.strategy(UnifiedExecutionStrategy)
        assert send(safety.control.url, TOKEN, {"command": "arm", "ttl_secs": 60, "actor": "alice"})[0] == 200
        result = h.call(lambda: unified.submit_unified(_order("op-ro", "0.010")))
        if result.reason.startswith("AWAITING_CONFIRMATION"):
            _, st = send(safety.control.url, TOKEN, {"command": "status"})
            (staged,) = st["status"]["staged"]
            confirm = {"command": "confirm", "intent_hash": staged["intent_hash"], "actor": "alice"}
            assert send(safety.control.url, TOKEN, confirm)[0] == 200
            eventually(lambda: unified.results["op-ro"].status is ExecutionStatus.REJECTED, 10)
            result = unified.results["op-ro"]
        assert result.status is ExecutionStatus.REJECTED
        assert result.reason.startswith("RISK_BLOCKED"), result.reason
        assert "read-only" in result.reason
        assert exchange.received_orders == []
    finally:
        h.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("failure", ["wrong key", "venue unreachable"])
def test_node_that_cannot_start_exits_typed_and_never_accepts_on_the_control_port(
    tmp_path: Path, exchange: FakeExchange, failure: str
) -> None:
    if failure == "wrong key":  # the fake exchange answers 10003 "API key is invalid"
        rest, ws, key = exchange.base_url, exchange.ws_url, "not-the-key"
    else:
        dead = _free_port()  # nothing listens there
        rest, ws, key = f"http://127.0.0.1:{dead}", f"ws://127.0.0.1:{dead}", "fake-key"
    control = _free_port()
    data: dict[str, Any] = {
        "mode": "LIVE",
        "allow_live_orders": True,
        "trader_id": "DEAD-001",
        "log_level": "ERROR",
        "venues": [
            {
                "venue": "BYBIT",
                "adapter": "ccxt",
                "exchange_id": "bybit",
                "market_types": ["linear"],
                "instrument_ids": [str(IID)],
                "rest_url_override": rest,
                "ws_url_override": ws,
                "enable_rate_limit": False,
                "timeout_ms": 500,
            }
        ],
        "safety": {"config_path": str(REPO / "configs" / "safety" / "default.yaml"), "control_port": control},
        "timeout_connection_secs": 2,
        "timeout_reconciliation_secs": 1,
    }
    path = tmp_path / "dead.yaml"
    path.write_text(yaml.safe_dump(data))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "testkit")]),
        "NAUTILUS_EXT_CONTROL_TOKEN": TOKEN,
        "NAUTILUS_EXT_BYBIT_API_KEY": key,
        "NAUTILUS_EXT_BYBIT_API_SECRET": "fake-secret",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", "from nautilus_ext.cli import main; main()", "live", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    probes = 0
    try:
        while process.poll() is None:
            with pytest.raises(ConnectionRefusedError):  # refused at once, never a hang
                socket.create_connection(("127.0.0.1", control), timeout=2).close()
            probes += 1
            time.sleep(0.5)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert probes > 5
    assert process.returncode == 1, (out, err)
    assert "[VENUE_UNAVAILABLE]" in err
    assert "Traceback" not in err
