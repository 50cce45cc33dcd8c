"""
The funding collector's YAML configuration (pydantic v2, ``extra="forbid"``).

Example (``configs/funding/collector.yaml``)::

    db_url: null                  # default: $NAUTILUS_EXT_DB_URL, else ./nautilus_ext.db (SQLite)
    poll_interval_secs: 60
    max_retries: 3
    venues:
      - exchange_id: bybit
        symbols: [BTC, ETH]       # base assets (every perpetual of that base) or ccxt symbols
      - exchange_id: hyperliquid
        symbols: [BTC/USDC:USDC]
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError
from pydantic import field_validator
from pydantic import model_validator

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import read_yaml_file
from nautilus_ext.funding.normalise import FUNDING_VENUE_BY_EXCHANGE_ID
from nautilus_ext.funding.normalise import funding_venue


class FundingVenueConfig(BaseModel):
    """
    One venue to collect from, through ccxt.

    Parameters
    ----------
    exchange_id : str
        ccxt exchange id with a recorded funding convention (``bybit``, ``binanceusdm``, ``okx``,
        ``hyperliquid``, ``deribit``, ``aster``, ``backpack``, ``paradex``, ``grvt`` ...).
    symbols : list[str], default []
        Base assets (``BTC``: every perpetual of that base) or ccxt unified symbols
        (``BTC/USDT:USDT``); empty collects every perpetual the venue lists.
    testnet : bool, default False
        Use ccxt's sandbox URLs.
    rest_url_override, ws_url_override : str, optional
        Point the venue at a local server (the fake exchange); both or neither.
    timeout_ms : int, default 10_000
        Per-request timeout (milliseconds).
    enable_rate_limit : bool, default True
        ccxt's client-side throttle (keep it on against real venues).
    history_page_limit : int, default 200
        Rows asked per history page (Bybit caps at 200, Binance at 1000, OKX at 400).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    exchange_id: str
    symbols: list[str] = Field(default_factory=list)
    testnet: bool = False
    rest_url_override: str | None = None
    ws_url_override: str | None = None
    timeout_ms: Annotated[int, Field(gt=0)] = 10_000
    enable_rate_limit: bool = True
    history_page_limit: Annotated[int, Field(gt=0, le=1000)] = 200

    @field_validator("exchange_id")
    @classmethod
    def _known_exchange(cls, value: str) -> str:
        if value not in FUNDING_VENUE_BY_EXCHANGE_ID:
            raise ValueError(
                f"exchange {value!r} has no recorded funding convention; known: "
                f"{sorted(FUNDING_VENUE_BY_EXCHANGE_ID)}"
            )
        return value

    @field_validator("symbols")
    @classmethod
    def _clean_symbols(cls, value: list[str]) -> list[str]:
        for symbol in value:
            if not symbol or symbol != symbol.strip():
                raise ValueError(f"symbol {symbol!r} is empty or has surrounding spaces")
        if len(set(value)) != len(value):
            raise ValueError(f"duplicate symbols in {value}")
        return value

    @model_validator(mode="after")
    def _overrides_together(self) -> FundingVenueConfig:
        if (self.rest_url_override is None) != (self.ws_url_override is None):
            raise ValueError("rest_url_override and ws_url_override go together (both or neither)")
        if self.testnet and self.rest_url_override is not None:
            raise ValueError("testnet and URL overrides are exclusive")
        return self

    @property
    def venue(self) -> str:
        """The funding venue name (``BINANCE`` for ``binanceusdm``)."""
        return funding_venue(self.exchange_id)


class FundingCollectorConfig(BaseModel):
    """
    The collector: venues, cadence, retries and the store.

    Parameters
    ----------
    venues : list[FundingVenueConfig]
        At least one venue; each exchange id once.
    db_url : str, optional
        SQLAlchemy URL of the store (default: ``$NAUTILUS_EXT_DB_URL``, else a SQLite file).
    poll_interval_secs : float, default 60
        Seconds between polls; also the bucket that makes a poll idempotent (two polls in one
        bucket update the same row).
    max_retries : int, default 3
        Retries of a retryable venue failure per poll (then the venue is reported and skipped
        until the next poll).
    backoff_initial_ms, backoff_max_ms : int
        Full-jitter exponential backoff bounds between retries (milliseconds).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    venues: Annotated[list[FundingVenueConfig], Field(min_length=1)]
    db_url: str | None = None
    poll_interval_secs: Annotated[float, Field(gt=0)] = 60.0
    max_retries: Annotated[int, Field(ge=0, le=20)] = 3
    backoff_initial_ms: Annotated[int, Field(gt=0)] = 500
    backoff_max_ms: Annotated[int, Field(gt=0)] = 30_000

    @model_validator(mode="after")
    def _checks(self) -> FundingCollectorConfig:
        ids = [v.exchange_id for v in self.venues]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"venues listed twice: {duplicates}")
        if self.backoff_initial_ms > self.backoff_max_ms:
            raise ValueError(
                f"backoff_initial_ms ({self.backoff_initial_ms}) exceeds "
                f"backoff_max_ms ({self.backoff_max_ms})"
            )
        return self


def load_collector_config(path: str | Path) -> FundingCollectorConfig:
    """
    Read and validate a collector YAML file.

    Raises
    ------
    InvalidConfig
        If the file is missing, not YAML, or fails validation (the message names the file).
    """
    file = Path(path)
    return parse_collector_config(read_yaml_file(file), source=str(file))


def parse_collector_config(raw: object, *, source: str = "collector config") -> FundingCollectorConfig:
    """Validate an already-loaded mapping; raise :class:`InvalidConfig` naming ``source``."""
    if not isinstance(raw, dict):
        raise InvalidConfig(f"{source}: expected a mapping, got {type(raw).__name__}")
    try:
        return FundingCollectorConfig.model_validate(raw)
    except ValidationError as e:
        raise InvalidConfig(
            f"{source}: {e}", details={"errors": e.errors(include_url=False, include_context=False)}
        ) from None
    except NautilusExtError:
        raise


__all__ = [
    "FundingCollectorConfig",
    "FundingVenueConfig",
    "load_collector_config",
    "parse_collector_config",
]
