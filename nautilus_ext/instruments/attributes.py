"""
Instrument attributes (seed 000, "Instrument Attributes Schema") and venue specifications.

Both are pydantic v2 models with ``extra="forbid"``: a typo in a YAML file is an error, not a
silently ignored key. Every attribute that the canonical key also encodes (venue, type, base,
quote, settle, expiry date, strike, option type, pool fee tier, chain) must agree with the key.
"""

from __future__ import annotations

import re
from datetime import UTC
from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Annotated
from typing import Any
from typing import Final
from typing import Self

from pydantic import AfterValidator
from pydantic import AwareDatetime
from pydantic import BaseModel
from pydantic import BeforeValidator
from pydantic import ConfigDict
from pydantic import Field
from pydantic import PlainSerializer
from pydantic import WithJsonSchema
from pydantic import model_validator

from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.enums import OptionKind
from nautilus_ext.instruments.key import VENUE_RE
from nautilus_ext.instruments.key import InstrumentKey

OFF_CHAIN: Final = "off-chain"
_ADDRESS_RE: Final = re.compile(r"0x[0-9a-fA-F]{40}")


def _parse_key(value: object) -> InstrumentKey:
    if isinstance(value, InstrumentKey):
        return value
    if isinstance(value, str):
        try:
            return InstrumentKey.parse(value)
        except InvalidInstrumentKey as e:
            raise ValueError(e.message) from None
    raise ValueError(f"expected a canonical instrument key string, got {type(value).__name__}")


def _check_address(value: str | None) -> str | None:
    if value is not None and not _ADDRESS_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a 0x-prefixed 20-byte hex address")
    return value


def _check_venue(value: str) -> str:
    if not VENUE_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not an upper-case venue code")
    return value


InstrumentKeyField = Annotated[
    InstrumentKey,
    BeforeValidator(_parse_key),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "description": "canonical instrument key"}),
]
"""A pydantic field type holding an :class:`InstrumentKey`, (de)serialised as its text."""

PositiveDecimal = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
FeeRate = Annotated[Decimal, Field(gt=-1, lt=1, allow_inf_nan=False)]
Address = Annotated[str | None, AfterValidator(_check_address)]
VenueCode = Annotated[str, AfterValidator(_check_venue)]


@unique
class VenueFamily(StrEnum):
    """Which execution path serves a venue."""

    CEX = "CEX"  # centralised crypto exchange (Nautilus native adapter or ccxt)
    DEX = "DEX"  # decentralised exchange swaps (pools, aggregators)
    ONCHAIN = "ONCHAIN"  # lending/staking protocols and atomic bundles
    BETFAIR = "BETFAIR"  # betting exchange
    TRADFI = "TRADFI"  # futures/options/equities via a broker


@unique
class Symbology(StrEnum):
    """How a venue's canonical keys map to Nautilus symbols (see ``nautilus.py``)."""

    BINANCE = "BINANCE"  # BTCUSDT, BTCUSDT-PERP
    BYBIT = "BYBIT"  # BTCUSDT-SPOT, BTCUSDT-LINEAR, BTCUSD-INVERSE
    OKX = "OKX"  # BTC-USDT, BTC-USDT-SWAP, BTC-USD-241227
    DERIBIT = "DERIBIT"  # BTC-PERPETUAL, BTC-27DEC24, BTC-27DEC24-50000-C
    HYPERLIQUID = "HYPERLIQUID"  # BTC-USD-PERP
    CCXT = "CCXT"  # ccxt unified symbols: BTC/USDT, BTC/USDT:USDT
    CME = "CME"  # exchange raw symbols from the registry: ESZ4
    BETFAIR = "BETFAIR"  # market and selection ids from the registry
    POOL = "POOL"  # DEX pools: ETH-USDT-3000
    NONE = "NONE"  # not modelled in Nautilus (lending, staking)


