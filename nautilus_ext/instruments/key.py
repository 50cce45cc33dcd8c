"""
Canonical instrument keys: ``[ASSET_CLASS:]VENUE:INSTRUMENT_TYPE:PAYLOAD[@SUFFIX]``.

The grammar is seed 000's "Canonical Instrument IDs". The payload and the suffix are
interpreted per instrument type:

=====================  ===========================================  ==========================
type                   payload                                      suffix
=====================  ===========================================  ==========================
SPOT_ASSET             ``ASSET``                                    optional chain
SPOT_PAIR              ``BASE-QUOTE``                               optional chain
PERPETUAL              ``BASE-QUOTE``                               ``LIN`` or ``INV``
FUTURE                 ``BASE-QUOTE-YYMMDD`` or ``BASE-QUOTE-FRONT``  ``LIN`` or ``INV``
OPTION                 ``BASE-QUOTE-YYMMDD-STRIKE-CALL|PUT``        ``LIN`` or ``INV``
POOL                   ``A-B[-C...][:FEE_TIER]``                    chain (required)
LST                    ``TOKEN``                                    chain (required)
A_TOKEN                ``A<UNDERLYING>`` (``AUSDT``)                chain (required)
DEBT_TOKEN             ``DEBT<UNDERLYING>`` (``DEBTWETH``)          chain (required)
EQUITY, INDEX          ``SYMBOL[-CURRENCY]``                        none
MATCH_WINNER, BTTS     ``LEAGUE:YYYYMMDDTHHMM:FIXTURE``             none
WIN (races)            ``MEETING:YYYYMMDDTHHMM:RACE``               none
TOTAL_GOALS            ``LEAGUE:YYYYMMDDTHHMM:FIXTURE``             goal line (required, x.5)
TOTAL_GOALS_OU_2_5     ``LEAGUE:YYYYMMDDTHHMM:FIXTURE``             optional, ``2.5`` only
=====================  ===========================================  ==========================

``FRONT`` (``FRONT2``... ``FRONT9`` for the later months) names no listed contract: it is the
strategy-facing front month of a futures root, resolved to the tradable contract at each time by
:mod:`nautilus_ext.tradfi.front` (it has no expiry date, and :attr:`InstrumentKey.front_rank` is
its rank).

Expiry dates carry no time of day: :attr:`InstrumentKey.expiry` is 00:00 UTC of the expiry
date; the precise expiry time of a listed contract is in its instrument attributes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import UTC
from datetime import date
from datetime import datetime
from decimal import Decimal
from decimal import InvalidOperation
from typing import Final

from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments.enums import DERIVATIVE_TYPES
from nautilus_ext.instruments.enums import KNOWN_CHAIN_IDS
from nautilus_ext.instruments.enums import ONCHAIN_TYPES
from nautilus_ext.instruments.enums import ROLE_BY_TYPE
from nautilus_ext.instruments.enums import SPORTS_ASSET_CLASSES
from nautilus_ext.instruments.enums import SPORTS_TYPES
from nautilus_ext.instruments.enums import AssetClass
from nautilus_ext.instruments.enums import InstrumentRole
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.enums import OptionKind
from nautilus_ext.instruments.enums import SettlementStyle

VENUE_RE: Final = re.compile(r"[A-Z0-9](?:[A-Z0-9_-]*[A-Z0-9])?")
ASSET_RE: Final = re.compile(r"[A-Z0-9]+")
CHAIN_RE: Final = re.compile(r"[A-Z][A-Z0-9_]*")
NAME_RE: Final = re.compile(r"[A-Z0-9](?:[A-Z0-9_-]*[A-Z0-9])?")
DECIMAL_RE: Final = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?")
FEE_TIER_RE: Final = re.compile(r"0|[1-9][0-9]*")
EXPIRY_RE: Final = re.compile(r"[0-9]{6}")
KICKOFF_RE: Final = re.compile(r"[0-9]{8}T[0-9]{4}")
FRONT_RE: Final = re.compile(r"FRONT([2-9])?")

_SETTLEMENT_SUFFIXES: Final = frozenset(s.value for s in SettlementStyle)
_OU_2_5_LINE: Final = Decimal("2.5")


@dataclass(frozen=True, slots=True)
class _Views:
    """Typed views derived once from the payload and suffix at construction."""

    base_asset: str | None = None
    quote_asset: str | None = None
    settle_asset: str | None = None
    pool_assets: tuple[str, ...] = ()
    underlying_asset: str | None = None
    expiry_date: date | None = None
    strike: Decimal | None = None
    option_kind: OptionKind | None = None
    pool_fee_tier: int | None = None
    chain: str | None = None
    settlement: SettlementStyle | None = None
    league: str | None = None
    kickoff: datetime | None = None
    fixture: str | None = None
    goal_line: Decimal | None = None
    front_rank: int | None = None


def _fail(text: object, part: str, why: str) -> InvalidInstrumentKey:
    return InvalidInstrumentKey(
        f"invalid instrument key {text!r}: {part}: {why}",
        instrument_key=text if isinstance(text, str) else None,
        details={"part": part, "reason": why},
    )


_PARSED_MAX: Final = 4096
_PARSED: dict[str, InstrumentKey] = {}
"""Recently parsed canonical texts and their (immutable) keys: see :meth:`InstrumentKey.parse`."""


@dataclass(frozen=True, slots=True, repr=False)
class InstrumentKey:
    """
    An immutable, hashable canonical instrument key.

    Construct with :meth:`parse` from text, or directly from its fields (validated the same way).
    ``str(key)`` is the canonical text; ``InstrumentKey.parse(str(key)) == key`` always holds.

    Parameters
    ----------
    venue : str
        Upper-case venue code (letters, digits, ``-`` and ``_``), e.g. ``BINANCE-SPOT``.
    instrument_type : InstrumentType
        The instrument type.
    payload : str
        The type-specific payload, e.g. ``BTC-USDT`` or ``ETH-USDT:3000``.
    suffix : str, optional
        The part after ``@``: a settlement style, a chain or a goal line, by type.
    asset_class : AssetClass, optional
        The optional asset-class prefix.

    Raises
    ------
    InvalidInstrumentKey
        If any part is malformed; the message names the part and the reason.
    """

    venue: str
    instrument_type: InstrumentType
    payload: str
    suffix: str | None = None
    asset_class: AssetClass | None = None
    _views: _Views = field(default=_Views(), init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        text = self._format()
        if not isinstance(self.venue, str) or not VENUE_RE.fullmatch(self.venue):
            raise _fail(text, "venue", _venue_reason(self.venue))
        if not isinstance(self.instrument_type, InstrumentType):
            raise _fail(text, "instrument_type", "must be an InstrumentType")
        if self.asset_class is not None and not isinstance(self.asset_class, AssetClass):
            raise _fail(text, "asset_class", "must be an AssetClass")
        if not isinstance(self.payload, str) or not self.payload:
            raise _fail(text, "payload", "is empty")
        if self.suffix is not None and (not isinstance(self.suffix, str) or not self.suffix):
            raise _fail(text, "suffix", "is empty after '@'")
        sports_class = self.asset_class in SPORTS_ASSET_CLASSES
        if sports_class and self.instrument_type not in SPORTS_TYPES:
            raise _fail(text, "asset_class", f"{self.asset_class} does not apply to {self.instrument_type}")
        if self.instrument_type in SPORTS_TYPES and self.asset_class is not None and not sports_class:
            raise _fail(text, "asset_class", f"{self.asset_class} does not apply to betting markets")
        object.__setattr__(self, "_views", _derive_views(text, self))

    # -- text ---------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> InstrumentKey:
        """
        Parse canonical text into a key.

        Keys are immutable, so the keys of recently parsed texts are kept and handed out again:
        every unified order, every order at the safety chokepoint and every registry lookup
        parses the same few keys.

        Raises
        ------
        InvalidInstrumentKey
            If the text is not a valid canonical key (the message names the part and why).
        """
        if cls is InstrumentKey and isinstance(text, str):
            known = _PARSED.get(text)
            if known is not None:
                return known
            key = cls._parse(text)
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()  # bounded: a stream of distinct keys cannot grow it without end
            _PARSED[text] = key
            return key
        return cls._parse(text)

    @classmethod
    def _parse(cls, text: str) -> InstrumentKey:
        if not isinstance(text, str):
            raise _fail(text, "text", f"expected str, got {type(text).__name__}")
        if not text:
            raise _fail(text, "text", "is empty")
        if text != text.strip():
            raise _fail(text, "text", "has leading or trailing whitespace")
        body, at, suffix = text.partition("@")
        if at and "@" in suffix:
            raise _fail(text, "suffix", "more than one '@'")
        parts = body.split(":")
        if len(parts) < 3:
            raise _fail(text, "structure", "expected [ASSET_CLASS:]VENUE:TYPE:PAYLOAD")
        asset_class: AssetClass | None = None
        types = InstrumentType.__members__
        prefixed = len(parts) >= 4 and parts[0] in _ASSET_CLASS_VALUES and parts[2] in types
        if parts[1] in InstrumentType.__members__ and prefixed:
            # a venue named like a type behind an asset class (EQUITY:INDEX:EQUITY:AAPL): at most
            # one reading is valid (see tests), so try the unprefixed one, then the prefixed one
            try:
                return cls._from_parts(None, parts[0], parts[1], parts[2:], suffix, at)
            except InvalidInstrumentKey as first:
                try:
                    return cls._from_parts(parts[0], parts[1], parts[2], parts[3:], suffix, at)
                except InvalidInstrumentKey:
                    raise first from None
        if parts[1] in InstrumentType.__members__:
            venue, type_text, payload_parts = parts[0], parts[1], parts[2:]
        elif len(parts) >= 4 and parts[2] in InstrumentType.__members__:
            if parts[0] not in _ASSET_CLASS_VALUES:
                raise _fail(
                    text,
                    "asset_class",
                    f"unknown asset class {parts[0]!r} (expected one of "
                    f"{', '.join(sorted(_ASSET_CLASS_VALUES))})",
                )
            asset_class = AssetClass(parts[0])
            venue, type_text, payload_parts = parts[1], parts[2], parts[3:]
        else:
            candidate = parts[2] if len(parts) >= 4 and parts[0] in _ASSET_CLASS_VALUES else parts[1]
            raise _fail(
                text,
                "instrument_type",
                f"unknown type {candidate!r} (expected one of {', '.join(t.value for t in InstrumentType)})",
            )
        return cls(
            venue=venue,
            instrument_type=InstrumentType(type_text),
            payload=":".join(payload_parts),
            suffix=suffix if at else None,
            asset_class=asset_class,
        )

    @classmethod
    def _from_parts(
        cls,
        asset_class: str | None,
        venue: str,
        type_text: str,
        payload_parts: list[str],
        suffix: str,
        at: str,
    ) -> InstrumentKey:
        return cls(
            venue=venue,
            instrument_type=InstrumentType(type_text),
            payload=":".join(payload_parts),
            suffix=suffix if at else None,
            asset_class=None if asset_class is None else AssetClass(asset_class),
        )

    def _format(self) -> str:
        prefix = f"{self.asset_class}:" if self.asset_class is not None else ""
        suffix = f"@{self.suffix}" if self.suffix is not None else ""
        return f"{prefix}{self.venue}:{self.instrument_type}:{self.payload}{suffix}"

    def __str__(self) -> str:
        return self._format()

    def __repr__(self) -> str:
        return f"InstrumentKey({self._format()!r})"

    # -- roles --------------------------------------------------------------------------------

    @property
    def role(self) -> InstrumentRole:
        """Return what this instrument is for (routing, holding, contract...)."""
        return ROLE_BY_TYPE[self.instrument_type]

    @property
    def is_routing(self) -> bool:
        """Return whether this is a routing instrument (``SPOT_PAIR``), never a position."""
        return self.role is InstrumentRole.ROUTING

    @property
    def is_position(self) -> bool:
        """Return whether this instrument can be held as a position (valid delta key)."""
        return self.role in (InstrumentRole.HOLDING, InstrumentRole.CONTRACT, InstrumentRole.BET)

    @property
    def is_venue_bound(self) -> bool:
        """Return whether the key fixes its execution venue (derivatives, pools, bets)."""
        return self.role in (InstrumentRole.CONTRACT, InstrumentRole.MARKET, InstrumentRole.BET)

    @property
    def is_derivative(self) -> bool:
        """Return whether this is a perpetual, future or option."""
        return self.instrument_type in DERIVATIVE_TYPES

    @property
    def is_onchain(self) -> bool:
        """Return whether this instrument lives on a chain (pool, LST, aToken, debt token)."""
        return self.instrument_type in ONCHAIN_TYPES or self.chain is not None

    @property
    def is_sports(self) -> bool:
        """Return whether this is a betting market."""
        return self.instrument_type in SPORTS_TYPES

    # -- typed views --------------------------------------------------------------------------

    @property
    def base_asset(self) -> str | None:
        """Return the base asset (pairs, derivatives, two-asset pools, equities, indices)."""
        return self._views.base_asset

    @property
    def quote_asset(self) -> str | None:
        """Return the quote asset, if the payload names one."""
        return self._views.quote_asset

    @property
    def settle_asset(self) -> str | None:
        """Return the settlement asset of a derivative (quote if LIN, base if INV)."""
        return self._views.settle_asset

    @property
    def asset(self) -> str | None:
        """Return the held asset of a SPOT_ASSET, LST, A_TOKEN or DEBT_TOKEN key."""
        if self.instrument_type in (
            InstrumentType.SPOT_ASSET,
            InstrumentType.LST,
            InstrumentType.A_TOKEN,
            InstrumentType.DEBT_TOKEN,
        ):
            return self.payload
        return None

    @property
    def underlying_asset(self) -> str | None:
        """Return the underlying of an aToken (``AUSDT`` -> ``USDT``) or debt token."""
        return self._views.underlying_asset

    @property
    def pool_assets(self) -> tuple[str, ...]:
        """Return every asset of a pool, in key order."""
        return self._views.pool_assets

    @property
    def expiry_date(self) -> date | None:
        """Return the expiry date of a future or option."""
        return self._views.expiry_date

    @property
    def expiry(self) -> datetime | None:
        """Return the expiry date as a UTC datetime at 00:00 (the key carries no time)."""
        d = self._views.expiry_date
        return None if d is None else datetime(d.year, d.month, d.day, tzinfo=UTC)

    @property
    def front_rank(self) -> int | None:
        """Return 1 for a ``FRONT`` future key, ``n`` for ``FRONTn``, else ``None``."""
        return self._views.front_rank

    @property
    def is_continuous(self) -> bool:
        """Return whether this is a front-month key (resolved to a listed contract over time)."""
        return self._views.front_rank is not None

    def front_month(self, rank: int = 1) -> InstrumentKey:
        """
        Return the front-month key of this future's root (``...-241220`` -> ``...-FRONT``).

        Raises
        ------
        InvalidInstrumentKey
            If this key is not a future, or ``rank`` is not 1-9.
        """
        if self.instrument_type is not InstrumentType.FUTURE or not 1 <= rank <= 9:
            raise _fail(str(self), "front month", "only a future has a front month (rank 1-9)")
        tag = "FRONT" if rank == 1 else f"FRONT{rank}"
        return InstrumentKey(
            self.venue,
            InstrumentType.FUTURE,
            f"{self.base_asset}-{self.quote_asset}-{tag}",
            self.suffix,
            self.asset_class,
        )

    @property
    def strike(self) -> Decimal | None:
        """Return the option strike."""
        return self._views.strike

    @property
    def option_kind(self) -> OptionKind | None:
        """Return the option right (CALL or PUT)."""
        return self._views.option_kind

    @property
    def pool_fee_tier(self) -> int | None:
        """Return the pool fee tier in the protocol's units (Uniswap: millionths, 3000=0.3%)."""
        return self._views.pool_fee_tier

    @property
    def pool_fee_rate(self) -> Decimal | None:
        """Return the pool fee as a fraction (``3000`` -> ``0.003``)."""
        tier = self._views.pool_fee_tier
        return None if tier is None else Decimal(tier) / Decimal(1_000_000)

    @property
    def chain(self) -> str | None:
        """Return the chain suffix (``ETHEREUM``...), if any."""
        return self._views.chain

    @property
    def chain_id(self) -> int | None:
        """Return the EVM chain id of a known chain suffix."""
        chain = self._views.chain
        return None if chain is None else KNOWN_CHAIN_IDS.get(chain)

    @property
    def settlement(self) -> SettlementStyle | None:
        """Return the settlement style of a derivative."""
        return self._views.settlement

    @property
    def league(self) -> str | None:
        """Return the league of a betting market (``ENG-PREMIER_LEAGUE``)."""
        return self._views.league

    @property
    def kickoff(self) -> datetime | None:
        """Return the kickoff of a betting market as a UTC datetime."""
        return self._views.kickoff

    @property
    def fixture(self) -> str | None:
        """Return the fixture of a betting market, kept whole (``ARSENAL-LIVERPOOL``)."""
        return self._views.fixture

    @property
    def goal_line(self) -> Decimal | None:
        """Return the goal line of an over/under market (2.5 for TOTAL_GOALS_OU_2_5)."""
        return self._views.goal_line

    # -- builders -----------------------------------------------------------------------------

    def with_type(self, instrument_type: InstrumentType, payload: str) -> InstrumentKey:
        """Return a key on the same venue (and chain, if any) with another type and payload."""
        suffix = self.chain if instrument_type in _CHAIN_SUFFIX_TYPES else None
        return InstrumentKey(
            venue=self.venue, instrument_type=instrument_type, payload=payload, suffix=suffix
        )

    def spot_asset(self, asset: str) -> InstrumentKey:
        """Return the ``SPOT_ASSET`` key for ``asset`` on this key's venue (and chain)."""
        return self.with_type(InstrumentType.SPOT_ASSET, asset)


