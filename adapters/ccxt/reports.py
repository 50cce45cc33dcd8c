"""
Reconciliation reports, venue positions and order lookups of the ccxt execution client.

The bottom of :class:`~nautilus_ext.adapters.ccxt.execution.CcxtExecutionClient`'s three layers
(the split NautilusTrader's Polymarket adapter uses): this class holds the client's venue
identifiers, looks orders up on the venue, answers the engine's ``generate_*_report(s)``
requests and publishes the venue's positions as a
:class:`~nautilus_ext.messages.VenuePositionSnapshot` (the client declares the capability
:class:`~nautilus_ext.messages.PublishesVenuePositions`).
:class:`~nautilus_ext.adapters.ccxt.order_sync.CcxtOrderSync` builds on it with streams, polls
and fills; the client itself adds the order commands.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any
from typing import ClassVar
from typing import Final

from nautilus_trader.execution.messages import GenerateFillReports
from nautilus_trader.execution.messages import GenerateOrderStatusReport
from nautilus_trader.execution.messages import GenerateOrderStatusReports
from nautilus_trader.execution.messages import GeneratePositionStatusReports
from nautilus_trader.execution.reports import FillReport
from nautilus_trader.execution.reports import OrderStatusReport
from nautilus_trader.execution.reports import PositionStatusReport
from nautilus_trader.live.execution_client import LiveExecutionClient
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.instruments import Instrument

from nautilus_ext.adapters.ccxt.config import CcxtExecClientConfig
from nautilus_ext.adapters.ccxt.errors import ccxt_call
from nautilus_ext.adapters.ccxt.parsing.funding import funding_cash_flow
from nautilus_ext.adapters.ccxt.parsing.margin import account_margin
from nautilus_ext.adapters.ccxt.parsing.orders import fill_report
from nautilus_ext.adapters.ccxt.parsing.orders import order_status_report
from nautilus_ext.adapters.ccxt.parsing.orders import position_status_report
from nautilus_ext.adapters.ccxt.parsing.orders import venue_client_id
from nautilus_ext.adapters.ccxt.parsing.venue_fixes import normalize_position
from nautilus_ext.adapters.ccxt.providers import CcxtInstrumentProvider
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.messages import FundingPaymentReport
from nautilus_ext.messages import VenueMargin
from nautilus_ext.messages import VenuePositionSnapshot
from nautilus_ext.messages import funding_payments_topic
from nautilus_ext.messages import publish_venue_positions
from nautilus_ext.messages import venue_margin_topic
from nautilus_ext.messages import watched_instruments

_CLIENT_ID_INFO_KEYS: Final = ("orderLinkId", "cloid", "clientOrderId", "clOrdId", "text", "label")


def listed_client_ids(venue_order: dict[str, Any]) -> set[Any]:
    """Return the client ids a ccxt order carries (ccxt's field and the venues' own)."""
    info = venue_order.get("info") or {}
    return {
        venue_order.get("clientOrderId"),
        info.get("orderLinkId"),
        info.get("cloid"),
        info.get("label"),
    }


class CcxtExecutionReports(LiveExecutionClient):
    """
    Identifiers, order lookups, reconciliation reports and position snapshots (see the module docstring).

    Not instantiated on its own: :class:`~nautilus_ext.adapters.ccxt.execution.CcxtExecutionClient`
    sets the attributes below in its constructor.
    """

    publishes_venue_positions: ClassVar[bool] = True  # PublishesVenuePositions: the poll below

    _exchange: Any
    _provider: CcxtInstrumentProvider
    _cfg: CcxtExecClientConfig
    _margin_published_ns: int
    _funding_seen: set[str]
    _exchange_id: str
    _client_ids: dict[str, ClientOrderId]
    _venue_ids: dict[str, ClientOrderId]

    @property
    def _venue_name(self) -> str:
        return self.venue.value if self.venue is not None else self._exchange_id.upper()

    async def _call(self, operation: str, factory: Callable[[], Any], order_id: str | None = None) -> Any:
        return await ccxt_call(
            factory,
            venue=self._venue_name,
            operation=operation,
            timeout_secs=self._cfg.ack_timeout_secs,
            order_id=order_id,
        )

    # -- identifiers ------------------------------------------------------------------------

    def _remember(self, client_order_id: ClientOrderId, venue_order_id: VenueOrderId | None) -> None:
        self._client_ids[venue_client_id(self._exchange_id, client_order_id)] = client_order_id
        if venue_order_id is not None:
            self._venue_ids[venue_order_id.value] = client_order_id

    def _resolve(self, payload: dict[str, Any]) -> ClientOrderId | None:
        venue_id = payload.get("order") if "order" in payload else payload.get("id")
        if venue_id is not None and str(venue_id) in self._venue_ids:
            return self._venue_ids[str(venue_id)]
        info = payload.get("info") or {}
        candidates = [payload.get("clientOrderId")]
        candidates += [info.get(k) for k in _CLIENT_ID_INFO_KEYS if isinstance(info, dict)]
        if isinstance(info, dict) and isinstance(info.get("order"), dict):
            candidates.append(info["order"].get("cloid"))
        for candidate in candidates:
            if candidate and str(candidate) in self._client_ids:
                client_order_id = self._client_ids[str(candidate)]
                if venue_id is not None:
                    self._venue_ids[str(venue_id)] = client_order_id
                return client_order_id
        return None

    def _is_spot(self, instrument_id: InstrumentId) -> bool:
        return isinstance(self._provider.find(instrument_id), CurrencyPair)

    # -- order lookups ----------------------------------------------------------------------

    async def _find_venue_order(self, symbol: str, client_id: str) -> dict[str, Any] | None:
        ex = self._exchange
        fetchers: list[tuple[str, Callable[[], Any]]] = [
            ("fetch_open_orders", lambda: ex.fetch_open_orders(symbol))
        ]
        if ex.has.get("fetchClosedOrders"):
            fetchers.append(("fetch_closed_orders", lambda: ex.fetch_closed_orders(symbol)))
        for operation, fetch in fetchers:
            try:
                orders = await self._call(operation, fetch)
            except NautilusExtError as e:
                self._log.warning(f"Cannot look up order {client_id}: {e}")
                return None
            for venue_order in orders:
                if client_id in listed_client_ids(venue_order):
                    return dict(venue_order)
        return None

    # -- reconciliation reports -------------------------------------------------------------

    def _symbols(self, instrument_id: Any = None) -> list[str]:
        if instrument_id is not None:
            symbol = self._provider.ccxt_symbol(instrument_id)
            return [symbol] if symbol else []
        return [s for i in self._provider.list_all() if (s := self._provider.ccxt_symbol(i.id))]

    def _instrument_for(self, symbol: str | None) -> Instrument | None:
        instrument_id = self._provider.instrument_id_for_symbol(str(symbol))
        return self._provider.find(instrument_id) if instrument_id is not None else None

    async def generate_order_status_report(
        self,
        command: GenerateOrderStatusReport,
    ) -> OrderStatusReport | None:
        """Return the venue's view of one order (by client or venue order id)."""
        symbols = self._symbols(command.instrument_id)
        wanted_client = (
            venue_client_id(self._exchange_id, command.client_order_id) if command.client_order_id else None
        )
        operations = ["fetch_open_orders"]
        if self._exchange.has.get("fetchClosedOrders"):
            operations.append("fetch_closed_orders")
        for symbol in symbols:
            for operation in operations:
                try:
                    orders = await self._call(operation, partial(getattr(self._exchange, operation), symbol))
                except NautilusExtError as e:
                    self._log.warning(f"Cannot fetch order status: {e}")
                    return None
                for venue_order in orders:
                    client_ids = listed_client_ids(venue_order)
                    match_venue = (
                        command.venue_order_id is not None
                        and str(venue_order.get("id")) == command.venue_order_id.value
                    )
                    if match_venue or (wanted_client is not None and wanted_client in client_ids):
                        report = self._order_report(venue_order)
                        if report is not None:
                            return report
        return None

    def _order_report(self, venue_order: dict[str, Any]) -> OrderStatusReport | None:
        instrument = self._instrument_for(venue_order.get("symbol"))
        if instrument is None:
            return None
        return order_status_report(
            venue_order,
            account_id=self.account_id,
            instrument=instrument,
            client_order_id=self._resolve(venue_order),
            ts_init=self._clock.timestamp_ns(),
        )

    async def generate_order_status_reports(
        self,
        command: GenerateOrderStatusReports,
    ) -> list[OrderStatusReport]:
        """Return the venue's open orders (for reconciliation at start)."""
        reports: list[OrderStatusReport] = []
        for symbol in self._symbols(command.instrument_id):
            try:
                orders = await self._call(
                    "fetch_open_orders", partial(self._exchange.fetch_open_orders, symbol)
                )
            except NautilusExtError as e:
                self._log.error(f"Cannot fetch open orders for {symbol}: {e}")
                continue
            for venue_order in orders:
                report = self._order_report(venue_order)
                if report is not None:
                    reports.append(report)
        return reports

    async def generate_fill_reports(self, command: GenerateFillReports) -> list[FillReport]:
        """Return the venue's recent fills (for reconciliation at start)."""
        reports: list[FillReport] = []
        since = command.start.value // 1_000_000 if command.start is not None else None
        for symbol in self._symbols(command.instrument_id):
            try:
                trades = await self._call(
                    "fetch_my_trades",
                    partial(self._exchange.fetch_my_trades, symbol, since),
                )
            except NautilusExtError as e:
                self._log.error(f"Cannot fetch fills for {symbol}: {e}")
                continue
            instrument = self._instrument_for(symbol)
            if instrument is None:
                continue
            for trade in trades:
                if (
                    command.venue_order_id is not None
                    and str(trade.get("order")) != command.venue_order_id.value
                ):
                    continue
                reports.append(
                    fill_report(
                        trade,
                        account_id=self.account_id,
                        instrument=instrument,
                        client_order_id=self._resolve(trade),
                        ts_init=self._clock.timestamp_ns(),
                    )
                )
        return reports

    async def _fetch_positions(self, symbols: list[str]) -> list[dict[str, Any]]:
        # some venues (Bybit linear) refuse several symbols at once: fall back to one each
        try:
            positions: list[dict[str, Any]] = await self._call(
                "fetch_positions", lambda: self._exchange.fetch_positions(symbols or None)
            )
            return [normalize_position(self._exchange_id, p) for p in positions]
        except NautilusExtError as e:
            if e.details.get("ccxt_error") not in ("ArgumentsRequired", "BadRequest"):
                raise
        result: list[dict[str, Any]] = []
        for symbol in symbols:
            result += await self._call("fetch_positions", partial(self._exchange.fetch_positions, [symbol]))
        return [normalize_position(self._exchange_id, p) for p in result]

    async def _position_poll_loop(self) -> None:
        interval = self._cfg.position_poll_interval_ms / 1000
        while True:
            await asyncio.sleep(interval)
            try:
                await self.publish_position_snapshot()
            except NautilusExtError as e:
                self._log.warning(f"Position poll failed: {e}")

    async def publish_position_snapshot(self) -> VenuePositionSnapshot | None:
        """
        Fetch the venue's positions and publish them for the safety layer; return the snapshot.

        Every instrument this venue has orders or positions for is included, flat ones as zero,
        so a position closed or opened behind the system's back shows as a mismatch. Nothing is
        published while there is nothing to watch.
        """
        # spot holdings are wallet balances, not positions: only derivatives are compared
        watched = {i for i in watched_instruments(self._cache, self.venue) if not self._is_spot(i)}
        symbols = [s for s in (self._provider.ccxt_symbol(i) for i in sorted(watched, key=str)) if s]
        if not symbols:
            return None
        positions = await self._fetch_positions(symbols)
        reported: dict[InstrumentId, Decimal] = {}
        for position in positions:
            instrument = self._instrument_for(position.get("symbol"))
            if instrument is None:
                continue
            contracts = Decimal(str(position.get("contracts") or 0))
            short = str(position.get("side") or "").lower() == "short"
            reported[instrument.id] = reported.get(instrument.id, Decimal(0)) + (
                -contracts if short else contracts
            )
        snapshot = publish_venue_positions(
            self._msgbus, self.venue, watched, reported, self._clock.timestamp_ns()
        )
        await self._publish_margin_if_due(positions)
        return snapshot

    async def _publish_margin_if_due(self, positions: list[dict[str, Any]]) -> None:
        # the account's margin (seed 003's margin ratio) at most every margin_poll_interval_ms,
        # from the positions just fetched and one balance request
        interval_ns = self._cfg.margin_poll_interval_ms * 1_000_000
        now = self._clock.timestamp_ns()
        if interval_ns <= 0 or now - self._margin_published_ns < interval_ns:
            return
        self._margin_published_ns = now
        balance = await self._call("fetch_balance", self._exchange.fetch_balance)
        margin = account_margin(balance)
        if margin is None:
            return
        notional = Decimal(0)
        liquidation: dict[InstrumentId, Decimal] = {}
        marks: dict[InstrumentId, Decimal] = {}
        for position in positions:
            instrument = self._instrument_for(position.get("symbol"))
            if instrument is None or not position.get("contracts"):
                continue
            notional += abs(Decimal(str(position.get("notional") or 0)))
            if position.get("liquidationPrice"):
                liquidation[instrument.id] = Decimal(str(position["liquidationPrice"]))
            if position.get("markPrice"):
                marks[instrument.id] = Decimal(str(position["markPrice"]))
        self._msgbus.publish(
            venue_margin_topic(self.venue.value),
            VenueMargin(
                venue=self.venue.value,
                equity=margin[0],
                maintenance_margin=margin[1],
                notional=notional,
                liquidation_prices=liquidation,
                marks=marks,
                ts_ns=now,
            ),
        )

    async def _funding_poll_loop(self) -> None:
        interval = self._cfg.funding_poll_interval_ms / 1000
        while True:
            await asyncio.sleep(interval)
            try:
                await self.publish_funding_payments()
            except NautilusExtError as e:
                self._log.warning(f"Funding history poll failed: {e}")

    async def publish_funding_payments(self) -> list[FundingPaymentReport]:
        """
        Read the account's funding history of every derivative this client lists and publish
        the payments not published before (in this run); return them.

        The venue keeps a window of history (ccxt's default page): after a restart the first
        poll republishes that window, and consumers deduplicate (the store's funding payments
        are unique per position, venue, symbol and time).
        """
        if not self._exchange.has.get("fetchFundingHistory"):
            return []
        published: list[FundingPaymentReport] = []
        for instrument in self._provider.list_all():
            symbol = self._provider.ccxt_symbol(instrument.id)
            if symbol is None or self._is_spot(instrument.id):
                continue
            rows = await self._call(
                "fetch_funding_history", partial(self._exchange.fetch_funding_history, symbol)
            )
            for row in rows:
                key = f"{instrument.id}|{row.get('id')}|{row.get('timestamp')}"
                flow = funding_cash_flow(self._exchange_id, row)
                if key in self._funding_seen or flow is None or not row.get("timestamp"):
                    continue
                self._funding_seen.add(key)
                report = FundingPaymentReport(
                    venue=self.venue.value,
                    instrument_id=instrument.id,
                    amount=flow[0],
                    currency=str(row.get("code") or instrument.quote_currency.code),
                    rate=flow[1],
                    ts_ns=int(row["timestamp"]) * 1_000_000,
                    payment_id=str(row.get("id") or ""),
                )
                self._msgbus.publish(funding_payments_topic(self.venue.value), report)
                published.append(report)
        return published

    async def generate_position_status_reports(
        self,
        command: GeneratePositionStatusReports,
    ) -> list[PositionStatusReport]:
        """Return the venue's open positions (for reconciliation at start; none on spot)."""
        symbols = [
            s
            for s in self._symbols(command.instrument_id)
            if not isinstance(self._instrument_for(s), CurrencyPair)
        ]
        if not symbols:
            return []
        try:
            positions = await self._fetch_positions(symbols)
        except NautilusExtError as e:
            self._log.error(f"Cannot fetch positions: {e}")
            return []
        reports: list[PositionStatusReport] = []
        for position in positions:
            instrument = self._instrument_for(position.get("symbol"))
            if instrument is None or not position.get("contracts"):
                continue
            reports.append(
                position_status_report(
                    position,
                    account_id=self.account_id,
                    instrument_id=instrument.id,
                    size_precision=instrument.size_precision,
                    ts_init=self._clock.timestamp_ns(),
                )
            )
        return reports


__all__ = ["CcxtExecutionReports", "listed_client_ids"]
