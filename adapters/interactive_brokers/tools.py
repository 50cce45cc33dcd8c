"""
Account and contract tooling outside the node, over ``ib_async`` (``nautilus-ext ib ...``).

:func:`list_contracts` lists a root's tradable futures months (IB contract details: local
symbol, last trade date, multiplier, trading class, canonical key); :func:`account_summary`
reads the account's balances and margin. Both open a read-only API session, ask, and close it.
The gateway address and client id come from arguments (the CLI takes flags or the
``IB_HOST``/``IB_PORT``/``IB_CLIENT_ID`` variables); the account id is shown masked.

``ib_async`` errors and socket failures are translated here, once: an unreachable gateway or a
timeout is :class:`~nautilus_ext.errors.VenueUnavailable`; an unknown root
:class:`~nautilus_ext.errors.InvalidInstrumentKey`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any
from typing import Final

import ib_async

from nautilus_ext.adapters.interactive_brokers.contracts import ROOTS
from nautilus_ext.adapters.interactive_brokers.contracts import IBRoot
from nautilus_ext.adapters.interactive_brokers.contracts import from_ib_contract
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.errors import VenueUnavailable

VENUE: Final = "INTERACTIVE_BROKERS"
ACCOUNT_TAGS: Final = (
    "NetLiquidation",
    "TotalCashValue",
    "AvailableFunds",
    "ExcessLiquidity",
    "InitMarginReq",
    "MaintMarginReq",
    "BuyingPower",
)
"""The account summary tags :func:`account_summary` reports (IB's names)."""


@dataclass(frozen=True)
class GatewayAddress:
    """Where the TWS/IB Gateway API listens, and the client id to use."""

    host: str = "127.0.0.1"
    port: int = 4002
    client_id: int = 901
    timeout_secs: float = 10.0


@dataclass(frozen=True)
class ListedFuture:
    """One tradable futures month."""

    local_symbol: str
    last_trade_date: str  # YYYYMMDD
    contract_month: str  # YYYYMM
    multiplier: str
    trading_class: str
    exchange: str
    con_id: int
    instrument_key: str


@dataclass(frozen=True)
class AccountSummary:
    """Balances and margin of one account (values in ``currency``)."""

    account: str  # masked
    currency: str
    values: dict[str, Decimal]


def root_for(code: str) -> IBRoot:
    """Return the IB root of a trading class or IB symbol (``ES``, ``6E``, ``CL`` ...)."""
    wanted = code.strip().upper()
    for root in ROOTS.values():
        if wanted in (root.trading_class, root.symbol):
            return root
    known = ", ".join(sorted(r.trading_class for r in ROOTS.values()))
    raise InvalidInstrumentKey(f"unknown futures root {code!r} (known: {known})")


def mask_account(account: str) -> str:
    """Return ``account`` with all but its first two and last two characters masked."""
    return account if len(account) <= 4 else account[:2] + "*" * (len(account) - 4) + account[-2:]


async def _connect(address: GatewayAddress) -> ib_async.IB:
    ib = ib_async.IB()
    try:
        await ib.connectAsync(
            address.host,
            address.port,
            clientId=address.client_id,
            timeout=address.timeout_secs,
            readonly=True,
        )
    except (OSError, TimeoutError, ConnectionError) as e:
        ib.disconnect()
        raise VenueUnavailable(
            f"cannot reach the IB API at {address.host}:{address.port}: {e!r}", venue=VENUE
        ) from e
    return ib


async def list_contracts_async(code: str, address: GatewayAddress) -> list[ListedFuture]:
    """Return the tradable futures months of root ``code``, nearest first."""
    root = root_for(code)
    ib = await _connect(address)
    try:
        query = ib_async.Future(symbol=root.symbol, exchange=root.exchange, tradingClass=root.trading_class)
        details = await asyncio.wait_for(ib.reqContractDetailsAsync(query), address.timeout_secs)
    except TimeoutError as e:
        raise VenueUnavailable(f"contract details for {code} timed out", venue=VENUE) from e
    finally:
        ib.disconnect()
    out = []
    for d in details:
        c = d.contract
        if c is None:
            continue
        day = c.lastTradeDateOrContractMonth.split(" ")[0]
        key = from_ib_contract("FUT", c.symbol, c.exchange, day, c.tradingClass)
        out.append(
            ListedFuture(
                local_symbol=c.localSymbol,
                last_trade_date=day,
                contract_month=d.contractMonth or day[:6],
                multiplier=c.multiplier,
                trading_class=c.tradingClass,
                exchange=c.exchange,
                con_id=c.conId,
                instrument_key=str(key),
            )
        )
    return sorted(out, key=lambda f: f.last_trade_date)


async def account_summary_async(address: GatewayAddress) -> list[AccountSummary]:
    """Return each managed account's balances and margin (:data:`ACCOUNT_TAGS`)."""
    ib = await _connect(address)
    try:
        values = await asyncio.wait_for(ib.accountSummaryAsync(), address.timeout_secs)
    except TimeoutError as e:
        raise VenueUnavailable("account summary timed out", venue=VENUE) from e
    finally:
        ib.disconnect()
    by_account: dict[tuple[str, str], dict[str, Decimal]] = {}
    for v in values:
        if v.tag not in ACCOUNT_TAGS or not v.currency:
            continue
        try:
            amount = Decimal(v.value)
        except InvalidOperation:
            continue
        by_account.setdefault((v.account, v.currency), {})[v.tag] = amount
    return [
        AccountSummary(account=mask_account(acct), currency=cur, values=dict(sorted(vals.items())))
        for (acct, cur), vals in sorted(by_account.items())
    ]


def _run[T](coro: Coroutine[Any, Any, T]) -> T:
    # ib_async 2.0.1 caches the first event loop it sees for the whole process
    # (``util.getLoop`` is ``functools.cache``-d) and opens every connection on it: run on that
    # loop rather than a fresh ``asyncio.run`` loop, replacing it only if it was closed
    loop = ib_async.util.getLoop()
    if loop.is_closed():
        ib_async.util.getLoop.cache_clear()
        loop = ib_async.util.getLoop()
    result: T = loop.run_until_complete(coro)
    return result


def list_contracts(code: str, address: GatewayAddress) -> list[ListedFuture]:
    """Blocking :func:`list_contracts_async` (not from inside a running event loop)."""
    return _run(list_contracts_async(code, address))


def account_summary(address: GatewayAddress) -> list[AccountSummary]:
    """Blocking :func:`account_summary_async` (not from inside a running event loop)."""
    return _run(account_summary_async(address))
