"""
The project's error taxonomy (seed 001, section 11, plus the codes the core needs).

Every error raised on purpose by this package derives from :class:`NautilusExtError` and
carries a stable upper-case ``code`` (an :class:`ErrorCode`), a human message naming what is
wrong, and keyword-only context (``venue``, ``order_id``, ``instrument_key``, ``retryable``).

Hierarchy::

    NautilusExtError                         (code)
    ├── RequestError        "you asked for something invalid"          never retryable
    │   ├── InvalidInstrumentKey  INVALID_INSTRUMENT   (also a ValueError)
    │   ├── InvalidOrder          INVALID_ORDER        (also a ValueError)
    │   ├── InvalidConfig         INVALID_CONFIG       (also a ValueError)
    │   ├── InvalidData           INVALID_DATA         (also a ValueError)
    │   └── NoRouteError          NO_ROUTE
    ├── SafetyError         "the safety layer refused"
    │   ├── RiskBlocked               RISK_BLOCKED
    │   ├── OrderRateLimitBreach      ORDER_RATE_LIMIT_BREACH
    │   ├── FlipFlopDetected          FLIPFLOP_DETECTED
    │   └── SafeModeActive            SAFE_MODE
    └── ExternalError       "the world failed" (venue, network, chain, data feed)
        ├── MarketDataStale           MARKET_DATA_STALE
        ├── WsStale                   WS_STALE
        ├── InsufficientBalance       INSUFFICIENT_BALANCE
        ├── OrderRejected             ORDER_REJECTED
        ├── RateLimited               RATE_LIMITED          retryable
        ├── VenueUnavailable          VENUE_UNAVAILABLE     retryable
        ├── FillSequenceGap           FILL_SEQ_GAP
        ├── PositionMismatch          POSITION_MISMATCH
        └── TransactionReverted       TRANSACTION_REVERTED

Third-party exceptions are translated into this hierarchy at exactly one boundary per adapter,
with ``raise ... from e``.
"""

from __future__ import annotations

from enum import StrEnum
from enum import unique
from pathlib import Path
from typing import Any
from typing import ClassVar


@unique
class ErrorCode(StrEnum):
    """Stable error codes; values never change once released."""

    # seed 001, section 11
    MARKET_DATA_STALE = "MARKET_DATA_STALE"  # market data older than the freshness bound
    WS_STALE = "WS_STALE"  # a WebSocket stream stopped delivering
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"  # the venue or wallet lacks funds
    ORDER_REJECTED = "ORDER_REJECTED"  # the venue refused the order
    RATE_LIMITED = "RATE_LIMITED"  # the venue throttled our requests (HTTP 429 etc.)
    ORDER_RATE_LIMIT_BREACH = "ORDER_RATE_LIMIT_BREACH"  # our own per-asset order rate cap hit
    VENUE_UNAVAILABLE = "VENUE_UNAVAILABLE"  # venue down, timeout or network failure
    INVALID_ORDER = "INVALID_ORDER"  # the order itself is malformed or inconsistent
    RISK_BLOCKED = "RISK_BLOCKED"  # a risk policy blocked the order
    FILL_SEQ_GAP = "FILL_SEQ_GAP"  # a fill sequence number was skipped
    POSITION_MISMATCH = "POSITION_MISMATCH"  # internal and venue positions disagree
    FLIPFLOP_DETECTED = "FLIPFLOP_DETECTED"  # repeated place/cancel cycles detected
    SAFE_MODE = "SAFE_MODE"  # the system is in SAFE mode: no new risk
    # project additions
    INVALID_INSTRUMENT = "INVALID_INSTRUMENT"  # a canonical instrument key is malformed or unknown
    INVALID_CONFIG = "INVALID_CONFIG"  # a configuration file or object failed validation
    NO_ROUTE = "NO_ROUTE"  # a valid order that no configured venue can execute
    TRANSACTION_REVERTED = "TRANSACTION_REVERTED"  # an on-chain transaction or bundle reverted
    INVALID_DATA = "INVALID_DATA"  # a data file is malformed or holds the wrong kind of data


