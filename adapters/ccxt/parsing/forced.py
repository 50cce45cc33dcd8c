"""
Recognise a venue's forced close (auto-deleveraging or liquidation) in a ccxt order or trade.

Pure functions over the venue's raw message (ccxt keeps it as ``info``); no ccxt parser marks
these executions itself. The markers, per venue documentation:

- Bybit v5 (``execution`` stream and ``GET /v5/execution/list``): ``execType`` ``AdlTrade`` (ADL)
  and ``BustTrade`` (the takeover of a liquidated position); orders (``order`` stream, order
  lists) carry ``createType`` ``CreateByAdl_PassThrough`` or ``CreateByLiq`` /
  ``CreateByTakeOver_PassThrough``.
- Binance USD-M (``ORDER_TRADE_UPDATE``, ``GET /fapi/v1/allOrders``): client order ids
  ``adl_autoclose`` (ADL) and ``autoclose-<id>`` (liquidation); order type ``LIQUIDATION``;
  statuses ``NEW_ADL`` and ``NEW_INSURANCE``; ``GET /fapi/v1/forceOrders`` rows carry
  ``autoCloseType``.

Other venues' messages carry none of these keys with these values, so the check is the same for
every exchange id.
"""

from __future__ import annotations

from typing import Any
from typing import Final

ADL: Final = "ADL"
LIQUIDATION: Final = "LIQUIDATION"

_BYBIT_EXEC: Final = {"AdlTrade": ADL, "BustTrade": LIQUIDATION}
_BYBIT_CREATE: Final = {
    "CreateByAdl_PassThrough": ADL,
    "CreateByLiq": LIQUIDATION,
    "CreateByTakeOver_PassThrough": LIQUIDATION,
}
_BINANCE_STATUS: Final = {"NEW_ADL": ADL, "NEW_INSURANCE": LIQUIDATION}


def _raw(structure: dict[str, Any]) -> dict[str, Any]:
    info = structure.get("info")
    if not isinstance(info, dict):
        return {}
    # Binance's ORDER_TRADE_UPDATE keeps the order under "o" when ccxt passes the whole event
    inner = info.get("o")
    return inner if isinstance(inner, dict) and info.get("e") == "ORDER_TRADE_UPDATE" else info


def forced_kind(structure: dict[str, Any]) -> str | None:
    """
    Return ``"ADL"`` or ``"LIQUIDATION"`` when ``structure`` (a ccxt order or trade) is the
    venue's forced close, else ``None``.
    """
    raw = _raw(structure)
    kind = _BYBIT_EXEC.get(str(raw.get("execType", ""))) or _BYBIT_CREATE.get(str(raw.get("createType", "")))
    if kind is not None:
        return kind
    close_type = str(raw.get("autoCloseType", ""))
    if close_type in (ADL, LIQUIDATION):
        return close_type
    client_id = str(raw.get("c") or raw.get("clientOrderId") or structure.get("clientOrderId") or "")
    if client_id.startswith("adl_autoclose"):
        return ADL
    if client_id.startswith("autoclose-"):
        return LIQUIDATION
    status = _BINANCE_STATUS.get(str(raw.get("X") or raw.get("status") or ""))
    if status is not None:
        return status
    if LIQUIDATION in (raw.get("o"), raw.get("ot"), raw.get("type"), raw.get("origType")):
        return LIQUIDATION
    return None


__all__ = ["ADL", "LIQUIDATION", "forced_kind"]
