"""
Coinbase CDP API-key authentication, verified the way Coinbase Advanced Trade does.

A CDP key is a name (``organizations/{org_id}/apiKeys/{key_id}``) and an EC P-256 private key
(PEM, ``-----BEGIN EC PRIVATE KEY-----``). Every REST request carries ``Authorization: Bearer
<JWT>``, a JWS signed with ES256 by that key; every authenticated WebSocket subscribe message
carries the same kind of token in its ``jwt`` field. The claims
(https://docs.cdp.coinbase.com/coinbase-app/authentication-authorization/api-key-authentication):

- header ``alg`` ``ES256``, ``kid`` the key name (and a random ``nonce``);
- ``sub`` the key name, ``iss`` ``cdp`` (Coinbase's SDKs; ccxt sends the older
  ``coinbase-cloud``, which Coinbase still accepts), ``nbf``/``exp`` in Unix seconds, at most
  120 s apart;
- REST only: ``uri`` = ``"<METHOD> <host><path>"`` without the query string (ccxt's EdDSA path
  sends it as a one-element ``uris`` list).

Coinbase answers a refused REST token with HTTP 401 and the plain-text body ``Unauthorized``,
and a refused WebSocket subscription with ``{"type": "error", "message": "authentication
failure"}`` (both seen in ccxt/ccxt#26300 and coinbase/coinbase-advanced-py#19).

One deviation, forced by the local transport: ccxt builds ``uri`` by stripping ``https://``
from the request URL, so against this plain-HTTP server the claim reads ``"GET
http://127.0.0.1:PORT/api/v3/..."``. :func:`uri_matches` accepts that ``http://`` prefix (and
only it) in front of the host the request actually reached; everything else is compared exactly.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

# Coinbase tokens live two minutes (the SDKs and ccxt set exp = nbf + 120)
MAX_TOKEN_LIFETIME_SECS: Final = 120
# clock tolerance for ``nbf`` (a token minted a little ahead of the venue's clock)
NBF_LEEWAY_SECS: Final = 5
ACCEPTED_ISSUERS: Final = frozenset({"cdp", "coinbase-cloud"})

# A fixed test key (deterministic, so the same PEM can sit in test environments): the private
# scalar is arbitrary and protects nothing
_TEST_SCALAR: Final = 0x5EED_C0FFEE_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_1234
TEST_KEY_NAME: Final = (
    "organizations/11111111-2222-3333-4444-555555555555/apiKeys/66666666-7777-8888-9999-000000000000"
)


def _test_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(_TEST_SCALAR, ec.SECP256R1())


TEST_PRIVATE_KEY_PEM: Final = (
    _test_private_key()
    .private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # "EC PRIVATE KEY", as Coinbase issues
        serialization.NoEncryption(),
    )
    .decode()
)


def public_key_of(private_pem: str) -> ec.EllipticCurvePublicKey:
    """Return the public key of a PEM EC private key."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("not an EC private key")
    return key.public_key()


class TokenRejected(Exception):
    """A JWT Coinbase would refuse; the message says why (logged, never sent to the client)."""


@dataclass(frozen=True)
class VerifiedToken:
    """The claims of an accepted token."""

    key_name: str
    claims: dict[str, Any]


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def uri_matches(claim: str, method: str, host: str, path: str) -> bool:
    """Return whether a ``uri`` claim names this request (see the module docstring)."""
    expected = f"{method.upper()} {host}{path}"
    return claim in (expected, f"{method.upper()} http://{host}{path}")


def verify_token(
    token: str,
    keys: dict[str, ec.EllipticCurvePublicKey],
    now_secs: int,
    *,
    method: str | None = None,
    host: str | None = None,
    path: str | None = None,
) -> VerifiedToken:
    """
    Verify a CDP JWT; with ``method``/``host``/``path`` also its ``uri`` claim (REST).

    Raises
    ------
    TokenRejected
        If the token is malformed, signed by an unknown key or not by the named one, expired,
        not yet valid, lives longer than two minutes or names another request.
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenRejected("not a JWS compact token")
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
        signature = _b64url_decode(parts[2])
    except (ValueError, TypeError) as e:
        raise TokenRejected(f"undecodable token: {e}") from e
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenRejected("header and claims must be JSON objects")
    if header.get("alg") != "ES256":
        raise TokenRejected(f"alg {header.get('alg')!r} is not ES256")
    key_name = claims.get("sub")
    public_key = keys.get(str(key_name))
    if public_key is None:
        raise TokenRejected(f"unknown key {key_name!r}")
    if header.get("kid") != key_name:
        raise TokenRejected("kid does not name the subject key")
    if len(signature) != 64:
        raise TokenRejected("ES256 signature must be 64 bytes (r || s)")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public_key.verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as e:
        raise TokenRejected("bad signature") from e
    if claims.get("iss") not in ACCEPTED_ISSUERS:
        raise TokenRejected(f"issuer {claims.get('iss')!r} not accepted")
    nbf, exp = claims.get("nbf"), claims.get("exp")
    if not isinstance(nbf, int) or not isinstance(exp, int):
        raise TokenRejected("nbf and exp must be integers")
    if exp - nbf > MAX_TOKEN_LIFETIME_SECS:
        raise TokenRejected("token lives longer than two minutes")
    if now_secs >= exp:
        raise TokenRejected("token expired")
    if now_secs + NBF_LEEWAY_SECS < nbf:
        raise TokenRejected("token not yet valid")
    if method is not None and host is not None and path is not None:
        uris = claims.get("uris")
        claimed = [claims["uri"]] if "uri" in claims else uris if isinstance(uris, list) else []
        if not any(isinstance(u, str) and uri_matches(u, method, host, path) for u in claimed):
            raise TokenRejected(f"uri claim {claimed!r} does not name {method} {path}")
    return VerifiedToken(str(key_name), claims)
