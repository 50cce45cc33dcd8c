"""
REPLAY of both cross-venue strategies (issue #16): a recorded DRY_RUN session over two fake
venues, with an entry (both legs through ATOMIC_LEGS) and an exit, replays identically event by
event in a BacktestEngine; a changed parameter is located.

- Perp/perp spread, TAKER: fake Hyperliquid (A) and fake Bybit (B); Bybit's bid jumps above
  Hyperliquid's ask (entry), then Bybit's rich bid is taken and its offer returns (unwind).
- Funding carry: fake Bybit (funding rich) and fake Binance USD-M (cheap): long Binance, short
  Bybit; Bybit's funding drops to zero (a flip against the position): both legs are closed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from nautilus_ext.audit import iter_records
from nautilus_ext.replay.session import replay_session
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange import Side
from tests.integration.strategies.test_perp_spread_live import CAP
from tests.integration.strategies.test_perp_spread_live import TOKEN
from tests.integration.strategies.test_perp_spread_live import Node
from tests.integration.strategies.test_perp_spread_live import _rich_bybit
from tests.integration.strategies.test_perp_spread_live import describe
from tests.integration.strategies.test_perp_spread_live import exchange  # noqa: F401  (fixture)
from tests.integration.strategies.test_perp_spread_live import node_yaml
from tests.integration.strategies.test_perp_spread_live import rows
from tests.integration.strategies.test_perp_spread_live import seed_books
from tests.integration.strategies.test_perp_spread_live import touch
from tests.support import carry_live

pytestmark = pytest.mark.slow


def _events(root: Path) -> list[dict[str, object]]:
    return [r.event for r in iter_records(str(root))]


def test_perp_spread_dry_run_session_replays_identically(
    tmp_path: Path,
    exchange: FakeExchange,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)
    seed_books(exchange)
    path = node_yaml(tmp_path, exchange, mode="DRY_RUN")
    raw = yaml.safe_load(path.read_text())
    raw["record"] = {"root": str(tmp_path / "run")}
    path.write_text(yaml.safe_dump(raw))
    node = Node(path, arm=False)
    try:
        strat = node.strategy
        _rich_bybit(exchange, "0.3")
        eventually(
            lambda: any(p.phase == "OPEN" for p in strat.positions.values()),
            20,
            message=lambda: describe(strat),
        )
        (position,) = strat.positions.values()
        assert (position.long.signed, position.short.signed) == (CAP, -CAP)
        # the gap closes: Bybit's rich bid is taken, its offer comes back to 50000.1
        touch(exchange)
        exchange.call(lambda: exchange.bybit.engine.external_trade("BTCUSDT", Side.SELL, "0.3", "50100"))
        exchange.call(lambda: exchange.bybit.engine.seed_book("BTCUSDT", bids=[], asks=[("50000.1", "2")]))
        eventually(lambda: not strat.positions, 20, message=lambda: describe(strat))
    finally:
        node.stop()
    assert exchange.received_orders == []  # DRY_RUN: nothing reached the venues
    (row,) = rows(f"sqlite:///{tmp_path / 'spread.db'}")
    assert (row.status, row.exit_reason) == ("closed", "SPREAD_CLOSED")
    recorded = _events(tmp_path / "audit" / "strategies" / "0")
    fills = [e for e in recorded if e["event_type"] == "FILL"]
    assert len(fills) >= 4, [e["event_type"] for e in recorded]  # two legs in, two out

    same = replay_session(tmp_path / "run", tmp_path / "replay1")
    assert same.identical, same.describe()
    assert same.compared == len(recorded)
    replayed = _events(tmp_path / "replay1" / "strategies" / "0")
    assert {e["mode"] for e in replayed} == {"REPLAY"}
    assert [e["id"] for e in replayed] == [e["id"] for e in recorded]

    # what-if: a smaller position cap changes the first intent's quantity
    changed = replay_session(
        tmp_path / "run", tmp_path / "replay2", strategy_overrides={0: {"max_position_usd": "2500"}}
    )
    assert not changed.identical
    d = changed.divergence
    assert d is not None
    first_intent = next(i for i, e in enumerate(recorded) if e["event_type"] == "INTENT")
    assert (d.index, d.event_type, d.field) == (first_intent, "INTENT", "qty"), changed.describe()
    assert (Decimal(str(d.left)), Decimal(str(d.right))) == (CAP, CAP / 2)


@pytest.fixture
def carry_venues() -> Iterator[FakeExchange]:
    # the books move every 0.5 s (as a real venue's do): the gate refuses orders on stale data
    venues = carry_live.fake_venues()
    ex = next(venues)
    stop = threading.Event()

    def keep_fresh() -> None:
        while not stop.wait(0.5):
            carry_live.touch_books(ex, "2")

    ticker = threading.Thread(target=keep_fresh, name="touch-carry-books", daemon=True)
    ticker.start()
    yield ex
    stop.set()
    ticker.join(5)
    next(venues, None)  # stops the fakes


def _orders(node: carry_live.Node) -> list[tuple[str, str, str]]:
    cache = node.h.node.cache  # type: ignore[union-attr]
    return [(o.client_order_id.value, o.status.name, str(o.events[-1])) for o in cache.orders()]


def _carry_dry_run_yaml(tmp_path: Path, ex: FakeExchange) -> Path:
    # quotes too: the simulated venues match against L1 books (their default), built from quotes
    path = carry_live.node_yaml(tmp_path, ex, f"sqlite:///{tmp_path / 'carry.db'}", quote_data=True)
    raw = yaml.safe_load(path.read_text())
    raw.update(
        mode="DRY_RUN",
        allow_live_orders=False,
        dry_run={"starting_balances": ["100000 USDT"], "default_leverage": "5"},
        record={"root": str(tmp_path / "run")},
        safety={
            "config_path": str(carry_live.REPO / "configs" / "safety" / "default.yaml"),
            "control_port": 0,
        },
    )
    path.write_text(yaml.safe_dump(raw))
    return path


def test_funding_carry_dry_run_session_replays_identically(
    tmp_path: Path, carry_venues: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    ex = carry_venues
    carry_live.set_env(monkeypatch)
    node = carry_live.Node(_carry_dry_run_yaml(tmp_path, ex), arm=False)
    try:
        strat = node.strategy
        eventually(
            lambda: any(p.phase == "OPEN" for p in strat.positions.values()),
            30,
            message=lambda: f"no carry position opened: {strat.groups} {_orders(node)}",
        )
        (position,) = strat.positions.values()
        assert (position.long.instrument_id, position.short.instrument_id) == (
            carry_live.BINANCE_ID,
            carry_live.BYBIT_ID,
        )
        assert (position.long.signed, position.short.signed) == (carry_live.QTY, -carry_live.QTY)
        # Bybit's funding falls below Binance's: the carry now loses, the strategy exits
        ex.call(lambda: ex.bybit.engine.funding.configure("BTCUSDT", rate=Decimal(0)))
        eventually(lambda: not strat.positions, 30, message=lambda: f"not closed: {strat.groups}")
    finally:
        node.stop()
    assert ex.received_orders == []  # DRY_RUN: nothing reached the venues
    positions, _ = carry_live.store_rows(f"sqlite:///{tmp_path / 'carry.db'}")
    (row,) = positions
    assert (row.status, row.exit_reason) == ("closed", "FUNDING_FLIP")
    recorded = _events(tmp_path / "audit" / "strategies" / "0")
    assert len([e for e in recorded if e["event_type"] == "FILL"]) >= 4  # two legs in, two out

    same = replay_session(tmp_path / "run", tmp_path / "replay1")
    assert same.identical, same.describe()
    assert same.compared == len(recorded)
    replayed = _events(tmp_path / "replay1" / "strategies" / "0")
    assert [e["id"] for e in replayed] == [e["id"] for e in recorded]

    # what-if: half the position cap halves the first intent's quantity
    changed = replay_session(
        tmp_path / "run", tmp_path / "replay2", strategy_overrides={0: {"max_position_usd": "2500"}}
    )
    d = changed.divergence
    assert d is not None
    first_intent = next(i for i, e in enumerate(recorded) if e["event_type"] == "INTENT")
    assert (d.index, d.event_type, d.field) == (first_intent, "INTENT", "qty"), changed.describe()
    assert (Decimal(str(d.left)), Decimal(str(d.right))) == (carry_live.QTY, carry_live.QTY / 2)
