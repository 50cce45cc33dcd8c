"""
EIP-712 signing of CoW orders and cancellations with the real GPv2 domain (pure, no I/O).

The digest is computed twice on purpose: :func:`order_digest` hashes the struct the way
``GPv2Order.hash`` does (``keccak256(0x1901 ++ domainSeparator ++ keccak256(TYPE_HASH ++
fields))``, strings hashed, ``uint32``/``bool`` left-padded), which the order UID needs;
:func:`sign_order` signs through ``eth_account``'s typed-data encoder. A test checks both give
the same digest and that the contract's ``domainSeparator()`` equals :func:`domain_separator`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from nautilus_ext.adapters.cowswap.constants import CANCELLATIONS_TYPE
from nautilus_ext.adapters.cowswap.constants import DOMAIN_NAME
from nautilus_ext.adapters.cowswap.constants import DOMAIN_VERSION
from nautilus_ext.adapters.cowswap.constants import EIP712_DOMAIN_TYPE
from nautilus_ext.adapters.cowswap.constants import ORDER_TYPE
from nautilus_ext.adapters.cowswap.constants import ORDER_TYPE_STRING
from nautilus_ext.adapters.cowswap.constants import ORDER_UID_LENGTH
from nautilus_ext.adapters.cowswap.constants import ZERO_ADDRESS
from nautilus_ext.adapters.cowswap.enums import CowBuyTokenBalance
from nautilus_ext.adapters.cowswap.enums import CowOrderKind
from nautilus_ext.adapters.cowswap.enums import CowSellTokenBalance
from nautilus_ext.errors import InvalidOrder

_DOMAIN_TYPE_HASH = keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
ORDER_TYPE_HASH: bytes = keccak(ORDER_TYPE_STRING.encode())
"""``GPv2Order.TYPE_HASH``."""
_UINT32_MAX = 2**32 - 1
_UINT256_MAX = 2**256 - 1


@dataclass(frozen=True, slots=True)
class CowOrderData:
    """
    One order exactly as signed (``GPv2Order.Data``), amounts in token base units.

    Parameters
    ----------
    sell_token, buy_token : str
        ERC-20 addresses.
    receiver : str
        Who receives the buy token; the zero address means the owner.
    sell_amount, buy_amount : int
        For a sell order: the exact sell amount and the minimum buy amount (base units).
    valid_to : int
        Unix time (seconds) after which the order cannot settle.
    app_data : str
        ``0x`` + 32-byte hash of the order's app data.
    fee_amount : int
        Fee in sell-token base units (``0`` for orders posted to today's order book).
    kind : CowOrderKind
        Which amount is exact.
    partially_fillable : bool
        Whether the order may settle in parts.
    sell_token_balance, buy_token_balance
        Balance locations (``erc20`` unless the Balancer Vault is used).
    """

    sell_token: str
    buy_token: str
    receiver: str
    sell_amount: int
    buy_amount: int
    valid_to: int
    app_data: str
    fee_amount: int
    kind: CowOrderKind
    partially_fillable: bool
    sell_token_balance: CowSellTokenBalance = CowSellTokenBalance.ERC20
    buy_token_balance: CowBuyTokenBalance = CowBuyTokenBalance.ERC20

    def __post_init__(self) -> None:
        problems = []
        if not 0 <= self.valid_to <= _UINT32_MAX:
            problems.append(f"validTo {self.valid_to} is not a uint32")
        for name in ("sell_amount", "buy_amount", "fee_amount"):
            value = getattr(self, name)
            if not 0 <= value <= _UINT256_MAX:
                problems.append(f"{name} {value} is not a uint256")
        if self.sell_amount == 0 or self.buy_amount == 0:
            problems.append("sellAmount and buyAmount must be positive")
        if len(bytes.fromhex(self.app_data.removeprefix("0x"))) != 32:
            problems.append(f"appData {self.app_data!r} is not 32 bytes")
        if self.sell_token.lower() == self.buy_token.lower():
            problems.append("sellToken equals buyToken")
        if problems:
            raise InvalidOrder(f"invalid CoW order: {'; '.join(problems)}", venue="COWSWAP-ETH")

    def message(self) -> dict[str, Any]:
        """The EIP-712 message (CoW's field names)."""
        return {
            "sellToken": to_checksum_address(self.sell_token),
            "buyToken": to_checksum_address(self.buy_token),
            "receiver": to_checksum_address(self.receiver),
            "sellAmount": self.sell_amount,
            "buyAmount": self.buy_amount,
            "validTo": self.valid_to,
            "appData": bytes.fromhex(self.app_data.removeprefix("0x")),
            "feeAmount": self.fee_amount,
            "kind": str(self.kind),
            "partiallyFillable": self.partially_fillable,
            "sellTokenBalance": str(self.sell_token_balance),
            "buyTokenBalance": str(self.buy_token_balance),
        }


def eip712_domain(chain_id: int, settlement: str) -> dict[str, Any]:
    """The GPv2 domain: name "Gnosis Protocol", version "v2", the chain and the settlement contract."""
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": to_checksum_address(settlement),
    }


def domain_separator(chain_id: int, settlement: str) -> bytes:
    """``GPv2Signing.domainSeparator`` for ``chain_id`` and ``settlement``."""
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                _DOMAIN_TYPE_HASH,
                keccak(DOMAIN_NAME.encode()),
                keccak(DOMAIN_VERSION.encode()),
                chain_id,
                to_checksum_address(settlement),
            ],
        )
    )


