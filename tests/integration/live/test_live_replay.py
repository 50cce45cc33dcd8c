"""
A LIVE session on the fake exchange is recorded (data, operator commands, venue events) and
replayed in REPLAY against the same data: the comparison names the first divergence.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml

from nautilus_ext.audit import iter_records
from nautilus_ext.live.config import load_live_config
from nautilus_ext.replay.errors import RecordingTampered
from nautilus_ext.replay.session import replay_session
from nautilus_ext.safety.cli import send
from nautilus_ext.strategies.mean_reversion import MeanReversionStrategy
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.node_harness import start_live_node
from tests.integration.live.test_dry_run_replay import IID
from tests.integration.live.test_dry_run_replay import KEY
from tests.integration.live.test_dry_run_replay import SCRIPT
from tests.integration.live.test_dry_run_replay import _config
from tests.integration.live.test_dry_run_replay import exchange  # noqa: F401  (fixture)
from tests.integration.live.test_dry_run_replay import step

pytestmark = pytest.mark.slow
TOKEN = "r" * 40
REPO = Path(__file__).resolve().parents[3]
STRATEGY_ID = "MeanReversionStrategy-001"


def _live_yaml(tmp_path: Path, ex: FakeExchange) -> Path:
    limits = yaml.safe_load((REPO / "configs" / "safety" / "default.yaml").read_text())
    limits["arming"]["auto_confirm"] = [
        {"name": "mr-small", "strategies": [STRATEGY_ID], "max_amount": "0.010"}
    ]
    (tmp_path / "safety.yaml").write_text(yaml.safe_dump(limits))
    data = _config(tmp_path, ex)
    data.pop("dry_run")
    data["strategies"][0]["config"]["order_id_tag"] = "001"
    data.update(
        {
            "mode": "LIVE",
            "allow_live_orders": True,
            "trader_id": "LIVE-003",
            "safety": {"config_path": str(tmp_path / "safety.yaml"), "control_port": 0},
        }
    )
    data["venues"][0].update({"fill_poll_interval_ms": 500, "position_poll_interval_ms": 300})
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _record_live_session(tmp_path: Path, venue: FakeExchange, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_API_KEY", "fake-key")
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_API_SECRET", "fake-secret")
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)
    config = load_live_config(_live_yaml(tmp_path, venue))
    h, live_node = start_live_node(config)
    try:
        safety = live_node.safety
        assert safety is not None
        assert safety.control is not None
        strat = h.strategy(MeanReversionStrategy)
        node = h.node
        assert node is not None
        eventually(
            lambda: (
                node.is_running()
                and strat.is_running
                and node.cache.account_for_venue(IID.venue)
                and node.cache.order_book(IID) is not None
                and node.cache.order_book(IID).update_count > 0
            ),
            20,
            message="live node did not start",
        )
        eventually(lambda: not safety.gate.oms.feed_problems(), 10, message="feeds never healthy")
        for side, price in SCRIPT[:3]:  # not armed: decided, denied, nothing at the venue
            step(venue, node, strat, side, price)
        assert venue.received_orders == []
        _, armed = send(
            safety.control.url,
            TOKEN,
            {"command": "arm", "ttl_secs": 120, "actor": "alice", "auto_confirm": ["mr-small"]},
        )
        assert armed["ok"], armed
        for side, price in SCRIPT[3:]:
            step(venue, node, strat, side, price)
            # the venue's own position snapshot confirms each fill before the next decision
            eventually(lambda: safety.gate.oms.dirty_since(KEY) is None, 10, message="never confirmed")
        assert [r for r in strat.results.values() if r.filled_quantity]
        assert venue.received_orders
    finally:
        h.stop()
    return tmp_path / "run"


def test_a_live_session_is_recorded_and_replays_against_the_same_data(
    tmp_path: Path,
    exchange: FakeExchange,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = _record_live_session(tmp_path, exchange, monkeypatch)
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["complete"]
    assert manifest["mode"] == "LIVE"
    assert manifest["safety"]["config"]["mode"] == "LIVE"
    assert manifest["accounts"]["BYBIT"]["starting_balances"]
    commands = [json.loads(line) for line in (run / "commands.jsonl").read_text().splitlines()]
    assert [c["body"]["command"] for c in commands] == ["arm"]
    assert commands[0]["body"]["actor"] == "alice"
    assert TOKEN not in (run / "commands.jsonl").read_text()
    venue_events = [json.loads(line) for line in (run / "venue_events.jsonl").read_text().splitlines()]
    assert any(e["event"]["kind"] == "venue_positions" for e in venue_events)

    recorded = [r.event for r in iter_records(str(tmp_path / "audit" / "strategies" / "0"))]
    assert {e["mode"] for e in recorded} == {"LIVE"}
    result = replay_session(run, tmp_path / "replay")
    replayed = [r.event for r in iter_records(str(tmp_path / "replay" / "strategies" / "0"))]
    assert {e["mode"] for e in replayed} == {"REPLAY"}
    # the same gate, limits and arm: every decision, intent and order up to the first fill is
    # the same; the venue's fills (its trade ids, its round trip) are where a simulation differs
    first_fill = min(
        next(i for i, e in enumerate(log) if e["event_type"] == "FILL") for log in (recorded, replayed)
    )
    assert not result.identical
    d = result.divergence
    assert d is not None, result.describe()
    assert d.index == first_fill, result.describe()
    assert "fill:" in f"{d.left_id} {d.right_id}", result.describe()
    assert any(e["event_type"] == "ORDER" and e["id"].endswith(":SUBMITTED") for e in replayed[:first_fill])
    assert any(e["event_type"] == "ORDER" and e["id"].endswith(":DENIED") for e in replayed[:first_fill])

    # a perturbed recording: what if the operator had never armed? (the digest updated on purpose)
    what_if = tmp_path / "what-if"
    shutil.copytree(run, what_if)
    (what_if / "commands.jsonl").write_text("")
    changed = json.loads((what_if / "manifest.json").read_text())
    changed["session_files"]["commands.jsonl"] = hashlib.sha256(b"").hexdigest()
    (what_if / "manifest.json").write_text(json.dumps(changed))
    unarmed = replay_session(what_if, tmp_path / "replay-unarmed")
    first_sent = next(
        i for i, e in enumerate(recorded) if e["event_type"] == "ORDER" and "SUBMITTED" in e["id"]
    )
    d = unarmed.divergence
    assert d is not None, unarmed.describe()
    assert (d.index, d.event_type) == (first_sent, "ORDER"), unarmed.describe()
    assert str(d.right_id).startswith("order:denied-"), unarmed.describe()  # not armed: refused

    # the same edit without a matching digest is refused: a recording is what it says it is
    tampered = tmp_path / "tampered"
    shutil.copytree(run, tampered)
    (tampered / "commands.jsonl").write_text("")
    with pytest.raises(RecordingTampered, match=r"commands\.jsonl"):
        replay_session(tampered, tmp_path / "replay-tampered")


def test_a_safety_gated_dry_run_session_replays_identically(
    tmp_path: Path,
    exchange: FakeExchange,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limits = yaml.safe_load((REPO / "configs" / "safety" / "default.yaml").read_text())
    (tmp_path / "safety.yaml").write_text(yaml.safe_dump(limits))
    data = _config(tmp_path, exchange)
    data["safety"] = {"config_path": str(tmp_path / "safety.yaml"), "control_port": 0}
    path = tmp_path / "dry.yaml"
    path.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)
    config = load_live_config(path)
    h, live_node = start_live_node(config)
    try:
        safety = live_node.safety
        assert safety is not None
        assert safety.control is not None
        strat = h.strategy(MeanReversionStrategy)
        node = h.node
        assert node is not None
        eventually(
            lambda: (
                node.is_running()
                and strat.is_running
                and node.cache.order_book(IID) is not None
                and node.cache.order_book(IID).update_count > 0
            ),
            20,
            message="dry-run node did not start",
        )
        for side, price in SCRIPT[:4]:
            step(exchange, node, strat, side, price)
        # an operator kill, recorded as issued: the replay stops the strategy at the same point
        _, killed = send(
            safety.control.url, TOKEN, {"command": "kill", "actor": "bob", "strategy_id": str(strat.id)}
        )
        assert killed["ok"], killed
        for side, price in SCRIPT[4:]:
            step(exchange, node, strat, side, price)
        reasons = [(r.operation_id, r.filled_quantity, r.reason) for r in strat.results.values()]
        assert any(r.fills for r in strat.results.values()), reasons
        assert any("killed" in (r.reason or "") for r in strat.results.values()), reasons
    finally:
        h.stop()
    run = tmp_path / "run"
    commands = [json.loads(line) for line in (run / "commands.jsonl").read_text().splitlines()]
    assert [c["body"]["command"] for c in commands] == ["kill"]
    recorded = [r.event for r in iter_records(str(tmp_path / "audit" / "strategies" / "0"))]
    same = replay_session(run, tmp_path / "replay")
    assert same.identical, same.describe()
    assert same.compared == len(recorded)