class NautilusExtError(Exception):
    """
    Base of every error this package raises on purpose.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value or field.
    venue : str, optional
        The venue involved, if any.
    order_id : str, optional
        The order (operation id or client order id) involved, if any.
    instrument_key : str, optional
        The canonical instrument key involved, if any.
    retryable : bool, optional
        Whether retrying the same request may succeed; defaults to the class default.
    details : dict, optional
        Extra structured context (never secrets).
    """

    code: ClassVar[ErrorCode]
    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        venue: str | None = None,
        order_id: str | None = None,
        instrument_key: str | None = None,
        retryable: bool | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.venue = venue
        self.order_id = order_id
        self.instrument_key = instrument_key
        self.retryable = self.default_retryable if retryable is None else retryable
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly description (for audit records and API replies)."""
        return {
            "code": str(self.code),
            "message": self.message,
            "venue": self.venue,
            "order_id": self.order_id,
            "instrument_key": self.instrument_key,
            "retryable": self.retryable,
            "details": self.details,
        }


# -- "you asked for something invalid" ------------------------------------------------------


class RequestError(NautilusExtError):
    """The request was invalid; retrying it unchanged cannot succeed."""

    code = ErrorCode.INVALID_ORDER


class InvalidInstrumentKey(RequestError, ValueError):
    """A canonical instrument key could not be parsed or does not exist."""

    code = ErrorCode.INVALID_INSTRUMENT


class InvalidOrder(RequestError, ValueError):
    """A unified Order failed validation; ``details['errors']`` lists each field problem."""

    code = ErrorCode.INVALID_ORDER


class InvalidConfig(RequestError, ValueError):
    """A configuration object or file failed validation."""

    code = ErrorCode.INVALID_CONFIG


class InvalidData(RequestError, ValueError):
    """A data file (market data, stream capture) is malformed or not the kind expected."""

    code = ErrorCode.INVALID_DATA


class NoRouteError(RequestError):
    """A valid order that no configured venue or pool can execute."""

    code = ErrorCode.NO_ROUTE


# -- "the safety layer refused" -------------------------------------------------------------


class SafetyError(NautilusExtError):
    """The safety layer refused the action."""

    code = ErrorCode.RISK_BLOCKED


class RiskBlocked(SafetyError):
    """A risk policy blocked the action; ``details['rule']`` names the policy that fired."""

    code = ErrorCode.RISK_BLOCKED


class OrderRateLimitBreach(SafetyError):
    """The per-asset order rate limit was exceeded."""

    code = ErrorCode.ORDER_RATE_LIMIT_BREACH


class FlipFlopDetected(SafetyError):
    """Repeated place/cancel cycles were detected for an asset."""

    code = ErrorCode.FLIPFLOP_DETECTED


class SafeModeActive(SafetyError):
    """The system is in SAFE mode: only cancels and hedges are allowed."""

    code = ErrorCode.SAFE_MODE


# -- "the world failed" ---------------------------------------------------------------------


class ExternalError(NautilusExtError):
    """A venue, network, chain or data feed failed."""

    code = ErrorCode.VENUE_UNAVAILABLE


class MarketDataStale(ExternalError):
    """Market data is older than the configured freshness bound."""

    code = ErrorCode.MARKET_DATA_STALE


class WsStale(ExternalError):
    """A WebSocket stream stopped delivering messages."""

    code = ErrorCode.WS_STALE


class InsufficientBalance(ExternalError):
    """The venue or wallet does not hold enough funds."""

    code = ErrorCode.INSUFFICIENT_BALANCE


class OrderRejected(ExternalError):
    """The venue rejected the order."""

    code = ErrorCode.ORDER_REJECTED


class RateLimited(ExternalError):
    """The venue throttled our requests."""

    code = ErrorCode.RATE_LIMITED
    default_retryable = True


class VenueUnavailable(ExternalError):
    """The venue is down, timed out or unreachable."""

    code = ErrorCode.VENUE_UNAVAILABLE
    default_retryable = True


class FillSequenceGap(ExternalError):
    """A fill sequence number was skipped: a fill may be missing."""

    code = ErrorCode.FILL_SEQ_GAP


class PositionMismatch(ExternalError):
    """Internal and venue positions disagree beyond the threshold."""

    code = ErrorCode.POSITION_MISMATCH


class TransactionReverted(ExternalError):
    """An on-chain transaction or atomic bundle reverted; ``details['step']`` names the step."""

    code = ErrorCode.TRANSACTION_REVERTED


ERROR_CLASSES: dict[ErrorCode, type[NautilusExtError]] = {
    ErrorCode.MARKET_DATA_STALE: MarketDataStale,
    ErrorCode.WS_STALE: WsStale,
    ErrorCode.INSUFFICIENT_BALANCE: InsufficientBalance,
    ErrorCode.ORDER_REJECTED: OrderRejected,
    ErrorCode.RATE_LIMITED: RateLimited,
    ErrorCode.ORDER_RATE_LIMIT_BREACH: OrderRateLimitBreach,
    ErrorCode.VENUE_UNAVAILABLE: VenueUnavailable,
    ErrorCode.INVALID_ORDER: InvalidOrder,
    ErrorCode.RISK_BLOCKED: RiskBlocked,
    ErrorCode.FILL_SEQ_GAP: FillSequenceGap,
    ErrorCode.POSITION_MISMATCH: PositionMismatch,
    ErrorCode.FLIPFLOP_DETECTED: FlipFlopDetected,
    ErrorCode.SAFE_MODE: SafeModeActive,
    ErrorCode.INVALID_INSTRUMENT: InvalidInstrumentKey,
    ErrorCode.INVALID_CONFIG: InvalidConfig,
    ErrorCode.NO_ROUTE: NoRouteError,
    ErrorCode.TRANSACTION_REVERTED: TransactionReverted,
    ErrorCode.INVALID_DATA: InvalidData,
}
"""The concrete class for each code (one per code)."""


def field_problems(error: Any, root: str = "entry") -> list[tuple[str, str]]:
    """
    Return ``(field path, message)`` pairs of a pydantic ``ValidationError``, without inputs.

    Inputs are left out on purpose: they may hold secrets. ``root`` names a whole-model error.
    """
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        loc = ".".join(str(part) for part in item["loc"]) or root
        problems.append((loc, str(item["msg"]).removeprefix("Value error, ")))
    return problems


def describe_problems(error: Any, root: str = "entry") -> str:
    """Return the problems of a pydantic ``ValidationError`` as one ``field: message; ...`` line."""
    return "; ".join(f"{loc}: {msg}" for loc, msg in field_problems(error, root))


def describe_yaml_error(error: Any) -> str:
    """
    Return where and why a YAML document failed to parse, without quoting the document.

    PyYAML's own message reprints the offending line, which may hold a secret typed into the
    file: only the position and the problem are kept.
    """
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or type(error).__name__
    if mark is None:
        return f"not valid YAML ({problem})"
    return f"not valid YAML at line {mark.line + 1}, column {mark.column + 1} ({problem})"


def read_yaml_file(path: str | Path, where: str | None = None) -> Any:
    """
    Read a YAML file; what goes wrong is an :class:`InvalidConfig` naming ``where`` (default: the
    path) and, for bad YAML, the position and the problem, never the text there (it may hold a
    secret typed into the file).
    """
    import yaml

    file = Path(path)
    label = str(file) if where is None else where
    try:
        return yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as e:
        raise InvalidConfig(f"{label}: cannot read ({e.strerror or type(e).__name__})") from None
    except UnicodeDecodeError:
        raise InvalidConfig(f"{label}: cannot read: not UTF-8 text") from None
    except yaml.YAMLError as e:
        raise InvalidConfig(f"{label}: cannot read: {describe_yaml_error(e)}") from None
    except RecursionError:
        raise InvalidConfig(f"{label}: cannot read YAML: nested too deeply") from None


def error_for_code(code: ErrorCode | str, message: str, **context: Any) -> NautilusExtError:
    """
    Build the concrete error for ``code`` (for example when decoding an audit record).

    Raises
    ------
    ValueError
        If ``code`` is not a known error code.
    """
    return ERROR_CLASSES[ErrorCode(code)](message, **context)


__all__ = [
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
