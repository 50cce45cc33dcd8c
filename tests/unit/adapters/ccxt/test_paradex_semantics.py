"""Paradex specifics without a server: StarkNet signature checks, the JWT, error and reject codes."""

from __future__ import annotations

import ccxt
import pytest
from ccxt.base import errors as ccxt_errors
from ccxt.static_dependencies.starknet.hash.utils import message_signature
from ccxt.static_dependencies.starknet.hash.utils import private_to_stark_key
from ccxt.static_dependencies.starkware.crypto.fast_pedersen_hash import pedersen_hash
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext.adapters.ccxt.errors import translate_error
from nautilus_ext.adapters.ccxt.parsing.orders import rejection_reason
from nautilus_ext.errors import ErrorCode
from nautilus_ext_testkit.fake_exchange import paradex_signing as stark
from nautilus_ext_testkit.fake_exchange import paradex_wire as wire

FIELD_PRIME = 2**251 + 17 * 2**192 + 1
STARK_ORDER = 3618502788666131213697322783095070105526743751716087489154079457884512865583
ACCOUNT = "0x4638e3041366aa71720be63e32e53e1223316c7f0d56f7aa617542ed1e7512"
ORDER_FIELDS = ["timestamp", "market", "side", "orderType", "size", "price"]


def _ccxt_hash(primary: str, names: list[str], message: dict[str, object], account: str) -> int:
    ex = ccxt.paradex()
    return int(
        ex.starknet_encode_structured_data(
            {"name": "Paradex", "chainId": wire.STARKNET_CHAIN_ID, "version": 1},
            {primary: [{"name": n, "type": "felt"} for n in names]},
            message,
            account,
        )
    )


def test_typed_data_hash_matches_what_ccxt_signs() -> None:
    order = {
        "timestamp": 1_700_000_000_000,
        "market": "0x" + b"BTC-USD-PERP".hex(),
        "side": "1",
        "orderType": "0x" + b"LIMIT".hex(),
        "size": "30000000",
        "price": "4999990000000",
    }
    ours = stark.message_hash(
        wire.STARKNET_CHAIN_ID,
        "Order",
        [
            ("timestamp", 1_700_000_000_000),
            ("market", stark.short_string_felt("BTC-USD-PERP")),
            ("side", 1),
            ("orderType", stark.short_string_felt("LIMIT")),
            ("size", 30_000_000),
            ("price", 4_999_990_000_000),
        ],
        ACCOUNT,
    )
    assert ours == _ccxt_hash("Order", ORDER_FIELDS, order, ACCOUNT)
    onboarding = stark.message_hash(wire.STARKNET_CHAIN_ID, "Constant", [("action", "Onboarding")], ACCOUNT)
    assert onboarding == _ccxt_hash("Constant", ["action"], {"action": "Onboarding"}, ACCOUNT)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, FIELD_PRIME - 1), st.integers(0, FIELD_PRIME - 1))
def test_windowed_pedersen_equals_the_reference(x: int, y: int) -> None:
    assert stark._pedersen(x, y) == pedersen_hash(x, y)


@settings(max_examples=8, deadline=None)
@given(st.integers(1, STARK_ORDER - 1), st.integers(1, 2**251 - 1))
def test_verify_accepts_signatures_and_refuses_any_change(private_key: int, msg_hash: int) -> None:
    public_key = private_to_stark_key(private_key)
    r, s = message_signature(msg_hash, private_key)
    assert stark.verify(msg_hash, r, s, public_key)
    assert not stark.verify((msg_hash + 1) % 2**251, r, s, public_key)
    assert not stark.verify(msg_hash, r, (s + 1) % STARK_ORDER or 1, public_key)
    # k and n - k share a public key (the x coordinate): another key means another x
    other = private_to_stark_key(private_key + 1 if private_key + 1 < STARK_ORDER else 2)
    assume(other != public_key)
    assert not stark.verify(msg_hash, r, s, other)


