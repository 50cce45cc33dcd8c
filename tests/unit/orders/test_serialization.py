"""Lossless Order round trips through JSON and real Parquet files, including generated orders."""

from __future__ import annotations

import json
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.orders import ORDER_ARROW_SCHEMA
from nautilus_ext.orders import Order
from nautilus_ext.orders import order_to_row
from nautilus_ext.orders import orders_to_table
from nautilus_ext.orders import row_to_order
from nautilus_ext.orders import table_to_orders

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
FLOAT_TEXT = "0.1000000000000000055511151231257827"
WEI = "123456789012345678901234567890"


def _write_read(orders: list[Order], path: Path) -> list[Order]:
    pq.write_table(orders_to_table(orders), path)
    table = pq.read_table(path)
    assert table.schema.equals(ORDER_ARROW_SCHEMA)
    assert table.schema.metadata == ORDER_ARROW_SCHEMA.metadata
    return table_to_orders(table)


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_round_trip_json(valid: dict[str, dict[str, Any]], name: str) -> None:
    order = Order(**valid[name])
    text = order.to_json()
    assert Order.from_json(text) == order
    assert Order.from_json(text.encode()) == order
    assert Order.from_json(text).to_json() == text


def test_examples_round_trip_parquet(valid: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    orders = [Order(**valid[name] | {"created_at": "2025-03-15T15:00:00.123456+00:00"}) for name in EXAMPLES]
    back = _write_read(orders, tmp_path / "orders.parquet")
    assert back == orders
    for o in orders:
        assert row_to_order(order_to_row(o)) == o


def test_json_numbers_are_read_as_exact_decimals(valid: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    data = valid["stake"] | {"amount": "__WEI__"}
    data.pop("venue")
    text = json.dumps(data | {"max_slippage": "__FLOAT__"})
    text = text.replace('"__WEI__"', WEI).replace('"__FLOAT__"', FLOAT_TEXT)
    assert f'"amount": {WEI}' in text  # given as JSON numbers, not strings
    order = Order.from_json(text)
    assert order.amount == Decimal(WEI)
    assert order.max_slippage == Decimal(FLOAT_TEXT)
    assert str(order.max_slippage) == FLOAT_TEXT
    assert Order.from_json(order.to_json()) == order
    assert str(Order.from_json(order.to_json()).max_slippage) == FLOAT_TEXT
    (back,) = _write_read([order], tmp_path / "exact.parquet")
    assert back == order
    assert str(back.amount) == WEI
    assert str(back.max_slippage) == FLOAT_TEXT


def test_pydantic_json_entry_point_is_exact_too(valid: dict[str, dict[str, Any]]) -> None:
    text = json.dumps(valid["trade_spot"] | {"amount": "__F__"}).replace('"__F__"', FLOAT_TEXT)
    for data in (text, text.encode(), bytearray(text.encode())):
        assert str(Order.model_validate_json(data).amount) == FLOAT_TEXT
    with pytest.raises(InvalidOrder, match="side"):
        Order.model_validate_json(text.replace('"BUY"', '"HOLD"'))
    with pytest.raises(InvalidOrder, match="malformed"):
        Order.model_validate_json("{")


def test_decimal_text_survives_exactly(valid: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    # trailing zeros and exponents are kept as written, not just numerically equal
    order = Order(**valid["trade_spot"] | {"amount": "0.50000", "price": "6.50E+4"})
    again = Order.from_json(order.to_json())
    assert (str(again.amount), str(again.price)) == ("0.50000", "6.50E+4")
    (back,) = _write_read([order], tmp_path / "text.parquet")
    assert (str(back.amount), str(back.price)) == ("0.50000", "6.50E+4")


def test_free_form_json_numbers_round_trip(valid: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    text = json.dumps(valid["supply"]).replace(
        '"referralCode": 0',
        f'"referralCode": 0, "amountWei": {WEI}, "ratio": {FLOAT_TEXT}, "nested": [1.5, {{"x": 2.25}}]',
    )
    order = Order.from_json(
        text[:-1] + ', "metadata": {"algorithm": "TWAP", "algo_params": {"participation": 0.1}}}'
    )
    assert order.function_params is not None
    assert order.function_params["ratio"] == Decimal(FLOAT_TEXT)
    assert order.metadata == {"algorithm": "TWAP", "algo_params": {"participation": Decimal("0.1")}}
    assert Order.from_json(order.to_json()) == order
    (back,) = _write_read([order], tmp_path / "meta.parquet")
    assert back == order
    assert back.metadata == order.metadata


def test_created_at_keeps_the_instant(valid: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    when = datetime(2025, 3, 15, 16, 0, 0, 1, tzinfo=timezone(timedelta(hours=1)))
    order = Order(**valid["trade_spot"] | {"created_at": when})
    assert Order.from_json(order.to_json()).created_at == when
    (back,) = _write_read([order], tmp_path / "ts.parquet")
    assert back.created_at == when
    assert back.created_at is not None
    assert back.created_at.utcoffset() == timedelta(0)
    assert back.created_at.astimezone(UTC).hour == 15


def test_expected_deltas_are_stored_as_a_map(valid: dict[str, dict[str, Any]]) -> None:
    order = Order(**valid["trade_spot"])
    row = order_to_row(order)
    assert row["expected_deltas"] == [
        ("BINANCE-SPOT:SPOT_ASSET:BTC", "0.5"),
        ("BINANCE-SPOT:SPOT_ASSET:USDT", "-32500.05"),
    ]
    assert row["instrument_key"] == "BINANCE-SPOT:SPOT_PAIR:BTC-USDT"
    assert row["amount"] == "0.5"
    assert set(row) == set(ORDER_ARROW_SCHEMA.names)


def test_schema_is_in_one_place_and_versioned() -> None:
    assert ORDER_ARROW_SCHEMA.metadata == {b"nautilus_ext.schema": b"order", b"nautilus_ext.version": b"1"}
    assert set(ORDER_ARROW_SCHEMA.names) == set(Order.model_fields)
    assert ORDER_ARROW_SCHEMA.field("amount").type == pa.string()
    assert not ORDER_ARROW_SCHEMA.field("amount").nullable


def test_table_missing_columns_is_an_invalid_order(valid: dict[str, dict[str, Any]]) -> None:
    table = orders_to_table([Order(**valid["trade_spot"])]).drop_columns(["amount"])
    with pytest.raises(InvalidOrder, match="amount"):
        table_to_orders(table)


def test_invalid_row_is_an_invalid_order(valid: dict[str, dict[str, Any]]) -> None:
    row = order_to_row(Order(**valid["trade_spot"]))
    row["amount"] = "-1"
    with pytest.raises(InvalidOrder, match="amount"):
        row_to_order(row)


def test_out_of_range_integers_cannot_be_built(valid: dict[str, dict[str, Any]]) -> None:
    # every valid order must fit the int64 Parquet columns
    with pytest.raises(InvalidOrder, match="priority"):
        Order(**valid["trade_spot"] | {"priority": -(2**63) - 1})
    with pytest.raises(InvalidOrder, match="sequence_in_group"):
        Order(**valid["supply"] | {"sequence_in_group": 2**63})
    ok = Order(**valid["supply"] | {"sequence_in_group": 2**63 - 1, "priority": -(2**63)})
    assert row_to_order(orders_to_table([ok]).to_pylist()[0]) == ok


# -- generated orders -----------------------------------------------------------------------

positive = st.one_of(
    # places=30 keeps within the Order's 96-digit bound (a longer number is refused as a typo)
    st.decimals(
        min_value=Decimal("1E-30"),
        max_value=Decimal("1E+30"),
        places=30,
        allow_nan=False,
        allow_infinity=False,
    ),
    st.integers(1, 10**30).map(Decimal),
    st.sampled_from([Decimal(FLOAT_TEXT), Decimal(WEI), Decimal("1E+2"), Decimal("0.10")]),
)
signed = st.one_of(positive, positive.map(lambda d: -d), st.just(Decimal(0)))
text = st.text(max_size=12)
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30), positive, signed, text)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=6,
)
json_dict = st.none() | st.dictionaries(text, json_value, max_size=4)
position_keys = st.sampled_from(
    [
        "BINANCE-SPOT:SPOT_ASSET:BTC",
        "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN",
        "AAVE_V3_ETH:A_TOKEN:AUSDT@ETHEREUM",
        "ETHERFI:LST:WEETH@ETHEREUM",
        "FOOTBALL:BETFAIR:BTTS:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL",
    ]
)
created = st.none() | st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(minutes=330))]),
)


