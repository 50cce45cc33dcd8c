"""
What two-legged strategies record for the carry report (:mod:`nautilus_ext.reports.carry`).

The funding carry and perp/perp spread strategies keep their positions in ``strategy_positions``;
beside them they record, through :class:`~nautilus_ext.persistence.records.PositionRecords`:

- every fill of an entry or exit group on either leg, and the neutralising trades that traded a
  leg back (:func:`group_fills`), with the arrival mid slippage is measured against;
- at every monitor cycle, the position's divergence, leg quantities and prices
  (:func:`position_mark`);
- each venue's margin: equity over the gross notional of its open positions
  (:func:`venue_margin`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from typing import Any

from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.execution.results import GroupExecutionResult
from nautilus_ext.persistence.models import PositionFill
from nautilus_ext.persistence.models import PositionMark
from nautilus_ext.persistence.models import VenueMargin
from nautilus_ext.persistence.records import PositionRecords
from nautilus_ext.persistence.types import ns_to_datetime


@dataclass(frozen=True, slots=True)
class LegInfo:
    """One leg of a group: which leg of the position it trades (``LONG``/``SHORT``), its multiplier."""

    leg: str
    multiplier: Decimal = Decimal(1)


def group_fills(
    position_id: uuid.UUID,
    group: GroupExecutionResult,
    results: Mapping[str, ExecutionResult],
    legs: Mapping[str, LegInfo],
    intent: str,
) -> list[PositionFill]:
    """
    Return the fill rows of one ended atomic group of a position.

    ``legs`` maps each of the group's leg operation ids to its :class:`LegInfo`. The legs' own
    fills (top-ups included) are rows with ``intent``; neutralising fills that traded a leg back
    are ``NEUTRALISE`` rows on that leg (the ones along the leg's direction are already among its
    fills).
    """
    rows: list[PositionFill] = []
    for op in group.legs:
        result = results.get(op)
        info = legs.get(op)
        if result is None or info is None:
            continue
        venue = result.venue or result.instrument_key.split(":", 1)[0]
        quote = result.quote_currency or ""
        for fill in result.fills:
            rows.append(
                PositionFill(
                    position_id=position_id,
                    leg=info.leg,
                    intent=intent,
                    venue=fill.venue or venue,
                    instrument_key=result.instrument_key,
                    side=result.side,
                    quantity=fill.quantity,
                    price=fill.price,
                    multiplier=info.multiplier,
                    quote_currency=quote or fill.fee_currency,
                    fee=fill.fee,
                    fee_currency=fill.fee_currency,
                    reference_price=result.arrival_mid,
                    group_id=group.group_id,
                    trade_id=fill.trade_id,
                    ts=ns_to_datetime(fill.ts_ns),
                )
            )
    for back in group.neutralisation_fills:
        result = results.get(back.operation_id)
        info = legs.get(back.operation_id)
        if back.along or result is None or info is None:
            continue
        rows.append(
            PositionFill(
                position_id=position_id,
                leg=info.leg,
                intent="NEUTRALISE",
                venue=result.venue or result.instrument_key.split(":", 1)[0],
                instrument_key=result.instrument_key,
                side=back.side,
                quantity=back.quantity,
                price=back.price,
                multiplier=info.multiplier,
                quote_currency=result.quote_currency or back.fee_currency,
                fee=back.fee,
                fee_currency=back.fee_currency,
                reference_price=result.arrival_mid,
                group_id=group.group_id,
                trade_id=back.trade_id,
                ts=ns_to_datetime(back.ts_ns),
            )
        )
    return rows


def position_mark(
    position_id: uuid.UUID,
    ts: datetime,
    *,
    divergence: Decimal | None,
    rates: tuple[Decimal | None, Decimal | None],
    quantities: tuple[Decimal, Decimal],
    prices: tuple[Decimal | None, Decimal | None],
    funding: Decimal,
) -> PositionMark:
    """Return a monitor mark: ``rates``, ``quantities`` (signed) and ``prices`` are (long, short)."""
    return PositionMark(
        position_id=position_id,
        ts=ts,
        divergence=divergence,
        long_rate=rates[0],
        short_rate=rates[1],
        long_quantity=quantities[0],
        short_quantity=quantities[1],
        long_price=prices[0],
        short_price=prices[1],
        funding=funding,
    )


def margin_ratio(equity: Decimal, notional: Decimal) -> Decimal | None:
    """Return equity over gross notional (seed 003's margin ratio), or None when flat."""
    if notional <= 0:
        return None
    return equity / notional


def venue_margin(
    strategy_name: str,
    venue: str,
    ts: datetime,
    *,
    currency: str,
    equity: Decimal,
    notional: Decimal,
    maintenance_margin: Decimal | None = None,
) -> VenueMargin:
    """Return a venue's margin snapshot (ratio: :func:`margin_ratio`, 12 places)."""
    ratio = margin_ratio(equity, notional)
    return VenueMargin(
        strategy_name=strategy_name,
        venue=venue,
        ts=ts,
        currency=currency,
        equity=equity,
        notional=notional,
        maintenance_margin=maintenance_margin,
        margin_ratio=None if ratio is None else ratio.quantize(Decimal("1e-12"), rounding=ROUND_HALF_EVEN),
    )


def account_margin(
    strategy: Any, nautilus_venue: Any, currency: str
) -> tuple[Decimal, Decimal, Decimal | None] | None:
    """
    Return ``(equity, gross notional, maintenance margin)`` of a venue account in ``currency``.

    Equity is the account's total balance plus the unrealised PnL of its open positions, both
    valued at the strategy's marks (``strategy.mark_of``); None without an account or balance.
    """
    account = strategy.cache.account_for_venue(nautilus_venue)
    balance = None if account is None else account.balance_total(_currency(currency))
    if balance is None:
        return None
    equity = balance.as_decimal()
    notional = Decimal(0)
    for position in strategy.cache.positions_open(venue=nautilus_venue):
        inst = strategy.cache.instrument(position.instrument_id)
        mark = strategy.mark_of(str(position.instrument_id))
        if inst is None or mark is None or inst.get_settlement_currency().code != currency:
            continue
        multiplier = inst.multiplier.as_decimal()
        qty = position.signed_decimal_qty()
        notional += abs(qty) * mark * multiplier
        equity += qty * (mark - Decimal(str(position.avg_px_open))) * multiplier
    # avg_px_open is a float in Nautilus: amounts are kept at the currency's precision
    step = Decimal(1).scaleb(-balance.currency.precision)
    equity = equity.quantize(step, rounding=ROUND_HALF_EVEN)
    notional = notional.quantize(step, rounding=ROUND_HALF_EVEN)
    maintenance = None
    if getattr(account, "is_margin_account", False):
        values = [m.as_decimal() for m in account.margins_maint().values() if m.currency.code == currency]
        maintenance = sum(values, Decimal(0)) if values else None
    return equity, notional, maintenance


def _currency(code: str) -> Any:
    from nautilus_trader.model.objects import Currency

    return Currency.from_str(code)


def record_group(strategy: Any, position: Any, group: GroupExecutionResult) -> None:
    """
    Record the fills of ``position``'s ended ``group`` (entry while OPENING, else exit).

    ``strategy`` is a :class:`~nautilus_ext.execution.strategy.UnifiedExecutionStrategy` with a
    ``repository`` (:class:`~nautilus_ext.persistence.repository.StrategyRepository`) and
    ``instrument_of_key``; ``position`` has ``id``, ``phase`` and ``long``/``short`` legs with
    ``instrument_key``. Group legs on the long leg's instrument are ``LONG``, the others ``SHORT``.
    """
    legs: dict[str, LegInfo] = {}
    for op in group.legs:
        result = strategy.results.get(op)
        if result is None:
            continue
        inst = strategy.instrument_of_key(result.instrument_key)
        multiplier = Decimal(1) if inst is None else inst.multiplier.as_decimal()
        label = "LONG" if result.instrument_key == position.long.instrument_key else "SHORT"
        legs[op] = LegInfo(label, multiplier)
    intent = "ENTRY" if position.phase == "OPENING" else "EXIT"
    rows = group_fills(position.id, group, strategy.results, legs, intent)
    PositionRecords(strategy.repository.database).record_fills(rows)


def record_monitor(strategy: Any, position: Any, view: Any) -> None:
    """
    Record the monitor's view of ``position`` and the margin of both legs' venues now.

    ``view`` is the strategy's position view (``now_ns``, ``divergence_per_hour``, the legs'
    rates per hour, ``funding``); leg prices are the marks the strategy prices with (its latest
    mark price, else the book mid: ``strategy.mark_of``).
    """
    from nautilus_trader.model.identifiers import InstrumentId

    ts = ns_to_datetime(int(view.now_ns))
    prices = tuple(strategy.mark_of(leg.instrument_id) for leg in position.legs())
    margins = []
    for leg in position.legs():
        iid = InstrumentId.from_str(leg.instrument_id)
        inst = strategy.cache.instrument(iid)
        if inst is None:
            continue
        currency = inst.get_settlement_currency().code
        found = account_margin(strategy, iid.venue, currency)
        if found is None:
            continue
        equity, notional, maintenance = found
        margins.append(
            venue_margin(
                strategy.config.strategy_name,
                leg.instrument_key.split(":", 1)[0],
                ts,
                currency=currency,
                equity=equity,
                notional=notional,
                maintenance_margin=maintenance,
            )
        )
    mark = position_mark(
        position.id,
        ts,
        divergence=view.divergence_per_hour,
        rates=(view.long_rate_per_hour, view.short_rate_per_hour),
        quantities=(position.long.signed, position.short.signed),
        prices=(prices[0], prices[1]),
        funding=view.funding,
    )
    PositionRecords(strategy.repository.database).record_mark(mark, margins)


__all__ = [
    "LegInfo",
    "account_margin",
    "group_fills",
    "margin_ratio",
    "position_mark",
    "record_group",
    "record_monitor",
    "venue_margin",
]
