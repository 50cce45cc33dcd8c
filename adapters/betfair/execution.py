"""
NautilusTrader's ``BetfairExecutionClient`` with its order stream at a configurable address and
the venue's own positions reported.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from decimal import Decimal

from betfair_parser.spec.betting.enums import OrderProjection
from betfair_parser.spec.betting.enums import Side as BetfairSide
from nautilus_trader.adapters.betfair.execution import BetfairExecutionClient
from nautilus_trader.adapters.betfair.parsing.common import betfair_instrument_id
from nautilus_trader.adapters.betfair.providers import BetfairInstrumentProvider
from nautilus_trader.adapters.betfair.sockets import BetfairOrderStreamClient
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import GeneratePositionStatusReports
from nautilus_trader.execution.reports import PositionStatusReport
from nautilus_trader.model.enums import PositionSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Quantity

from nautilus_ext.adapters.betfair.config import BetfairUrlExecClientConfig
from nautilus_ext.adapters.betfair.http import BetfairUrlHttpClient
from nautilus_ext.adapters.betfair.urls import parse_stream_url


def net_matched(orders: list[tuple[InstrumentId, BetfairSide, Decimal]]) -> dict[InstrumentId, Decimal]:
    """
    Return the signed matched stake per selection in NautilusTrader's convention.

    NautilusTrader maps a LAY to ``BUY`` and a BACK to ``SELL``, so a lay's matched stake counts
    positive and a back's negative, the same sign the node's fills give its positions.
    """
    net: dict[InstrumentId, Decimal] = defaultdict(Decimal)
    for instrument_id, side, matched in orders:
        net[instrument_id] += matched if side == BetfairSide.LAY else -matched
    return dict(net)


class BetfairUrlExecutionClient(BetfairExecutionClient):
    """
    ``BetfairExecutionClient`` with two changes, everything else NautilusTrader's.

    * Its order stream connects to ``config.stream_url`` (1.231 builds it on the default host
      and port with TLS forced on).
    * :meth:`generate_position_status_reports` answers with the venue's own view, the net
      matched stake per selection of the account's current (unsettled) orders from
      ``listCurrentOrders`` (only the markets of ``stream_market_ids_filter`` when it is set, as
      for the order stream). 1.231 returns no reports, which the safety layer would read as
      "flat on the venue" and so as a mismatch after every matched bet.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        client: BetfairUrlHttpClient,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        instrument_provider: BetfairInstrumentProvider,
        config: BetfairUrlExecClientConfig,
        certs_dir: str | None = None,
    ) -> None:
        super().__init__(
            loop=loop,
            client=client,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=instrument_provider,
            config=config,
        )
        address = parse_stream_url(config.stream_url)
        stream = BetfairOrderStreamClient(
            http_client=client,
            message_handler=self.handle_order_stream_update,
            certs_dir=certs_dir,
            heartbeat_ms=config.stream_heartbeat_ms,
            host=address.host,
            port=address.port,
        )
        stream.use_ssl = address.ssl
        self._stream = stream

    async def generate_position_status_reports(
        self,
        command: GeneratePositionStatusReports,
    ) -> list[PositionStatusReport]:
        """Return the net matched stake per selection with unsettled bets (see the class docstring)."""
        current = await self._client.list_current_orders(order_projection=OrderProjection.ALL)
        markets = self._stream_market_ids_filter  # an account shared across nodes: ours only
        matched = [
            (
                betfair_instrument_id(o.market_id, o.selection_id, o.handicap or None),
                o.side,
                Decimal(str(o.size_matched or 0)),
            )
            for o in current
            if markets is None or o.market_id in markets
        ]
        now = self._clock.timestamp_ns()
        reports = []
        for instrument_id, qty in sorted(net_matched(matched).items(), key=lambda kv: kv[0].value):
            if command.instrument_id is not None and instrument_id != command.instrument_id:
                continue
            side = PositionSide.FLAT if qty == 0 else PositionSide.LONG if qty > 0 else PositionSide.SHORT
            reports.append(
                PositionStatusReport(
                    account_id=self.account_id,
                    instrument_id=instrument_id,
                    position_side=side,
                    quantity=Quantity.from_str(str(abs(qty))),
                    report_id=UUID4(),
                    ts_last=now,
                    ts_init=now,
                )
            )
        return reports
