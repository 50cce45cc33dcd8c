"""The intake server over mTLS: a client without a certificate signed by the client CA is refused."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from nautilus_ext.client import IntakeClient
from nautilus_ext.client import IntakeDenied
from nautilus_ext.errors import VenueUnavailable
from nautilus_ext.intake.config import IntakeSection
from nautilus_ext.intake.events import ResultLog
from nautilus_ext.intake.service import Ack
from nautilus_ext.intake.service import IntakeServicer
from nautilus_ext.intake.service import load_clients
from nautilus_ext.intake.service import start_server
from nautilus_ext.orders import Order

TOKEN = "m" * 32


class _Positions:
    """A backend that only answers positions (the servicer's auth and TLS are under test)."""

    def __init__(self) -> None:
        self.results_log = ResultLog(10)

    def submit_batch(self, client: str, orders: list[Order], timeout_secs: float) -> list[Ack]:
        raise AssertionError("not under test")

    def cancel(self, operation_id: str, allowed: frozenset[str], timeout_secs: float) -> Ack:
        raise AssertionError("not under test")

    def order_summary(self, operation_id: str, allowed: frozenset[str], timeout_secs: float) -> None:
        return None

    def positions(self, strategy_id: str, timeout_secs: float) -> dict[str, str]:
        return {"BYBIT:PERPETUAL:BTC-USDT@LIN": "0.5"}


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name if issuer is None else issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(
    directory: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> tuple[str, str]:
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_path), str(key_path)


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, str]:
    ca_key = _key()
    ca = _cert("intake-ca", ca_key, None, ca_key)
    ca_path, _ = _write(tmp_path, "ca", ca, ca_key)
    server_key, client_key = _key(), _key()
    server_cert, server_key_path = _write(
        tmp_path, "server", _cert("server", server_key, ca, ca_key), server_key
    )
    client_cert, client_key_path = _write(
        tmp_path, "client", _cert("client", client_key, ca, ca_key), client_key
    )
    return {
        "ca": ca_path,
        "server_cert": server_cert,
        "server_key": server_key_path,
        "client_cert": client_cert,
        "client_key": client_key_path,
    }


@pytest.fixture
def target(pki: dict[str, str]) -> Iterator[str]:
    section = IntakeSection.model_validate(
        {
            "port": 0,
            "clients": [{"name": "m", "token_env": "MTLS_TOKEN", "strategy_ids": ["S-1"]}],
            "tls": {
                "cert_path": pki["server_cert"],
                "key_path": pki["server_key"],
                "client_ca_path": pki["ca"],
            },
        }
    )
    servicer = IntakeServicer(section, load_clients(section, {"MTLS_TOKEN": TOKEN}), _Positions())
    server, port = start_server(servicer, section)
    try:
        yield f"localhost:{port}"
    finally:
        server.stop(grace=None)


def test_mtls_client_with_its_certificate_and_token_is_served(target: str, pki: dict[str, str]) -> None:
    with IntakeClient(
        target, TOKEN, root_cert_path=pki["ca"], cert_path=pki["client_cert"], key_path=pki["client_key"]
    ) as client:
        assert {k: str(v) for k, v in client.get_positions("S-1").items()} == {
            "BYBIT:PERPETUAL:BTC-USDT@LIN": "0.5"
        }
    # the certificate alone is not enough: the token still decides who the client is
    with (
        IntakeClient(
            target,
            "w" * 32,
            root_cert_path=pki["ca"],
            cert_path=pki["client_cert"],
            key_path=pki["client_key"],
        ) as client,
        pytest.raises(IntakeDenied),
    ):
        client.get_positions("S-1")


def test_mtls_client_without_a_certificate_is_refused(target: str, pki: dict[str, str]) -> None:
    with (
        IntakeClient(target, TOKEN, root_cert_path=pki["ca"], timeout_secs=5) as client,
        pytest.raises(VenueUnavailable, match="UNAVAILABLE"),
    ):
        client.get_positions("S-1")
