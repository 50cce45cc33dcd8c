"""
Corrections of ccxt 4.5.90's parsed structures where they misread a venue (pure functions).

Quantities the corrections set are decimal strings (exact; the adapter reads every ccxt number
through ``Decimal(str(...))``).

Backpack (``ccxt/pro/backpack.py`` and ``ccxt/backpack.py``):

- ``parse_ws_order`` maps ``filled`` from the stream's ``l``, which Backpack documents as the
  quantity of *this* fill, not the order's cumulative ``z``: a partially filled order would look
  less filled than it is, and a cancel after fills would look unfilled. :func:`normalize_order`
  puts the cumulative ``z`` back.
- ``parse_position`` maps ``contracts`` from ``netExposureQuantity``, which includes open
  orders; the position itself is the signed ``netQuantity``. :func:`normalize_position` uses it.
- ccxt has no ``watchMyTrades`` on Backpack, but every ``orderFill`` order update carries the
  fill (``t`` trade id, ``l`` quantity, ``L`` price, ``m`` maker, ``n``/``N`` fee):
  :func:`fill_from_order_update` turns it into a ccxt trade, so fills stream instead of waiting
  for the REST poll (the trade id equals the fill history's ``tradeId``, so the two deduplicate).
"""

from __future__ import annotations

from decimal import Decimal
from decimal import InvalidOperation
from typing import Any
from typing import Final

BACKPACK: Final = "backpack"


def _info(structure: dict[str, Any]) -> dict[str, Any]:
    info = structure.get("info")
    return info if isinstance(info, dict) else {}


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def normalize_order(exchange_id: str, order: dict[str, Any]) -> dict[str, Any]:
    """Return ``order`` with the venue's cumulative filled quantity where ccxt misreads it."""
    if exchange_id != BACKPACK:
        return order
    info = _info(order)
    cumulative = _decimal(info.get("z")) if "e" in info else None
    if cumulative is None:
        return order
    fixed = dict(order)
    fixed["filled"] = str(cumulative)
    amount = _decimal(order.get("amount"))
    if amount is not None:
        fixed["remaining"] = str(max(amount - cumulative, Decimal(0)))
    return fixed


def normalize_position(exchange_id: str, position: dict[str, Any]) -> dict[str, Any]:
    """Return ``position`` sized by the venue's signed net quantity where ccxt misreads it."""
    if exchange_id != BACKPACK:
        return position
    net = _decimal(_info(position).get("netQuantity"))
    if net is None:
        return position
    fixed = dict(position)
    fixed["contracts"] = str(abs(net))
    fixed["side"] = "short" if net < 0 else "long"
    return fixed


def fill_from_order_update(exchange_id: str, order: dict[str, Any]) -> dict[str, Any] | None:
    """Return the ccxt trade an order update carries (Backpack ``orderFill``), else ``None``."""
    if exchange_id != BACKPACK:
        return None
    info = _info(order)
    if info.get("e") != "orderFill" or info.get("t") is None:
        return None
    qty = _decimal(info.get("l"))
    price = _decimal(info.get("L"))
    if qty is None or price is None:
        return None
    fee = _decimal(info.get("n"))
    engine_us = info.get("T") or info.get("E")
    return {
        "info": info,
        "id": str(info["t"]),
        "order": str(info.get("i")),
        "clientOrderId": None if info.get("c") is None else str(info["c"]),
        "symbol": order.get("symbol"),
        "side": order.get("side"),
        "type": order.get("type"),
        "takerOrMaker": "maker" if info.get("m") else "taker",
        "price": str(price),
        "amount": str(qty),
        "cost": str(price * qty),
        "fee": None if fee is None else {"cost": str(fee), "currency": info.get("N")},
        "timestamp": int(engine_us) // 1000 if engine_us else None,
    }
