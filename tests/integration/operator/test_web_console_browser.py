"""
The web console in a real browser (Playwright driving Debian's Chromium) against a LIVE node on
the fake exchange: log in, arm, confirm a staged order by its hash and watch its fill appear in
the tradebook over the event stream, follow the fill to its audit trail, cancel-all a resting
order, kill, walk the resume checklist back out of SAFE mode; a viewer can look but not act.

Screenshots of the main pages go to ``build/screenshots/`` (see the README).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright import sync_api as playwright

from nautilus_ext.audit import iter_records
from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.live.config import load_live_config
from nautilus_ext.operator.web import WebConsoleActor
from nautilus_ext.orders import Order
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
SCREENSHOTS = REPO / "build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
OPERATOR_SECRET = "alice-console-secret-0123456789"
VIEWER_SECRET = "victor-console-secret-012345678"
WAIT_MS = 15_000


def _chromium() -> str:
    # the browser cannot be downloaded here: Debian's chromium, installed if missing
    if not Path(CHROMIUM).exists() and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(
            ["apt-get", "install", "-y", "chromium"], check=False, capture_output=True, timeout=600
        )
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make services` (apt-get install -y chromium)")
    return CHROMIUM


def _web_yaml(tmp_path: Path, ex: FakeExchange) -> Path:
    path = _yaml(tmp_path, ex)
    data = yaml.safe_load(path.read_text())
    data["web"] = {"port": 0}
    path.write_text(yaml.safe_dump(data))
    return path


def _limit(op: str, amount: str, price: str) -> Order:
    return _order(op, amount).model_copy(update={"price": Decimal(price)})


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _login(page: Any, url: str, user: str, secret: str) -> None:
    page.goto(url + "/login")
    page.fill("#user", user)
    page.fill("#secret", secret)
    page.click("#btn-login")
    page.wait_for_url(url + "/")


def _stage_and_confirm(h: NodeHarness, page: Any, unified: UnifiedExecutionStrategy, order: Order) -> str:
    held = h.call(lambda: unified.submit_unified(order))
    assert held.reason.startswith("AWAITING_CONFIRMATION"), held.reason
    # the staged intent appears on the dashboard over the event stream; step one shows the hash
    link = page.locator("#staged a.confirm-link", has_text="")
    link.first.wait_for(timeout=WAIT_MS)
    page.locator("#staged tr", has_text=order.operation_id).locator("a.confirm-link").click()
    page.wait_for_selector("#intent-hash")
    intent_hash: str = page.inner_text("#intent-hash")
    assert order.operation_id in page.inner_text("main")
    return intent_hash


def test_console_drives_a_live_node_in_a_browser(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_API_KEY", "fake-key")
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_API_SECRET", "fake-secret")
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)
    monkeypatch.setenv(
        "NAUTILUS_EXT_WEB_USERS", f"alice:operator:{OPERATOR_SECRET},victor:viewer:{VIEWER_SECRET}"
    )
    h, live_node = start_live_node(load_live_config(_web_yaml(tmp_path, exchange)))
    try:
        # Playwright's sync API runs a loop on this thread: it ends before the node is stopped
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
            _drive(h, live_node, browser)
            browser.close()
    finally:
        h.stop()
    events = [r.event for r in iter_records(str(tmp_path / "audit" / "safety"))]
    commands = {(e["command"], e["actor"]) for e in events if e["event_type"] == "COMMAND"}
    for kind in (CommandKind.ARM, CommandKind.CONFIRM, CommandKind.KILL, CommandKind.RESUME):
        assert (str(kind), "web:alice") in commands, (kind, sorted(map(str, commands)))
    rules = {e.get("reason", "") for e in events if e["event_type"] == "COMMAND"}
    assert any("flatten UnifiedExecutionStrategy-000: 1 closing order(s) sent" in r for r in rules), rules


def _drive(h: NodeHarness, live_node: Any, browser: Any) -> None:
    node = h.node
    assert node is not None
    safety = live_node.safety
    assert safety is not None
    gate = safety.gate
    (console,) = [a for a in node.trader.actors() if isinstance(a, WebConsoleActor)]
    url = console.url
    unified = h.strategy(UnifiedExecutionStrategy)
    eventually(
        lambda: node.is_running() and node.cache.account_for_venue(IID.venue) and node.cache.order_book(IID),
        20,
        message="live node did not start",
    )
    eventually(lambda: not gate.oms.feed_problems(), 10, message="feeds never healthy")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(url + "/login")
    _shot(page, "01-login")
    page.fill("#user", "alice")
    page.fill("#secret", "not the secret")
    page.click("#btn-login")
    assert "wrong name or secret" in page.inner_text("#login-error")
    _login(page, url, "alice", OPERATOR_SECRET)
    assert "NOT armed" in page.inner_text("#node")

    # arm with a TTL
    page.fill("#arm-ttl", "600")
    page.click("#node #btn-arm")
    page.wait_for_selector("#node #armed.ok", timeout=WAIT_MS)
    assert gate.arming.is_armed()

    # a staged market order: the two-step confirm by hash, then its fill in the tradebook
    intent_hash = _stage_and_confirm(h, page, unified, _order("op-web-1", "0.010"))
    _shot(page, "02-confirm-intent")
    page.click("#btn-confirm")
    page.wait_for_url(url + "/")
    assert f"released op-web-1 ({intent_hash})" in page.inner_text("body")
    page.locator("#tradebook td", has_text="BTCUSDT-LINEAR.BYBIT").first.wait_for(timeout=WAIT_MS)
    eventually(lambda: unified.results["op-web-1"].status is ExecutionStatus.FILLED, 10, message="no fill")
    assert "0.010" in page.inner_text("#tradebook")
    page.locator("#positions td", has_text="clean").first.wait_for(timeout=WAIT_MS)
    _shot(page, "03-dashboard-fill")

    # the fill's audit trail: Decision -> Intent -> Order -> Fill
    page.locator("#tradebook a").first.click()
    page.wait_for_selector("#lineage", timeout=WAIT_MS)
    lineage = page.inner_text("#lineage")
    assert "-> Order" in lineage
    assert "-> Fill" in lineage
    _shot(page, "04-audit-trail")
    page.goto(url + "/")

    # a resting limit order, confirmed the same way, then cancel-all at its venue
    _stage_and_confirm(h, page, unified, _limit("op-web-2", "0.010", "40000"))
    page.click("#btn-confirm")
    page.wait_for_url(url + "/")
    page.locator("#orders td", has_text="40000").first.wait_for(timeout=WAIT_MS)
    _shot(page, "05-open-orders")
    page.locator("#orders form", has_text="cancel all at BYBIT").locator("button").click()
    page.wait_for_url(url + "/")
    assert "cancel_all: 1 cancel(s) sent" in page.inner_text("body")
    page.locator("#orders", has_text="no open orders").wait_for(timeout=WAIT_MS)

    # the global kill: SAFE mode, disarmed
    page.fill("#kill-reason", "browser drill")
    page.click("#node button.danger:text('KILL ALL')")
    page.wait_for_url(url + "/")
    page.wait_for_selector("#node #safe.bad", timeout=WAIT_MS)
    page.wait_for_selector("#node #armed.bad", timeout=WAIT_MS)
    assert gate.safe is not None
    page.locator("#alerts td", has_text="SAFE mode entered").first.wait_for(timeout=WAIT_MS)
    _shot(page, "06-safe-mode")

    # the resume checklist, step by step
    page.goto(url + "/recovery")
    assert "node is in SAFE mode" in page.inner_text("#recovery-state")
    _shot(page, "07-resume-checklist")
    page.click("#btn-confirm_limits")
    assert "confirm_limits: done" in page.inner_text("body")
    page.click("#btn-reset_risk_baselines")
    assert "reset_risk_baselines: done" in page.inner_text("body")

    def checks_pass() -> bool:
        page.goto(url + "/recovery")
        return page.locator("#recovery-problems").count() == 0

    eventually(checks_pass, 20, message="fresh data and a matching venue snapshot never came")
    page.fill("#incident-ref", "INC-WEB-1")
    page.click("#btn-resume")
    assert "resume: done" in page.inner_text("body")
    assert "node is not in SAFE mode" in page.inner_text("#recovery-state")
    assert gate.safe is None
    page.locator("main button#btn-arm").click()
    assert "arm: armed" in page.inner_text("body")
    _shot(page, "08-resumed")

    # the emergency flatten: a reduce-only close through the gate (LIVE: armed, this click confirms it)
    page.goto(url + "/")
    page.locator("#pnl button", has_text="flatten UnifiedExecutionStrategy-000").click()
    page.wait_for_url(url + "/")
    assert "flatten: 1 closing order(s) sent" in page.inner_text("body")
    eventually(lambda: gate.oms.position(KEY) == 0, 10, message="the flatten never filled")
    page.locator("#alerts td", has_text="flatten by web:alice").first.wait_for(timeout=WAIT_MS)
    page.locator("#positions td", has_text="clean").first.wait_for(timeout=WAIT_MS)
    _shot(page, "09-flattened")

    # a viewer sees everything and can do nothing
    viewer = browser.new_page(viewport={"width": 1400, "height": 1000})
    _login(viewer, url, "victor", VIEWER_SECRET)
    assert viewer.locator("form[action^='/action/']").count() == 0
    assert "op-web-1" not in viewer.inner_text("#staged")
    assert "0.010" in viewer.inner_text("#tradebook")
    html = viewer.content() + page.content()
    assert OPERATOR_SECRET not in html
    assert VIEWER_SECRET not in html
    assert TOKEN not in html
    csrf = re.search(r'name="csrf" value="([^"]+)"', viewer.content())
    assert csrf is not None
    forged = viewer.request.post(url + "/action/kill", form={"csrf": csrf.group(1)})
    assert forged.status == 403
    _shot(viewer, "10-viewer")
    assert gate.safe is None
