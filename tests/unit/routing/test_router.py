"""Routing: every branch of the seed 000 decision tree, the ambiguous ones, and atomic groups."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

import nautilus_ext.routing as routing_module
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NoRouteError
from nautilus_ext.instruments import InstrumentKey
from nautilus_ext.instruments import InstrumentType
from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.attributes import VenueFamily
from nautilus_ext.instruments.attributes import VenueSpec
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.orders import AtomicGroup
from nautilus_ext.orders import Operation
from nautilus_ext.orders import Order
from nautilus_ext.orders import Side
from nautilus_ext.orders import Urgency
from nautilus_ext.routing import ALGORITHM_BY_URGENCY
from nautilus_ext.routing import Algorithm
from nautilus_ext.routing import AlgoSpec
from nautilus_ext.routing import Candidate
from nautilus_ext.routing import Route
from nautilus_ext.routing import RouteFamily
from nautilus_ext.routing import route
from nautilus_ext.routing import route_group

PERP = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
ES = "CME:FUTURE:SP500-USD-241220@LIN"
MATCH = "FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL"


@pytest.fixture(scope="module")
def registry() -> InstrumentRegistry:
    shipped = InstrumentRegistry.default()
    extra_venues = [
        VenueSpec(
            code="NASDAQ",
            family=VenueFamily.TRADFI,
            nautilus_venue="XNAS",
            symbology="CME",
            adapter="native",
            instrument_types=frozenset({InstrumentType.EQUITY}),
        ),
    ]
    extra = [
        InstrumentAttributes(instrument_key="NASDAQ:EQUITY:AAPL-USD"),
        InstrumentAttributes(instrument_key="OKX:SPOT_PAIR:SOL-USDT"),
        InstrumentAttributes(instrument_key="UNISWAPV3-ETH:POOL:SOL-USDT:3000@ETHEREUM"),
        InstrumentAttributes(instrument_key="COWSWAP-ETH:POOL:SOL-USDT@ETHEREUM"),
    ]
    return InstrumentRegistry([*shipped.venues.values(), *extra_venues], [*shipped, *extra])


def _order(**data: Any) -> Order:
    base: dict[str, Any] = {"operation_id": "op-1", "side": "BUY", "amount": "1"}
    return Order(**(base | data))


def _trade(key: str, **data: Any) -> Order:
    return _order(operation="trade", instrument_key=key, **data)


def _keys(r: Route) -> list[str]:
    return [str(c.key) for c in r.candidates]


def test_public_api_is_pinned() -> None:
    assert routing_module.__all__ == [
        "ALGORITHM_BY_URGENCY",
        "AlgoSpec",
        "Algorithm",
        "Candidate",
        "GroupRoute",
        "Route",
        "RouteFamily",
        "route",
        "route_group",
    ]
    for name in routing_module.__all__:
        assert hasattr(routing_module, name)


# -- trade SPOT_PAIR ------------------------------------------------------------------------


def test_spot_pair_on_several_cex_venues(registry: InstrumentRegistry) -> None:
    r = route(_trade("BINANCE-SPOT:SPOT_PAIR:BTC-USDT"), registry)
    assert r.operation_id == "op-1"
    assert r.family is RouteFamily.CEX
    assert r.venue is None  # the cost model chooses among the candidates
    assert _keys(r) == [
        "BINANCE-SPOT:SPOT_PAIR:BTC-USDT",
        "BYBIT:SPOT_PAIR:BTC-USDT",
        "OKX:SPOT_PAIR:BTC-USDT",
    ]
    assert {c.family for c in r.candidates} == {RouteFamily.CEX}
    assert r.families == frozenset({RouteFamily.CEX})
    # not smart: pick the single cheapest venue, no splitting
    assert r.algorithm == AlgoSpec(Algorithm.BEST_VENUE, {"urgency": "medium"})
    assert r.exit_algorithm is None


def test_spot_pair_smart_across_cex_venues_is_sor_cefi(registry: InstrumentRegistry) -> None:
    r = route(
        _trade(
            "BINANCE-SPOT:SPOT_PAIR:BTC-USDT",
            smart_execution_enabled=True,
            urgency="high",
            max_slippage="0.002",
        ),
        registry,
    )
    assert r.algorithm == AlgoSpec(Algorithm.SOR_CEFI, {"urgency": "high", "max_slippage": Decimal("0.002")})


def test_spot_pair_on_both_cex_and_dex_is_ambiguous(registry: InstrumentRegistry) -> None:
    r = route(_trade("BINANCE-SPOT:SPOT_PAIR:ETH-USDT"), registry)
    assert r.family is None
    assert r.venue is None
    assert r.families == frozenset({RouteFamily.CEX, RouteFamily.DEX})
    assert _keys(r) == [
        "BINANCE-SPOT:SPOT_PAIR:ETH-USDT",
        "COWSWAP-ETH:POOL:ETH-USDT@ETHEREUM",
        "UNISWAPV2-ETH:POOL:ETH-USDT:3000@ETHEREUM",
        "UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM",
    ]
    assert [c.family for c in r.candidates] == [RouteFamily.CEX] + [RouteFamily.DEX] * 3
    assert r.candidates[1].venue == "COWSWAP-ETH"
    assert r.algorithm is not None
    assert r.algorithm.name is Algorithm.BEST_VENUE
    smart = route(_trade("BINANCE-SPOT:SPOT_PAIR:ETH-USDT", smart_execution_enabled=True), registry)
    assert smart.algorithm is not None
    assert smart.algorithm.name is Algorithm.BEST_VENUE


def test_venue_field_restricts_spot_pair_candidates(registry: InstrumentRegistry) -> None:
    cex = route(_trade("BINANCE-SPOT:SPOT_PAIR:ETH-USDT", venue="BINANCE-SPOT"), registry)
    assert cex.family is RouteFamily.CEX
    assert cex.venue == "BINANCE-SPOT"
    assert _keys(cex) == ["BINANCE-SPOT:SPOT_PAIR:ETH-USDT"]
    assert cex.algorithm is None  # one candidate, not smart
    dex = route(_trade("BINANCE-SPOT:SPOT_PAIR:ETH-USDT", venue="UNISWAPV3-ETH"), registry)
    assert dex.family is RouteFamily.DEX
    assert dex.venue == "UNISWAPV3-ETH"
    assert _keys(dex) == ["UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM"]
    # the key's own venue is only a label for a routing instrument: OKX lists SOL-USDT
    other = route(_trade("BINANCE-SPOT:SPOT_PAIR:SOL-USDT", venue="OKX"), registry)
    assert _keys(other) == ["OKX:SPOT_PAIR:SOL-USDT"]


def test_spot_pair_smart_on_one_venue_uses_the_urgency_table(registry: InstrumentRegistry) -> None:
    for urgency, algo in (
        (None, Algorithm.POV),
        ("low", Algorithm.TWAP),
        ("high", Algorithm.LIMIT_THEN_MARKET),
    ):
        r = route(
            _trade(
                "BINANCE-SPOT:SPOT_PAIR:BTC-USDT", venue="OKX", smart_execution_enabled=True, urgency=urgency
            ),
            registry,
        )
        assert r.algorithm is not None
        assert r.algorithm.name is algo


def test_spot_pair_only_on_dex_pools(registry: InstrumentRegistry) -> None:
    r = route(_trade("UNISWAPV3-ETH:SPOT_PAIR:ETH-USDC", smart_execution_enabled=True), registry)
    assert r.family is RouteFamily.DEX
    assert r.venue == "UNISWAPV3-ETH"
    assert r.algorithm is not None
    assert r.algorithm.name is Algorithm.SOR_DEFI


def test_unknown_pair_has_no_route(registry: InstrumentRegistry) -> None:
    with pytest.raises(NoRouteError) as info:
        route(_trade("BINANCE-SPOT:SPOT_PAIR:DOGE-JPY"), registry)
    err = info.value
    assert err.code is ErrorCode.NO_ROUTE
    assert "no registered pair or pool for DOGE/JPY" in err.message
    assert err.order_id == "op-1"
    assert err.instrument_key == "BINANCE-SPOT:SPOT_PAIR:DOGE-JPY"
    with pytest.raises(NoRouteError, match="for BTC/USDT on venue DERIBIT"):
        route(_trade("BINANCE-SPOT:SPOT_PAIR:BTC-USDT", venue="DERIBIT"), registry)


# -- trade derivatives and equities --------------------------------------------------------


def test_derivative_routes_to_its_own_venue(registry: InstrumentRegistry) -> None:
    r = route(_trade(PERP, venue="BINANCE-FUTURES"), registry)
    assert r.family is RouteFamily.CEX
    assert r.venue == "BINANCE-FUTURES"
    assert r.candidates == (Candidate(InstrumentKey.parse(PERP), RouteFamily.CEX),)
    assert r.algorithm is None
    assert "venue-bound" in r.reason
    option = route(
        _trade("DERIBIT:OPTION:BTC-USD-241227-50000-CALL@INV", venue="DERIBIT", price="0.01"), registry
    )
    assert (option.family, option.venue) == (RouteFamily.CEX, "DERIBIT")
    future = route(_trade(ES, venue="CME"), registry)
    assert (future.family, future.venue) == (RouteFamily.TRADFI, "CME")


def test_derivative_whose_venue_disagrees_with_its_key(registry: InstrumentRegistry) -> None:
    # the model refuses to build it; a hand-built (unvalidated) one is still refused, never guessed
    with pytest.raises(InvalidOrder, match="venue"):
        _trade(PERP, venue="BYBIT")
    order = Order.model_construct(
        operation_id="op-x",
        operation=Operation.TRADE,
        instrument_key=InstrumentKey.parse(PERP),
        venue="BYBIT",
        side=Side.BUY,
        amount=Decimal(1),
        smart_execution_enabled=False,
    )
    with pytest.raises(InvalidOrder) as info:
        route(order, registry)
    err = info.value
    assert err.code is ErrorCode.INVALID_ORDER
    assert "'BYBIT' disagrees with the instrument key's venue 'BINANCE-FUTURES'" in err.message
    assert (err.order_id, err.venue, err.instrument_key) == ("op-x", "BYBIT", PERP)


@pytest.mark.parametrize(
    ("operation", "side", "key", "venue"),
    [
        ("supply", "SUPPLY", "AAVE_V3_ETH:A_TOKEN:AUSDT@ETHEREUM", "SPARK"),
        ("stake", "STAKE", "ETHERFI:LST:WEETH@ETHEREUM", "LIDO"),
        ("trade", "BUY", "NASDAQ:EQUITY:AAPL-USD", "NYSE"),
        ("swap", "SELL", "UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM", "CURVE-ETH"),
        ("bet", "BACK", MATCH, "BETDAQ"),
    ],
)
def test_hand_built_orders_on_another_venue_than_their_key(
    registry: InstrumentRegistry, operation: str, side: str, key: str, venue: str
) -> None:
    order = Order.model_construct(
        operation_id="op-y",
        operation=Operation(operation),
        instrument_key=InstrumentKey.parse(key),
        venue=venue,
        side=Side(side),
        amount=Decimal(1),
        smart_execution_enabled=False,
    )
    with pytest.raises(InvalidOrder, match=f"venue '{venue}' disagrees"):
        route(order, registry)


@pytest.mark.parametrize(
    ("key", "venue", "family"),
    [(PERP, "BINANCE-FUTURES", RouteFamily.CEX), (ES, "CME", RouteFamily.TRADFI)],
)
@pytest.mark.parametrize("urgency", [None, *Urgency])
def test_smart_derivatives_use_the_algorithm_table(
    registry: InstrumentRegistry, key: str, venue: str, family: RouteFamily, urgency: Urgency | None
) -> None:
    r = route(_trade(key, venue=venue, smart_execution_enabled=True, urgency=urgency), registry)
    expected = ALGORITHM_BY_URGENCY[(family, urgency or Urgency.MEDIUM)]
    assert r.algorithm == AlgoSpec(expected, {"urgency": str(urgency or Urgency.MEDIUM)})


def test_algorithm_table_matches_the_readme_choices() -> None:
    assert ALGORITHM_BY_URGENCY == {
        (RouteFamily.CEX, Urgency.LOW): Algorithm.TWAP,
        (RouteFamily.CEX, Urgency.MEDIUM): Algorithm.POV,
        (RouteFamily.CEX, Urgency.HIGH): Algorithm.LIMIT_THEN_MARKET,
        (RouteFamily.TRADFI, Urgency.LOW): Algorithm.VWAP,
        (RouteFamily.TRADFI, Urgency.MEDIUM): Algorithm.POV,
        (RouteFamily.TRADFI, Urgency.HIGH): Algorithm.IS,
    }


def test_explicit_metadata_algorithm(registry: InstrumentRegistry) -> None:
    order = Order.from_json(
        f'{{"operation_id": "op-1", "operation": "trade", "instrument_key": "{ES}", "venue": "CME",'
        ' "side": "BUY", "amount": 3, "smart_execution_enabled": true,'
        ' "metadata": {"algorithm": "twap", "algo_params": {"horizon_secs": 600, "participation": 0.1,'
        ' "post_only": true, "tag": "x"}}}'
    )
    r = route(order, registry)
    assert r.algorithm == AlgoSpec(
        Algorithm.TWAP,
        {"horizon_secs": 600, "participation": Decimal("0.1"), "post_only": True, "tag": "x"},
    )
    # ignored unless smart execution is on
    assert route(order.model_copy(update={"smart_execution_enabled": False}), registry).algorithm is None


@pytest.mark.parametrize(
    ("metadata", "words"),
    [
        ({"algorithm": "MAGIC"}, "metadata.algorithm 'MAGIC' is not one of"),
        ({"algorithm": 7}, "metadata.algorithm 7"),
        ({"algorithm": "VWAP", "algo_params": {"participation": 0.1}}, "algo_params"),
        ({"algorithm": "VWAP", "algo_params": [1]}, "algo_params"),
        ({"algorithm": "VWAP", "algo_params": {"nested": {"a": 1}}}, "algo_params"),
    ],
)
def test_bad_metadata_algorithm_is_an_invalid_order(
    registry: InstrumentRegistry, metadata: dict[str, Any], words: str
) -> None:
    order = _trade(PERP, venue="BINANCE-FUTURES", smart_execution_enabled=True, metadata=metadata)
    with pytest.raises(InvalidOrder) as info:
        route(order, registry)
    assert words in info.value.message
    assert info.value.order_id == "op-1"


def test_take_profit_stop_loss_exit(registry: InstrumentRegistry) -> None:
    r = route(
        _trade(
            "BINANCE-SPOT:SPOT_PAIR:BTC-USDT",
            price="65000",
            take_profit_price="70000",
            stop_loss_price="60000",
        ),
        registry,
    )
    assert r.exit_algorithm == AlgoSpec(
        Algorithm.TPSL, {"take_profit_price": Decimal(70000), "stop_loss_price": Decimal(60000)}
    )
    sl_only = route(_trade(PERP, venue="BINANCE-FUTURES", side="SELL", stop_loss_price="70000"), registry)
    assert sl_only.exit_algorithm == AlgoSpec(Algorithm.TPSL, {"stop_loss_price": Decimal(70000)})


def test_equity_routes_to_tradfi(registry: InstrumentRegistry) -> None:
    r = route(_trade("NASDAQ:EQUITY:AAPL-USD"), registry)
    assert (r.family, r.venue) == (RouteFamily.TRADFI, "NASDAQ")


@pytest.mark.parametrize(
    ("key", "venue", "words"),
    [
        (
            "KRAKEN:PERPETUAL:BTC-USD@INV",
            "KRAKEN",
            "venue KRAKEN of KRAKEN:PERPETUAL:BTC-USD@INV is not configured",
        ),
        ("UNISWAPV3-ETH:PERPETUAL:ETH-USDT@LIN", "UNISWAPV3-ETH", "(DEX) does not trade PERPETUAL"),
        ("BINANCE-SPOT:EQUITY:AAPL-USD", None, "does not trade equities"),
    ],
)
def test_trades_on_the_wrong_venue_have_no_route(
    registry: InstrumentRegistry, key: str, venue: str | None, words: str
) -> None:
    with pytest.raises(NoRouteError) as info:
        route(_trade(key, venue=venue), registry)
    assert words in info.value.message


# -- on-chain operations, swaps, bets, transfers -------------------------------------------


@pytest.mark.parametrize(
    ("operation", "side", "key"),
    [
        ("supply", "SUPPLY", "AAVE_V3_ETH:A_TOKEN:AWEETH@ETHEREUM"),
        ("withdraw", "WITHDRAW", "AAVE_V3_ETH:A_TOKEN:AUSDT@ETHEREUM"),
        ("borrow", "BORROW", "AAVE_V3_ETH:DEBT_TOKEN:DEBTWETH@ETHEREUM"),
        ("repay", "REPAY", "AAVE_V3_ETH:DEBT_TOKEN:DEBTWETH@ETHEREUM"),
        ("stake", "STAKE", "ETHERFI:LST:WEETH@ETHEREUM"),
        ("unstake", "UNSTAKE", "LIDO:LST:STETH@ETHEREUM"),
    ],
)
def test_protocol_operations_route_on_chain(
    registry: InstrumentRegistry, operation: str, side: str, key: str
) -> None:
    r = route(
        _order(operation=operation, side=side, instrument_key=key, smart_execution_enabled=True), registry
    )
    assert r.family is RouteFamily.ONCHAIN
    assert r.venue == InstrumentKey.parse(key).venue
    assert _keys(r) == [key]
    assert r.algorithm is None


def test_protocol_operation_on_a_non_protocol_venue(registry: InstrumentRegistry) -> None:
    with pytest.raises(NoRouteError, match="needs a lending/staking protocol venue, BINANCE-SPOT is CEX"):
        route(
            _order(operation="stake", side="STAKE", instrument_key="BINANCE-SPOT:LST:WBETH@ETHEREUM"),
            registry,
        )
    with pytest.raises(NoRouteError, match="not configured"):
        route(
            _order(operation="supply", side="SUPPLY", instrument_key="SPARK:A_TOKEN:ADAI@ETHEREUM"), registry
        )


def _swap(key: str, **data: Any) -> Order:
    return _order(
        operation="swap", side="SELL", instrument_key=key, source_token="WETH", target_token="USDT", **data
    )


def test_swap_on_a_pool(registry: InstrumentRegistry) -> None:
    r = route(_swap("UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM"), registry)
    assert (r.family, r.venue) == (RouteFamily.DEX, "UNISWAPV3-ETH")
    assert _keys(r) == ["UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM"]
    assert r.algorithm is None


def test_swap_on_a_pair_considers_only_dex_pools(registry: InstrumentRegistry) -> None:
    r = route(_swap("BINANCE-SPOT:SPOT_PAIR:ETH-USDT"), registry)
    assert r.family is RouteFamily.DEX
    assert r.venue is None
    assert _keys(r) == [
        "COWSWAP-ETH:POOL:ETH-USDT@ETHEREUM",
        "UNISWAPV2-ETH:POOL:ETH-USDT:3000@ETHEREUM",
        "UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM",
    ]
    assert r.algorithm is not None
    assert r.algorithm.name is Algorithm.BEST_VENUE
    smart = route(_swap("BINANCE-SPOT:SPOT_PAIR:ETH-USDT", smart_execution_enabled=True), registry)
    assert smart.algorithm is not None
    assert smart.algorithm.name is Algorithm.SOR_DEFI
    with pytest.raises(NoRouteError, match="no registered DEX pool for BTC/USDT"):
        route(_swap("BINANCE-SPOT:SPOT_PAIR:BTC-USDT"), registry)


def test_swap_on_a_pool_of_a_non_dex_venue(registry: InstrumentRegistry) -> None:
    with pytest.raises(NoRouteError, match="pool venue AAVE_V3_ETH is not a DEX"):
        route(_swap("AAVE_V3_ETH:POOL:ETH-USDT@ETHEREUM"), registry)


def test_bet_routes_to_betfair(registry: InstrumentRegistry) -> None:
    order = _order(operation="bet", side="LAY", instrument_key=MATCH, odds="3.5", selection="DRAW")
    r = route(order, registry)
    assert (r.family, r.venue) == (RouteFamily.BETFAIR, "BETFAIR")
    assert "LAY DRAW at 3.5" in r.reason
    with pytest.raises(NoRouteError, match="not configured"):
        route(
            _order(
                operation="bet",
                side="BACK",
                instrument_key=MATCH.replace("BETFAIR", "SMARKETS"),
                odds="2",
                selection="HOME",
            ),
            registry,
        )
    with pytest.raises(NoRouteError, match="OKX is not a betting exchange"):
        route(
            _order(
                operation="bet",
                side="BACK",
                instrument_key=MATCH.replace("BETFAIR", "OKX"),
                odds="2",
                selection="HOME",
            ),
            registry,
        )


def test_transfer_routes_between_venues(registry: InstrumentRegistry) -> None:
    order = _order(
        operation="transfer",
        side="TRANSFER",
        instrument_key="WALLET-ETH:SPOT_ASSET:USDT@ETHEREUM",
        source_venue="WALLET-ETH",
        target_venue="BINANCE-SPOT",
    )
    r = route(order, registry)
    assert r.family is RouteFamily.TRANSFER
    assert (r.source_venue, r.target_venue, r.venue, r.candidates) == ("WALLET-ETH", "BINANCE-SPOT", None, ())
    assert r.families == frozenset({RouteFamily.TRANSFER})
    bad = order.model_copy(update={"target_venue": "MOON-BANK"})
    with pytest.raises(NoRouteError, match="transfer venue MOON-BANK is not configured"):
        route(bad, registry)


def test_routing_is_pure(registry: InstrumentRegistry) -> None:
    order = _trade("BINANCE-SPOT:SPOT_PAIR:ETH-USDT", smart_execution_enabled=True)
    assert route(order, registry) == route(order, registry)


# -- atomic groups --------------------------------------------------------------------------


def _leg(seq: int, **data: Any) -> Order:
    return _order(operation_id=f"leg-{seq}", atomic_group_id="g-1", sequence_in_group=seq, **data)


def test_on_chain_bundle(registry: InstrumentRegistry) -> None:
    group = AtomicGroup.from_orders(
        [
            _leg(0, operation="stake", side="STAKE", instrument_key="ETHERFI:LST:WEETH@ETHEREUM"),
            _leg(1, operation="supply", side="SUPPLY", instrument_key="AAVE_V3_ETH:A_TOKEN:AWEETH@ETHEREUM"),
            _leg(
                2,
                operation="borrow",
                side="BORROW",
                instrument_key="AAVE_V3_ETH:DEBT_TOKEN:DEBTWETH@ETHEREUM",
            ),
            _leg(
                3,
                operation="swap",
                side="SELL",
                instrument_key="BINANCE-SPOT:SPOT_PAIR:ETH-USDT",
                source_token="WETH",
                target_token="USDT",
            ),
        ]
    )
    g = route_group(group, registry)
    assert g.group_id == "g-1"
    assert g.mode is RouteFamily.ONCHAIN
    assert g.is_onchain_bundle
    assert [r.operation_id for r in g.routes] == ["leg-0", "leg-1", "leg-2", "leg-3"]
    # CowSwap's off-chain solvers cannot join the bundle: it is dropped from the swap candidates
    assert _keys(g.routes[3]) == [
        "UNISWAPV2-ETH:POOL:ETH-USDT:3000@ETHEREUM",
        "UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM",
    ]


def test_bundle_swap_left_with_one_pool_names_its_venue(registry: InstrumentRegistry) -> None:
    swap = _leg(
        0,
        operation="swap",
        side="SELL",
        instrument_key="OKX:SPOT_PAIR:SOL-USDT",
        source_token="SOL",
        target_token="USDT",
    )
    alone = route(swap, registry)
    assert alone.venue is None  # CowSwap and Uniswap outside a bundle
    g = route_group(AtomicGroup.from_orders([swap]), registry)
    (r,) = g.routes
    assert _keys(r) == ["UNISWAPV3-ETH:POOL:SOL-USDT:3000@ETHEREUM"]
    assert r.venue == "UNISWAPV3-ETH"
    assert r.family is RouteFamily.DEX


def test_cowswap_inside_a_bundle_is_refused(registry: InstrumentRegistry) -> None:
    group = AtomicGroup.from_orders(
        [
            _leg(1, operation="supply", side="SUPPLY", instrument_key="AAVE_V3_ETH:A_TOKEN:AUSDT@ETHEREUM"),
            _leg(
                2,
                operation="swap",
                side="SELL",
                instrument_key="COWSWAP-ETH:POOL:ETH-USDT@ETHEREUM",
                source_token="WETH",
                target_token="USDT",
            ),
        ]
    )
    with pytest.raises(InvalidOrder) as info:
        route_group(group, registry)
    assert "COWSWAP-ETH" in info.value.message
    assert "atomic" in info.value.message
    assert info.value.order_id == "leg-2"


def test_off_chain_legs_execute_as_atomic_legs(registry: InstrumentRegistry) -> None:
    group = AtomicGroup.from_orders(
        [
            _leg(0, operation="trade", instrument_key=PERP, venue="BINANCE-FUTURES", side="SELL"),
            _leg(1, operation="trade", instrument_key="BYBIT:PERPETUAL:BTC-USDT@LIN", venue="BYBIT"),
        ]
    )
    g = route_group(group, registry)
    assert g.mode is Algorithm.ATOMIC_LEGS
    assert not g.is_onchain_bundle
    assert [r.venue for r in g.routes] == ["BINANCE-FUTURES", "BYBIT"]


def test_mixing_on_chain_and_off_chain_legs_is_refused(registry: InstrumentRegistry) -> None:
    group = AtomicGroup.from_orders(
        [
            _leg(0, operation="trade", instrument_key=PERP, venue="BINANCE-FUTURES", side="SELL"),
            _leg(1, operation="supply", side="SUPPLY", instrument_key="AAVE_V3_ETH:A_TOKEN:AUSDT@ETHEREUM"),
        ]
    )
    with pytest.raises(InvalidOrder, match="mixes on-chain steps with off-chain venues"):
        route_group(group, registry)


def test_group_member_without_route_fails_the_group(registry: InstrumentRegistry) -> None:
    group = AtomicGroup.from_orders(
        [
            _leg(0, operation="trade", instrument_key=PERP, venue="BINANCE-FUTURES"),
            _leg(1, operation="trade", instrument_key="BINANCE-SPOT:SPOT_PAIR:DOGE-JPY"),
        ]
    )
    with pytest.raises(NoRouteError, match="DOGE/JPY"):
        route_group(group, registry)