_ASSET_CLASS_VALUES: Final = frozenset(a.value for a in AssetClass)
_CHAIN_SUFFIX_TYPES: Final = frozenset(
    {InstrumentType.SPOT_ASSET, InstrumentType.SPOT_PAIR} | ONCHAIN_TYPES,
)


def _venue_reason(venue: object) -> str:
    if not isinstance(venue, str) or not venue:
        return "is empty"
    if venue != venue.upper():
        return f"{venue!r} must be upper-case"
    return f"{venue!r} may hold only A-Z, 0-9, '-' and '_' (not at the ends)"


def _asset(text: str, part: str, value: str) -> str:
    if not ASSET_RE.fullmatch(value):
        why = "is empty" if not value else f"{value!r} is not an upper-case asset code (A-Z, 0-9)"
        raise _fail(text, part, why)
    return value


def _decimal(text: str, part: str, value: str) -> Decimal:
    if not DECIMAL_RE.fullmatch(value):
        raise _fail(text, part, f"{value!r} is not a canonical decimal (e.g. 50000, 0.5, 2.5)")
    try:
        return Decimal(value)
    except InvalidOperation as e:  # pragma: no cover - the regex admits only valid decimals
        raise _fail(text, part, f"{value!r} is not a decimal") from e


def _expiry(text: str, value: str) -> date:
    if not EXPIRY_RE.fullmatch(value):
        raise _fail(text, "expiry", f"{value!r} is not YYMMDD")
    try:
        return date(2000 + int(value[:2]), int(value[2:4]), int(value[4:6]))
    except ValueError as e:
        raise _fail(text, "expiry", f"{value!r} is not a real date ({e})") from e


