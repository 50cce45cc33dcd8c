"""
StarkNet signature checks for the Paradex fake: typed-data hashes and ECDSA verification.

Paradex signs every ``POST /auth`` and every order with the account's STARK key over a
StarkNet typed-data message (SNIP-12 revision 0: Pedersen hashes, domain
``StarkNetDomain{name: "Paradex", chainId, version: 1}``). The venue recomputes the message
hash from the request fields and verifies the ``[r, s]`` signature against the account's
public key (the x coordinate of its STARK point).

The message hash is computed here from SNIP-12 revision 0 (Keccak-250 type hashes, Pedersen
hash chains, ccxt's vendored Pedersen primitive); a test checks it equals what ccxt signs.
ccxt ships no *verification* (its copy of StarkWare's ``verify`` is commented out, as is the
square root it needs), so :func:`verify` is written here from the curve parameters: the
STARK curve ``y^2 = x^3 + x + beta`` over ``p = 2^251 + 17 * 2^192 + 1``, with StarkWare's
ECDSA variant (``r`` is the x coordinate itself, not reduced modulo the group order).
"""

from __future__ import annotations

import functools
import json
from typing import Any
from typing import Final

from ccxt.static_dependencies.starknet.hash.address import compute_address
from ccxt.static_dependencies.starknet.hash.selector import get_selector_from_name
from ccxt.static_dependencies.starkware.crypto.fast_pedersen_hash import HASH_SHIFT_POINT
from ccxt.static_dependencies.starkware.crypto.fast_pedersen_hash import P_0
from ccxt.static_dependencies.starkware.crypto.fast_pedersen_hash import P_1
from ccxt.static_dependencies.starkware.crypto.fast_pedersen_hash import P_2
from ccxt.static_dependencies.starkware.crypto.fast_pedersen_hash import P_3
from ccxt.static_dependencies.starkware.crypto.math_utils import ec_add
from ccxt.static_dependencies.starkware.crypto.math_utils import ec_mult
from ccxt.static_dependencies.starkware.crypto.signature import ALPHA
from ccxt.static_dependencies.starkware.crypto.signature import BETA
from ccxt.static_dependencies.starkware.crypto.signature import EC_GEN
from ccxt.static_dependencies.starkware.crypto.signature import EC_ORDER
from ccxt.static_dependencies.starkware.crypto.signature import FIELD_PRIME
from eth_hash.auto import keccak

# StarkWare ECDSA: r, w and the message hash must be below 2^251
_BOUND: Final = 2**251
_MASK_250: Final = 2**250 - 1
_STARKNET_MESSAGE: Final = int.from_bytes(b"StarkNet Message", "big")
_LOW_MASK: Final = 2**248 - 1
_SHIFT: Final = (int(HASH_SHIFT_POINT[0]), int(HASH_SHIFT_POINT[1]))
_P0: Final = (int(P_0[0]), int(P_0[1]))
_P1: Final = (int(P_1[0]), int(P_1[1]))
_P2: Final = (int(P_2[0]), int(P_2[1]))
_P3: Final = (int(P_3[0]), int(P_3[1]))
_GEN: Final = (EC_GEN[0], EC_GEN[1])
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
        x, y = ec_mult(2, a, ALPHA, FIELD_PRIME)
        return (int(x), int(y))
    x, y = ec_add(a, b, FIELD_PRIME)
    return (int(x), int(y))


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


def felt(value: int | str) -> int:
    """Return a typed-data ``felt`` value: ints as is, ``0x`` hex, decimal digits, else a short string."""
    if isinstance(value, int):
        return value
    if value.startswith("0x"):
        return int(value, 16)
    if value.isdigit():
        return int(value)
    raw = value.encode("ascii")
    if len(raw) > 31:
        raise ValueError(f"short string longer than 31 characters: {value!r}")
    return int.from_bytes(raw, "big")


# Pedersen hash with fixed-base window tables: shift + x_low*P0 + x_high*P1 + y_low*P2 + y_high*P3
# (StarkWare's definition; the constant points are ccxt's), summed in Jacobian coordinates so
# each hash needs one inversion. 4-bit windows: table[w][d] = d * 16^w * P.
_WINDOW: Final = 4


