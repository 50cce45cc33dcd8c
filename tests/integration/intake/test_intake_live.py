"""
The gRPC order intake of a LIVE node on the fake Bybit (issue 24): another process submits unified
Orders over gRPC and receives its fills; a wrong token and a foreign strategy id are refused; a
replayed ``operation_id`` executes once; malformed entries come back ``INVALID_ORDER``; a stream
broken mid-way resumes from its cursor without losing or repeating results; a flood is
``RATE_LIMITED``. One node serves every test of the module (it takes seconds to start).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from nautilus_ext.client import IntakeClient
from nautilus_ext.client import IntakeDenied
from nautilus_ext.client import ResultEvent
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import RateLimited
from nautilus_ext.intake.strategy import IntakeStrategy
from nautilus_ext.live.config import load_live_config
from nautilus_ext.orders import Order
from nautilus_ext.safety.cli import send
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange.engine import MM_ACCOUNT
from nautilus_ext_testkit.node_harness import NodeHarness
from nautilus_ext_testkit.node_harness import start_live_node

pytestmark = pytest.mark.slow
IID = "BTCUSDT-LINEAR.BYBIT"
KEY = "BYBIT:PERPETUAL:BTC-USDT@LIN"
CONTROL_TOKEN = "t" * 40
EXT_TOKEN = "e" * 32
FLOOD_TOKEN = "f" * 32
REPO = Path(__file__).resolve().parents[3]


def order(op: str, amount: str = "0.010", strategy_id: str = "S-EXT", **extra: Any) -> Order:
    """A market BUY on the fake Bybit perpetual."""
    fields: dict[str, Any] = {
        "operation_id": op,
        "operation": "trade",
        "instrument_key": KEY,
        "venue": "BYBIT",
        "side": "BUY",
        "amount": Decimal(amount),
        "strategy_id": strategy_id,
        **extra,
    }
    return Order(**fields)


def _yaml(tmp: Path, ex: FakeExchange) -> Path:
    safety = yaml.safe_load((REPO / "configs" / "safety" / "default.yaml").read_text())
    # the external strategy's orders are confirmed by an armed policy, as a carry strategy's are
    safety["arming"]["auto_confirm"] = [{"name": "ext", "strategies": ["S-EXT"], "max_amount": "0.05"}]
    (tmp / "safety.yaml").write_text(yaml.safe_dump(safety))
    data: dict[str, Any] = {
        "mode": "LIVE",
        "allow_live_orders": True,
        "trader_id": "INTAKE-001",
        "log_level": "ERROR",
        "venues": [
            {
                "venue": "BYBIT",
                "adapter": "ccxt",
                "exchange_id": "bybit",
                "market_types": ["linear"],
                "instrument_ids": [IID],
                "rest_url_override": ex.base_url,
                "ws_url_override": ex.ws_url,
                "enable_rate_limit": False,
                "timeout_ms": 3000,
                "fill_poll_interval_ms": 200,
                "position_poll_interval_ms": 300,
            }
        ],
        "safety": {"config_path": str(tmp / "safety.yaml"), "control_port": 0},
        "audit": {"root": str(tmp / "audit"), "fsync": False},
        "intake": {
            "port": 0,
            "clients": [
                {"name": "ext", "token_env": "INTAKE_TEST_EXT_TOKEN", "strategy_ids": ["S-EXT"]},
                {"name": "flooder", "token_env": "INTAKE_TEST_FLOOD_TOKEN", "strategy_ids": ["S-FLOOD"]},
            ],
            "orders_per_sec": 2,
            "burst_orders": 20,
            "max_batch_orders": 20,
            "max_pending_batches": 2,
        },
        "timeout_connection_secs": 20,
    }
    path = tmp / "live.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


class Node:
    """The LIVE node of the module, armed, with its intake address."""

    def __init__(self, h: NodeHarness, ex: FakeExchange, target: str, intake: IntakeStrategy) -> None:
        self.h, self.ex, self.target, self.intake = h, ex, target, intake

    def client(self, token: str = EXT_TOKEN) -> IntakeClient:
        return IntakeClient(self.target, token)

    def venue_orders(self) -> int:
        # orders the node sent (the book's market maker is another account)
        return self.ex.call(
            lambda: sum(o.account != MM_ACCOUNT for o in self.ex.bybit.engine.orders.values())
        )

    def settle(self) -> None:
        # the gate takes no new risk while a fill awaits its position confirmation (dirty), nor on
        # stale data: wait for the one, and move the fake book (quiet unless changed) for the other
        gate = self.intake.safety_gate
        assert gate is not None
        eventually(lambda: gate.oms.dirty_since(KEY) is None, 15, message="position never reconciled")
        self.ex.call(
            lambda: self.ex.bybit.engine.seed_book(
                "BTCUSDT", bids=[(Decimal("49999.9"), Decimal(5))], asks=[(Decimal("50000.1"), Decimal(5))]
            )
        )


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    env = {
        "NAUTILUS_EXT_BYBIT_API_KEY": "fake-key",
        "NAUTILUS_EXT_BYBIT_API_SECRET": "fake-secret",
        "NAUTILUS_EXT_CONTROL_TOKEN": CONTROL_TOKEN,
        "INTAKE_TEST_EXT_TOKEN": EXT_TOKEN,
        "INTAKE_TEST_FLOOD_TOKEN": FLOOD_TOKEN,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    ex = FakeExchange()
    ex.start_in_thread()
    tmp = tmp_path_factory.mktemp("intake")
    h = None
    try:
        ex.call(
            lambda: ex.bybit.engine.seed_book(
                "BTCUSDT", bids=[(Decimal("49999.9"), Decimal(5))], asks=[(Decimal("50000.1"), Decimal(5))]
            )
        )
        h, live_node = start_live_node(load_live_config(_yaml(tmp, ex)))
        safety = live_node.safety
        assert safety is not None
        assert safety.control is not None
        intake = h.strategy(IntakeStrategy)
        assert isinstance(intake, IntakeStrategy)
        n = h.node
        assert n is not None
        eventually(
            lambda: (
                n.is_running()
                and intake.intake_port is not None
                and n.cache.order_book(intake._subscribe_ids[0])
            ),
            20,
            message="live node did not start",
        )
        eventually(lambda: not safety.gate.oms.feed_problems(), 10, message="feeds never healthy")
        _, armed = send(
            safety.control.url,
            CONTROL_TOKEN,
            {"command": "arm", "ttl_secs": 600, "actor": "alice", "auto_confirm": ["ext"]},
        )
        assert armed["ok"], armed
        yield Node(h, ex, f"127.0.0.1:{intake.intake_port}", intake)
    finally:
        if h is not None:
            h.stop()
        ex.stop_thread()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _collect(events: Iterator[ResultEvent], ops: set[str], timeout_secs: float = 15) -> list[ResultEvent]:
    # read until every op reached its final state (the stream itself never ends)
    out: list[ResultEvent] = []
    pending = set(ops)
    for e in events:
        out.append(e)
        if e.final:
            pending.discard(e.operation_id)
        if not pending:
            break
    return out


EXTERNAL = """
import json, sys
from nautilus_ext.client import IntakeClient
target, token, order_json = sys.argv[1:4]
with IntakeClient(target, token) as client:
    (ack,) = client.submit([order_json])
    print(json.dumps({"ack": [ack.operation_id, ack.accepted, ack.status, ack.code]}), flush=True)
    for e in client.stream_results("S-EXT", after_cursor=ack.cursor):
        if e.operation_id != ack.operation_id:
            continue
        line = {"kind": e.kind, "status": e.status, "payload": e.payload, "final": e.final}
        print(json.dumps(line), flush=True)
        if e.final:
            break
