"""
StarkNet signature checks for the Paradex fake: typed-data hashes and ECDSA verification.

Paradex signs every ``POST /auth`` and every order with the account's STARK key over a
StarkNet typed-data message (SNIP-12 revision 0: Pedersen hashes, domain
``StarkNetDomain{name: "Paradex", chainId, version: 1}``). The venue recomputes the message
hash from the request fields and verifies the ``[r, s]`` signature against the account's
public key (the x coordinate of its STARK point).

The message hash uses the typed-data implementation ccxt vendors from starknet.py
(``ccxt.static_dependencies.starknet``), which is the reference the venue's own SDKs follow.
ccxt ships no *verification* (its copy of StarkWare's ``verify`` is commented out, as is the
square root it needs), so :func:`verify` is written here from the curve parameters: the
STARK curve ``y^2 = x^3 + x + beta`` over ``p = 2^251 + 17 * 2^192 + 1``, with StarkWare's
ECDSA variant (``r`` is the x coordinate itself, not reduced modulo the group order).
"""

from __future__ import annotations

import json
from typing import Any
from typing import Final

from ccxt.static_dependencies.starknet.hash.address import compute_address
from ccxt.static_dependencies.starknet.hash.selector import get_selector_from_name
from ccxt.static_dependencies.starknet.utils.typed_data import TypedData
from ccxt.static_dependencies.starkware.crypto.math_utils import ec_add
from ccxt.static_dependencies.starkware.crypto.math_utils import ec_mult
from ccxt.static_dependencies.starkware.crypto.signature import ALPHA
from ccxt.static_dependencies.starkware.crypto.signature import BETA
from ccxt.static_dependencies.starkware.crypto.signature import EC_GEN
from ccxt.static_dependencies.starkware.crypto.signature import EC_ORDER
from ccxt.static_dependencies.starkware.crypto.signature import FIELD_PRIME

# StarkWare ECDSA: r, w and the message hash must be below 2^251
_BOUND: Final = 2**251
_GEN: Final = (EC_GEN[0], EC_GEN[1])
_DOMAIN_TYPE: Final = [
    {"name": "name", "type": "felt"},
    {"name": "chainId", "type": "felt"},
    {"name": "version", "type": "felt"},
]
# the scale Paradex applies to sizes and prices in signed orders (8 decimals)
ORDER_SCALE: Final = 10**8


class SignatureError(Exception):
    """A signature that cannot be parsed or does not verify."""


def _sqrt_mod(value: int, p: int) -> int | None:
    """Return a square root of ``value`` modulo the prime ``p`` (Tonelli-Shanks), or None."""
    value %= p
    if value == 0:
        return 0
    if pow(value, (p - 1) // 2, p) != 1:
        return None
    q, s = p - 1, 0
    while q % 2 == 0:
        q //= 2
        s += 1
    z = 2
    while pow(z, (p - 1) // 2, p) != p - 1:
        z += 1
    m, c, t, r = s, pow(z, q, p), pow(value, q, p), pow(value, (q + 1) // 2, p)
    while t != 1:
        i, t2 = 0, t
        while t2 != 1:
            t2 = t2 * t2 % p
            i += 1
        b = pow(c, 1 << (m - i - 1), p)
        m, c, t, r = i, b * b % p, t * b * b % p, r * b % p
    return r


def _point_sum(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int] | None:
    # affine addition; None for the point at infinity (a == -b)
    if a[0] == b[0]:
        if (a[1] + b[1]) % FIELD_PRIME == 0:
            return None
        return ec_mult(2, a, ALPHA, FIELD_PRIME)
    return ec_add(a, b, FIELD_PRIME)


def verify(msg_hash: int, r: int, s: int, public_key: int) -> bool:
    """
    Return whether ``(r, s)`` is a StarkWare ECDSA signature of ``msg_hash`` by ``public_key``.

    ``public_key`` is the x coordinate of the signer's STARK point (what Paradex stores);
    both points with that x are tried, as StarkWare's reference verifier does.
    """
    if not (1 <= r < _BOUND and 1 <= s < EC_ORDER and 0 <= msg_hash < _BOUND):
        return False
    w = pow(s, -1, EC_ORDER)
    if not 1 <= w < _BOUND:
        return False
    y = _sqrt_mod(public_key**3 + ALPHA * public_key + BETA, FIELD_PRIME)
    if y is None:
        return False
    u1, u2 = msg_hash * w % EC_ORDER, r * w % EC_ORDER
    for candidate in (y, FIELD_PRIME - y):
        terms = []
        if u1:
            terms.append(ec_mult(u1, _GEN, ALPHA, FIELD_PRIME))
        if u2:
            terms.append(ec_mult(u2, (public_key, candidate), ALPHA, FIELD_PRIME))
        if not terms:
            continue
        point: tuple[int, int] | None = terms[0]
        if len(terms) == 2 and point is not None:
            point = _point_sum(point, terms[1])
        if point is not None and point[0] == r:
            return True
    return False


def parse_signature(raw: Any) -> tuple[int, int]:
    """Return ``(r, s)`` from Paradex's ``"[\\"0x..\\",\\"0x..\\"]"`` string (or a list)."""
    try:
        values = json.loads(raw) if isinstance(raw, str) else raw
        r, s = (int(v, 0) if isinstance(v, str) else int(v) for v in values)
    except (TypeError, ValueError) as e:
        raise SignatureError(f"malformed signature {raw!r}") from e
    return r, s


def message_hash(
    chain_id: str,
    primary_type: str,
    fields: list[tuple[str, Any]],
    account: str,
) -> int:
    """Return the typed-data hash Paradex signs: ``fields`` are ``(name, felt value)`` pairs."""
    data = {
        "domain": {"name": "Paradex", "chainId": chain_id, "version": 1},
        "primaryType": primary_type,
        "types": {
            "StarkNetDomain": _DOMAIN_TYPE,
            primary_type: [{"name": name, "type": "felt"} for name, _ in fields],
        },
        "message": dict(fields),
    }
    return int(TypedData.from_dict(data).message_hash(int(account, 16)))


def short_string_felt(text: str) -> str:
    """Return a short string as the hex felt Paradex signs (``BTC-USD-PERP`` -> ``0x4254...``)."""
    return "0x" + text.encode("ascii").hex()


def account_address(public_key: int, account_hash: str, proxy_hash: str) -> int:
    """Return the Paradex account address a STARK public key deploys to (onboarding check)."""
    calldata = [int(account_hash, 16), get_selector_from_name("initialize"), 2, public_key, 0]
    return int(
        compute_address(
            class_hash=int(proxy_hash, 16),
            constructor_calldata=calldata,
            salt=public_key,
        )
    )