def _kickoff(text: str, value: str) -> datetime:
    if not KICKOFF_RE.fullmatch(value):
        raise _fail(text, "kickoff", f"{value!r} is not YYYYMMDDTHHMM")
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M").replace(tzinfo=UTC)
    except ValueError as e:
        raise _fail(text, "kickoff", f"{value!r} is not a real UTC date and time ({e})") from e


def _chain(text: str, suffix: str | None, *, required: bool) -> str | None:
    if suffix is None:
        if required:
            raise _fail(text, "suffix", "a chain suffix is required (e.g. @ETHEREUM)")
        return None
    if suffix in _SETTLEMENT_SUFFIXES or not CHAIN_RE.fullmatch(suffix):
        raise _fail(text, "suffix", f"{suffix!r} is not allowed here: expected a chain name")
    return suffix


def _pair(text: str, payload: str, n_extra: int) -> list[str]:
    parts = payload.split("-")
    expected = 2 + n_extra
    if len(parts) != expected:
        raise _fail(text, "payload", f"{payload!r} should have {expected} '-'-separated fields")
    _asset(text, "base asset", parts[0])
    _asset(text, "quote asset", parts[1])
    if parts[0] == parts[1]:
        raise _fail(text, "payload", f"base and quote are both {parts[0]!r}")
    return parts


