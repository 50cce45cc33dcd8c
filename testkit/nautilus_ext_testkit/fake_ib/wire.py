"""
TWS API wire format at the server version this stand-in negotiates (:data:`SERVER_VERSION`).

Framing (both directions after the handshake): a 4-byte big-endian length, then the message:
null-terminated ASCII fields, the first being the message id. The client opens with ``API\\0``
followed by one length-prefixed string ``v<min>..<max>[ options]``; the server answers one
frame of two fields, its version and its connection time.

Each ``*_msg`` function returns the field list of one server message exactly in the order the
``ibapi`` decoder (``nautilus_ibapi`` 10.45, ``ibapi/decoder.py`` and ``orderdecoder.py``) reads
it at :data:`SERVER_VERSION`: messages below server version 201 are text, so no protobuf.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from decimal import Decimal
from typing import Final
from typing import Protocol

SERVER_VERSION: Final = 178
"""MIN_SERVER_VER_PENDING_PRICE_REVISION: inside both ibapi's (100..223) and ib_async's (157..178) ranges."""

UNSET_INT: Final = 2147483647
UNSET_DOUBLE: Final = "1.7976931348623157E308"

Field = str | int | float | Decimal | bool | None


def field_text(value: Field) -> str:
    """Return one field's wire text (bools as 0/1, ``None`` empty, Decimals without exponent)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    return str(value)


def frame(fields: Sequence[Field]) -> bytes:
    """Return a length-prefixed frame of null-terminated fields."""
    payload = "".join(field_text(f) + "\0" for f in fields).encode("ascii", errors="replace")
    return struct.pack("!I", len(payload)) + payload


def split_fields(payload: bytes) -> list[str]:
    """Return the fields of one frame's payload."""
    parts = payload.split(b"\0")
    return [p.decode("ascii", errors="replace") for p in parts[:-1]]


def parse_version_range(text: str) -> tuple[int, int]:
    """Return ``(min, max)`` of a handshake string ``v100..223`` (options after a space ignored)."""
    spec = text.split(" ", 1)[0]
    if not spec.startswith("v"):
        raise ValueError(f"bad API version string {text!r}")
    if ".." in spec:
        low, high = spec[1:].split("..", 1)
        return int(low), int(high)
    v = int(spec[1:])
    return v, v


# -- incoming message ids (ibapi.message.IN) ------------------------------------------------
TICK_PRICE: Final = 1
TICK_SIZE: Final = 2
ORDER_STATUS: Final = 3
ERR_MSG: Final = 4
OPEN_ORDER: Final = 5
ACCT_VALUE: Final = 6
ACCT_UPDATE_TIME: Final = 8
NEXT_VALID_ID: Final = 9
CONTRACT_DATA: Final = 10
EXECUTION_DATA: Final = 11
MARKET_DEPTH: Final = 12
MANAGED_ACCTS: Final = 15
HISTORICAL_DATA: Final = 17
CURRENT_TIME: Final = 49
CONTRACT_DATA_END: Final = 52
OPEN_ORDER_END: Final = 53
ACCT_DOWNLOAD_END: Final = 54
EXECUTION_DATA_END: Final = 55
COMMISSION_REPORT: Final = 59
POSITION_DATA: Final = 61
POSITION_END: Final = 62
ACCOUNT_SUMMARY: Final = 63
ACCOUNT_SUMMARY_END: Final = 64
ACCOUNT_UPDATE_MULTI: Final = 73
ACCOUNT_UPDATE_MULTI_END: Final = 74
PNL: Final = 94
TICK_BY_TICK: Final = 99
COMPLETED_ORDERS_END: Final = 102

