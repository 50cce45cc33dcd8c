"""
A funding payment from ccxt's ``fetch_funding_history`` row, signed as the account's cash flow.

ccxt passes the venue's own sign through: Binance USD-M's ``/fapi/v1/income`` ``income`` is
positive when received, but Bybit v5's ``/v5/execution/list?execType=Funding`` ``execFee`` is a
fee, positive when *paid* (checked against the fake Bybit, which books a short's receipt of 1.5
USDT as ``execFee: "-1.5"`` and ccxt's ``amount: -1.5``). :func:`funding_cash_flow` returns
received > 0 on every venue, read exactly from the raw string.
"""

from __future__ import annotations

from decimal import Decimal
from decimal import InvalidOperation
from typing import Any
from typing import Final

# venues whose funding history reports a fee (paid > 0) rather than a cash flow
_FEE_SIGNED: Final = frozenset({"bybit"})


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def funding_cash_flow(exchange_id: str, row: dict[str, Any]) -> tuple[Decimal, Decimal | None] | None:
    """
    Return ``(amount received, rate)`` of one ``fetch_funding_history`` row (rate ``None``
    when the venue does not report it), or ``None`` when the row carries no amount.
    """
    raw_info = row.get("info")
    info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
    raw = info.get("execFee") if exchange_id in _FEE_SIGNED else info.get("income")
    amount = _decimal(raw) if raw is not None else _decimal(row.get("amount"))
    if amount is None:
        return None
    if exchange_id in _FEE_SIGNED:
        amount = -amount
    return amount, _decimal(info.get("feeRate"))


__all__ = ["funding_cash_flow"]
