"""
Fuzz ``Order.from_json``: any text in, an Order or ``InvalidOrder`` out, nothing else.

Inputs mix random text with mutations of valid orders: fields replaced by hostile values
(5,000-digit numbers, NaN, huge exponents, 5,000-deep nesting, wrong types), keys dropped or
added, and the text cut short. The same ``order_texts`` strategy is used once with a large N
to measure the figure reported in issue 13.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.orders import Order

BASE: dict[str, Any] = {
    "operation_id": "op-1",
    "operation": "trade",
    "instrument_key": "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN",
    "venue": "BINANCE-FUTURES",
    "side": "BUY",
    "amount": "0.5",
    "price": "65000.1",
    "expected_deltas": {"BINANCE-FUTURES:SPOT_ASSET:BTC": "0.5"},
    "created_at": "2024-03-01T00:00:00Z",
    "metadata": {"note": "x"},
}
FIELDS = [*BASE, "odds", "selection", "priority", "sequence_in_group", "atomic_group_id", "max_slippage"]
FIELDS += ["take_profit_price", "stop_loss_price", "function_params", "urgency", "schema_version"]

# raw JSON fragments: hostile numbers and structures json.dumps cannot produce
RAW_VALUES = [
    "NaN",
    "Infinity",
    "-Infinity",
    "9" * 5000,
    "1e999999999",
    "1e-999999999",
    "1e99999999999999999999",
    "-0",
    "0.1000000000000000055511151231257827",
    "[" * 5000 + "]" * 5000,
    '{"a":' * 3000 + "1" + "}" * 3000,
    '"' + "x" * 10_000 + '"',
    '"\\ud800"',
    '"99999-01-01T00:00:00Z"',
    '"2024-02-30T00:00:00Z"',
    "true",
    "null",
    "{}",
    "[]",
]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["0", "-1", "1e400", "NaN", "inf", "buy", "BUY", "trade", "bet", "LAY", "1.5"]),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)


@st.composite
def mutated_order(draw: st.DrawFn) -> str:
    """Return the JSON text of a valid order with a few fields replaced, removed or added."""
    parts: dict[str, str] = {k: json.dumps(v) for k, v in BASE.items()}
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(FIELDS) | st.text(max_size=10))
        action = draw(st.sampled_from(["raw", "value", "drop"]))
        if action == "drop":
            parts.pop(name, None)
        elif action == "raw":
            parts[name] = draw(st.sampled_from(RAW_VALUES))
        else:
            parts[name] = json.dumps(draw(json_values))
    text = "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in parts.items()) + "}"
    if draw(st.integers(0, 9)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return text


def order_texts() -> st.SearchStrategy[str | bytes]:
    """Any text or bytes, weighted towards almost-valid orders."""
    return st.one_of(
        mutated_order(),
        mutated_order(),
        mutated_order(),
        st.text(max_size=200),
        st.binary(max_size=200),
        st.sampled_from(RAW_VALUES),
    )


def untyped_error(text: str | bytes) -> BaseException | None:
    """Return the exception ``Order.from_json`` raised if it is not the typed one."""
    try:
        Order.from_json(text)
    except InvalidOrder:
        return None
    except Exception as e:
        return e
    return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order_texts())
def test_from_json_raises_only_invalid_order(text: str | bytes) -> None:
    error = untyped_error(text)
    assert error is None, f"{type(error).__name__}: {error}"


def test_valid_order_survives_the_fuzz_base() -> None:
    order = Order.from_json(json.dumps(BASE))
    assert Order.from_json(order.to_json()) == order
