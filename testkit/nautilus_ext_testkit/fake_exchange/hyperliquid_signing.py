"""
Recover the signer of a Hyperliquid ``/exchange`` request, as the venue does.

Two signing schemes (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/signing
and the reference ``hyperliquid-python-sdk`` ``utils/signing.py``):

* **L1 actions** (order, cancel, modify, updateLeverage, ...): ``connectionId = keccak(msgpack(action)
  || nonce as 8 big-endian bytes || 0x00 | 0x01 + vault address || [0x00 + expiresAfter as 8
  bytes])``, then the EIP-712 "phantom agent" ``Agent{source, connectionId}`` with ``source`` ``"a"``
  on mainnet and ``"b"`` on testnet, under the domain ``Exchange`` / version ``1`` / chain id 1337 /
  the zero verifying contract.
* **User-signed actions** (usdSend, withdraw3, spotSend, usdClassTransfer, approveAgent,
  approveBuilderFee): the action's own fields typed as ``HyperliquidTransaction:<Name>`` under the
  domain ``HyperliquidSignTransaction`` with the chain id the client chose
  (``signatureChainId``, hex), and ``hyperliquidChain`` ``"Mainnet"``/``"Testnet"``.

The recovered address is then an account (the trading wallet) or an agent approved by one. These
functions are pure: the protocol module keeps the agent table and the used nonces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from typing import Final

import msgpack
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

ZERO_ADDRESS: Final = "0x0000000000000000000000000000000000000000"
L1_CHAIN_ID: Final = 1337

# Field lists of the user-signed actions, in the order the venue hashes them (the SDK's
# *_SIGN_TYPES). Keyed by the action ``type``: (EIP-712 primary type, fields).
USER_SIGNED_TYPES: Final[dict[str, tuple[str, list[dict[str, str]]]]] = {
    "usdSend": (
        "HyperliquidTransaction:UsdSend",
        [
            {"name": "hyperliquidChain", "type": "string"},
            {"name": "destination", "type": "string"},
            {"name": "amount", "type": "string"},
            {"name": "time", "type": "uint64"},
        ],
    ),
    "spotSend": (
        "HyperliquidTransaction:SpotSend",
        [
            {"name": "hyperliquidChain", "type": "string"},
            {"name": "destination", "type": "string"},
            {"name": "token", "type": "string"},
            {"name": "amount", "type": "string"},
            {"name": "time", "type": "uint64"},
        ],
    ),
    "withdraw3": (
        "HyperliquidTransaction:Withdraw",
        [
            {"name": "hyperliquidChain", "type": "string"},
            {"name": "destination", "type": "string"},
            {"name": "amount", "type": "string"},
            {"name": "time", "type": "uint64"},
        ],
    ),
    "usdClassTransfer": (
        "HyperliquidTransaction:UsdClassTransfer",
        [
            {"name": "hyperliquidChain", "type": "string"},
            {"name": "amount", "type": "string"},
            {"name": "toPerp", "type": "bool"},
            {"name": "nonce", "type": "uint64"},
        ],
    ),
    "approveAgent": (
        "HyperliquidTransaction:ApproveAgent",
        [
            {"name": "hyperliquidChain", "type": "string"},
            {"name": "agentAddress", "type": "address"},
            {"name": "agentName", "type": "string"},
            {"name": "nonce", "type": "uint64"},
        ],
    ),
    "approveBuilderFee": (
        "HyperliquidTransaction:ApproveBuilderFee",
        [
            {"name": "hyperliquidChain", "type": "string"},
            {"name": "maxFeeRate", "type": "string"},
            {"name": "builder", "type": "address"},
            {"name": "nonce", "type": "uint64"},
        ],
    ),
}
_DOMAIN_TYPE: Final = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


class SignatureError(ValueError):
    """The request's signature is malformed or does not fit the action (venue-style text)."""


@dataclass(frozen=True)
class SignedRequest:
    """What a signature proves: who signed, which nonce, and the action's scheme."""

    signer: str  # recovered address, lower case
    nonce: int
    user_signed: bool


def action_hash(action: dict[str, Any], nonce: int, vault: str | None, expires_after: int | None) -> bytes:
    """Return the L1 ``connectionId``: keccak of msgpack(action), nonce, vault and expiry."""
    data = msgpack.packb(action)
    data += nonce.to_bytes(8, "big")
    if vault is None:
        data += b"\x00"
    else:
        data += b"\x01" + bytes.fromhex(vault.removeprefix("0x"))
    if expires_after is not None:
        data += b"\x00" + expires_after.to_bytes(8, "big")
    return keccak(data)


def _l1_typed(
    action: dict[str, Any], nonce: int, mainnet: bool, vault: str | None, expires_after: int | None
) -> dict[str, Any]:
    return {
        "domain": {
            "name": "Exchange",
            "version": "1",
            "chainId": L1_CHAIN_ID,
            "verifyingContract": ZERO_ADDRESS,
        },
        "types": {
            "EIP712Domain": _DOMAIN_TYPE,
            "Agent": [
                {"name": "source", "type": "string"},
                {"name": "connectionId", "type": "bytes32"},
            ],
        },
        "primaryType": "Agent",
        "message": {
            "source": "a" if mainnet else "b",
            "connectionId": action_hash(action, nonce, vault, expires_after),
        },
    }