# -- outgoing (client request) message ids (ibapi.message.OUT) ------------------------------
REQ_MKT_DATA: Final = 1
CANCEL_MKT_DATA: Final = 2
PLACE_ORDER: Final = 3
CANCEL_ORDER: Final = 4
REQ_OPEN_ORDERS: Final = 5
REQ_ACCT_DATA: Final = 6
REQ_EXECUTIONS: Final = 7
REQ_IDS: Final = 8
REQ_CONTRACT_DATA: Final = 9
REQ_MKT_DEPTH: Final = 10
CANCEL_MKT_DEPTH: Final = 11
REQ_AUTO_OPEN_ORDERS: Final = 15
REQ_ALL_OPEN_ORDERS: Final = 16
REQ_MANAGED_ACCTS: Final = 17
REQ_HISTORICAL_DATA: Final = 20
CANCEL_HISTORICAL_DATA: Final = 25
REQ_CURRENT_TIME: Final = 49
REQ_MARKET_DATA_TYPE: Final = 59
REQ_POSITIONS: Final = 61
REQ_ACCOUNT_SUMMARY: Final = 62
CANCEL_ACCOUNT_SUMMARY: Final = 63
CANCEL_POSITIONS: Final = 64
START_API: Final = 71
REQ_ACCOUNT_UPDATES_MULTI: Final = 76
REQ_PNL: Final = 92
CANCEL_PNL: Final = 93
REQ_TICK_BY_TICK_DATA: Final = 97
CANCEL_TICK_BY_TICK_DATA: Final = 98
REQ_COMPLETED_ORDERS: Final = 99


def contract_block(c: ContractFields) -> list[Field]:
    """The 11 contract fields of openOrder/execDetails/position: conId ... tradingClass."""
    return [
        c.con_id,
        c.symbol,
        c.sec_type,
        c.last_trade_date,
        c.strike,
        c.right,
        c.multiplier,
        c.exchange,
        c.currency,
        c.local_symbol,
        c.trading_class,
    ]