class VenueSpec(BaseModel):
    """
    One venue: its canonical code, family, Nautilus venue and default fees.

    Parameters
    ----------
    code : str
        Canonical venue code (as in keys), e.g. ``BINANCE-FUTURES``.
    family : VenueFamily
        The execution family serving it.
    nautilus_venue : str, optional
        The Nautilus ``Venue`` name (``BINANCE`` for both Binance spot and futures).
    symbology : Symbology
        How to build Nautilus symbols.
    adapter : {"native", "ccxt", "none"}
        Which client executes on it (README records the choice per venue).
    ccxt_id : str, optional
        The ccxt exchange id, when ccxt serves the venue or its data.
    maker_fee, taker_fee : Decimal
        Default fee rates (fractions), used when an instrument has none.
    chain : str
        ``off-chain`` or the chain name of on-chain venues.
    root_aliases : dict[str, str]
        Exchange root symbol -> canonical base (``ES`` -> ``SP500``), for futures venues.
    instrument_types : frozenset[InstrumentType]
        The instrument types listed on the venue (used to pick the canonical venue when
        several share one Nautilus venue, as Binance spot and futures do).
    nautilus_venue_aliases : frozenset[str]
        Other Nautilus venue names for the same venue (``GLBX`` for ``XCME``).
    maintenance_margin : Decimal, optional
        Maintenance margin ratio of the venue's perpetuals (fraction; seed 003 decision 30):
        below it the venue liquidates. ``None`` when the venue has no margin products here.
    liquidation_fee : Decimal, optional
        Fee the venue charges on a liquidated notional (fraction).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: VenueCode
    family: VenueFamily
    nautilus_venue: str | None = None
    symbology: Symbology
    adapter: str = Field(pattern=r"^(native|ccxt|none)$")
    ccxt_id: str | None = None
    maker_fee: FeeRate = Decimal(0)
    taker_fee: FeeRate = Decimal(0)
    chain: str = OFF_CHAIN
    root_aliases: dict[str, str] = Field(default_factory=dict)
    instrument_types: frozenset[InstrumentType] = frozenset()
    nautilus_venue_aliases: frozenset[str] = frozenset()
    maintenance_margin: FeeRate | None = None
    liquidation_fee: FeeRate | None = None
    description: str = ""

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.symbology is not Symbology.NONE and not self.nautilus_venue:
            raise ValueError(f"venue {self.code}: nautilus_venue is required for {self.symbology}")
        if self.adapter == "ccxt" and not self.ccxt_id:
            raise ValueError(f"venue {self.code}: ccxt_id is required when adapter is ccxt")
        if not self.instrument_types:
            raise ValueError(f"venue {self.code}: instrument_types must list at least one type")
        if self.family in (VenueFamily.DEX, VenueFamily.ONCHAIN) and self.chain == OFF_CHAIN:
            raise ValueError(f"venue {self.code}: on-chain venues need a chain")
        return self


class InstrumentAttributes(BaseModel):
    """
    Validated attributes of one instrument (seed 000 "Instrument Attributes Schema").

    Only ``instrument_key`` is required; ``venue`` and ``instrument_type`` are derived from it
    when omitted and must agree with it when given, as must every other field the key encodes.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    instrument_key: InstrumentKeyField
    venue: str | None = None
    instrument_type: InstrumentType | None = None
    exchange_raw_symbol: str | None = None
    ccxt_symbol: str | None = None
    nautilus_instrument_id: str | None = None
    base_asset: str | None = None
    quote_asset: str | None = None
    settle_asset: str | None = None
    chain: str = OFF_CHAIN
    expiry: AwareDatetime | None = None
    strike: PositiveDecimal | None = None
    option_type: OptionKind | None = None
    contract_size: PositiveDecimal | None = None
    tick_size: PositiveDecimal | None = None
    size_increment: PositiveDecimal | None = None
    min_size: PositiveDecimal | None = None
    min_notional: PositiveDecimal | None = None
    inverse: bool | None = None
    maker_fee: FeeRate | None = None
    taker_fee: FeeRate | None = None
    # DeFi
    base_asset_contract_address: Address = None
    quote_asset_contract_address: Address = None
    pool_address: Address = None
    pool_fee_tier: Annotated[int, Field(ge=0, lt=1_000_000)] | None = None
    factory_address: Address = None
    chain_id: Annotated[int, Field(gt=0)] | None = None
    token_decimals: Annotated[int, Field(ge=0, le=36)] | None = None
    # TradFi
    exchange: str | None = None
    underlying: str | None = None
    # sports
    betfair_market_id: str | None = Field(default=None, pattern=r"^[0-9]+\.[0-9]+$")
    selections: dict[str, int] = Field(default_factory=dict)
    event_name: str | None = None
    info: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _derive(cls, data: Any) -> Any:
        if isinstance(data, dict) and "instrument_key" in data:
            key = data["instrument_key"]
            try:
                parsed = _parse_key(key)
            except ValueError:
                return data  # the field validator reports it
            data = dict(data)
            data.setdefault("venue", parsed.venue)
            data.setdefault("instrument_type", parsed.instrument_type.value)
            for name, value in (
                ("base_asset", parsed.base_asset),
                ("quote_asset", parsed.quote_asset),
                ("settle_asset", parsed.settle_asset),
                ("strike", parsed.strike),
                ("option_type", parsed.option_kind),
                ("pool_fee_tier", parsed.pool_fee_tier),
                ("chain", parsed.chain),
            ):
                if value is not None:
                    data.setdefault(name, value)
            if parsed.settlement is not None:
                data.setdefault("inverse", parsed.settlement.value == "INV")
        return data

    @model_validator(mode="after")
    def _agree_with_key(self) -> Self:
        key = self.instrument_key
        problems: list[str] = []
        checks: list[tuple[str, object, object]] = [
            ("venue", self.venue, key.venue),
            ("instrument_type", self.instrument_type, key.instrument_type),
            ("base_asset", self.base_asset, key.base_asset),
            ("quote_asset", self.quote_asset, key.quote_asset),
            ("settle_asset", self.settle_asset, key.settle_asset),
            ("strike", self.strike, key.strike),
            ("option_type", self.option_type, key.option_kind),
            ("pool_fee_tier", self.pool_fee_tier, key.pool_fee_tier),
        ]
        if key.chain is not None:
            checks.append(("chain", self.chain, key.chain))
        if self.chain_id is not None:
            checks.append(("chain_id", self.chain_id, key.chain_id))
        for name, attr, from_key in checks:
            if from_key is not None and attr != from_key:
                problems.append(f"{name}: {attr!r} disagrees with the key ({from_key!r})")
        if key.settlement is not None and self.inverse != (key.settlement.value == "INV"):
            problems.append(f"inverse: {self.inverse} disagrees with the key's @{key.settlement}")
        if key.expiry_date is not None:
            if self.expiry is None:
                problems.append("expiry: required for dated contracts (precise UTC datetime)")
            elif self.expiry.astimezone(UTC).date() != key.expiry_date:
                problems.append(
                    f"expiry: {self.expiry.isoformat()} is not on the key's date {key.expiry_date}"
                )
        if problems:
            raise ValueError(f"attributes of {key}: " + "; ".join(problems))
        return self

    @property
    def key(self) -> InstrumentKey:
        """Return the canonical key."""
        return self.instrument_key
