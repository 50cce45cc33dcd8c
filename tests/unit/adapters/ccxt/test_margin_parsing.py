"""The account's margin balance and maintenance margin from a ccxt balance (real payloads)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from nautilus_ext.adapters.ccxt.parsing.margin import account_margin

ADAPTERS = Path("nautilus_trader") / "crates" / "adapters"


def test_bybit_wallet_balance(shared_data: Path) -> None:
    info = json.loads((shared_data / ADAPTERS / "bybit/test_data/http_get_wallet_balance.json").read_text())
    assert account_margin({"info": info}) == (Decimal("3.00326056"), Decimal(0))


def test_binance_account(shared_data: Path) -> None:
    path = shared_data / ADAPTERS / "binance/test_data/futures/http_json/account_info_v2.json"
    assert account_margin({"info": json.loads(path.read_text())}) == (Decimal("23.72469206"), Decimal(0))


def test_missing_or_malformed_fields_give_none() -> None:
    assert account_margin({"info": None}) is None
    assert account_margin({"info": {"totalMarginBalance": "1"}}) is None
    assert account_margin({"info": {"totalMarginBalance": "x", "totalMaintMargin": "1"}}) is None
    assert account_margin({"info": {"totalMarginBalance": "NaN", "totalMaintMargin": "1"}}) is None
    assert account_margin({"info": {"result": {"list": []}}}) is None
