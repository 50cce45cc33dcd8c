"""
Record a DRY_RUN session on the fake exchange, replay it: identical; a changed parameter is
located; a tampered or missing recording is refused with a typed error (issue #7).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.identifiers import InstrumentId
from typer.testing import CliRunner

from nautilus_ext.audit import iter_records
from nautilus_ext.audit.errors import AuditIntegrityError
from nautilus_ext.cli import app
from nautilus_ext.live.config import LiveNodeConfig
from nautilus_ext.live.config import load_live_config
from nautilus_ext.live.node import build_live_node
from nautilus_ext.replay.errors import RecordingMissing
from nautilus_ext.replay.errors import RecordingTampered
from nautilus_ext.replay.errors import ReplayVersionMismatch
from nautilus_ext.replay.session import replay_session
from nautilus_ext.strategies.mean_reversion import MeanReversionStrategy
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange.engine import Side
from nautilus_ext_testkit.node_harness import NodeHarness

pytestmark = pytest.mark.slow
IID = InstrumentId.from_str("BTCUSDT-LINEAR.BYBIT")
KEY = "BYBIT:PERPETUAL:BTC-USDT@LIN"
# external trades, one book level (0.1) each, so every step prints exactly one public trade
SCRIPT: list[tuple[Side, str]] = [
    (Side.BUY, "50000.1"),
    (Side.SELL, "49999.9"),
    (Side.BUY, "50001.1"),  # above the mean: the strategy sells
    (Side.SELL, "49998.9"),  # below: buys
    (Side.SELL, "49997.9"),  # buys
    (Side.BUY, "50002.1"),  # sells
    (Side.BUY, "50003.1"),  # sells
    (Side.SELL, "49996.9"),  # buys
]


def _seed(ex: FakeExchange) -> None:
    bids = [(Decimal("49999.9") - i, Decimal("0.1")) for i in range(20)]
    asks = [(Decimal("50000.1") + i, Decimal("0.1")) for i in range(20)]
    ex.call(lambda: ex.bybit.engine.seed_book("BTCUSDT", bids=bids, asks=asks))


@pytest.fixture
def exchange() -> Iterator[FakeExchange]:
    ex = FakeExchange()
    ex.start_in_thread()
    _seed(ex)
    yield ex
    ex.stop_thread()


def _config(tmp_path: Path, ex: FakeExchange) -> dict[str, Any]:
    return {
        "mode": "DRY_RUN",
        "trader_id": "DRYRUN-001",
        "log_level": "ERROR",
        "venues": [
            {
                "venue": "BYBIT",
                "adapter": "ccxt",
                "exchange_id": "bybit",
                "market_types": ["linear"],
                "instrument_ids": [str(IID)],
                "rest_url_override": ex.base_url,
                "ws_url_override": ex.ws_url,
                "enable_rate_limit": False,
                "timeout_ms": 3000,
            }
        ],
        "dry_run": {"starting_balances": ["100000 USDT"], "default_leverage": "10"},
        "strategies": [
            {
                "strategy_path": "nautilus_ext.strategies.mean_reversion:MeanReversionStrategy",
                "config_path": "nautilus_ext.strategies.mean_reversion:MeanReversionConfig",
                "config": {
                    "instrument_key": KEY,
                    "instrument_ids": [str(IID)],
                    "window": 3,
                    "threshold_bps": "0.1",
                    "trade_size": "0.010",
                    "max_position": "0.050",
                    "cooldown_secs": 0,
                },
            }
        ],
        "audit": {"root": str(tmp_path / "audit"), "fsync": False},
        "record": {"root": str(tmp_path / "run")},
        "timeout_connection_secs": 20,
    }


def step(ex: FakeExchange, node: TradingNode, strat: MeanReversionStrategy, side: Side, price: str) -> None:
    """Print one external trade on the venue; return once it arrived and its decisions settled."""
    seen = len(node.cache.trade_ticks(IID))
    ex.call(lambda: ex.bybit.engine.external_trade("BTCUSDT", side, "0.1", price))
    eventually(lambda: len(node.cache.trade_ticks(IID)) > seen, 10, message="no trade")
    eventually(
        lambda: all(r.filled_quantity == r.requested_quantity or r.reason for r in strat.results.values()),
        10,
        message="orders did not settle",
    )


def _record_session(tmp_path: Path, ex: FakeExchange) -> tuple[Path, MeanReversionStrategy]:
    path = tmp_path / "dry.yaml"
    path.write_text(yaml.safe_dump(_config(tmp_path, ex)))
    config = load_live_config(path)

    def factory(loop: asyncio.AbstractEventLoop) -> TradingNode:
        return build_live_node(config, loop).node

    h = NodeHarness(factory)
    h.start()
    try:
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
        for side, price in SCRIPT:
            step(ex, node, strat, side, price)
    finally:
        h.stop()
    return tmp_path / "run", strat


def test_dry_run_session_replays_identically_and_a_change_is_located(
    tmp_path: Path, exchange: FakeExchange
) -> None:
    run, strat = _record_session(tmp_path, exchange)
    filled = [r for r in strat.results.values() if r.fills]
    assert len(filled) >= 3, strat.results  # the session traded several times
    assert exchange.received_orders == []  # DRY_RUN: nothing reached the venue
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["complete"]
    assert manifest["counts"]["TradeTick"] >= len(SCRIPT)
    assert manifest["counts"]["OrderBookDeltas"] > 0
    assert manifest["venues"][0]["random_seed"] == 42
    recorded = [r.event for r in iter_records(str(tmp_path / "audit" / "strategies" / "0"))]
    assert [e["event_type"] for e in recorded].count("FILL") == sum(len(r.fills) for r in filled)

    same = replay_session(run, tmp_path / "replay1")
    assert same.identical, same.describe()
    assert same.compared == len(recorded)
    # the replay's log is a REPLAY log with the same decisions, ids and fills
    replayed = [r.event for r in iter_records(str(tmp_path / "replay1" / "strategies" / "0"))]
    assert {e["mode"] for e in replayed} == {"REPLAY"}
    assert [e["id"] for e in replayed] == [e["id"] for e in recorded]

    # what-if: a larger size diverges at the first intent's qty (its decision, which comes
    # first, saw the same inputs)
    changed = replay_session(run, tmp_path / "replay2", strategy_overrides={0: {"trade_size": "0.020"}})
    assert not changed.identical
    d = changed.divergence
    assert d is not None
    assert (d.index, d.event_type, d.field) == (1, "INTENT", "qty")
    assert (d.left, d.right) == ("0.010", "0.020")

    # a cooldown only blocks later decisions: the first trade's events agree, the second is missing
    later = replay_session(run, tmp_path / "replay2b", strategy_overrides={0: {"cooldown_secs": 3600}})
    d = later.divergence
    assert d is not None
    assert (d.index, d.event_type, d.field) == (4, "DECISION", "<end of stream>")
    assert d.left == f"DECISION {recorded[4]['id']}"
    assert d.right == "<end of stream>"

    # the CLI reports the same
    out = CliRunner().invoke(app, ["replay", str(run), "--workdir", str(tmp_path / "replay3")])
    assert out.exit_code == 0, out.output
    assert out.output.startswith(f"identical ({len(recorded)} events)")

    # a tampered catalog file, a missing manifest, a broken audit log: typed refusals
    tampered = tmp_path / "tampered"
    shutil.copytree(run, tampered)
    victim = next(p for p in sorted((tampered / "catalog").rglob("*.parquet")) if "trade_tick" in str(p))
    victim.write_bytes(victim.read_bytes() + b"\0")
    with pytest.raises(RecordingTampered, match="trade_tick"):
        replay_session(tampered, tmp_path / "replay4")
    (tampered / "manifest.json").unlink()
    with pytest.raises(RecordingMissing, match=r"manifest\.json"):
        replay_session(tampered, tmp_path / "replay5")
    log = next((tmp_path / "audit" / "strategies" / "0").rglob("*.jsonl*"))
    raw = log.read_bytes()
    log.write_bytes(raw.replace(b'"0.010"', b'"0.011"', 1))
    with pytest.raises(AuditIntegrityError):
        replay_session(run, tmp_path / "replay6")


def test_a_changed_strategy_version_is_refused(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "catalog").mkdir(parents=True)
    manifest = {
        "format": 1,
        "complete": True,
        "cross_type_ties": 0,
        "unrecorded": {},
        "files": {},
        "strategies": [
            {
                "strategy_path": "nautilus_ext.strategies.mean_reversion:MeanReversionStrategy",
                "config_path": "nautilus_ext.strategies.mean_reversion:MeanReversionConfig",
                "config": {},
                "version_hash": "0" * 64,
            }
        ],
    }
    (run / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ReplayVersionMismatch, match=r"0{64}, this code is [0-9a-f]{64}") as e:
        replay_session(run, tmp_path / "replay")
    assert e.value.details["recorded"] == "0" * 64
    manifest["complete"] = False
    (run / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RecordingMissing, match="did not stop cleanly"):
        replay_session(run, tmp_path / "replay")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"audit": None}, "needs an audit section"),
        # the sandbox has no latency (use_message_queue=False): the setting is refused, not ignored
        ({"dry_run": {"starting_balances": ["1 USDT"], "latency_ms": 5}}, "latency_ms"),
        ({"record": {"root": "gs://bucket/run"}}, "local directory"),
        ({"strategies": []}, "no strategies"),
    ],
)
def test_record_section_is_validated(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    raw = {
        "mode": "DRY_RUN",
        "venues": [{"venue": "BYBIT", "adapter": "ccxt", "exchange_id": "bybit"}],
        "dry_run": {"starting_balances": ["1 USDT"]},
        "strategies": [{"strategy_path": "a.b:C", "config_path": "a.b:D"}],
        "audit": {"root": str(tmp_path / "audit")},
        "record": {"root": str(tmp_path / "run")},
    }
    raw.update(change)
    with pytest.raises(ValueError, match=message):
        LiveNodeConfig.model_validate(raw)


def test_live_and_safety_gated_sessions_can_be_recorded(tmp_path: Path) -> None:
    raw: dict[str, Any] = {
        "mode": "LIVE",
        "allow_live_orders": True,
        "venues": [{"venue": "BYBIT", "adapter": "ccxt", "exchange_id": "bybit"}],
        "strategies": [{"strategy_path": "a.b:C", "config_path": "a.b:D"}],
        "audit": {"root": str(tmp_path / "audit")},
        "record": {"root": str(tmp_path / "run")},
        "safety": {"config": {}, "control_port": 0},
    }
    assert LiveNodeConfig.model_validate(raw).record is not None
    dry = {**raw, "mode": "DRY_RUN", "allow_live_orders": False, "dry_run": {"starting_balances": ["1 USDT"]}}
    assert LiveNodeConfig.model_validate(dry).record is not None
