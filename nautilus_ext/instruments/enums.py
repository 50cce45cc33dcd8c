"""Enumerations of the canonical instrument grammar (seed 000, "Instrument Specification")."""

from __future__ import annotations

from enum import StrEnum
from enum import unique


@unique
class AssetClass(StrEnum):
    """Optional asset-class prefix of a canonical key."""

    FOOTBALL = "FOOTBALL"  # football (soccer) betting markets
    CEFI = "CEFI"  # centralised crypto venues
    DEFI = "DEFI"  # decentralised protocols
    COMMODITIES = "COMMODITIES"  # commodity futures and options
    EQUITY_INDEX = "EQUITY-INDEX"  # equity index futures, options and indices
    EQUITY = "EQUITY"  # single stocks
    BOND = "BOND"  # rates and bonds
    FX = "FX"  # foreign exchange
    # project additions: other sports found in real Betfair data
    BASKETBALL = "BASKETBALL"  # basketball betting markets
    CRICKET = "CRICKET"  # cricket betting markets
    TENNIS = "TENNIS"  # tennis betting markets
    HORSE_RACING = "HORSE_RACING"  # horse racing betting markets


@unique
class InstrumentType(StrEnum):
    """The instrument type field of a canonical key."""

    SPOT_ASSET = "SPOT_ASSET"  # an asset held on a venue (a position)
    SPOT_PAIR = "SPOT_PAIR"  # a trading route BASE-QUOTE (never a position)
    PERPETUAL = "PERPETUAL"  # perpetual swap, venue-bound
    FUTURE = "FUTURE"  # dated future, venue-bound
    OPTION = "OPTION"  # option with expiry and strike, venue-bound
    POOL = "POOL"  # DEX liquidity pool (an execution venue for swaps)
    LST = "LST"  # liquid staking token held on chain
    A_TOKEN = "A_TOKEN"  # AAVE supply position token
    DEBT_TOKEN = "DEBT_TOKEN"  # AAVE variable debt position token
    EQUITY = "EQUITY"  # a listed stock
    INDEX = "INDEX"  # a reference index (not tradable)
    MATCH_WINNER = "MATCH_WINNER"  # 1X2 match odds market
    TOTAL_GOALS = "TOTAL_GOALS"  # over/under goals market with a line suffix
    TOTAL_GOALS_OU_2_5 = "TOTAL_GOALS_OU_2_5"  # over/under 2.5 goals market
    BTTS = "BTTS"  # both teams to score market
    WIN = "WIN"  # race winner market (project addition, Betfair WIN markets)


@unique
class InstrumentRole(StrEnum):
    """What an instrument is for (seed 000, "Routing Instruments vs Position Instruments")."""

    ROUTING = "ROUTING"  # a route to be resolved to a venue or pool; never a position
    HOLDING = "HOLDING"  # an asset balance that is a position (SPOT_ASSET, LST, aToken...)
    CONTRACT = "CONTRACT"  # a venue-bound derivative contract position
    MARKET = "MARKET"  # a venue-bound execution market that is not itself held (a DEX pool)
    REFERENCE = "REFERENCE"  # reference data only (an index)
    BET = "BET"  # a venue-bound betting market position


@unique
class SettlementStyle(StrEnum):
    """Derivative settlement style suffix."""

    LIN = "LIN"  # linear: margined and settled in the quote asset
    INV = "INV"  # inverse: margined and settled in the base asset


@unique
class OptionKind(StrEnum):
    """Option right as written in canonical keys."""

    CALL = "CALL"  # right to buy
    PUT = "PUT"  # right to sell


SPORTS_TYPES: frozenset[InstrumentType] = frozenset(
    {
        InstrumentType.MATCH_WINNER,
        InstrumentType.TOTAL_GOALS,
        InstrumentType.TOTAL_GOALS_OU_2_5,
        InstrumentType.BTTS,
        InstrumentType.WIN,
    },
)
SPORTS_ASSET_CLASSES: frozenset[AssetClass] = frozenset(
    {
        AssetClass.FOOTBALL,
        AssetClass.BASKETBALL,
        AssetClass.CRICKET,
        AssetClass.TENNIS,
        AssetClass.HORSE_RACING,
    },
)
DERIVATIVE_TYPES: frozenset[InstrumentType] = frozenset(
    {InstrumentType.PERPETUAL, InstrumentType.FUTURE, InstrumentType.OPTION},
)
ONCHAIN_TYPES: frozenset[InstrumentType] = frozenset(
    {
        InstrumentType.POOL,
        InstrumentType.LST,
        InstrumentType.A_TOKEN,
        InstrumentType.DEBT_TOKEN,
    },
)

ROLE_BY_TYPE: dict[InstrumentType, InstrumentRole] = {
    InstrumentType.SPOT_ASSET: InstrumentRole.HOLDING,
    InstrumentType.SPOT_PAIR: InstrumentRole.ROUTING,
    InstrumentType.PERPETUAL: InstrumentRole.CONTRACT,
    InstrumentType.FUTURE: InstrumentRole.CONTRACT,
    InstrumentType.OPTION: InstrumentRole.CONTRACT,
    InstrumentType.POOL: InstrumentRole.MARKET,
    InstrumentType.LST: InstrumentRole.HOLDING,
    InstrumentType.A_TOKEN: InstrumentRole.HOLDING,
    InstrumentType.DEBT_TOKEN: InstrumentRole.HOLDING,
    InstrumentType.EQUITY: InstrumentRole.HOLDING,
    InstrumentType.INDEX: InstrumentRole.REFERENCE,
    InstrumentType.MATCH_WINNER: InstrumentRole.BET,
    InstrumentType.TOTAL_GOALS: InstrumentRole.BET,
    InstrumentType.TOTAL_GOALS_OU_2_5: InstrumentRole.BET,
    InstrumentType.BTTS: InstrumentRole.BET,
    InstrumentType.WIN: InstrumentRole.BET,
}
"""The role of every instrument type; the single source of the role rules."""

KNOWN_CHAIN_IDS: dict[str, int] = {
    "ETHEREUM": 1,
    "OPTIMISM": 10,
    "BSC": 56,
    "POLYGON": 137,
    "BASE": 8453,
    "ARBITRUM": 42161,
    "AVALANCHE": 43114,
    "HYPERLIQUID": 999,
}
"""EVM chain ids for the chain suffixes this project knows; other chain names are allowed."""
