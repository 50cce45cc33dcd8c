"""
The CoW order flow: quote, EIP-712 sign, post, poll to a final state, cancel (signed off-chain
or ``invalidateOrder`` on-chain), expiry, and fills from the order book's trades checked
against the settlement contract's ``Trade`` events.

This is venue knowledge only: it takes no risk decision. Every order it posts comes through
:class:`nautilus_ext.onchain.cowswap.CowSwapGate`, which judges it at the safety gate first.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from nautilus_ext.adapters.cowswap.config import CowSwapConfig
from nautilus_ext.adapters.cowswap.constants import COWSWAP_VENUE
from nautilus_ext.adapters.cowswap.credentials import CowSwapCredentials
from nautilus_ext.adapters.cowswap.enums import CowOrderKind
from nautilus_ext.adapters.cowswap.enums import CowOrderStatus
from nautilus_ext.adapters.cowswap.enums import CowSigningScheme
from nautilus_ext.adapters.cowswap.errors import CowOrderCancelled
from nautilus_ext.adapters.cowswap.errors import CowOrderExpired
from nautilus_ext.adapters.cowswap.http.client import CowSwapHttpClient
from nautilus_ext.adapters.cowswap.parsing import order_data_from_quote
from nautilus_ext.adapters.cowswap.schemas import CowOrder
from nautilus_ext.adapters.cowswap.schemas import CowOrderCancellations
from nautilus_ext.adapters.cowswap.schemas import CowOrderCreation
from nautilus_ext.adapters.cowswap.schemas import CowQuoteRequest
from nautilus_ext.adapters.cowswap.schemas import CowQuoteResponse
from nautilus_ext.adapters.cowswap.settlement import CowSettlementChain
from nautilus_ext.adapters.cowswap.signing import CowOrderData
from nautilus_ext.adapters.cowswap.signing import order_digest
from nautilus_ext.adapters.cowswap.signing import order_uid
from nautilus_ext.adapters.cowswap.signing import parse_uid
from nautilus_ext.adapters.cowswap.signing import sign_cancellations
from nautilus_ext.adapters.cowswap.signing import sign_order
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import PositionMismatch
from nautilus_ext.errors import VenueUnavailable


@dataclass(frozen=True, slots=True)
class CowFill:
    """
    One settlement of an order, as the chain recorded it (``Trade`` event).

    ``sell_amount`` includes ``fee_amount`` (what left the owner), ``buy_amount`` is what the
    receiver got; base units.
    """

    order_uid: str
    sell_token: str
    buy_token: str
    sell_amount: int
    buy_amount: int
    fee_amount: int
    tx_hash: str
    block_number: int
    log_index: int


@dataclass(frozen=True, slots=True)
class CowOrderOutcome:
    """Where an order ended (or stands, when ``status`` is not final) and what filled."""

    uid: str
    status: CowOrderStatus
    order: CowOrder
    fills: tuple[CowFill, ...]

    @property
    def executed_sell(self) -> int:
        """Sell token that left the owner, fee included (base units)."""
        return sum(f.sell_amount for f in self.fills)

    @property
    def executed_buy(self) -> int:
        """Buy token the receiver got (base units)."""
        return sum(f.buy_amount for f in self.fills)

    def raise_for_status(self) -> None:
        """Raise the typed error of an expired or cancelled order that filled nothing."""
        if self.fills:
            return
        if self.status is CowOrderStatus.EXPIRED:
            raise CowOrderExpired(
                f"CoW order {self.uid[:18]}… expired (validTo {self.order.valid_to}) unfilled",
                venue=COWSWAP_VENUE,
                order_id=self.uid,
                details={"rule": "ORDER_EXPIRED", "valid_to": self.order.valid_to},
            )
        if self.status is CowOrderStatus.CANCELLED:
            how = "invalidated on-chain" if self.order.invalidated else "cancelled"
            raise CowOrderCancelled(
                f"CoW order {self.uid[:18]}… {how} unfilled",
                venue=COWSWAP_VENUE,
                order_id=self.uid,
                details={"rule": "ORDER_CANCELLED", "invalidated": self.order.invalidated},
            )


class CowSwapExecution:
    """
    Quote, sign, post, follow and cancel CoW orders for one owner.

    Parameters
    ----------
    config : CowSwapConfig
        Order book, domain and timing settings.
    credentials : CowSwapCredentials
        The owner's signing key (from the environment).
    http : CowSwapHttpClient
        The order-book client.
    chain : CowSettlementChain
        The settlement contract on the node the orders settle on.
    """

    def __init__(
        self,
        config: CowSwapConfig,
        credentials: CowSwapCredentials,
        http: CowSwapHttpClient,
        chain: CowSettlementChain,
    ) -> None:
        if chain.address.lower() != config.settlement.lower():
            raise InvalidConfig(
                f"settlement {config.settlement} differs from the chain client's {chain.address}"
            )
        self.config = config
        self._key = credentials.private_key
        self.owner = credentials.owner
        self.http = http
        self.chain = chain

    async def quote_sell(
        self, sell_token: str, buy_token: str, sell_amount_before_fee: int, *, receiver: str | None = None
    ) -> CowQuoteResponse:
        """Ask for a sell quote of ``sell_amount_before_fee`` (base units), valid ``valid_for_secs``."""
        valid_to = self.chain.block_timestamp() + self.config.valid_for_secs
        request = CowQuoteRequest(
            sell_token=sell_token,
            buy_token=buy_token,
            from_=self.owner,
            receiver=receiver,
            kind=str(CowOrderKind.SELL),
            valid_to=valid_to,
            sell_amount_before_fee=str(sell_amount_before_fee),
        )
        return await self.http.quote(request)

    def order_from_quote(self, quote: CowQuoteResponse, slippage_bps: int | None = None) -> CowOrderData:
        """The order to sign for ``quote`` (fee folded into the sell amount, buy lowered by slippage)."""
        bps = self.config.max_slippage_bps if slippage_bps is None else slippage_bps
        return order_data_from_quote(quote.quote, bps)

    def uid_of(self, order: CowOrderData) -> str:
        """The UID ``order`` gets when this owner signs it."""
        digest = order_digest(order, self.config.chain_id, self.config.settlement)
        return order_uid(digest, self.owner, order.valid_to)

    async def post(self, order: CowOrderData, *, quote_id: int | None = None) -> str:
        """Sign ``order`` (EIP-712, GPv2 domain) and post it; return its UID."""
        signature = sign_order(order, self.config.chain_id, self.config.settlement, self._key)
        message = order.message()
        creation = CowOrderCreation(
            sell_token=message["sellToken"],
            buy_token=message["buyToken"],
            receiver=message["receiver"],
            sell_amount=str(order.sell_amount),
            buy_amount=str(order.buy_amount),
            valid_to=order.valid_to,
            app_data=order.app_data,
            fee_amount=str(order.fee_amount),
            kind=str(order.kind),
            partially_fillable=order.partially_fillable,
            sell_token_balance=str(order.sell_token_balance),
            buy_token_balance=str(order.buy_token_balance),
            signing_scheme=str(CowSigningScheme.EIP712),
            signature=signature,
            from_=self.owner,
            quote_id=quote_id,
        )
        uid = await self.http.post_order(creation)
        expected = self.uid_of(order)
        if uid.lower() != expected:
            raise PositionMismatch(
                f"the order book named the order {uid}, but its digest gives {expected}",
                venue=COWSWAP_VENUE,
                order_id=uid,
            )
        return expected

    async def cancel(self, uids: list[str], *, http: CowSwapHttpClient | None = None) -> None:
        """
        Cancel ``uids`` off-chain with a signed ``OrderCancellations`` (``DELETE /api/v1/orders``).

        ``http`` sends it through another client (one bound to another event loop, e.g. a
        kill switch's worker thread).
        """
        signature = sign_cancellations(uids, self.config.chain_id, self.config.settlement, self._key)
        await (http or self.http).cancel_orders(CowOrderCancellations(order_uids=uids, signature=signature))

    def invalidate_on_chain(self, uid: str) -> dict[str, Any]:
        """Call ``invalidateOrder(uid)`` on the settlement contract from the owner (a transaction)."""
        _, owner, _ = parse_uid(uid)
        if owner.lower() != self.owner.lower():
            raise InvalidConfig(f"order {uid[:18]}… belongs to {owner}, not to the configured owner")
        return self.chain.invalidate_order(uid, self._key)

    async def fills(self, uid: str) -> tuple[CowFill, ...]:
        """
        The order's fills: the order book's trades, each matched to its on-chain ``Trade`` event.

        Raises
        ------
        PositionMismatch
            The API and the chain disagree (a trade missing on either side, or other amounts).
        """
        api = await self.http.get_trades(order_uid=uid)
        chain = {(e.tx_hash.lower(), e.log_index): e for e in self.chain.trade_events(order_uid=uid)}
        fills = []
        for trade in api:
            event = chain.pop(((trade.tx_hash or "").lower(), trade.log_index), None)
            if event is None or (int(trade.sell_amount), int(trade.buy_amount)) != (
                event.sell_amount,
                event.buy_amount,
            ):
                raise PositionMismatch(
                    f"CoW trade {trade.tx_hash}:{trade.log_index} of {uid[:18]}… has no matching "
                    "on-chain Trade event",
                    venue=COWSWAP_VENUE,
                    order_id=uid,
                )
            fills.append(
                CowFill(
                    order_uid=uid,
                    sell_token=event.sell_token,
                    buy_token=event.buy_token,
                    sell_amount=event.sell_amount,
                    buy_amount=event.buy_amount,
                    fee_amount=event.fee_amount,
                    tx_hash=event.tx_hash,
                    block_number=event.block_number,
                    log_index=event.log_index,
                )
            )
        if chain:
            raise PositionMismatch(
                f"{len(chain)} on-chain Trade event(s) of {uid[:18]}… are missing from the "
                "order book's trades",
                venue=COWSWAP_VENUE,
                order_id=uid,
            )
        return tuple(fills)

    async def wait_final(self, uid: str, *, timeout_secs: float = 30.0) -> CowOrderOutcome:
        """
        Poll ``uid`` until it is fulfilled, cancelled or expired (or ``timeout_secs`` pass).

        An open order whose ``validTo`` the chain clock has passed is expired: the settlement
        contract refuses it (``GPv2: order expired``), whatever the order book still says.
        """
        deadline = time.monotonic() + timeout_secs
        while True:
            order = await self.http.get_order(uid)
            status = CowOrderStatus(order.status)
            if not status.is_final and self.chain.block_timestamp() > order.valid_to:
                order = await self.http.get_order(uid)  # one more look: a settlement may have landed
                status = CowOrderStatus(order.status)
                if not status.is_final:
                    status = CowOrderStatus.EXPIRED
            if status.is_final or time.monotonic() >= deadline:
                fills = (
                    await self.fills(uid)
                    if int(order.executed_sell_amount) > 0 or status is CowOrderStatus.FULFILLED
                    else ()
                )
                return CowOrderOutcome(uid=uid, status=status, order=order, fills=fills)
            await asyncio.sleep(self.config.poll_interval_secs)


def require_final(outcome: CowOrderOutcome) -> CowOrderOutcome:
    """Return a final outcome; raise :class:`VenueUnavailable` for one still open (poll timeout)."""
    if not outcome.status.is_final:
        raise VenueUnavailable(
            f"CoW order {outcome.uid[:18]}… still {outcome.status} after polling",
            venue=COWSWAP_VENUE,
            order_id=outcome.uid,
            retryable=True,
        )
    return outcome


__all__ = [
    "CowFill",
    "CowOrderOutcome",
    "CowSwapExecution",
    "require_final",
]
