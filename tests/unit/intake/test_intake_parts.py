"""The intake's parts without a node: config rules, tokens, rate limit, result log, input parsing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from nautilus_ext.client.cli import split_orders
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.intake.config import IntakeSection
from nautilus_ext.intake.events import CursorExpired
from nautilus_ext.intake.events import ResultLog
from nautilus_ext.intake.service import TokenBucket
from nautilus_ext.intake.service import hash_token
from nautilus_ext.intake.service import load_clients
from nautilus_ext.orders import Order

KEY = "BYBIT:PERPETUAL:BTC-USDT@LIN"
CLIENT = {"name": "ext", "token_env": "EXT_TOKEN", "strategy_ids": ["S-1"]}


def test_intake_binds_loopback_unless_remote_is_allowed() -> None:
    assert IntakeSection(clients=[CLIENT]).host == "127.0.0.1"  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="loopback"):
        IntakeSection(host="0.0.0.0", clients=[CLIENT])  # type: ignore[list-item]
    assert IntakeSection(host="0.0.0.0", allow_remote=True, clients=[CLIENT]).allow_remote  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"clients": []}, "at least 1"),
        ({"clients": [CLIENT, CLIENT]}, "duplicate name"),
        ({"clients": [CLIENT], "burst_orders": 5, "max_batch_orders": 10}, "burst_orders"),
        ({"clients": [{**CLIENT, "strategy_ids": []}]}, "at least 1"),
        ({"clients": [{**CLIENT, "token_env": "lower"}]}, "pattern"),
        ({"clients": [CLIENT], "surprise": 1}, "Extra inputs"),
    ],
)
def test_intake_section_rules_fail(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        IntakeSection(**fields)  # type: ignore[arg-type]


def test_tokens_come_from_the_environment_and_only_their_hash_is_kept() -> None:
    section = IntakeSection(clients=[CLIENT])  # type: ignore[list-item]
    (client,) = load_clients(section, {"EXT_TOKEN": "s" * 20})
    assert client.token_sha256 == hash_token("s" * 20)
    assert "s" * 20 not in repr(client)
    with pytest.raises(InvalidConfig, match="EXT_TOKEN"):
        load_clients(section, {})
    with pytest.raises(InvalidConfig, match="16 characters"):
        load_clients(section, {"EXT_TOKEN": "short"})


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, depth=4.0, now=lambda: now[0])
    assert bucket.take(4)
    assert not bucket.take(1)
    now[0] = 0.5
    assert bucket.take(1)
    assert not bucket.take(1)
    now[0] = 100.0
    assert not bucket.take(5)  # never more than the depth at once
    assert bucket.take(4)


def test_result_log_resumes_after_any_cursor_per_strategy() -> None:
    log = ResultLog(retention=5)
    for i in range(4):
        log.append("A" if i % 2 == 0 else "B", f"op{i}", "STATE", status="UNFILLED", ts_ns=i)
    assert [e.operation_id for e in log.read("A", 0, 0)] == ["op0", "op2"]
    assert [e.operation_id for e in log.read("A", 1, 0)] == ["op2"]
    assert log.read("A", 3, 0.01) == []  # nothing new for A: waits, then returns empty
    for i in range(4, 8):
        log.append("A", f"op{i}", "STATE", status="UNFILLED", ts_ns=i)
    assert log.cursor == 8
    with pytest.raises(CursorExpired):
        log.read("A", 1, 0)  # events 2 and 3 were evicted: a resume from 1 would miss them
    assert [e.cursor for e in log.read("A", 3, 0)] == [5, 6, 7, 8]


def test_submit_input_is_an_array_an_object_or_json_lines() -> None:
    # decimals stay exact (as strings, which the Order schema reads losslessly)
    assert split_orders('[{"amount": 0.010}, {"amount": 1}]') == ['{"amount": "0.010"}', '{"amount": 1}']
    order = {
        "operation_id": "o",
        "operation": "trade",
        "instrument_key": KEY,
        "venue": "BYBIT",
        "side": "BUY",
        "amount": 0.1,
    }
    (text,) = split_orders(json.dumps([order]))
    assert Order.from_json(text).amount == Decimal("0.1")
    assert split_orders('{"a": 1}') == ['{"a": 1}']
    assert split_orders('{"a": 1}\n\n{"b": 2}\n') == ['{"a": 1}', '{"b": 2}']
    with pytest.raises(InvalidOrder, match="no orders"):
        split_orders("  \n")


def test_the_stubs_are_generated_from_the_proto_into_a_cache_keyed_by_its_hash(tmp_path: Path) -> None:
    code = (
        "from nautilus_ext.intake.proto import generated_dir, pb2; "
        "print(generated_dir()); print(pb2.SubmitAck.DESCRIPTOR.full_name)"
    )
    env = {**os.environ, "NAUTILUS_EXT_CACHE_DIR": str(tmp_path), "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, timeout=60
    )
    directory, name = out.stdout.split()
    assert name == "nautilus_ext.intake.v1.SubmitAck"
    assert Path(directory).parent == tmp_path / "grpc"
    assert sorted(p.name for p in Path(directory).glob("*.py")) == [
        "nautilus_ext_intake_pb2.py",
        "nautilus_ext_intake_pb2_grpc.py",
    ]
    # nothing generated is committed next to the proto
    assert not list(
        (Path(__file__).resolve().parents[3] / "nautilus_ext" / "intake" / "proto").glob("*_pb2*.py")
    )


def test_client_public_api() -> None:
    import nautilus_ext.client as client

    assert client.__all__ == ["IntakeClient", "IntakeDenied", "OrderState", "ResultEvent", "SubmitAck"]
    assert all(getattr(client, name).__name__ == name for name in client.__all__)


def test_live_validate_checks_the_intake_tokens_and_wires_the_intake_strategy(tmp_path: Path) -> None:
    from nautilus_ext.live.config import LiveNodeConfig
    from nautilus_ext.live.node import INTAKE_STRATEGY_PATH
    from nautilus_ext.live.node import build_trading_node_config
    from nautilus_ext.live.validation import check_live_config

    config = LiveNodeConfig.model_validate(
        {
            "mode": "DRY_RUN",
            "trader_id": "CHECK-001",
            "venues": [
                {
                    "venue": "BYBIT",
                    "adapter": "ccxt",
                    "exchange_id": "bybit",
                    "market_types": ["linear"],
                    "instrument_ids": ["BTCUSDT-LINEAR.BYBIT"],
                }
            ],
            "dry_run": {"starting_balances": ["100000 USDT"]},
            "audit": {"root": str(tmp_path / "audit")},
            "intake": {"port": 0, "clients": [CLIENT]},
        }
    )
    with pytest.raises(InvalidConfig, match="EXT_TOKEN"):
        check_live_config(config, {})
    assert check_live_config(config, {"EXT_TOKEN": "s" * 20}).config is config
    node_config, _ = build_trading_node_config(config)
    (intake,) = [s for s in node_config.strategies if s.strategy_path == INTAKE_STRATEGY_PATH]
    assert intake.config["instrument_ids"] == ["BTCUSDT-LINEAR.BYBIT"]  # every venue's by default
    assert intake.config["audit_root"] == str(tmp_path / "audit" / "strategies" / "0")
    assert IntakeSection.model_validate_json(intake.config["intake_json"]).clients[0].name == "ext"
