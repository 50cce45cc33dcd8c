"""
Seed 001, section 9, criteria 1, 2 and 5 in one run: the very same strategy class and config
run unmodified in DRY_RUN (recorded), REPLAY and LIVE; in LIVE nothing executes before an
explicit arm (here with an auto-confirm policy, which is configuration and needs the arm), and
every intent is in the same audit format in all three modes.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from nautilus_ext.audit import iter_records
from nautilus_ext.audit import verify_log
from nautilus_ext.audit.lineage import show
from nautilus_ext.live.config import load_live_config
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
from tests.integration.live.test_dry_run_replay import _record_session
from tests.integration.live.test_dry_run_replay import _seed
from tests.integration.live.test_dry_run_replay import exchange  # noqa: F401  (fixture)
from tests.integration.live.test_dry_run_replay import step

pytestmark = pytest.mark.slow
TOKEN = "m" * 40
REPO = Path(__file__).resolve().parents[3]
STRATEGY_ID = "MeanReversionStrategy-001"


def _strategy_section(tmp_path: Path, ex: FakeExchange) -> dict[str, Any]:
    section: dict[str, Any] = _config(tmp_path, ex)["strategies"][0]
    section["config"]["order_id_tag"] = "001"
    return section


def _live_yaml(tmp_path: Path, ex: FakeExchange, strategy: dict[str, Any]) -> Path:
    limits = yaml.safe_load((REPO / "configs" / "safety" / "default.yaml").read_text())
    # an auto-confirm policy is configuration: it does nothing until an arm names it
    policy = {"name": "mr-small", "strategies": [STRATEGY_ID], "max_amount": "0.010"}
    limits["arming"]["auto_confirm"] = [policy]
    (tmp_path / "safety.yaml").write_text(yaml.safe_dump(limits))
    data = _config(tmp_path / "live", ex)
    for key in ("dry_run", "record"):
        data.pop(key)
    data.update(
        {
            "mode": "LIVE",
            "allow_live_orders": True,
            "trader_id": "LIVE-002",
            "strategies": [strategy],
            "safety": {"config_path": str(tmp_path / "safety.yaml"), "control_port": 0},
        }
    )
    data["venues"][0].update({"fill_poll_interval_ms": 500, "position_poll_interval_ms": 300})
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _intents(root: Path) -> list[dict[str, Any]]:
    return [r.event for r in iter_records(str(root)) if r.event["event_type"] == "INTENT"]


def test_one_strategy_runs_unmodified_in_dry_run_replay_and_live(
    tmp_path: Path,
    exchange: FakeExchange,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    strategy = _strategy_section(tmp_path, exchange)
    pristine = copy.deepcopy(strategy)

    # DRY_RUN, recorded: live data, simulated fills, nothing at the venue
    monkeypatch.setattr(
        "tests.integration.live.test_dry_run_replay._config",
        lambda tmp, ex: {**_config(tmp, ex), "strategies": [copy.deepcopy(strategy)]},
    )
    (tmp_path / "dry").mkdir()
    run, dry = _record_session(tmp_path / "dry", exchange)
    assert exchange.received_orders == []
    dry_intents = _intents(tmp_path / "dry" / "audit" / "strategies" / "0")
    assert len(dry_intents) >= 3
    assert {e["strategy_id"] for e in dry_intents} == {STRATEGY_ID}

    # REPLAY of that recording: the same decisions, bit for bit
    replayed = replay_session(run, tmp_path / "replay")
    assert replayed.identical, replayed.describe()

    # LIVE against the venue (a fresh one: the DRY_RUN's external trades took its liquidity)
    venue = FakeExchange()
    venue.start_in_thread()
    _seed(venue)
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_API_KEY", "fake-key")
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_API_SECRET", "fake-secret")
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)
    config = load_live_config(_live_yaml(tmp_path, venue, strategy))
    h, live_node = start_live_node(config)
    try:
        safety = live_node.safety
        assert safety is not None
        assert safety.control is not None
        strat = h.strategy(MeanReversionStrategy)
        assert type(strat) is type(dry)
        assert str(strat.id) == STRATEGY_ID
        node = h.node
        assert node is not None
        eventually(
            lambda: (
                node.is_running()
                and node.cache.account_for_venue(IID.venue)
                and node.cache.order_book(IID) is not None
                and node.cache.order_book(IID).update_count > 0
            ),
            20,
            message="live node did not start",
        )
        eventually(lambda: not safety.gate.oms.feed_problems(), 10, message="feeds never healthy")

        # not armed: the strategy decides exactly as in DRY_RUN, and nothing reaches the venue
        for side, price in SCRIPT[:3]:
            step(venue, node, strat, side, price)
        (refused,) = strat.results.values()
        assert refused.reason.startswith("RISK_BLOCKED"), refused.reason
        assert "not armed" in refused.reason
        assert venue.received_orders == []
        live_intents = _intents(tmp_path / "live" / "audit" / "strategies" / "0")
        first = {k: dry_intents[0][k] for k in ("asset", "side", "qty", "strategy_id")}
        assert {k: live_intents[0][k] for k in first} == first

        # armed by a human, with the policy enabled: the strategy's small orders go to the venue
        _, armed = send(
            safety.control.url,
            TOKEN,
            {"command": "arm", "ttl_secs": 120, "actor": "alice", "auto_confirm": ["mr-small"]},
        )
        assert armed["ok"], armed
        for side, price in SCRIPT[3:]:
            step(venue, node, strat, side, price)
        filled = [r for r in strat.results.values() if r.filled_quantity]
        assert filled, strat.results
        assert all(r.filled_quantity == Decimal("0.010") for r in filled)
        sent = {o.client_id for o in venue.received_orders}
        assert {r.client_order_id for r in filled} <= sent
        assert safety.chokepoint.denied == [], safety.chokepoint.denied
    finally:
        h.stop()
        venue.stop_thread()
    assert strategy == pristine  # nothing was modified for any mode

    # one audit format in every mode: the same INTENT fields, only the mode differs
    live_intents = _intents(tmp_path / "live" / "audit" / "strategies" / "0")
    replay_intents = _intents(tmp_path / "replay" / "strategies" / "0")
    assert {e["mode"] for e in dry_intents} == {"DRY_RUN"}
    assert {e["mode"] for e in replay_intents} == {"REPLAY"}
    assert {e["mode"] for e in live_intents} == {"LIVE"}
    assert set(dry_intents[0]) == set(live_intents[0]) == set(replay_intents[0])
    assert verify_log(str(tmp_path / "live" / "audit" / "strategies" / "0")).ok
    # the arm and each auto-confirmation are on the safety log
    safety_log = [r.event for r in iter_records(str(tmp_path / "live" / "audit" / "safety"))]
    confirms = [e for e in safety_log if e.get("command") == "CONFIRM" and e.get("outcome") == "ACCEPTED"]
    assert len(confirms) >= len(filled)
    assert all(e["actor"] == "auto:mr-small" for e in confirms)
    assert any(e.get("command") == "ARM" and e.get("actor") == "alice" for e in safety_log)
    assert KEY in {e["asset"] for e in live_intents}

    # every intent links to the decision behind it: why (rationale) and what it looked at
    # (inputs, content-addressed); a live fill traces back to it
    root = tmp_path / "live" / "audit" / "strategies" / "0"
    events = [r.event for r in iter_records(str(root))]
    decisions = {e["id"]: e for e in events if e["event_type"] == "DECISION"}
    assert {e["decision_id"] for e in live_intents} == set(decisions)
    # a staged intent released by its confirmation is recorded once, not again on release
    assert len(decisions) == len(live_intents) == len({e["id"] for e in live_intents})
    for decision in decisions.values():
        assert "bps off the 3-trade mean" in decision["rationale"]
        assert decision["inputs_ref"].startswith("sha256:")
        assert {"price", "mean", "trade_id", "position"} <= set(decision["details"])
    traced = show(f"intent:{filled[0].operation_id}", str(root))
    assert traced is not None
    assert traced.decision is not None
    assert traced.decision.id == f"decision:{filled[0].operation_id}"
    assert traced.fills