class ContractFields(Protocol):
    """The contract fields the messages carry (implemented by the listing's contracts)."""

    @property
    def con_id(self) -> int: ...
    @property
    def symbol(self) -> str: ...
    @property
    def sec_type(self) -> str: ...
    @property
    def last_trade_date(self) -> str: ...
    @property
    def strike(self) -> float: ...
    @property
    def right(self) -> str: ...
    @property
    def multiplier(self) -> str: ...
    @property
    def exchange(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def local_symbol(self) -> str: ...
    @property
    def trading_class(self) -> str: ...


def error_msg(req_id: int, code: int, text: str) -> list[Field]:
    """ERR_MSG (version 2): reqId, code, text, advancedOrderRejectJson (no error time below 194)."""
    return [ERR_MSG, 2, req_id, code, text, ""]


def order_status_msg(
    order_id: int,
    status: str,
    filled: Decimal,
    remaining: Decimal,
    avg_fill_price: float,
    perm_id: int,
    last_fill_price: float,
    client_id: int,
) -> list[Field]:
    """ORDER_STATUS (no version field from MARKET_CAP_PRICE on)."""
    return [
        ORDER_STATUS,
        order_id,
        status,
        filled,
        remaining,
        avg_fill_price,
        perm_id,
        0,  # parentId
        last_fill_price,
        client_id,
        "",  # whyHeld
        0.0,  # mktCapPrice
    ]


def open_order_msg(
    order_id: int,
    contract: ContractFields,
    *,
    action: str,
    total_quantity: Decimal,
    order_type: str,
    lmt_price: float | None,
    aux_price: float | None,
    tif: str,
    account: str,
    order_ref: str,
    client_id: int,
    perm_id: int,
    status: str,
    commission: float | None,
) -> list[Field]:
    """OPEN_ORDER in the field order of ``processOpenOrder`` at version 178 (no conditional blocks)."""
    unset = ""  # SHOW_UNSET fields: empty means unset
    return [
        OPEN_ORDER,
        order_id,
        *contract_block(contract),
        action,
        total_quantity,
        order_type,
        unset if lmt_price is None else lmt_price,
        unset if aux_price is None else aux_price,
        tif,
        "",  # ocaGroup
        account,
        "O",  # openClose
        0,  # origin (customer)
        order_ref,
        client_id,
        perm_id,
        0,  # outsideRth
        0,  # hidden
        0.0,  # discretionaryAmt
        "",  # goodAfterTime
        "",  # sharesAllocation (deprecated)
        "",  # faGroup
        "",  # faMethod
        "",  # faPercentage
        "",  # modelCode
        "",  # goodTillDate
        "",  # rule80A
        unset,  # percentOffset
        "",  # settlingFirm
        0,  # shortSaleSlot
        "",  # designatedLocation
        -1,  # exemptCode
        0,  # auctionStrategy
        unset,  # startingPrice
        unset,  # stockRefPrice
        unset,  # delta
        unset,  # stockRangeLower
        unset,  # stockRangeUpper
        unset,  # displaySize
        0,  # blockOrder
        0,  # sweepToFill
        0,  # allOrNone
        unset,  # minQty
        0,  # ocaType
        0,  # eTradeOnly
        0,  # firmQuoteOnly
        unset,  # nbboPriceCap
        0,  # parentId
        0,  # triggerMethod
        unset,  # volatility
        0,  # volatilityType
        "",  # deltaNeutralOrderType (empty: no delta-neutral block)
        unset,  # deltaNeutralAuxPrice
        0,  # continuousUpdate
        0,  # referencePriceType
        unset,  # trailStopPrice
        unset,  # trailingPercent
        unset,  # basisPoints
        unset,  # basisPointsType
        "",  # comboLegsDescrip
        0,  # comboLegsCount
        0,  # orderComboLegsCount
        0,  # smartComboRoutingParamsCount
        unset,  # scaleInitLevelSize
        unset,  # scaleSubsLevelSize
        unset,  # scalePriceIncrement (unset: no scale block)
        "",  # hedgeType (empty: no hedgeParam)
        0,  # optOutSmartRouting
        "",  # clearingAccount
        "",  # clearingIntent
        0,  # notHeld
        0,  # deltaNeutralContractPresent
        "",  # algoStrategy (empty: no algo params)
        0,  # solicited
        0,  # whatIf
        status,
        "",  # initMarginBefore
        "",  # maintMarginBefore
        "",  # equityWithLoanBefore
        "",  # initMarginChange
        "",  # maintMarginChange
        "",  # equityWithLoanChange
        "",  # initMarginAfter
        "",  # maintMarginAfter
        "",  # equityWithLoanAfter
        unset if commission is None else commission,
        unset,  # minCommissionAndFees
        unset,  # maxCommissionAndFees
        "USD" if commission is not None else "",
        "",  # warningText
        0,  # randomizeSize
        0,  # randomizePrice
        0,  # conditionsSize
        "",  # adjustedOrderType
        0.0,  # triggerPrice
        0.0,  # trailStopPrice (adjusted)
        0.0,  # lmtPriceOffset
        0.0,  # adjustedStopPrice
        0.0,  # adjustedStopLimitPrice
        0.0,  # adjustedTrailingAmount
        0,  # adjustableTrailingUnit
        "",  # softDollarTier name
        "",  # softDollarTier value
        "",  # softDollarTier displayName
        0.0,  # cashQty
        0,  # dontUseAutoPriceForHedge
        0,  # isOmsContainer
        0,  # discretionaryUpToLimitPrice
        0,  # usePriceMgmtAlgo
        unset,  # duration
        unset,  # postToAts
        0,  # autoCancelParent
        unset,  # minTradeQty
        unset,  # minCompeteSize
        unset,  # competeAgainstBestOffset
        unset,  # midOffsetAtWhole
        unset,  # midOffsetAtHalf
    ]


def execution_msg(
    req_id: int,
    order_id: int,
    contract: ContractFields,
    *,
    exec_id: str,
    time: str,
    account: str,
    side: str,
    shares: Decimal,
    price: float,
    perm_id: int,
    client_id: int,
    cum_qty: Decimal,
    avg_price: float,
    order_ref: str,
) -> list[Field]:
    """EXECUTION_DATA (no version field from LAST_LIQUIDITY on; pendingPriceRevision from 178)."""
    return [
        EXECUTION_DATA,
        req_id,
        order_id,
        *contract_block(contract),
        exec_id,
        time,
        account,
        contract.exchange,
        side,  # BOT / SLD
        shares,
        price,
        perm_id,
        client_id,
        0,  # liquidation
        cum_qty,
        avg_price,
        order_ref,
        "",  # evRule
        "",  # evMultiplier
        "",  # modelCode
        2,  # lastLiquidity: 2 = removed liquidity
        0,  # pendingPriceRevision
    ]


def commission_msg(exec_id: str, commission: float, realized_pnl: float | None) -> list[Field]:
    """COMMISSION_AND_FEES_REPORT (version 1)."""
    return [
        COMMISSION_REPORT,
        1,
        exec_id,
        commission,
        "USD",
        UNSET_DOUBLE if realized_pnl is None else realized_pnl,
        UNSET_DOUBLE,  # yield
        0,  # yieldRedemptionDate
    ]