def order_struct_hash(order: CowOrderData) -> bytes:
    """``hashStruct(order)`` as ``GPv2Order.hash`` computes it."""
    return keccak(
        abi_encode(
            [
                "bytes32",
                "address",
                "address",
                "address",
                "uint256",
                "uint256",
                "uint32",
                "bytes32",
                "uint256",
                "bytes32",
                "bool",
                "bytes32",
                "bytes32",
            ],
            [
                ORDER_TYPE_HASH,
                to_checksum_address(order.sell_token),
                to_checksum_address(order.buy_token),
                to_checksum_address(order.receiver),
                order.sell_amount,
                order.buy_amount,
                order.valid_to,
                bytes.fromhex(order.app_data.removeprefix("0x")),
                order.fee_amount,
                keccak(str(order.kind).encode()),
                order.partially_fillable,
                keccak(str(order.sell_token_balance).encode()),
                keccak(str(order.buy_token_balance).encode()),
            ],
        )
    )


def order_digest(order: CowOrderData, chain_id: int, settlement: str) -> bytes:
    """The EIP-712 digest the owner signs (and the first 32 bytes of the UID)."""
    return keccak(b"\x19\x01" + domain_separator(chain_id, settlement) + order_struct_hash(order))


def order_uid(digest: bytes, owner: str, valid_to: int) -> str:
    """``orderDigest ++ owner ++ uint32(validTo)`` as ``0x`` hex (56 bytes)."""
    if len(digest) != 32:
        raise InvalidOrder(f"an order digest has 32 bytes, got {len(digest)}")
    raw = digest + bytes.fromhex(to_checksum_address(owner)[2:]) + valid_to.to_bytes(4, "big")
    return "0x" + raw.hex()


def parse_uid(uid: str) -> tuple[bytes, str, int]:
    """Split an order UID into (digest, owner, validTo); raise :class:`InvalidOrder` if malformed."""
    try:
        raw = bytes.fromhex(uid.removeprefix("0x"))
    except ValueError as e:
        raise InvalidOrder(f"order UID {uid!r} is not hex", venue="COWSWAP-ETH") from e
    if len(raw) != ORDER_UID_LENGTH:
        raise InvalidOrder(
            f"order UID has {ORDER_UID_LENGTH} bytes (digest, owner, validTo), got {len(raw)}",
            venue="COWSWAP-ETH",
        )
    return raw[:32], to_checksum_address(raw[32:52]), int.from_bytes(raw[52:], "big")


def typed_order(order: CowOrderData, chain_id: int, settlement: str) -> dict[str, Any]:
    """The full EIP-712 typed-data document of ``order`` (``eth_signTypedData_v4`` shape)."""
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_TYPE, "Order": ORDER_TYPE},
        "primaryType": "Order",
        "domain": eip712_domain(chain_id, settlement),
        "message": order.message(),
    }


def typed_cancellations(uids: list[str], chain_id: int, settlement: str) -> dict[str, Any]:
    """The EIP-712 ``OrderCancellations(bytes[] orderUids)`` document the order book verifies."""
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_TYPE, "OrderCancellations": CANCELLATIONS_TYPE},
        "primaryType": "OrderCancellations",
        "domain": eip712_domain(chain_id, settlement),
        "message": {"orderUids": [bytes.fromhex(u.removeprefix("0x")) for u in uids]},
    }


def _sign(document: dict[str, Any], private_key: str) -> str:
    signed = Account.sign_message(encode_typed_data(full_message=document), private_key)
    return "0x" + bytes(signed.signature).hex()


def sign_order(order: CowOrderData, chain_id: int, settlement: str, private_key: str) -> str:
    """The 65-byte ``r ++ s ++ v`` EIP-712 signature of ``order`` (``signingScheme: eip712``)."""
    return _sign(typed_order(order, chain_id, settlement), private_key)


def sign_cancellations(uids: list[str], chain_id: int, settlement: str, private_key: str) -> str:
    """The EIP-712 signature of an off-chain cancellation of ``uids``."""
    return _sign(typed_cancellations(uids, chain_id, settlement), private_key)


def address_of(private_key: str) -> str:
    """The checksummed address a signing key controls."""
    return str(Account.from_key(private_key).address)


def receiver_or_zero(receiver: str | None) -> str:
    """The receiver to sign: ``None`` becomes the zero address (the owner)."""
    return ZERO_ADDRESS if receiver is None else to_checksum_address(receiver)


__all__ = [
    "ORDER_TYPE_HASH",
    "CowOrderData",
    "address_of",
    "domain_separator",
    "eip712_domain",
    "order_digest",
    "order_struct_hash",
    "order_uid",
    "parse_uid",
    "receiver_or_zero",
    "sign_cancellations",
    "sign_order",
    "typed_cancellations",
    "typed_order",
]
