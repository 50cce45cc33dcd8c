"""
Column types that keep money exact and time in UTC on every backend.

- :class:`ExactDecimal`: ``NUMERIC(p, s)`` on PostgreSQL; on SQLite (which would store a float)
  the canonical decimal text, so a value read back is the ``Decimal`` that was written. Only
  finite Decimals are accepted; floats are refused (they are how rounding errors get in).
- :class:`UtcDateTime`: ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL; on SQLite fixed-width ISO-8601
  text in UTC (lexical order = time order). Naive datetimes are refused; values come back aware,
  in UTC.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy.types import DateTime
from sqlalchemy.types import TypeDecorator
from sqlalchemy.types import TypeEngine

from nautilus_ext.errors import InvalidConfig

_ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class ExactDecimal(TypeDecorator[Decimal]):
    """An exact decimal column (see the module docstring)."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 38, scale: int = 18) -> None:
        super().__init__()
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(self.precision + 3))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal) or isinstance(value, bool):
            raise InvalidConfig(f"a money/rate column takes a Decimal, got {type(value).__name__} {value!r}")
        if not value.is_finite():
            raise InvalidConfig(f"a money/rate column takes a finite Decimal, got {value}")
        exponent = value.as_tuple().exponent
        assert isinstance(exponent, int)  # finite
        if -exponent > self.scale and value != value.quantize(Decimal(1).scaleb(-self.scale)):
            raise InvalidConfig(f"{value} has more than {self.scale} decimal places for this column")
        if value != 0 and value.adjusted() + 1 > self.precision - self.scale:
            raise InvalidConfig(f"{value} does not fit NUMERIC({self.precision}, {self.scale})")
        if dialect.name == "sqlite":
            return format(value, "f")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp column (see the module docstring)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(27))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise InvalidConfig(f"timestamps must be timezone-aware datetimes, got {value!r}")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.strftime(_ISO_FORMAT)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.strptime(value, _ISO_FORMAT).replace(tzinfo=UTC)
        assert isinstance(value, datetime)
        return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


def ns_to_datetime(ts_ns: int) -> datetime:
    """Return UNIX nanoseconds as an aware UTC datetime (microsecond precision)."""
    return datetime.fromtimestamp(ts_ns // 1_000 / 1_000_000, tz=UTC).replace(
        microsecond=(ts_ns // 1_000) % 1_000_000
    )


def datetime_to_ns(value: datetime) -> int:
    """Return an aware datetime as UNIX nanoseconds."""
    if value.tzinfo is None:
        raise InvalidConfig(f"timestamps must be timezone-aware datetimes, got {value!r}")
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
