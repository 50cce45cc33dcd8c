"""The error taxonomy: stable codes, the two branches, context, and the public surface."""

from __future__ import annotations

import pytest

import nautilus_ext.errors as errors_module
from nautilus_ext.errors import ERROR_CLASSES
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import ExternalError
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidData
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import NoRouteError
from nautilus_ext.errors import RateLimited
from nautilus_ext.errors import RequestError
from nautilus_ext.errors import SafetyError
from nautilus_ext.errors import VenueUnavailable
from nautilus_ext.errors import error_for_code

SEED_001_SECTION_11 = [
    "MARKET_DATA_STALE",
    "WS_STALE",
    "INSUFFICIENT_BALANCE",
    "ORDER_REJECTED",
    "RATE_LIMITED",
    "ORDER_RATE_LIMIT_BREACH",
    "VENUE_UNAVAILABLE",
    "INVALID_ORDER",
    "RISK_BLOCKED",
    "FILL_SEQ_GAP",
    "POSITION_MISMATCH",
    "FLIPFLOP_DETECTED",
    "SAFE_MODE",
]


def test_public_api_is_pinned() -> None:
    assert sorted(errors_module.__all__) == [
        "ERROR_CLASSES",
        "ErrorCode",
        "ExternalError",
        "FillSequenceGap",
        "FlipFlopDetected",
        "InsufficientBalance",
        "InvalidConfig",
        "InvalidData",
        "InvalidInstrumentKey",
        "InvalidOrder",
        "MarketDataStale",
        "NautilusExtError",
        "NoRouteError",
        "OrderRateLimitBreach",
        "OrderRejected",
        "PositionMismatch",
        "RateLimited",
        "RequestError",
        "RiskBlocked",
        "SafeModeActive",
        "SafetyError",
        "TransactionReverted",
        "VenueUnavailable",
        "WsStale",
        "describe_problems",
        "describe_yaml_error",
        "error_for_code",
        "field_problems",
        "read_yaml_file",
    ]
    for name in errors_module.__all__:
        assert hasattr(errors_module, name)


@pytest.mark.parametrize("code", SEED_001_SECTION_11)
def test_every_seed_code_exists_with_its_own_class(code: str) -> None:
    error_code = ErrorCode(code)
    assert error_code.value == code
    cls = ERROR_CLASSES[error_code]
    assert cls.code is error_code
    assert issubclass(cls, NautilusExtError)


def test_project_codes_and_one_class_per_code() -> None:
    assert {"INVALID_INSTRUMENT", "INVALID_CONFIG", "NO_ROUTE", "TRANSACTION_REVERTED"} <= {
        c.value for c in ErrorCode
    }
    assert set(ERROR_CLASSES) == set(ErrorCode)
    assert len(set(ERROR_CLASSES.values())) == len(ErrorCode)
    for code in ErrorCode:
        assert code.value == code.name  # codes are stable upper-case names


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (InvalidInstrumentKey, ErrorCode.INVALID_INSTRUMENT),
        (InvalidOrder, ErrorCode.INVALID_ORDER),
        (InvalidConfig, ErrorCode.INVALID_CONFIG),
        (InvalidData, ErrorCode.INVALID_DATA),
    ],
)
def test_request_errors_are_value_errors(cls: type[NautilusExtError], code: ErrorCode) -> None:
    err = cls("bad thing", instrument_key="X:SPOT_ASSET:BTC")
    assert isinstance(err, ValueError)
    assert isinstance(err, RequestError)
    assert err.code is code
    assert err.retryable is False
    with pytest.raises(ValueError, match="bad thing"):
        raise err


def test_branches_are_disjoint() -> None:
    for code, cls in ERROR_CLASSES.items():
        branches = [b for b in (RequestError, SafetyError, ExternalError) if issubclass(cls, b)]
        assert len(branches) == 1, code
    assert not issubclass(NoRouteError, ValueError)
    assert NoRouteError("x").code is ErrorCode.NO_ROUTE


def test_retryable_defaults_and_override() -> None:
    assert RateLimited("429").retryable is True
    assert VenueUnavailable("timeout").retryable is True
    assert RateLimited("429", retryable=False).retryable is False
    assert InvalidOrder("x", retryable=True).retryable is True


def test_context_str_and_to_dict() -> None:
    err = VenueUnavailable(
        "connect timeout",
        venue="BYBIT",
        order_id="O-1",
        instrument_key="BYBIT:PERPETUAL:BTC-USDT@LIN",
        details={"attempt": 3},
    )
    assert str(err) == "[VENUE_UNAVAILABLE] connect timeout"
    assert err.to_dict() == {
        "code": "VENUE_UNAVAILABLE",
        "message": "connect timeout",
        "venue": "BYBIT",
        "order_id": "O-1",
        "instrument_key": "BYBIT:PERPETUAL:BTC-USDT@LIN",
        "retryable": True,
        "details": {"attempt": 3},
    }


def test_context_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        InvalidOrder("x", "BYBIT")  # type: ignore[misc]


def test_details_are_copied() -> None:
    details = {"a": 1}
    err = InvalidOrder("x", details=details)
    details["a"] = 2
    assert err.details == {"a": 1}


@pytest.mark.parametrize("code", list(ErrorCode))
def test_error_for_code_builds_the_concrete_class(code: ErrorCode) -> None:
    err = error_for_code(code.value, "msg", venue="V")
    assert type(err) is ERROR_CLASSES[code]
    assert err.code is code
    assert err.venue == "V"


def test_error_for_unknown_code_raises_value_error() -> None:
    with pytest.raises(ValueError, match="NOT_A_CODE"):
        error_for_code("NOT_A_CODE", "msg")


def test_validation_problems_name_fields_and_never_echo_input() -> None:
    from pydantic import BaseModel
    from pydantic import ValidationError

    from nautilus_ext.errors import describe_problems

    class Model(BaseModel):
        api_key: int

    with pytest.raises(ValidationError) as err:
        Model(api_key="sk-secret-123")  # type: ignore[arg-type]
    text = describe_problems(err.value)
    assert text.startswith("api_key: ")
    assert "sk-secret-123" not in text
