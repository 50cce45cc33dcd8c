"""
Read an account's margin balance and maintenance margin from a ccxt balance (pure functions).

ccxt's unified balance has no maintenance margin; the venues report it in the raw account
(ccxt's ``info``):

- Bybit v5 unified account (``GET /v5/account/wallet-balance``): ``result.list[0]``
  ``totalMarginBalance`` (wallet balance plus unrealised PnL) and ``totalMaintenanceMargin``;
- Binance USD-M (``GET /fapi/v2|v3/account``): ``totalMarginBalance`` and ``totalMaintMargin``.
"""

from __future__ import annotations

from decimal import Decimal
from decimal import InvalidOperation
from typing import Any


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _account(info: dict[str, Any]) -> dict[str, Any]:
    result = info.get("result")
    if isinstance(result, dict):
        rows = result.get("list")
        if isinstance(rows, list) and rows and isinstance(rows[0], dict):
            return rows[0]
    return info


def account_margin(balance: dict[str, Any]) -> tuple[Decimal, Decimal] | None:
    """
    Return ``(margin balance, maintenance margin)`` of a ccxt balance, or ``None`` when the
    venue's raw account does not report both.
    """
    info = balance.get("info")
    if not isinstance(info, dict):
        return None
    account = _account(info)
    equity = _decimal(account.get("totalMarginBalance"))
    maintenance = _decimal(account.get("totalMaintenanceMargin", account.get("totalMaintMargin")))
    if equity is None or maintenance is None:
        return None
    return equity, maintenance


__all__ = ["account_margin"]