"""


def test_another_process_submits_over_grpc_and_receives_its_fills(node: Node) -> None:
    node.settle()
    before = node.venue_orders()
    out = subprocess.run(
        [sys.executable, "-c", EXTERNAL, node.target, EXT_TOKEN, order("ext-1").to_json()],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        check=False,
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert lines[0]["ack"] == ["ext-1", True, "UNFILLED", ""]
    kinds = [line["kind"] for line in lines[1:]]
    fills = [line for line in lines[1:] if line["kind"] == "FILL"]
    assert sum(Decimal(f["payload"]["quantity"]) for f in fills) == Decimal("0.010")
    assert all(f["payload"]["venue"] == "BYBIT" for f in fills)
    deltas = [line["payload"] for line in lines[1:] if line["kind"] == "POSITION_DELTA"]
    assert sum(Decimal(d[KEY]) for d in deltas) == Decimal("0.010")
    assert kinds[-1] == "STATE"
    assert lines[-1]["status"] == "FILLED"
    assert lines[-1]["final"] is True
    assert node.venue_orders() == before + 1
    # the same path as an in-process order: the intake strategy's result, audited
    with node.client() as client:
        state = client.get_order("ext-1")
        assert state.final
        assert state.summary["status"] == "FILLED"
        assert client.get_positions("S-EXT")[KEY] >= Decimal("0.010")


def test_wrong_token_and_foreign_strategy_are_refused(node: Node) -> None:
    before = node.venue_orders()
    with node.client("x" * 32) as bad, pytest.raises(IntakeDenied) as denied:
        bad.submit([order("tok-1")])
    assert denied.value.reason == "UNAUTHENTICATED"
    with node.client("x" * 32) as bad, pytest.raises(IntakeDenied):
        list(bad.stream_results("S-EXT"))
    with node.client(FLOOD_TOKEN) as other, pytest.raises(IntakeDenied) as foreign:
        other.submit([order("tok-2", strategy_id="S-EXT")])
    assert foreign.value.reason == "PERMISSION_DENIED"
    with node.client(FLOOD_TOKEN) as other, pytest.raises(IntakeDenied):
        other.get_positions("S-EXT")
    assert node.venue_orders() == before


def test_a_replayed_submit_executes_once(node: Node) -> None:
    node.settle()
    before = node.venue_orders()
    with node.client() as client:
        # the same id twice inside one batch
        first = client.submit([order("replay-1"), order("replay-2"), order("replay-1")])
        assert [(a.accepted, a.duplicate) for a in first] == [(True, False), (True, False), (True, True)]
        eventually(lambda: client.get_order("replay-2").final, 15, message="replay-2 never final")
        eventually(lambda: client.get_order("replay-1").final, 15, message="replay-1 never final")
        assert Decimal(client.get_order("replay-1").summary["filled_quantity"]) == Decimal("0.010")
        node.settle()
        # retried later (a client that timed out and resends its batch)
        again = client.submit([order("replay-2"), order("replay-1")])
        assert [(a.accepted, a.duplicate, a.status) for a in again] == [(True, True, "FILLED")] * 2
    assert node.venue_orders() == before + 2


def test_malformed_entries_come_back_invalid_order(node: Node) -> None:
    node.settle()
    good = order("mal-ok", amount="0.010", metadata={"note": "fine"})
    bad_amount = json.loads(order("mal-1").to_json()) | {"amount": "-1"}
    with node.client() as client:
        acks = client.submit(
            ["{not json", json.dumps(bad_amount), json.dumps({"operation_id": "mal-2"}), good.to_json()]
        )
        acks += client.submit([order("mal-3", strategy_id=None)])  # type: ignore[arg-type]
    codes = [(a.operation_id, a.accepted, a.code) for a in acks]
    assert codes[0] == ("", False, "INVALID_ORDER")
    assert codes[1] == ("mal-1", False, "INVALID_ORDER")
    assert codes[2] == ("mal-2", False, "INVALID_ORDER")
    assert codes[3][1] is True  # a good order in the same batch still goes through
    assert codes[4] == ("mal-3", False, "INVALID_ORDER")
    assert "amount" in acks[1].message
    assert "strategy_id" in acks[4].message


def test_a_stream_broken_mid_way_resumes_without_loss_or_repeat(node: Node) -> None:
    node.settle()
    ops = {"res-1", "res-2", "res-3"}
    with node.client() as client:
        start = client.submit([order("res-0")])[0].cursor
        eventually(lambda: client.get_order("res-0").final, 15, message="res-0 never final")
    node.settle()
    first = node.client()
    acks = first.submit([order(op) for op in sorted(ops)])
    assert all(a.accepted for a in acks)
    seen: list[ResultEvent] = []
    for e in first.stream_results("S-EXT", after_cursor=start):
        seen.append(e)
        if len(seen) == 3:
            break
    first.close()  # the client goes away mid-stream
    with node.client() as second:
        seen += _collect(second.stream_results("S-EXT", after_cursor=seen[-1].cursor), ops)
        eventually(lambda: all(second.get_order(op).final for op in ops), 15, message="not final")
        with node.client() as third:
            full = _collect(third.stream_results("S-EXT", after_cursor=start), ops)
    cursors = [e.cursor for e in seen]
    assert cursors == sorted(set(cursors))  # no repeat, in order
    assert cursors == [e.cursor for e in full][: len(cursors)]  # nothing lost
    for op in ops:
        filled = sum(
            Decimal(e.payload["quantity"]) for e in seen if e.operation_id == op and e.kind == "FILL"
        )
        assert filled == Decimal("0.010")


def test_a_flood_is_rate_limited(node: Node) -> None:
    # orders on a venue this node does not run: parsed and counted, then refused by routing
    okx = {"strategy_id": "S-FLOOD", "venue": "OKX", "instrument_key": "OKX:PERPETUAL:BTC-USDT@LIN"}
    with node.client(FLOOD_TOKEN) as client:
        acks = client.submit([order(f"flood-{i}", **okx) for i in range(20)])  # the burst passes
        assert [a.code for a in acks] == ["NO_ROUTE"] * 20
        # then 2 orders/s: the next batches are refused whole, nothing executed
        for i in range(3):
            with pytest.raises(RateLimited, match="RATE_LIMITED"):
                client.submit([order(f"flood-x{i}", **okx), order(f"flood-y{i}", **okx)])
        with pytest.raises(InvalidOrder, match="no order"):
            client.get_order("flood-x0")


def test_the_submit_command_reads_stdin_and_follows_the_results(node: Node) -> None:
    from typer.testing import CliRunner

    from nautilus_ext.cli import app

    node.settle()
    lines = "\n".join([order("cli-1").to_json(), "{broken"])  # JSON lines, one malformed
    result = CliRunner().invoke(
        app,
        ["submit", "-", "--url", node.target, "--follow", "--timeout", "20"],
        input=lines,
        env={"NAUTILUS_EXT_INTAKE_TOKEN": EXT_TOKEN},
    )
    assert result.exit_code == 1, result.output  # one entry refused
    out = [json.loads(line) for line in result.stdout.splitlines()]
    acks = [o["ack"] for o in out if "ack" in o]
    assert [(a["operation_id"], a["accepted"], a["code"]) for a in acks] == [
        ("cli-1", True, ""),
        ("", False, "INVALID_ORDER"),
    ]
    events = [o["event"] for o in out if "event" in o]
    assert {e["operation_id"] for e in events} == {"cli-1"}
    assert events[-1]["final"] is True
    assert events[-1]["status"] == "FILLED"
    fills = [e for e in events if e["kind"] == "FILL"]
    assert sum(Decimal(e["payload"]["quantity"]) for e in fills) == Decimal("0.010")
    # no token: a typed error, exit 2
    denied = CliRunner().invoke(
        app, ["submit", "-", "--url", node.target], input=lines, env={"NAUTILUS_EXT_INTAKE_TOKEN": ""}
    )
    assert denied.exit_code == 2
    assert "NAUTILUS_EXT_INTAKE_TOKEN" in denied.output


def test_an_atomic_group_travels_and_is_decided_whole(node: Node) -> None:
    # the legs reach submit_group together and share one decision: here the LIVE gate's (a group
    # is not covered by the auto-confirm policy), exactly as for an in-process submit_group
    node.settle()
    before = node.venue_orders()
    legs = [
        order("grp-a", atomic_group_id="G-1", sequence_in_group=0),
        order("grp-b", atomic_group_id="G-1", sequence_in_group=1, side="SELL"),
    ]
    with node.client() as client:
        acks = client.submit([legs[1].to_json(), legs[0].to_json()])  # out of order on the wire
        after = min(a.cursor for a in acks)
        events = _collect(client.stream_results("S-EXT", after_cursor=after), {"grp-a", "grp-b"})
        (alone,) = client.submit([order("grp-c", atomic_group_id="G-2", sequence_in_group=0)])
    assert [a.operation_id for a in acks] == ["grp-b", "grp-a"]
    assert {(a.accepted, a.code, a.message) for a in acks} == {(False, "RISK_BLOCKED", acks[0].message)}
    assert "no confirmation" in acks[0].message
    assert sorted((e.operation_id, e.kind, e.code, e.final) for e in events) == [
        ("grp-a", "REJECTED", "RISK_BLOCKED", True),
        ("grp-b", "REJECTED", "RISK_BLOCKED", True),
    ]
    assert node.intake.groups["G-1"].status == "REJECTED"
    # one leg alone is refused by the group execution, never sent as a plain order
    assert (alone.accepted, alone.code) == (False, "INVALID_ORDER")
    assert "exactly two legs" in alone.message
    assert node.venue_orders() == before


def test_a_resting_order_is_cancelled_over_grpc(node: Node) -> None:
    node.settle()
    with node.client() as client:
        (ack,) = client.submit([order("cxl-1", price=Decimal("45000"))])  # rests below the book
        assert ack.accepted
        eventually(
            lambda: node.ex.call(
                lambda: any(
                    o.account != MM_ACCOUNT and o.is_open for o in node.ex.bybit.engine.orders.values()
                )
            ),
            10,
            message="the limit never rested at the venue",
        )
        assert not client.get_order("cxl-1").final
        cancelled = client.cancel("cxl-1")
        assert cancelled.accepted, cancelled
        events = _collect(client.stream_results("S-EXT", after_cursor=ack.cursor), {"cxl-1"})
        assert events[-1].operation_id == "cxl-1"
        assert (events[-1].kind, events[-1].status, events[-1].final) == ("STATE", "UNFILLED", True)
        assert not [e for e in events if e.kind == "FILL"]
        again = client.cancel("cxl-1")
        assert (again.accepted, again.code) == (False, "INVALID_ORDER")
        assert "no working venue order" in again.message
        unknown = client.cancel("cxl-none")
        assert (unknown.accepted, unknown.code, unknown.message) == (
            False,
            "INVALID_ORDER",
            "unknown operation_id",
        )
    assert node.ex.call(
        lambda: not any(o.account != MM_ACCOUNT and o.is_open for o in node.ex.bybit.engine.orders.values())
    )


def test_a_full_submit_queue_is_rate_limited_not_buffered(node: Node) -> None:
    node.settle()
    loop = node.intake._loop
    assert loop is not None
    release = threading.Event()
    loop.call_soon_threadsafe(release.wait, 10)  # the node's loop is busy: batches queue up
    outcomes: list[object] = []

    def submit(op: str) -> None:
        with node.client() as client:
            outcomes.append(client.submit([order(op, price=Decimal("45000"))])[0].accepted)

    threads = [threading.Thread(target=submit, args=(f"queue-{i}",)) for i in range(2)]
    try:
        for t in threads:
            t.start()
        eventually(lambda: node.intake._pending.qsize() == 2, 5, message="the batches never queued")
        with node.client() as client, pytest.raises(RateLimited, match="2 batches already waiting"):
            client.submit([order("queue-x", price=Decimal("45000"))])
    finally:
        release.set()
        for t in threads:
            t.join(15)
    assert outcomes == [True, True]  # the queued ones execute once the loop is free
    with node.client() as client:
        assert client.get_order("queue-0").summary["order_type"] == "LIMIT"
        with pytest.raises(InvalidOrder, match="no order"):
            client.get_order("queue-x")  # refused whole: never reached the node
