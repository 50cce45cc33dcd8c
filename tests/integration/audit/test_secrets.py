"""Planted credentials never reach any output: files, stdout/stderr, logs, CLI output."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nautilus_ext.audit import AuditStore
from nautilus_ext.audit import AuditStoreConfig
from nautilus_ext.audit import CommandEvent
from nautilus_ext.audit import CommandKind
from nautilus_ext.audit import CommandOutcome
from nautilus_ext.audit import DecisionEvent
from nautilus_ext.audit import FillEvent
from nautilus_ext.audit import IntentEvent
from nautilus_ext.audit import InvalidAuditRecord
from nautilus_ext.audit import Mode
from nautilus_ext.audit import OrderType
from nautilus_ext.audit import RiskAction
from nautilus_ext.audit import RiskEvent
from nautilus_ext.audit import SafeguardEvent
from nautilus_ext.audit import SafeguardKind
from nautilus_ext.audit import Side
from nautilus_ext.audit import TimeInForce
from nautilus_ext.audit import parse_event
from nautilus_ext.audit.cli import app
from nautilus_ext.audit.schemas import dump_event

PLANTED = {
    "ACME_API_KEY": "ak-live-7f3c9e1d2b4a",
    "ACME_API_SECRET": "sk-live-0d9e8f7a6b5c4d3e",
    "RISK_DB_PASSWORD": "hunter2-but-much-longer",
    "WALLET_PRIVATE_KEY": "0x4c0883a69102937d6231471b5dbb6204fe512961708279f1d0a2f3e1c9b8a7d6",
    "TELEGRAM_BOT_TOKEN": "123456:AAE-telegram-token-value",
}
DAY0 = 1_704_153_600_000_000_000


def test_planted_secrets_never_reach_any_output(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    for name, value in PLANTED.items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)
    key, secret, password, private, token = PLANTED.values()
    root = tmp_path / "store"
    header = {
        "mode": Mode.LIVE,
        "strategy_id": "S-1",
        "version_hash": "ab" * 32,
        "config_hash": "cd" * 32,
        "ts_wall": DAY0,
    }
    events = [
        DecisionEvent(
            id="D-1",
            ts_event=DAY0,
            rationale=f"signed request with {secret}",
            tags=[f"key={key}"],
            details={"api_key": "not-from-env-but-keyed", "note": token},
            **header,
        ),
        IntentEvent(
            id="I-1",
            ts_event=DAY0 + 1,
            asset="BTC-USDT",
            side=Side.BUY,
            qty=Decimal(1),
            order_type=OrderType.MARKET,
            tif=TimeInForce.IOC,
            decision_id="D-1",
            rationale_ref=f"vault://{private}",
            **header,
        ),
        FillEvent(
            id="F-1",
            ts_event=DAY0 + 2,
            venue="ACME",
            asset="BTC-USDT",
            side=Side.BUY,
            qty=Decimal(1),
            price=Decimal(42000),
            order_id="O-1",
            intent_id="I-1",
            **header,
        ),
        CommandEvent(
            id="C-1",
            ts_event=DAY0 + 3,
            command=CommandKind.ARM,
            outcome=CommandOutcome.REJECTED,
            actor="op",
            target="S-1",
            reason=f"bad arm token; db said {password}",
            details={"password": password, "arm_token": "any-arm-token-value"},
            **header,
        ),
        RiskEvent(
            id="R-1",
            ts_event=DAY0 + 4,
            rule="MAX_POSITION",
            action=RiskAction.BLOCK,
            subject_id="I-1",
            details={"context": f"{key}/{secret}"},
            **header,
        ),
        SafeguardEvent(
            id="G-1",
            ts_event=DAY0 + 5,
            kind=SafeguardKind.SAFE_MODE_ENTER,
            details={"private_key": private},
            **header,
        ),
    ]
    config = AuditStoreConfig(root=str(root), storage_options={"token": token, "auto_mkdir": True})
    with AuditStore(config) as store:
        for event in events:
            store.append(event)
        store.flush()
    # An invalid event carrying a secret is refused without echoing it (and gets logged).
    bad = dump_event(events[2])
    bad["price"] = secret
    with pytest.raises(InvalidAuditRecord) as info:
        parse_event(bad)
    logging.getLogger("audit-test").exception("refused: %s", info.value)

    runner = CliRunner()
    outputs = [
        runner.invoke(app, ["verify", str(root)]).output,
        runner.invoke(app, ["show", "I-1", "--root", str(root)]).output,
        runner.invoke(app, ["show", "I-1", "--root", str(root), "--json"]).output,
        runner.invoke(
            app, ["daily", "2024-01-02", "--root", str(root), "--out", str(tmp_path / "d.html")]
        ).output,
        runner.invoke(app, ["incident", str(DAY0), str(DAY0 + 10), "--root", str(root)]).output,
    ]
    assert "OK: 6 records" in outputs[0]
    assert "Decision D-1" in outputs[1]

    captured = capfd.readouterr()
    texts = {"stdout": captured.out, "stderr": captured.err, "log": caplog.text}
    texts.update({f"cli[{i}]": text for i, text in enumerate(outputs)})
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".jsonl" for p in files)
    assert any(p.suffix == ".html" for p in files)
    for name, value in PLANTED.items():
        for where, text in texts.items():
            assert value not in text, f"{name} leaked into {where}"
        for path in files:
            assert value.encode() not in path.read_bytes(), f"{name} leaked into {path}"
    # Keyed secrets that are not in the environment are redacted by key.
    everything = b"".join(p.read_bytes() for p in files if p.suffix == ".jsonl")
    assert b"not-from-env-but-keyed" not in everything
    assert b"any-arm-token-value" not in everything
    assert everything.count(b"***REDACTED***") >= 10