def _no_suffix(text: str, key: InstrumentKey) -> None:
    if key.suffix is not None:
        raise _fail(text, "suffix", f"{key.instrument_type} allows no suffix, got {key.suffix!r}")


def _derive_views(text: str, key: InstrumentKey) -> _Views:
    t = key.instrument_type
    payload = key.payload
    if t not in SPORTS_TYPES and t is not InstrumentType.POOL and ":" in payload:
        raise _fail(text, "payload", f"{t} payload may not contain ':'")

    if t is InstrumentType.SPOT_ASSET:
        _asset(text, "asset", payload)
        return _Views(chain=_chain(text, key.suffix, required=False))

    if t is InstrumentType.SPOT_PAIR:
        base, quote = _pair(text, payload, 0)
        return _Views(base_asset=base, quote_asset=quote, chain=_chain(text, key.suffix, required=False))

    if t in DERIVATIVE_TYPES:
        if key.suffix is None or key.suffix not in _SETTLEMENT_SUFFIXES:
            why = "is required" if key.suffix is None else f"{key.suffix!r} is not allowed here"
            raise _fail(text, "suffix", f"settlement style {why} (expected @LIN or @INV)")
        settlement = SettlementStyle(key.suffix)
        n_extra = {InstrumentType.PERPETUAL: 0, InstrumentType.FUTURE: 1, InstrumentType.OPTION: 3}[t]
        parts = _pair(text, payload, n_extra)
        base, quote = parts[0], parts[1]
        views = _Views(
            base_asset=base,
            quote_asset=quote,
            settle_asset=quote if settlement is SettlementStyle.LIN else base,
            settlement=settlement,
        )
        if t is InstrumentType.PERPETUAL:
            return views
        front = FRONT_RE.fullmatch(parts[2]) if t is InstrumentType.FUTURE else None
        if front is not None:
            return replace(views, front_rank=int(front.group(1) or 1))
        expiry = _expiry(text, parts[2])
        if t is InstrumentType.FUTURE:
            return replace(views, expiry_date=expiry)
        strike = _decimal(text, "strike", parts[3])
        if strike <= 0:
            raise _fail(text, "strike", "must be positive")
        if parts[4] not in OptionKind.__members__:
            raise _fail(text, "option type", f"{parts[4]!r} is not CALL or PUT")
        return replace(views, expiry_date=expiry, strike=strike, option_kind=OptionKind(parts[4]))

    if t is InstrumentType.POOL:
        assets_text, colon, fee_text = payload.partition(":")
        if ":" in fee_text:
            raise _fail(text, "payload", "a pool payload is ASSETS[:FEE_TIER]")
        assets = tuple(assets_text.split("-"))
        if len(assets) < 2:
            raise _fail(text, "payload", f"a pool needs at least two assets, got {assets_text!r}")
        for a in assets:
            _asset(text, "pool asset", a)
        if len(set(assets)) != len(assets):
            raise _fail(text, "payload", f"pool assets repeat in {assets_text!r}")
        fee_tier: int | None = None
        if colon:
            if not FEE_TIER_RE.fullmatch(fee_text):
                raise _fail(text, "pool fee tier", f"{fee_text!r} is not a non-negative integer")
            fee_tier = int(fee_text)
            if fee_tier >= 1_000_000:
                raise _fail(text, "pool fee tier", f"{fee_tier} is 100% or more")
        two = len(assets) == 2
        return _Views(
            base_asset=assets[0] if two else None,
            quote_asset=assets[1] if two else None,
            pool_assets=assets,
            pool_fee_tier=fee_tier,
            chain=_chain(text, key.suffix, required=True),
        )

    if t in (InstrumentType.LST, InstrumentType.A_TOKEN, InstrumentType.DEBT_TOKEN):
        _asset(text, "token", payload)
        underlying: str | None = None
        if t is InstrumentType.A_TOKEN:
            if not payload.startswith("A") or len(payload) < 2:
                raise _fail(text, "token", f"an aToken is A<UNDERLYING> (e.g. AUSDT), got {payload!r}")
            underlying = payload[1:]
        elif t is InstrumentType.DEBT_TOKEN:
            if not payload.startswith("DEBT") or len(payload) < 5:
                raise _fail(
                    text,
                    "token",
                    f"a debt token is DEBT<UNDERLYING> (e.g. DEBTWETH), got {payload!r}",
                )
            underlying = payload[4:]
        return _Views(underlying_asset=underlying, chain=_chain(text, key.suffix, required=True))

    if t in (InstrumentType.EQUITY, InstrumentType.INDEX):
        _no_suffix(text, key)
        parts = payload.split("-")
        if len(parts) > 2:
            raise _fail(text, "payload", f"{t} payload is SYMBOL[-CURRENCY], got {payload!r}")
        _asset(text, "symbol", parts[0])
        currency = _asset(text, "currency", parts[1]) if len(parts) == 2 else None
        return _Views(base_asset=parts[0], quote_asset=currency)

    # betting markets: LEAGUE:YYYYMMDDTHHMM:FIXTURE
    fields = payload.split(":")
    if len(fields) != 3:
        raise _fail(text, "payload", f"{t} payload is LEAGUE:YYYYMMDDTHHMM:FIXTURE, got {payload!r}")
    league, kickoff_text, fixture = fields
    if not NAME_RE.fullmatch(league):
        raise _fail(text, "league", f"{league!r} is not an upper-case name (A-Z, 0-9, '-', '_')")
    kickoff = _kickoff(text, kickoff_text)
    if not NAME_RE.fullmatch(fixture):
        raise _fail(text, "fixture", f"{fixture!r} is not an upper-case name (A-Z, 0-9, '-', '_')")
    goal_line: Decimal | None = None
    if t is InstrumentType.TOTAL_GOALS:
        if key.suffix is None:
            raise _fail(text, "suffix", "TOTAL_GOALS needs a goal line suffix (e.g. @2.5)")
        goal_line = _goal_line(text, key.suffix)
    elif t is InstrumentType.TOTAL_GOALS_OU_2_5:
        goal_line = _OU_2_5_LINE
        if key.suffix is not None and _goal_line(text, key.suffix) != _OU_2_5_LINE:
            raise _fail(text, "suffix", f"TOTAL_GOALS_OU_2_5 allows only @2.5, got @{key.suffix}")
    else:
        _no_suffix(text, key)
    return _Views(league=league, kickoff=kickoff, fixture=fixture, goal_line=goal_line)


def _goal_line(text: str, value: str) -> Decimal:
    line = _decimal(text, "goal line", value)
    # ``%`` raises DivisionImpossible beyond the context precision (a 200-digit line)
    if line.adjusted() > 3 or line % 1 != Decimal("0.5"):
        raise _fail(text, "goal line", f"{value!r} must be a half line (0.5, 1.5, 2.5...)")
    return line
