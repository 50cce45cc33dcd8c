"""The unified Order: every validation rule can fail, and each failure names its field."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

import nautilus_ext.orders as orders_module
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.instruments import InstrumentKey
from nautilus_ext.orders import ORDER_SCHEMA_VERSION
from nautilus_ext.orders import Operation
from nautilus_ext.orders import Order
from nautilus_ext.orders import Side
from nautilus_ext.orders import Urgency
from nautilus_ext.orders.model import order_created_day

SPOT = "BINANCE-SPOT:SPOT_PAIR:BTC-USDT"
WIN = "HORSE_RACING:BETFAIR:WIN:GB-ASCOT:20250315T1500:R1"
EXAMPLES = [
    "trade_spot",
    "trade_perp",
    "trade_option",
    "supply",
    "borrow",
    "stake",
    "withdraw",
    "swap",
    "transfer",
    "bet_match",
    "bet_ou",
    "bet_btts",
]


def test_public_api_is_pinned() -> None:
    assert orders_module.__all__ == [
        "ORDER_ARROW_SCHEMA",
        "ORDER_SCHEMA_VERSION",
        "AtomicGroup",
        "Operation",
        "Order",
        "Side",
        "Urgency",
        "group_orders",
        "order_to_row",
        "orders_to_table",
        "row_to_order",
        "table_to_orders",
    ]
    for name in orders_module.__all__:
        assert hasattr(orders_module, name)


def test_seed_schema_fields_are_all_present() -> None:
    seed_fields = {
        "operation_id",
        "operation",
        "instrument_key",
        "venue",
        "source_venue",
        "target_venue",
        "side",
        "amount",
        "price",
        "odds",
        "selection",
        "source_token",
        "target_token",
        "contract_address",
        "function_name",
        "function_params",
        "expected_deltas",
        "max_slippage",
        "urgency",
        "smart_execution_enabled",
        "take_profit_price",
        "stop_loss_price",
        "atomic_group_id",
        "sequence_in_group",
        "priority",
        "strategy_id",
        "strategy_intent",
        "metadata",
    }
    assert seed_fields | {"schema_version"} <= set(Order.model_fields)
    seed_ops = {"trade", "supply", "borrow", "stake", "withdraw", "swap", "transfer", "bet"}
    assert seed_ops <= {o.value for o in Operation}
    seed_sides = {"BUY", "SELL", "SUPPLY", "BORROW", "STAKE", "WITHDRAW", "BACK", "LAY"}
    assert seed_sides <= {s.value for s in Side}
    assert {u.value for u in Urgency} == {"low", "medium", "high"}


@pytest.mark.parametrize("name", EXAMPLES)
def test_valid_examples_construct(valid: dict[str, dict[str, Any]], name: str) -> None:
    order = Order(**valid[name])
    assert order.schema_version == ORDER_SCHEMA_VERSION == 1
    assert isinstance(order.instrument_key, InstrumentKey)
    assert str(order.instrument_key) == valid[name]["instrument_key"]
    assert isinstance(order.amount, Decimal)
    assert order.amount == Decimal(valid[name]["amount"])
    assert Order.model_validate(valid[name]) == order


def test_numbers_are_exact_decimals(valid: dict[str, dict[str, Any]]) -> None:
    data = valid["trade_spot"] | {"amount": 0.1, "price": Decimal("65000.10")}
    order = Order(**data)
    assert order.amount == Decimal("0.1")
    assert str(order.price) == "65000.10"
    assert order.key is order.instrument_key
    assert order.is_limit
    assert order.signed_amount == Decimal("0.1")
    sell = Order(**valid["trade_perp"])
    assert sell.signed_amount == Decimal("-0.010")
    assert not sell.is_limit


@pytest.mark.parametrize(
    ("example", "sign"),
    [
        ("trade_spot", 1),
        ("trade_perp", -1),
        ("supply", 1),
        ("borrow", 1),  # the debt-token position grows
        ("stake", 1),
        ("withdraw", -1),
        ("bet_match", 1),
        ("bet_ou", -1),
        ("transfer", 1),
    ],
)
def test_signed_amount_is_the_change_of_the_key_position(
    valid: dict[str, dict[str, Any]], example: str, sign: int
) -> None:
    order = Order(**valid[example])
    assert order.signed_amount == sign * order.amount
    repay = Order(**valid["borrow"] | {"operation": "repay", "side": "REPAY"})
    assert repay.signed_amount == -repay.amount


def test_orders_are_frozen(valid: dict[str, dict[str, Any]]) -> None:
    order = Order(**valid["trade_spot"])
    with pytest.raises(Exception, match="frozen"):
        order.amount = Decimal(1)  # type: ignore[misc]


def _fails(data: dict[str, Any], field: str, words: str = "") -> InvalidOrder:
    with pytest.raises(InvalidOrder) as info:
        Order(**data)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.code is ErrorCode.INVALID_ORDER
    assert err.order_id == data.get("operation_id")
    assert re.search(rf"\b{re.escape(field)}[:.]", err.message), err.message
    assert words in err.message, err.message
    assert err.details["errors"]
    return err


# (example, changes, field named in the message, words of the reason)
RULES: list[tuple[str, dict[str, Any], str, str]] = [
    # bets
    ("bet_match", {"odds": None}, "odds", "required"),
    ("bet_match", {"odds": "1.0"}, "odds", "greater than 1.0"),
    ("bet_match", {"odds": "0.5"}, "odds", "greater than 1.0"),
    ("bet_match", {"side": "BUY"}, "side", "not valid for operation bet"),
    ("bet_match", {"side": "SELL"}, "side", "allowed: BACK, LAY"),
    ("bet_match", {"selection": None}, "selection", "required for MATCH_WINNER"),
    ("bet_match", {"selection": "OVER"}, "selection", "not valid for MATCH_WINNER"),
    ("bet_ou", {"selection": "YES"}, "selection", "not valid for TOTAL_GOALS_OU_2_5"),
    ("bet_btts", {"selection": None}, "selection", "required for BTTS"),
    ("bet_match", {"instrument_key": WIN, "selection": None}, "selection", "required for WIN bets"),
    ("bet_match", {"venue": "BETDAQ"}, "venue", "disagrees"),
    ("bet_match", {"instrument_key": "BINANCE-SPOT:SPOT_PAIR:BTC-USDT"}, "instrument_key", "not valid"),
    ("trade_spot", {"odds": "2.0"}, "odds", "only valid for bet"),
    ("trade_spot", {"selection": "HOME"}, "selection", "only valid for bet"),
    # derivatives and venues
    ("trade_perp", {"venue": None}, "venue", "required for PERPETUAL"),
    ("trade_perp", {"venue": "BYBIT"}, "venue", "disagrees"),
    ("trade_option", {"venue": None}, "venue", "required for OPTION"),
    ("trade_option", {"venue": "OKX"}, "venue", "disagrees"),
    ("swap", {"venue": "CURVE-ETH"}, "venue", "disagrees"),
    # protocol operations and equities execute on the key's venue too
    ("supply", {"venue": "SPARK"}, "venue", "disagrees with the instrument key's venue 'AAVE_V3_ETH'"),
    ("borrow", {"venue": "MORPHO"}, "venue", "disagrees"),
    ("stake", {"venue": "LIDO"}, "venue", "disagrees"),
    ("withdraw", {"venue": "COMPOUND"}, "venue", "disagrees"),
    ("trade_spot", {"instrument_key": "NASDAQ:EQUITY:AAPL-USD", "venue": "NYSE"}, "venue", "disagrees"),
    # operation vs instrument type
    ("trade_spot", {"instrument_key": "BINANCE-SPOT:SPOT_ASSET:BTC"}, "instrument_key", "not valid"),
    ("trade_spot", {"instrument_key": "CBOE:INDEX:VIX-USD"}, "instrument_key", "not valid"),
    ("supply", {"instrument_key": "AAVE_V3_ETH:DEBT_TOKEN:DEBTWETH@ETHEREUM"}, "instrument_key", "supply"),
    ("stake", {"instrument_key": "AAVE_V3_ETH:A_TOKEN:AUSDT@ETHEREUM"}, "instrument_key", "stake"),
    # expected deltas
    (
        "trade_spot",
        {"expected_deltas": {"BINANCE-SPOT:SPOT_PAIR:BTC-USDT": "1"}},
        "expected_deltas",
        "SPOT_PAIR",
    ),
    (
        "swap",
        {"expected_deltas": {"UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM": "1"}},
        "expected_deltas",
        "not a position instrument",
    ),
    ("trade_spot", {"expected_deltas": {"CBOE:INDEX:VIX-USD": "1"}}, "expected_deltas", "INDEX"),
    ("trade_spot", {"expected_deltas": {"binance:SPOT_ASSET:BTC": "1"}}, "expected_deltas", "upper-case"),
    ("trade_spot", {"expected_deltas": {"BINANCE-SPOT:SPOT_ASSET:BTC": "NaN"}}, "expected_deltas", "finite"),
    # transfers
    ("transfer", {"target_venue": None}, "source_venue/target_venue", "both are required"),
    ("transfer", {"source_venue": None}, "source_venue/target_venue", "both are required"),
    ("transfer", {"target_venue": "WALLET-ETH"}, "target_venue", "must differ"),
    ("transfer", {"side": "BUY"}, "side", "not valid for operation transfer"),
    ("trade_spot", {"source_venue": "A"}, "source_venue/target_venue", "only valid for transfer"),
    # swaps
    ("swap", {"source_token": None}, "source_token/target_token", "both are required"),
    ("swap", {"target_token": ""}, "source_token/target_token", "both are required"),
    ("swap", {"target_token": "WETH"}, "target_token", "must differ"),
    ("swap", {"side": "SUPPLY"}, "side", "not valid for operation swap"),
    # atomic groups
    ("trade_spot", {"sequence_in_group": 0}, "sequence_in_group", "only valid together with atomic_group_id"),
    ("supply", {"sequence_in_group": None}, "sequence_in_group", "required when atomic_group_id"),
    ("supply", {"sequence_in_group": -1}, "sequence_in_group", "greater than or equal to 0"),
    # amounts
    ("trade_spot", {"amount": "0"}, "amount", "greater than 0"),
    ("trade_spot", {"amount": "-1"}, "amount", "greater than 0"),
    ("trade_spot", {"amount": "NaN"}, "amount", "finite"),
    ("trade_spot", {"amount": "sNaN"}, "amount", "finite"),
    ("trade_spot", {"amount": "Infinity"}, "amount", "finite"),
    ("trade_spot", {"amount": float("inf")}, "amount", "finite"),
    ("trade_spot", {"amount": "ten"}, "amount", "decimal"),
    ("trade_spot", {"price": "0"}, "price", "greater than 0"),
    ("trade_spot", {"max_slippage": "1"}, "max_slippage", "less than 1"),
    ("trade_spot", {"max_slippage": "-0.1"}, "max_slippage", "greater than or equal to 0"),
    # sides per operation
    ("supply", {"side": "BORROW"}, "side", "allowed: SUPPLY"),
    ("supply", {"side": "BUY"}, "side", "not valid for operation supply"),
    ("trade_spot", {"side": "SUPPLY"}, "side", "not valid for operation trade"),
    ("borrow", {"side": "SUPPLY"}, "side", "allowed: BORROW"),
    ("stake", {"side": "WITHDRAW"}, "side", "allowed: STAKE"),
    ("withdraw", {"side": "SUPPLY"}, "side", "allowed: WITHDRAW"),
    ("trade_spot", {"side": "HOLD"}, "side", "Input should be"),
    # take profit / stop loss
    ("trade_spot", {"take_profit_price": "65000"}, "take_profit_price", "above price"),
    ("trade_spot", {"stop_loss_price": "66000"}, "stop_loss_price", "below price"),
    (
        "trade_perp",
        {"price": "65000", "take_profit_price": "66000"},
        "take_profit_price",
        "below price 65000 for a SELL",
    ),
    ("trade_perp", {"price": "65000", "stop_loss_price": "64000"}, "stop_loss_price", "above price"),
    (
        "trade_perp",
        {"take_profit_price": "64000", "stop_loss_price": "64000"},
        "take_profit_price",
        "must differ from stop_loss_price",
    ),
    ("supply", {"take_profit_price": "2"}, "take_profit_price/stop_loss_price", "only valid for BUY/SELL"),
    # schema and types
    ("trade_spot", {"unknown_field": 1}, "unknown_field", "Extra inputs are not permitted"),
    ("trade_spot", {"schema_version": 2}, "schema_version", "1"),
    ("trade_spot", {"operation": "lend"}, "operation", "Input should be"),
    ("trade_spot", {"operation_id": ""}, "operation_id", "at least 1 character"),
    ("trade_spot", {"instrument_key": "BINANCE-SPOT:SPOT_PAIR:BTC-BTC"}, "instrument_key", "both 'BTC'"),
    ("trade_spot", {"instrument_key": 42}, "instrument_key", "expected a canonical instrument key"),
    ("trade_spot", {"urgency": "asap"}, "urgency", "Input should be"),
    ("trade_spot", {"created_at": "2025-03-15T15:00:00"}, "created_at", "timezone"),
    ("supply", {"contract_address": "0x1234"}, "contract_address", "20-byte hex address"),
    ("supply", {"function_params": {"x": float("nan")}}, "function_params", "JSON-serialisable"),
    ("supply", {"function_params": {"x": Decimal("NaN")}}, "function_params", "finite"),
    ("supply", {"function_params": {"x": object()}}, "function_params", "JSON-serialisable"),
    ("trade_spot", {"metadata": {"when": {1, 2}}}, "metadata", "JSON-serialisable"),
    ("trade_spot", {"priority": 2**63}, "priority", "less than or equal to"),
]


@pytest.mark.parametrize(("example", "changes", "field", "words"), RULES)
def test_each_rule_fails_naming_its_field(
    valid: dict[str, dict[str, Any]], example: str, changes: dict[str, Any], field: str, words: str
) -> None:
    data = valid[example] | changes
    _fails(data, field, words)


def test_every_problem_is_reported_at_once(valid: dict[str, dict[str, Any]]) -> None:
    data = valid["bet_match"] | {"odds": "1", "selection": None, "side": "BUY"}
    err = _fails(data, "odds")
    for field in ("odds:", "selection:", "side:"):
        assert field in err.message


def test_field_errors_are_listed_in_details(valid: dict[str, dict[str, Any]]) -> None:
    err = _fails(valid["trade_spot"] | {"amount": "0", "price": "-1"}, "amount")
    assert {e["field"] for e in err.details["errors"]} == {"amount", "price"}


def test_win_bets_take_any_runner_name(valid: dict[str, dict[str, Any]]) -> None:
    order = Order(
        **valid["bet_match"] | {"instrument_key": WIN, "selection": "Frankel", "expected_deltas": {}}
    )
    assert order.selection == "Frankel"


def test_bet_selection_is_case_insensitive_and_venue_optional(valid: dict[str, dict[str, Any]]) -> None:
    assert Order(**valid["bet_match"] | {"selection": "away"}).selection == "away"
    assert Order(**valid["bet_ou"]).venue == "BETFAIR"


def test_transfer_and_protocol_orders_with_agreeing_venues(valid: dict[str, dict[str, Any]]) -> None:
    assert Order(**valid["supply"] | {"venue": "AAVE_V3_ETH"}).venue == "AAVE_V3_ETH"
    assert Order(**valid["stake"]).venue == "ETHERFI"
    # a transfer's key names the asset; its venues are source_venue and target_venue
    assert Order(**valid["transfer"] | {"venue": "BINANCE-SPOT"}).venue == "BINANCE-SPOT"


def test_spot_pair_venue_may_name_any_venue(valid: dict[str, dict[str, Any]]) -> None:
    # a SPOT_PAIR routes; its venue field restricts candidates rather than contradicting the key
    assert Order(**valid["trade_spot"] | {"venue": "OKX"}).venue == "OKX"


def test_take_profit_and_stop_loss_without_price_are_allowed(valid: dict[str, dict[str, Any]]) -> None:
    order = Order(**valid["trade_perp"] | {"take_profit_price": "50000", "stop_loss_price": "70000"})
    assert order.price is None


def test_created_at_and_created_day(valid: dict[str, dict[str, Any]]) -> None:
    order = Order(**valid["trade_spot"] | {"created_at": "2025-03-15T15:00:00+01:00"})
    assert order_created_day(order).utcoffset() is not None
    with pytest.raises(InvalidOrder) as info:
        order_created_day(Order(**valid["trade_spot"]))
    assert info.value.order_id == "op-spot"


def test_model_validate_raises_invalid_order_for_non_dicts() -> None:
    with pytest.raises(InvalidOrder) as info:
        Order.model_validate(["not", "a", "dict"])
    assert info.value.order_id is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", "malformed"),
        ("[1, 2]", "must be an object"),
        (b"\xff\xfe", "malformed"),
        ('{"operation_id": "x"}', "operation:"),
        ('{"operation_id": "x", "amount": 1, "amount": 100}', "repeats the key 'amount'"),
        ('{"operation_id": "x", "metadata": {"a": 1, "a": 2}}', "repeats the key 'a'"),
    ],
)
def test_from_json_errors_are_invalid_orders(text: str | bytes, words: str) -> None:
    with pytest.raises(InvalidOrder) as info:
        Order.from_json(text)
    assert words in info.value.message
