"""A venue's ADL and liquidation messages are recognised in ccxt structures (real payloads)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.adapters.ccxt.parsing.forced import forced_kind

ADAPTERS = Path("nautilus_trader") / "crates" / "adapters"


def _load(shared_data: Path, relative: str) -> Any:
    return json.loads((shared_data / ADAPTERS / relative).read_text())


def test_bybit_execution_stream_adl(shared_data: Path) -> None:
    (execution,) = _load(shared_data, "bybit/test_data/ws_account_execution_adl.json")["data"]
    assert forced_kind({"info": execution, "order": execution["orderId"]}) == "ADL"
    assert forced_kind({"info": {**execution, "execType": "BustTrade"}}) == "LIQUIDATION"
    assert forced_kind({"info": {**execution, "execType": "Trade"}}) is None


def test_bybit_ordinary_executions_are_not_forced(shared_data: Path) -> None:
    payload = _load(shared_data, "bybit/test_data/ws_account_execution.json")
    assert all(forced_kind({"info": e}) is None for e in payload["data"])


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("order_update_adl.json", "ADL"),
        ("order_update_calculated.json", "LIQUIDATION"),
        ("order_update_trade.json", None),
        ("order_update_new.json", None),
    ],
)
def test_binance_order_trade_updates(shared_data: Path, name: str, kind: str | None) -> None:
    event = _load(shared_data, f"binance/test_data/futures/user_data_json/{name}")
    # ccxt keeps the order object ``o`` as the parsed order's info; some paths keep the event
    assert forced_kind({"info": event["o"], "clientOrderId": event["o"]["c"]}) == kind
    assert forced_kind({"info": event}) == kind


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ({"createType": "CreateByLiq"}, "LIQUIDATION"),
        ({"createType": "CreateByAdl_PassThrough"}, "ADL"),
        ({"createType": "CreateByUser"}, None),
        ({"autoCloseType": "ADL"}, "ADL"),
        ({"type": "LIQUIDATION", "clientOrderId": "x"}, "LIQUIDATION"),
        ({"X": "NEW_INSURANCE"}, "LIQUIDATION"),
        ({}, None),
    ],
)
def test_other_markers(raw: dict[str, Any], kind: str | None) -> None:
    assert forced_kind({"info": raw}) == kind


def test_a_structure_without_info_is_not_forced() -> None:
    assert forced_kind({"info": None}) is None
