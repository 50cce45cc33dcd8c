"""
The Telegram control plane against a LIVE node on the fake exchange, through python-telegram-bot
pointed at a local stand-in of the Bot API: a stranger is ignored; /status; /arm in LIVE takes
a /yes code; /intent stages an order (nothing executes); /confirm checks the hash, asks, and the
/yes fills it; /positions; /kill pushes the SAFE-mode alert; every command is logged and the
gate audits what reached it as telegram:<user id>.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from nautilus_ext.audit import iter_records
from nautilus_ext.live.config import load_live_config
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.node_harness import start_live_node
from nautilus_ext_testkit.telegram_api import FakeTelegramApi
from tests.integration.live.test_live_safety_node import IID
from tests.integration.live.test_live_safety_node import KEY
from tests.integration.live.test_live_safety_node import TOKEN
from tests.integration.live.test_live_safety_node import _yaml
from tests.integration.live.test_live_safety_node import exchange

__all__ = ["exchange"]  # the fixture

pytestmark = pytest.mark.slow
BOT_TOKEN = "123456:test-token-for-the-local-bot-api"
ALICE = 111
STRANGER = 999


def _telegram_yaml(tmp_path: Path, ex: FakeExchange, api: FakeTelegramApi) -> Path:
    path = _yaml(tmp_path, ex)
    data = yaml.safe_load(path.read_text())
    data["telegram"] = {
        "api_base_url": api.base_url,
        "allowed_user_ids": [ALICE],
        "allowed_chat_ids": [ALICE],
        "poll_timeout_secs": 2,
    }
    path.write_text(yaml.safe_dump(data))
    return path


def _code(text: str) -> str:
    found = re.search(r"/yes (\d{6})", text)
    assert found is not None, text
    return found.group(1)


def test_telegram_commands_drive_a_live_node(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_API_KEY", "fake-key")
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_API_SECRET", "fake-secret")
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)
    monkeypatch.setenv("NAUTILUS_EXT_TELEGRAM_TOKEN", BOT_TOKEN)
    api = FakeTelegramApi(BOT_TOKEN)
    api.start()
    h, live_node = start_live_node(load_live_config(_telegram_yaml(tmp_path, exchange, api)))
    try:
        node = h.node
        assert node is not None
        safety = live_node.safety
        assert safety is not None
        gate = safety.gate
        eventually(
            lambda: (
                node.is_running() and node.cache.account_for_venue(IID.venue) and node.cache.order_book(IID)
            ),
            20,
            message="live node did not start",
        )
        eventually(lambda: not gate.oms.feed_problems(), 10, message="feeds never healthy")

        def say(text: str, expect: str) -> str:
            seen = len(api.messages_to(ALICE))
            api.user_sends(ALICE, ALICE, text, "alice")
            return api.wait_for(ALICE, lambda t: expect in t and t not in api.messages_to(ALICE)[:seen])

        api.user_sends(STRANGER, STRANGER, "/kill", "mallory")
        status = say("/status", "mode LIVE")
        assert "NOT armed" in status
        assert gate.safe is None  # the stranger's /kill did nothing
        assert api.messages_to(STRANGER) == []

        # /arm in LIVE takes two steps; a wrong code starts over
        ask = say("/arm 300", "to arm LIVE for 300s")
        assert "wrong code" in say("/yes 000000" if _code(ask) != "000000" else "/yes 111111", "wrong code")
        assert not gate.arming.is_armed()
        ask = say("/arm 300", "to arm LIVE for 300s")
        assert "node: not in SAFE mode, armed" in say(f"/yes {_code(ask)}", "done: arm LIVE for 300s")
        assert gate.arming.is_armed()

        # /intent stages only
        staged = say(f"/intent UnifiedExecutionStrategy-000 BUY 0.010 {KEY}", "staged tg-")
        found = re.search(r"/confirm (\S+) ([0-9a-f]{64})", staged)
        assert found is not None, staged
        intent_id, digest = found.groups()
        assert gate.oms.position(KEY) == 0
        assert "hash does not match" in say(f"/confirm {intent_id} {'0' * 64}", "hash does not match")
        ask = say(f"/confirm {intent_id} {digest}", f"to confirm {intent_id}: BUY 0.010 {KEY}")
        say(f"/yes {_code(ask)}", f"done: confirm {intent_id}")
        eventually(lambda: gate.oms.position(KEY) == Decimal("0.010"), 10, message="the intent never filled")
        eventually(lambda: gate.oms.dirty_since(KEY) is None, 10, message="never reconciled")
        assert f"{KEY}: 0.01" in say("/positions", KEY)

        # /kill: SAFE mode, and the alert is pushed to the allowed chat
        assert "killed everything: SAFE mode" in say("/kill", "killed everything")
        assert gate.safe is not None
        api.wait_for(ALICE, lambda t: t.startswith("ALERT CRITICAL SAFE_MODE"))
        assert "unknown command /sudo" in say("/sudo", "unknown command")
    finally:
        h.stop()
        api.stop()
    log = [
        json.loads(line)
        for line in (tmp_path / "audit" / "telegram" / "commands.jsonl").read_text().splitlines()
    ]
    assert {"user_id": STRANGER, "command": "/kill", "outcome": "REFUSED"}.items() <= log[0].items()
    assert [r["command"] for r in log if r["user_id"] == ALICE][:4] == ["/status", "/arm", "/yes", "/arm"]
    events = [r.event for r in iter_records(str(tmp_path / "audit" / "safety"))]
    commands = {(e["command"], e["actor"]) for e in events if e["event_type"] == "COMMAND"}
    for kind in ("ARM", "CONFIRM", "KILL"):
        assert (kind, f"telegram:{ALICE}") in commands
    strategy_log = tmp_path / "audit" / "strategies" / "0"
    decisions = [r.event for r in iter_records(str(strategy_log)) if r.event["event_type"] == "DECISION"]
    assert any(d["rationale"] == f"operator intent by telegram:{ALICE}" for d in decisions)
