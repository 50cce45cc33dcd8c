"""CoW order signing: the GPv2 domain, the struct hash, UIDs, signatures, wire errors, credentials."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message
from eth_account.messages import encode_typed_data
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext.adapters.cowswap.credentials import ENV_PRIVATE_KEY
from nautilus_ext.adapters.cowswap.credentials import load_credentials
from nautilus_ext.adapters.cowswap.enums import CowOrderKind
from nautilus_ext.adapters.cowswap.errors import COW_ERROR_MAP
from nautilus_ext.adapters.cowswap.errors import CowOrderRejected
from nautilus_ext.adapters.cowswap.errors import map_api_error
from nautilus_ext.adapters.cowswap.parsing import order_data_from_quote
from nautilus_ext.adapters.cowswap.parsing import quote_leg
from nautilus_ext.adapters.cowswap.schemas import CowOrderParameters
from nautilus_ext.adapters.cowswap.signing import ORDER_TYPE_HASH
from nautilus_ext.adapters.cowswap.signing import CowOrderData
from nautilus_ext.adapters.cowswap.signing import domain_separator
from nautilus_ext.adapters.cowswap.signing import order_digest
from nautilus_ext.adapters.cowswap.signing import order_uid
from nautilus_ext.adapters.cowswap.signing import parse_uid
from nautilus_ext.adapters.cowswap.signing import sign_cancellations
from nautilus_ext.adapters.cowswap.signing import sign_order
from nautilus_ext.adapters.cowswap.signing import typed_cancellations
from nautilus_ext.adapters.cowswap.signing import typed_order
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder

MAINNET_SETTLEMENT = "0x9008D19f58AAbD9eD0D60971565AA8510560ab41"
KEY = "0x" + "4c" * 32


def _order(**kw: object) -> CowOrderData:
    fields: dict[str, object] = {
        "sell_token": "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
        "buy_token": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
        "receiver": "0x" + "00" * 20,
        "sell_amount": 10**18,
        "buy_amount": 3_000 * 10**6,
        "valid_to": 1_800_000_000,
        "app_data": "0x" + "00" * 32,
        "fee_amount": 0,
        "kind": CowOrderKind.SELL,
        "partially_fillable": False,
    }
    fields.update(kw)
    return CowOrderData(**fields)  # type: ignore[arg-type]


def test_mainnet_domain_separator_is_cows_published_value() -> None:
    # GPv2Settlement.domainSeparator() on Ethereum mainnet (chain 1, 0x9008...ab41)
    assert domain_separator(1, MAINNET_SETTLEMENT).hex() == (
        "c078f884a2676e1345748b1feace7b0abee5d00ecadb6e574dcdd109a63e8943"
    )
    assert ORDER_TYPE_HASH.hex() == "d5a25ba2e97094ad7d83dc28a6572da797d6b3e7fc6663bd93efb789fc17e489"


@settings(max_examples=50, deadline=None)
@given(
    sell=st.integers(1, 2**256 - 1),
    buy=st.integers(1, 2**256 - 1),
    valid_to=st.integers(0, 2**32 - 1),
    fee=st.integers(0, 2**96),
    partial=st.booleans(),
    kind=st.sampled_from(list(CowOrderKind)),
    chain_id=st.integers(1, 2**40),
)
def test_manual_digest_equals_eth_account_typed_data(
    sell: int, buy: int, valid_to: int, fee: int, partial: bool, kind: CowOrderKind, chain_id: int
) -> None:
    order = _order(
        sell_amount=sell,
        buy_amount=buy,
        valid_to=valid_to,
        fee_amount=fee,
        partially_fillable=partial,
        kind=kind,
    )
    signable = encode_typed_data(full_message=typed_order(order, chain_id, MAINNET_SETTLEMENT))
    assert order_digest(order, chain_id, MAINNET_SETTLEMENT) == _hash_eip191_message(signable)


def test_signature_recovers_the_owner_and_uid_round_trips() -> None:
    order = _order()
    signature = sign_order(order, 1, MAINNET_SETTLEMENT, KEY)
    digest = order_digest(order, 1, MAINNET_SETTLEMENT)
    owner = Account.from_key(KEY).address
    assert len(bytes.fromhex(signature[2:])) == 65
    assert Account._recover_hash(digest, signature=bytes.fromhex(signature[2:])) == owner
    uid = order_uid(digest, owner, order.valid_to)
    assert len(bytes.fromhex(uid[2:])) == 56
    assert parse_uid(uid) == (digest, owner, order.valid_to)
    # another chain or settlement is another domain: the same order signs differently
    assert sign_order(order, 5, MAINNET_SETTLEMENT, KEY) != signature


def test_cancellation_signature_recovers_the_owner() -> None:
    uid = order_uid(b"\x01" * 32, Account.from_key(KEY).address, 7)
    signature = sign_cancellations([uid], 1, MAINNET_SETTLEMENT, KEY)
    signable = encode_typed_data(full_message=typed_cancellations([uid], 1, MAINNET_SETTLEMENT))
    assert (
        Account.recover_message(signable, signature=bytes.fromhex(signature[2:]))
        == Account.from_key(KEY).address
    )


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"valid_to": 2**32}, "validTo"),
        ({"sell_amount": 0}, "positive"),
        ({"buy_amount": 2**256}, "buy_amount"),
        ({"app_data": "0x12"}, "appData"),
        ({"buy_token": "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"}, "sellToken equals buyToken"),
    ],
)
def test_invalid_orders_are_refused_naming_the_field(kw: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidOrder, match=needle):
        _order(**kw)


@pytest.mark.parametrize("bad", ["0x12", "zz" * 56, "0x" + "00" * 55])
def test_malformed_uids_are_typed_errors(bad: str) -> None:
    with pytest.raises(InvalidOrder):
        parse_uid(bad)


def test_order_from_quote_folds_the_fee_and_applies_slippage() -> None:
    quote = CowOrderParameters(
        sell_token="0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
        buy_token="0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
        sell_amount="995",
        buy_amount="20000",
        valid_to=100,
        app_data="0x" + "00" * 32,
        fee_amount="5",
        kind="sell",
        partially_fillable=False,
    )
    order = order_data_from_quote(quote, 50)
    assert (order.sell_amount, order.fee_amount, order.buy_amount) == (1000, 0, 19_900)
    with pytest.raises(InvalidOrder, match="slippage"):
        order_data_from_quote(quote, 10_000)
    # the same quote priced for the joint router: the fee is a fixed cost at the quote's rate
    leg = quote_leg(quote)
    assert (leg.sell_amount, leg.buy_amount, leg.fee_amount) == (1000, 20_000, 5)
    assert leg.quote(1000) == 20_100  # gross at 20000/995 per unit
    assert leg.fixed_cost == 100


def test_every_mapped_error_type_and_status_gives_a_typed_error() -> None:
    for error_type in COW_ERROR_MAP:
        error = map_api_error(400, error_type, "x")
        assert error.details["error_type"] == error_type
    assert isinstance(map_api_error(400, "SomethingNew", "x"), CowOrderRejected)
    assert map_api_error(400, "InsufficientAllowance", "x").code is ErrorCode.INSUFFICIENT_BALANCE
    assert map_api_error(429, None, "x").code is ErrorCode.RATE_LIMITED
    assert map_api_error(503, None, "x").code is ErrorCode.VENUE_UNAVAILABLE


def test_credentials_come_from_the_environment_and_never_show() -> None:
    creds = load_credentials({ENV_PRIVATE_KEY: KEY})
    assert creds.owner == Account.from_key(KEY).address
    assert KEY[2:] not in repr(creds)
    with pytest.raises(InvalidConfig, match="not set"):
        load_credentials({})
    with pytest.raises(InvalidConfig, match="32-byte") as info:
        load_credentials({ENV_PRIVATE_KEY: "0xnothex"})
    assert "nothex" not in str(info.value)