@st.composite
def orders(draw: st.DrawFn) -> Order:
    kind = draw(st.sampled_from(["trade_pair", "trade_perp", "supply", "swap", "transfer", "bet"]))
    common: dict[str, Any] = {
        "operation_id": draw(st.text(min_size=1, max_size=20)),
        "amount": draw(positive),
        "expected_deltas": draw(st.dictionaries(position_keys, signed, max_size=3)),
        "max_slippage": draw(st.none() | st.decimals(min_value=0, max_value=Decimal("0.99"), places=6)),
        "urgency": draw(st.none() | st.sampled_from(["low", "medium", "high"])),
        "smart_execution_enabled": draw(st.booleans()),
        "priority": draw(st.none() | st.integers(-(2**63), 2**63 - 1)),
        "strategy_id": draw(st.none() | text),
        "strategy_intent": draw(st.none() | text),
        "created_at": draw(created),
        "metadata": draw(json_dict),
    }
    if draw(st.booleans()):
        common["atomic_group_id"] = draw(st.text(min_size=1, max_size=8))
        common["sequence_in_group"] = draw(st.integers(0, 2**63 - 1))
    if kind == "trade_pair":
        return Order(
            **common,
            operation="trade",
            instrument_key="BINANCE-SPOT:SPOT_PAIR:BTC-USDT",
            side=draw(st.sampled_from(["BUY", "SELL"])),
            venue=draw(st.none() | st.sampled_from(["BINANCE-SPOT", "OKX"])),
        )
    if kind == "trade_perp":
        price = draw(st.none() | st.decimals(min_value=2, max_value=10**6, places=2))
        side = draw(st.sampled_from(["BUY", "SELL"]))
        extra: dict[str, Any] = {}
        if price is not None and draw(st.booleans()):
            up, down = price * 2, price / 2
            extra = {"take_profit_price": up if side == "BUY" else down}
            extra["stop_loss_price"] = down if side == "BUY" else up
        return Order(
            **common,
            **extra,
            operation="trade",
            instrument_key="DERIBIT:OPTION:BTC-USD-241225-50000-CALL@INV",
            venue="DERIBIT",
            side=side,
            price=price,
        )
    if kind == "supply":
        return Order(
            **common,
            operation="supply",
            instrument_key="AAVE_V3_ETH:A_TOKEN:AUSDT@ETHEREUM",
            side="SUPPLY",
            contract_address="0x" + draw(st.text("0123456789abcdefABCDEF", min_size=40, max_size=40)),
            function_name="supply",
            function_params=draw(json_dict),
        )
    if kind == "swap":
        return Order(
            **common,
            operation="swap",
            instrument_key="UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM",
            side="SELL",
            source_token="WETH",
            target_token="USDT",
        )
    if kind == "transfer":
        return Order(
            **common,
            operation="transfer",
            instrument_key="WALLET-ETH:SPOT_ASSET:USDT@ETHEREUM",
            side="TRANSFER",
            source_venue="WALLET-ETH",
            target_venue=draw(st.sampled_from(["BINANCE-SPOT", "AAVE_V3_ETH"])),
        )
    return Order(
        **common,
        operation="bet",
        instrument_key="FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL",
        side=draw(st.sampled_from(["BACK", "LAY"])),
        odds=draw(st.decimals(min_value=Decimal("1.01"), max_value=1000, places=2)),
        selection=draw(st.sampled_from(["HOME", "draw", "Away"])),
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders())
def test_generated_orders_round_trip_json(order: Order) -> None:
    again = Order.from_json(order.to_json())
    assert again == order
    assert again.to_json() == order.to_json()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(orders(), min_size=1, max_size=5))
