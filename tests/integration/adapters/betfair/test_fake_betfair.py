"""
The fake Betfair speaks Betfair's wire: NautilusTrader's own Betfair HTTP client and
betfair_parser's stream decoder read its answers; bad sessions get Betfair's errors.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from decimal import Decimal
from typing import Any

import pytest
from betfair_parser.exceptions import BetfairError
from betfair_parser.spec.betting.enums import OrderProjection
from betfair_parser.spec.betting.enums import Side
from betfair_parser.spec.betting.orders import PlaceOrders
from betfair_parser.spec.betting.type_definitions import LimitOrder
from betfair_parser.spec.betting.type_definitions import PlaceInstruction
from betfair_parser.spec.streaming import OCM
from betfair_parser.spec.streaming import Connection
from betfair_parser.spec.streaming import Status
from betfair_parser.spec.streaming import stream_decode
from nautilus_trader.adapters.betfair.providers import BetfairInstrumentProviderConfig
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import GeneratePositionStatusReports
from nautilus_trader.model.identifiers import TraderId

from nautilus_ext.adapters.betfair import BetfairCredentials
from nautilus_ext.adapters.betfair import BetfairUrlExecClientConfig
from nautilus_ext.adapters.betfair import BetfairUrlHttpClient
from nautilus_ext.adapters.betfair import BetfairUrlLiveExecClientFactory
from nautilus_ext_testkit.fake_betfair import FakeBetfair
from nautilus_ext_testkit.fake_betfair import arsenal_liverpool_match_odds

MARKET = "1.240000001"


def _client(fake: FakeBetfair, password: str | None = None) -> BetfairUrlHttpClient:
    creds = BetfairCredentials(fake.username, password or fake.password, fake.app_key)
    return BetfairUrlHttpClient(creds, base_url=fake.base_url)


async def _line(reader: asyncio.StreamReader) -> Any:
    return stream_decode(await asyncio.wait_for(reader.readuntil(b"\r\n"), 5))


async def _send(writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
    writer.write(json.dumps(message).encode() + b"\r\n")
    await writer.drain()


def test_http_api_through_nautilus_client(fake_betfair: FakeBetfair) -> None:
    async def run() -> None:
        bad = _client(fake_betfair, password="wrong")
        with pytest.raises(BetfairError, match="INVALID_USERNAME_OR_PASSWORD"):
            await bad.connect()
        client = _client(fake_betfair)
        with pytest.raises(BetfairError, match="INVALID_SESSION_INFORMATION"):
            await client.get_account_details()  # not logged in
        await client.connect()
        assert (await client.get_account_details()).currency_code == "GBP"
        nav = await client.list_navigation()
        assert nav.children[0].name == "Soccer"
        (catalogue,) = await client.list_market_catalogue(filter_=_filter())
        assert [r.runner_name for r in catalogue.runners] == ["Arsenal", "The Draw", "Liverpool"]
        report = await client.place_orders(
            PlaceOrders.with_params(
                market_id=MARKET,
                instructions=[
                    PlaceInstruction(
                        order_type="LIMIT",
                        selection_id=1096,
                        side=Side.BACK,
                        limit_order=LimitOrder(price=2.5, size=2.0, persistence_type="LAPSE"),
                        customer_order_ref="O-1",
                    )
                ],
            )
        )
        (instruction,) = report.instruction_reports
        assert (instruction.size_matched, instruction.order_status.value) == (2.0, "EXECUTION_COMPLETE")
        (current,) = await client.list_current_orders(order_projection=OrderProjection.ALL)
        assert (current.bet_id, current.size_matched, current.side) == (instruction.bet_id, 2.0, Side.BACK)
        funds = await client.get_account_funds()
        assert (funds.exposure, funds.available_to_bet_balance) == (-2.0, 998.0)

    asyncio.run(run())


def _filter() -> Any:
    from betfair_parser.spec.betting.type_definitions import MarketFilter

    return MarketFilter(market_ids=[MARKET])


def test_stream_authenticates_and_pushes_order_changes(fake_betfair: FakeBetfair) -> None:
    async def run() -> None:
        client = _client(fake_betfair)
        await client.connect()
        host, port = fake_betfair.stream_url.removeprefix("tcp://").split(":")
        # a bad session is refused and the connection closed, as Betfair does
        reader, writer = await asyncio.open_connection(host, int(port))
        assert isinstance(await _line(reader), Connection)
        await _send(writer, {"op": "authentication", "id": 1, "appKey": fake_betfair.app_key, "session": "x"})
        refused = await _line(reader)
        assert isinstance(refused, Status)
        assert (refused.is_error, refused.connection_closed) == (True, True)
        writer.close()
        # a good one subscribes to orders and sees a bet's fill
        reader, writer = await asyncio.open_connection(host, int(port))
        await _line(reader)
        await _send(
            writer,
            {
                "op": "authentication",
                "id": 1,
                "appKey": fake_betfair.app_key,
                "session": client.session_token,
            },
        )
        assert not (await _line(reader)).is_error
        await _send(writer, {"op": "orderSubscription", "id": 2, "orderFilter": {}})
        assert not (await _line(reader)).is_error
        image = await _line(reader)
        assert isinstance(image, OCM)
        assert image.ct == "SUB_IMAGE"
        await client.place_orders(
            PlaceOrders.with_params(
                market_id=MARKET,
                instructions=[
                    PlaceInstruction(
                        order_type="LIMIT",
                        selection_id=1096,
                        side=Side.LAY,
                        limit_order=LimitOrder(price=2.52, size=3.0, persistence_type="LAPSE"),
                        customer_order_ref="O-2",
                    )
                ],
            )
        )
        update = await _line(reader)
        assert isinstance(update, OCM)
        (uo,) = update.oc[0].orc[0].uo
        assert (uo.side, uo.status, uo.sm, uo.avp, uo.rfo) == ("L", "EC", 3.0, 2.52, "O-2")
        writer.close()

    asyncio.run(run())


def test_execution_client_reports_the_venue_positions_of_its_markets(betfair_env: FakeBetfair) -> None:
    fake = betfair_env
    other = dataclasses.replace(arsenal_liverpool_match_odds(), market_id="1.240000009")
    fake.call(lambda: fake.exchange.add_market(other))
    for market, selection, side, price, size in (
        (MARKET, 1096, "BACK", "2.5", "2"),
        (MARKET, 1096, "LAY", "2.52", "3"),
        (MARKET, 58805, "BACK", "3.4", "2"),
        ("1.240000009", 1096, "BACK", "2.5", "5"),  # another node's market on the same account
    ):
        instruction = {
            "selectionId": selection,
            "side": side,
            "orderType": "LIMIT",
            "limitOrder": {"price": price, "size": size, "persistenceType": "LAPSE"},
        }
        fake.call(lambda i=instruction, m=market: fake.exchange.place(m, i, None, fake.now_ms()))

    async def run() -> list[Any]:
        clock = LiveClock()
        msgbus = MessageBus(TraderId("TESTER-001"), clock)
        config = BetfairUrlExecClientConfig(
            account_currency="GBP",
            instrument_config=BetfairInstrumentProviderConfig(account_currency="GBP", market_ids=[MARKET]),
            base_url_http=fake.base_url,
            stream_url=fake.stream_url,
            stream_market_ids_filter=[MARKET],
        )
        client = BetfairUrlLiveExecClientFactory.create(
            asyncio.get_running_loop(), "BETFAIR", config, msgbus, Cache(), clock
        )
        await client._client.connect()
        command = GeneratePositionStatusReports(
            instrument_id=None, start=None, end=None, command_id=UUID4(), ts_init=0
        )
        return await client.generate_position_status_reports(command)

    reports = asyncio.run(run())
    assert {(str(r.instrument_id), r.signed_decimal_qty) for r in reports} == {
        ("1-240000001-1096-None.BETFAIR", Decimal(1)),  # LAY 3 net of BACK 2: NautilusTrader's long
        ("1-240000001-58805-None.BETFAIR", Decimal(-2)),
    }
