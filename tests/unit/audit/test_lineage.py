"""Lineage queries with DuckDB: Decision -> Intent -> Order -> Fill."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.audit import OrderStatus
from nautilus_ext.audit import RiskAction
from nautilus_ext.audit import show
from nautilus_ext.errors import InvalidConfig


@pytest.fixture
def trading_log(open_store: Callable[..., Any], events: Any, root: str) -> str:
    """Two intents from one decision; I-1 has two orders with fills; noise around them."""
    store = open_store()
    for event in [
        events.decision(id="D-1"),
        events.decision(id="D-9"),
        events.intent(id="I-1", decision_id="D-1", reference_price=Decimal("42000")),
        events.risk(id="R-1", subject_id="I-1"),
        events.intent(id="I-2", decision_id="D-9"),
        events.order(id="O-1", intent_id="I-1", status=OrderStatus.SUBMITTED),
        events.order(id="O-2", intent_id="I-1", status=OrderStatus.SUBMITTED),
        events.order(id="O-9", intent_id="I-2", status=OrderStatus.SUBMITTED),
        events.order(id="O-1", intent_id="I-1", status=OrderStatus.ACCEPTED),
        events.fill(id="F-1", order_id="O-1", intent_id="I-1", qty=Decimal("1")),
        events.fill(id="F-9", order_id="O-9", intent_id="I-2"),
        events.fill(id="F-2", order_id="O-2", intent_id="I-1", qty=Decimal("0.5")),
        events.fill(id="F-3", order_id="O-1", intent_id="I-1", qty=Decimal("0.5")),
        events.order(id="O-1", intent_id="I-1", status=OrderStatus.FILLED),
        events.risk(id="R-2", subject_id="O-9", action=RiskAction.BLOCK),
    ]:
        store.append(event)
    store.close()
    return root


def test_show_intent_returns_the_whole_chain(trading_log: str) -> None:
    lineage = show("I-1", trading_log)
    assert lineage is not None
    assert lineage.decision.id == "D-1"
    assert lineage.intent.id == "I-1"
    assert [(o.id, o.status) for o in lineage.orders] == [
        ("O-1", OrderStatus.SUBMITTED),
        ("O-2", OrderStatus.SUBMITTED),
        ("O-1", OrderStatus.ACCEPTED),
        ("O-1", OrderStatus.FILLED),
    ]
    assert [f.id for f in lineage.fills] == ["F-1", "F-2", "F-3"]
    assert [r.id for r in lineage.risk] == ["R-1"]
    assert lineage.fills[0].qty == Decimal("1")


def test_show_order_returns_only_that_order(trading_log: str) -> None:
    lineage = show("O-1", trading_log)
    assert lineage.intent.id == "I-1"
    assert lineage.decision.id == "D-1"
    assert {o.id for o in lineage.orders} == {"O-1"}
    assert [f.id for f in lineage.fills] == ["F-1", "F-3"]


def test_show_fill_walks_up_to_the_decision(trading_log: str) -> None:
    lineage = show("F-9", trading_log)
    assert (lineage.decision.id, lineage.intent.id) == ("D-9", "I-2")
    assert [f.id for f in lineage.fills] == ["F-9"]
    assert [r.id for r in lineage.risk] == ["R-2"]


def test_render_is_a_readable_tree(trading_log: str) -> None:
    text = show("I-1", trading_log).render()
    assert text.index("Decision D-1") < text.index("Intent I-1") < text.index("Order O-1")
    assert "SUBMITTED -> ACCEPTED -> FILLED" in text
    assert text.index("Order O-1") < text.index("Fill F-1") < text.index("Fill F-3")
    assert text.index("Fill F-3") < text.index("Order O-2") < text.index("Fill F-2")


def test_unknown_id_is_none(trading_log: str) -> None:
    assert show("O-404", trading_log) is None
    assert show("D-1", trading_log) is None  # decisions are reached through their intents


def test_empty_log_is_none(root: str) -> None:
    assert show("I-1", root) is None


def test_empty_id_is_invalid(trading_log: str) -> None:
    with pytest.raises(InvalidConfig, match="non-empty"):
        show("  ", trading_log)


def test_torn_tail_does_not_stop_show(trading_log: str) -> None:
    segment = sorted(Path(trading_log, "audit").glob("date=*/*.jsonl"))[-1]
    with segment.open("ab") as f:
        f.write(b'{"event":{"event_type":"FI')
    assert [f.id for f in show("I-1", trading_log).fills] == ["F-1", "F-2", "F-3"]


def test_lineage_without_decision_or_intent(open_store: Callable[..., Any], events: Any, root: str) -> None:
    store = open_store()
    store.append(events.order(id="O-ext", intent_id=None))
    store.append(events.fill(id="F-ext", order_id="O-ext", intent_id=None))
    store.close()
    lineage = show("F-ext", root)
    assert lineage.intent is None
    assert lineage.decision is None
    assert [o.id for o in lineage.orders] == ["O-ext"]
    assert "Intent: (none recorded)" in lineage.render()
    assert lineage.to_dict()["fills"][0]["id"] == "F-ext"