def _user_typed(
    primary: str, fields: list[dict[str, str]], chain_id: int, values: dict[str, Any]
) -> dict[str, Any]:
    return {
        "domain": {
            "name": "HyperliquidSignTransaction",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": ZERO_ADDRESS,
        },
        "types": {"EIP712Domain": _DOMAIN_TYPE, primary: fields},
        "primaryType": primary,
        "message": {f["name"]: values[f["name"]] for f in fields},
    }


def _vrs(signature: Any) -> tuple[int, int, int]:
    if not isinstance(signature, dict):
        raise SignatureError("Invalid signature")
    try:
        r = int(str(signature["r"]), 16)
        s = int(str(signature["s"]), 16)
        v = int(signature["v"])
    except (KeyError, TypeError, ValueError) as e:
        raise SignatureError("Invalid signature") from e
    return v, r, s


def _recover(typed: dict[str, Any], signature: Any) -> str:
    try:
        address = Account.recover_message(encode_typed_data(full_message=typed), vrs=_vrs(signature))
    except SignatureError:
        raise
    except Exception as e:  # eth_keys raises BadSignature/ValidationError on junk
        raise SignatureError("Invalid signature") from e
    return str(address).lower()


def recover_l1_signer(
    action: dict[str, Any],
    nonce: int,
    signature: Any,
    *,
    mainnet: bool,
    vault: str | None = None,
    expires_after: int | None = None,
) -> str:
    """Return the (lower-case) address that signed an L1 action."""
    typed = _l1_typed(action, nonce, mainnet, vault, expires_after)
    return _recover(typed, signature)


def recover_user_signed(action: dict[str, Any], signature: Any, *, mainnet: bool) -> tuple[str, int]:
    """
    Return the signer of a user-signed action and the action's own nonce (``time``/``nonce``).

    Raises
    ------
    SignatureError
        If the action is not a user-signed type, names the wrong chain, or the signature is junk.
    """
    kind = str(action.get("type"))
    primary, fields = USER_SIGNED_TYPES[kind]
    chain = "Mainnet" if mainnet else "Testnet"
    if action.get("hyperliquidChain") != chain:
        raise SignatureError(f"Invalid hyperliquidChain {action.get('hyperliquidChain')!r}, expected {chain}")
    try:
        chain_id = int(str(action["signatureChainId"]), 16)
        message = {f["name"]: action[f["name"]] for f in fields}
    except (KeyError, ValueError) as e:
        raise SignatureError(f"Invalid {kind} action: {e}") from e
    typed = _user_typed(primary, fields, chain_id, message)
    nonce_field = "time" if any(f["name"] == "time" for f in fields) else "nonce"
    return _recover(typed, signature), int(message[nonce_field])


def recover_signer(body: dict[str, Any], *, mainnet: bool) -> SignedRequest:
    """
    Return who signed an ``/exchange`` request body and with which nonce.

    Raises
    ------
    SignatureError
        If the signature cannot be recovered or a user-signed action's nonce differs from the
        request's.
    """
    action = body.get("action")
    if not isinstance(action, dict):
        raise SignatureError("Missing action")
    try:
        nonce = int(body["nonce"])
    except (KeyError, TypeError, ValueError) as e:
        raise SignatureError("Missing nonce") from e
    signature = body.get("signature")
    if action.get("type") in USER_SIGNED_TYPES:
        signer, action_nonce = recover_user_signed(action, signature, mainnet=mainnet)
        if action_nonce != nonce:
            raise SignatureError(f"Action nonce {action_nonce} does not match request nonce {nonce}")
        return SignedRequest(signer, nonce, user_signed=True)
    vault = body.get("vaultAddress")
    expires = body.get("expiresAfter")
    signer = recover_l1_signer(
        action,
        nonce,
        signature,
        mainnet=mainnet,
        vault=str(vault).lower() if vault else None,
        expires_after=int(expires) if expires is not None else None,
    )
    return SignedRequest(signer, nonce, user_signed=False)


def sign_l1_action(
    private_key: str,
    action: dict[str, Any],
    nonce: int,
    *,
    mainnet: bool,
    vault: str | None = None,
    expires_after: int | None = None,
) -> dict[str, Any]:
    """Return ``{r, s, v}`` for an L1 action (a reference signer for tests and tools)."""
    typed = _l1_typed(action, nonce, mainnet, vault, expires_after)
    signed = Account.sign_message(encode_typed_data(full_message=typed), private_key)
    return {"r": f"0x{signed.r:064x}", "s": f"0x{signed.s:064x}", "v": signed.v}


def sign_user_action(private_key: str, action: dict[str, Any]) -> dict[str, Any]:
    """Return ``{r, s, v}`` for a user-signed action (reference signer for tests and tools)."""
    primary, fields = USER_SIGNED_TYPES[str(action["type"])]
    typed = _user_typed(primary, fields, int(str(action["signatureChainId"]), 16), action)
    signed = Account.sign_message(encode_typed_data(full_message=typed), private_key)
    return {"r": f"0x{signed.r:064x}", "s": f"0x{signed.s:064x}", "v": signed.v}
