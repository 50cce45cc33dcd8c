"""Pure wire-to-domain functions: quote parameters to the order to sign."""

from __future__ import annotations

from nautilus_ext.adapters.cowswap.constants import COWSWAP_VENUE
from nautilus_ext.adapters.cowswap.enums import CowBuyTokenBalance
from nautilus_ext.adapters.cowswap.enums import CowOrderKind
from nautilus_ext.adapters.cowswap.enums import CowSellTokenBalance
from nautilus_ext.adapters.cowswap.schemas import CowOrderParameters
from nautilus_ext.adapters.cowswap.signing import CowOrderData
from nautilus_ext.adapters.cowswap.signing import receiver_or_zero
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.routing.joint import CowQuoteLeg

_BPS = 10_000


def parse_amount(text: str, field: str) -> int:
    """A decimal-string amount from the wire as an integer (base units)."""
    try:
        value = int(text, 10)
    except (TypeError, ValueError) as e:
        raise InvalidOrder(f"{field} {text!r} is not a decimal integer", venue=COWSWAP_VENUE) from e
    if value < 0:
        raise InvalidOrder(f"{field} {text!r} is negative", venue=COWSWAP_VENUE)
    return value


def order_data_from_quote(quote: CowOrderParameters, slippage_bps: int) -> CowOrderData:
    """
    The sell order to sign for a quote, as CoW's own front end builds it today.

    The order book takes orders with ``feeAmount = 0`` (the network fee is taken through the
    clearing price), so the quoted fee is folded back into ``sellAmount`` and the limit is
    the quoted ``buyAmount`` lowered by ``slippage_bps``.
    """
    if quote.kind != str(CowOrderKind.SELL):
        raise InvalidOrder(f"only sell quotes are supported, got kind {quote.kind!r}", venue=COWSWAP_VENUE)
    if not 0 <= slippage_bps < _BPS:
        raise InvalidOrder(f"slippage {slippage_bps} bps is outside [0, 10000)", venue=COWSWAP_VENUE)
    sell = parse_amount(quote.sell_amount, "sellAmount") + parse_amount(quote.fee_amount, "feeAmount")
    buy = parse_amount(quote.buy_amount, "buyAmount") * (_BPS - slippage_bps) // _BPS
    return CowOrderData(
        sell_token=quote.sell_token,
        buy_token=quote.buy_token,
        receiver=receiver_or_zero(quote.receiver),
        sell_amount=sell,
        buy_amount=buy,
        valid_to=quote.valid_to,
        app_data=quote.app_data,
        fee_amount=0,
        kind=CowOrderKind.SELL,
        partially_fillable=quote.partially_fillable,
        sell_token_balance=CowSellTokenBalance(quote.sell_token_balance),
        buy_token_balance=CowBuyTokenBalance(quote.buy_token_balance),
    )


def quote_leg(quote: CowOrderParameters) -> CowQuoteLeg:
    """
    A quote as a leg of the joint CEX + DEX router: the whole sell amount (fee included) buys
    the quoted ``buyAmount``, the fee being the leg's fixed cost.
    """
    fee = parse_amount(quote.fee_amount, "feeAmount")
    return CowQuoteLeg(
        sell_amount=parse_amount(quote.sell_amount, "sellAmount") + fee,
        buy_amount=parse_amount(quote.buy_amount, "buyAmount"),
        fee_amount=fee,
    )


__all__ = ["order_data_from_quote", "parse_amount", "quote_leg"]