def test_generated_orders_round_trip_arrow(batch: list[Order]) -> None:
    table = orders_to_table(batch)
    assert table.schema.equals(ORDER_ARROW_SCHEMA)
    assert table_to_orders(table) == batch


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(orders(), min_size=1, max_size=20))
def test_generated_orders_round_trip_parquet_file(tmp_path: Path, batch: list[Order]) -> None:
    assert _write_read(batch, tmp_path / "gen.parquet") == batch


def _reference_to_json(order: Order) -> str:
    # the canonical text as first defined: one exact_json_dumps per field, in field order
    from nautilus_ext.orders.model import FREE_FORM_FIELDS
    from nautilus_ext.orders.model import exact_json_dumps

    fields = []
    for name, value in order.model_dump(mode="json").items():
        raw = getattr(order, name) if name in FREE_FORM_FIELDS else value
        fields.append(f"{json.dumps(name)}:{exact_json_dumps(raw)}")
    return "{" + ",".join(fields) + "}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders())
def test_canonical_json_is_byte_identical_to_the_field_by_field_text(order: Order) -> None:
    # the LIVE confirmation hash covers this text: a faster encoder must not change one byte
    assert order.to_json() == _reference_to_json(order)
    bare = order.model_copy(update={"metadata": None, "function_params": None})
    assert bare.to_json() == _reference_to_json(bare)


def test_canonical_json_hash_is_pinned() -> None:
    import hashlib

    order = Order(
        operation_id="op-1",
        operation="trade",
        instrument_key="BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN",
        venue="BINANCE-FUTURES",
        side="BUY",
        amount=Decimal("0.01"),
        max_slippage=Decimal("0.001"),
        strategy_id="S-1",
        metadata={"note": "é", "n": Decimal("1.50"), "l": [1, 2.5, None, True]},
    )
    digest = hashlib.sha256(order.to_json().encode()).hexdigest()
    assert digest == "6f0bd1f2640d5b76b9c613092f3c33710df14b54d86881f155e06cc279cb792b"