def _jacobian_add_affine(acc: tuple[int, int, int], point: tuple[int, int]) -> tuple[int, int, int]:
    p = FIELD_PRIME
    x1, y1, z1 = acc
    if z1 == 0:
        return (point[0], point[1], 1)
    z1sq = z1 * z1 % p
    u2 = point[0] * z1sq % p
    s2 = point[1] * z1sq * z1 % p
    if u2 == x1:
        if s2 != y1:
            return (0, 1, 0)
        return _jacobian_double(acc)
    h = (u2 - x1) % p
    r = (s2 - y1) % p
    hsq = h * h % p
    hcu = hsq * h % p
    x1hsq = x1 * hsq % p
    nx = (r * r - hcu - 2 * x1hsq) % p
    ny = (r * (x1hsq - nx) - y1 * hcu) % p
    return (nx, ny, h * z1 % p)


def _jacobian_double(point: tuple[int, int, int]) -> tuple[int, int, int]:
    p = FIELD_PRIME
    x, y, z = point
    if y == 0:
        return (0, 1, 0)
    ysq = y * y % p
    s_ = 4 * x * ysq % p
    zsq = z * z % p
    m = (3 * x * x + ALPHA * zsq * zsq) % p
    nx = (m * m - 2 * s_) % p
    return (nx, (m * (s_ - nx) - 8 * ysq * ysq) % p, 2 * y * z % p)


@functools.cache
def _window_table(point: tuple[int, int], bits: int) -> list[list[tuple[int, int] | None]]:
    table: list[list[tuple[int, int] | None]] = []
    base: tuple[int, int] = point
    for _ in range((bits + _WINDOW - 1) // _WINDOW):
        row: list[tuple[int, int] | None] = [None, base]
        for _ in range(2, 1 << _WINDOW):
            prev = row[-1]
            row.append(_point_sum(prev, base) if prev is not None else base)
        table.append(row)
        base = ec_mult(1 << _WINDOW, base, ALPHA, FIELD_PRIME)
    return table


def _add_multiple(
    acc: tuple[int, int, int], scalar: int, point: tuple[int, int], bits: int
) -> tuple[int, int, int]:
    table = _window_table(point, bits)
    w = 0
    while scalar:
        digit = scalar & ((1 << _WINDOW) - 1)
        if digit:
            entry = table[w][digit]
            if entry is not None:
                acc = _jacobian_add_affine(acc, entry)
        scalar >>= _WINDOW
        w += 1
    return acc


def _pedersen(x: int, y: int) -> int:
    if not (0 <= x < FIELD_PRIME and 0 <= y < FIELD_PRIME):
        raise ValueError("Pedersen input out of range")
    acc = (_SHIFT[0], _SHIFT[1], 1)
    acc = _add_multiple(acc, x & _LOW_MASK, _P0, 248)
    acc = _add_multiple(acc, x >> 248, _P1, 4)
    acc = _add_multiple(acc, y & _LOW_MASK, _P2, 248)
    acc = _add_multiple(acc, y >> 248, _P3, 4)
    x3, _, z3 = acc
    if z3 == 0:
        raise ValueError("Pedersen hash at infinity")
    z_inv: int = pow(z3, -1, FIELD_PRIME)
    return int(x3 * z_inv * z_inv % FIELD_PRIME)


def _hash_on_elements(values: list[int]) -> int:
    # StarkNet's hash chain: h(h(h(0, a), b), ...), n)
    return functools.reduce(_pedersen, [*values, len(values)], 0)


@functools.cache
def _type_hash(type_name: str, field_names: tuple[str, ...]) -> int:
    # SNIP-12 rev 0: starknet_keccak("Name(a:felt,b:felt)"), the low 250 bits of Keccak-256
    encoded = f"{type_name}({','.join(f'{n}:felt' for n in field_names)})"
    return int.from_bytes(keccak(encoded.encode("ascii")), "big") & _MASK_250


@functools.cache
def _domain_hash(chain_id: str) -> int:
    fields = ("name", "chainId", "version")
    return _hash_on_elements([_type_hash("StarkNetDomain", fields), felt("Paradex"), felt(chain_id), 1])


def message_hash(
    chain_id: str,
    primary_type: str,
    fields: list[tuple[str, int | str]],
    account: str,
) -> int:
    """
    Return the typed-data hash Paradex signs (SNIP-12 revision 0, every field a ``felt``).

    Computed here from the specification (Keccak type hashes, Pedersen hash chains) rather
    than with ccxt's encoder, so a client-side encoding slip cannot verify by construction.
    """
    names = tuple(name for name, _ in fields)
    struct = _hash_on_elements([_type_hash(primary_type, names), *(felt(v) for _, v in fields)])
    return _hash_on_elements([_STARKNET_MESSAGE, _domain_hash(chain_id), int(account, 16), struct])


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
