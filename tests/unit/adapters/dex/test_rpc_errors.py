"""Every web3 / transport failure leaves the DEX adapter as a typed error (one boundary: rpc.py)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from web3 import HTTPProvider
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.exceptions import TimeExhausted
from web3.exceptions import Web3RPCError

from nautilus_ext.adapters.dex import DexConfig
from nautilus_ext.adapters.dex import build_dex_clients
from nautilus_ext.adapters.dex.rpc import translate
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import ExternalError


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ContractLogicError("execution reverted: UniswapV2Router: EXPIRED"), ErrorCode.TRANSACTION_REVERTED),
        (ConnectionRefusedError("refused"), ErrorCode.VENUE_UNAVAILABLE),
        (TimeoutError("slow"), ErrorCode.VENUE_UNAVAILABLE),
        (TimeExhausted("no receipt"), ErrorCode.VENUE_UNAVAILABLE),
        (Web3RPCError("bad request"), ErrorCode.VENUE_UNAVAILABLE),
        (ValueError("odd"), ErrorCode.VENUE_UNAVAILABLE),
    ],
)
def test_each_dependency_error_is_mapped(exc: Exception, code: ErrorCode) -> None:
    error = translate(exc, step="read")
    assert isinstance(error, ExternalError)
    assert error.code is code
    assert error.details["step"] == "read"
    if code is ErrorCode.TRANSACTION_REVERTED:
        assert error.details["reason"] == "UniswapV2Router: EXPIRED"


def test_a_dead_node_is_venue_unavailable() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    w3: Any = Web3(HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 2}))
    config = DexConfig(chain_id=31337, tokens=(), max_fee_per_gas_wei=1)
    with pytest.raises(ExternalError) as caught:
        build_dex_clients(w3, config)
    assert caught.value.code is ErrorCode.VENUE_UNAVAILABLE