def test_verify_refuses_out_of_range_values_and_non_curve_keys() -> None:
    key = 0x1234
    public_key = private_to_stark_key(key)
    r, s = message_signature(99, key)
    assert not stark.verify(99, 0, s, public_key)
    assert not stark.verify(99, r, 0, public_key)
    assert not stark.verify(2**251, r, s, public_key)
    # an x with no point on the curve (found by scanning small values) is not a key
    not_on_curve = next(
        x for x in range(2, 100) if stark._sqrt_mod(x**3 + x + stark.BETA, FIELD_PRIME) is None
    )
    assert not stark.verify(99, r, s, not_on_curve)


def test_signature_strings_parse_or_raise() -> None:
    assert stark.parse_signature('["0x1","0x2"]') == (1, 2)
    assert stark.parse_signature(["3", 4]) == (3, 4)
    for raw in ("not json", '["0x1"]', '["zz","0x2"]', None):
        with pytest.raises(stark.SignatureError):
            stark.parse_signature(raw)


def test_jwt_round_trip_forgery_and_expiry() -> None:
    secret = b"k" * 32
    token = wire.issue_jwt(secret, "0xabc", now_ms=1_000_000)
    assert wire.check_jwt(secret, token, now_ms=1_000_000 + wire.JWT_LIFETIME_MS - 1000) == "0xabc"
    assert wire.check_jwt(secret, token, now_ms=1_000_000 + wire.JWT_LIFETIME_MS) is None
    assert wire.check_jwt(b"x" * 32, token, now_ms=1_000_000) is None
    assert wire.check_jwt(secret, token + "x", now_ms=1_000_000) is None
    assert wire.check_jwt(secret, "a.b", now_ms=1_000_000) is None


def test_paradex_codes_map_to_the_taxonomy() -> None:
    def translate(code: str, klass: type[Exception]) -> tuple[ErrorCode, bool]:
        exc = klass(f'paradex {{"error": "{code}", "message": "m", "data": null}}')
        error = translate_error(exc, venue="PARADEX", operation="create_order")
        return error.code, error.retryable

    # ccxt's table is used where it fits ...
    assert (
        translate("INVALID_ORDER_SIGNATURE", ccxt_errors.AuthenticationError)[0] is ErrorCode.INVALID_CONFIG
    )
    assert translate("DUPLICATED_CLIENT_ID", ccxt_errors.InvalidOrder)[0] is ErrorCode.ORDER_REJECTED
    # ... and corrected where it does not
    assert translate("VALIDATION_ERROR", ccxt_errors.AuthenticationError)[0] is ErrorCode.INVALID_ORDER
    assert translate("NOT_ONBOARDED", ccxt_errors.BadRequest)[0] is ErrorCode.INVALID_CONFIG
    assert translate("INVALID_TIMESTAMP", ccxt_errors.BadRequest) == (ErrorCode.VENUE_UNAVAILABLE, True)
    assert translate("INVALID_ORDER_SIZE", ccxt_errors.ExchangeError)[0] is ErrorCode.INVALID_ORDER
    # other venues are untouched by the Paradex table
    other = translate_error(
        ccxt_errors.BadRequest('x {"error": "NOT_ONBOARDED"}'), venue="BYBIT", operation="create_order"
    )
    assert other.code is ErrorCode.INVALID_ORDER


def test_accepted_then_rejected_orders_carry_the_venue_reason() -> None:
    margin = {"status": "rejected", "info": {"cancel_reason": "NOT_ENOUGH_MARGIN"}}
    assert rejection_reason("paradex", margin) == "INSUFFICIENT_BALANCE: NOT_ENOUGH_MARGIN"
    limit = {"status": "rejected", "info": {"cancel_reason": "ORDER_EXCEEDS_POSITION_LIMIT"}}
    assert rejection_reason("paradex", limit) == "ORDER_REJECTED: ORDER_EXCEEDS_POSITION_LIMIT"
    assert rejection_reason("bybit", {"info": {"rejectReason": "EC_NoEnoughMargin"}}) == (
        "ORDER_REJECTED: EC_NoEnoughMargin"
    )
    assert rejection_reason("okx", {"info": None}) == "ORDER_REJECTED: rejected by venue"
