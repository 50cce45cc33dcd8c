"""Canonical instrument keys: seed examples, typed views, roles and every kind of bad input."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC
from datetime import date
from datetime import datetime
from decimal import Decimal

import pytest

import nautilus_ext.instruments as instruments_module
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments import AssetClass
from nautilus_ext.instruments import InstrumentKey
from nautilus_ext.instruments import InstrumentRole
from nautilus_ext.instruments import InstrumentType
from nautilus_ext.instruments import OptionKind
from nautilus_ext.instruments import SettlementStyle

# every key written anywhere in seed 000
SEED_KEYS = [
    "BINANCE-SPOT:SPOT_PAIR:BTC-USDT",
    "BINANCE-SPOT:SPOT_ASSET:BTC",
    "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN",
    "BINANCE-FUTURES:PERPETUAL:ETH-USDT@LIN",
    "DERIBIT:FUTURE:BTC-USD-241225@INV",
    "DERIBIT:OPTION:BTC-USD-241225-50000-CALL@INV",
    "UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM",
    "AAVE_V3_ETH:A_TOKEN:AUSDT@ETHEREUM",
    "AAVE_V3_ETH:DEBT_TOKEN:DEBTWETH@ETHEREUM",
    "ETHERFI:LST:WEETH@ETHEREUM",
    "CME:FUTURE:SP500-USD-241225@LIN",
    "CME:OPTION:SP500-USD-241225-4500-CALL@LIN",
    "CBOE:INDEX:VIX-USD",
    "FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL",
    "FOOTBALL:BETFAIR:TOTAL_GOALS_OU_2_5:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL@2.5",
    "FOOTBALL:BETFAIR:BTTS:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL",
    "FOOTBALL:BETFAIR:TOTAL_GOALS_OU_2_5:GER-BUNDESLIGA:20250316T1430:BAYERN-MUNICH-BORUSSIA-DORTMUND@2.5",
]


def test_public_api_is_pinned() -> None:
    assert instruments_module.__all__ == [
        "AssetClass",
        "InstrumentKey",
        "InstrumentRole",
        "InstrumentType",
        "OptionKind",
        "SettlementStyle",
    ]


def test_every_seed_type_is_an_instrument_type() -> None:
    seed_types = [
        "SPOT_ASSET",
        "SPOT_PAIR",
        "PERPETUAL",
        "FUTURE",
        "OPTION",
        "POOL",
        "LST",
        "A_TOKEN",
        "DEBT_TOKEN",
        "EQUITY",
        "INDEX",
        "MATCH_WINNER",
        "TOTAL_GOALS",
        "TOTAL_GOALS_OU_2_5",
        "BTTS",
    ]
    assert set(seed_types) <= {t.value for t in InstrumentType}
    seed_classes = ["FOOTBALL", "CEFI", "DEFI", "COMMODITIES", "EQUITY-INDEX", "EQUITY", "BOND", "FX"]
    assert set(seed_classes) <= {a.value for a in AssetClass}


@pytest.mark.parametrize("text", SEED_KEYS)
def test_seed_keys_round_trip_exactly(text: str) -> None:
    key = InstrumentKey.parse(text)
    assert str(key) == text
    assert repr(key) == f"InstrumentKey({text!r})"
    again = InstrumentKey.parse(str(key))
    assert again == key
    assert hash(again) == hash(key)
    rebuilt = InstrumentKey(
        venue=key.venue,
        instrument_type=key.instrument_type,
        payload=key.payload,
        suffix=key.suffix,
        asset_class=key.asset_class,
    )
    assert rebuilt == key


def test_keys_pickle_and_copy() -> None:
    key = InstrumentKey.parse("DERIBIT:OPTION:BTC-USD-241225-50000-CALL@INV")
    again = pickle.loads(pickle.dumps(key))
    assert again == key
    assert again.strike == Decimal(50000)
    assert copy.deepcopy(key).option_kind is OptionKind.CALL


def test_keys_are_immutable_and_hashable() -> None:
    key = InstrumentKey.parse("BINANCE-SPOT:SPOT_PAIR:BTC-USDT")
    with pytest.raises(AttributeError):
        key.venue = "OKX"  # type: ignore[misc]
    assert {key: 1}[InstrumentKey.parse("BINANCE-SPOT:SPOT_PAIR:BTC-USDT")] == 1
    assert key != InstrumentKey.parse("OKX:SPOT_PAIR:BTC-USDT")


def test_spot_pair_and_asset_views() -> None:
    pair = InstrumentKey.parse("BINANCE-SPOT:SPOT_PAIR:BTC-USDT")
    assert (pair.asset_class, pair.venue, pair.instrument_type) == (
        None,
        "BINANCE-SPOT",
        InstrumentType.SPOT_PAIR,
    )
    assert (pair.base_asset, pair.quote_asset, pair.settle_asset) == ("BTC", "USDT", None)
    assert pair.asset is None
    assert pair.chain is None
    assert pair.chain_id is None
    asset = InstrumentKey.parse("BINANCE-SPOT:SPOT_ASSET:BTC")
    assert asset.asset == "BTC"
    assert asset.base_asset is None
    assert pair.spot_asset("BTC") == asset
    on_chain = InstrumentKey.parse("WALLET-ETH:SPOT_ASSET:WETH@ETHEREUM")
    assert on_chain.chain == "ETHEREUM"
    assert on_chain.chain_id == 1
    assert on_chain.is_onchain
    pool = InstrumentKey.parse("UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM")
    assert pool.spot_asset("WETH") == InstrumentKey.parse("UNISWAPV3-ETH:SPOT_ASSET:WETH@ETHEREUM")


def test_perpetual_views() -> None:
    lin = InstrumentKey.parse("BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN")
    assert (lin.base_asset, lin.quote_asset, lin.settle_asset) == ("BTC", "USDT", "USDT")
    assert lin.settlement is SettlementStyle.LIN
    assert lin.expiry is None
    assert lin.strike is None
    assert lin.option_kind is None
    inv = InstrumentKey.parse("BYBIT:PERPETUAL:BTC-USD@INV")
    assert inv.settle_asset == "BTC"
    assert inv.settlement is SettlementStyle.INV


def test_future_views() -> None:
    key = InstrumentKey.parse("DERIBIT:FUTURE:BTC-USD-241225@INV")
    assert (key.base_asset, key.quote_asset, key.settle_asset) == ("BTC", "USD", "BTC")
    assert key.expiry_date == date(2024, 12, 25)
    assert key.expiry == datetime(2024, 12, 25, tzinfo=UTC)
    assert key.expiry is not None
    assert key.expiry.utcoffset() is not None
    cme = InstrumentKey.parse("CME:FUTURE:SP500-USD-241225@LIN")
    assert (cme.base_asset, cme.quote_asset, cme.settle_asset) == ("SP500", "USD", "USD")


def test_option_views() -> None:
    key = InstrumentKey.parse("DERIBIT:OPTION:BTC-USD-241225-50000-CALL@INV")
    assert key.strike == Decimal("50000")
    assert isinstance(key.strike, Decimal)
    assert key.option_kind is OptionKind.CALL
    assert key.expiry == datetime(2024, 12, 25, tzinfo=UTC)
    assert key.settle_asset == "BTC"
    put = InstrumentKey.parse("CME:OPTION:SP500-USD-241225-4500-PUT@LIN")
    assert put.option_kind is OptionKind.PUT
    assert put.strike == Decimal(4500)
    frac = InstrumentKey.parse("OKX:OPTION:ETH-USD-250328-0.5-PUT@INV")
    assert frac.strike == Decimal("0.5")


def test_pool_views() -> None:
    key = InstrumentKey.parse("UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM")
    assert (key.base_asset, key.quote_asset) == ("ETH", "USDT")
    assert key.pool_assets == ("ETH", "USDT")
    assert key.pool_fee_tier == 3000
    assert key.pool_fee_rate == Decimal("0.003")
    assert key.chain == "ETHEREUM"
    assert key.chain_id == 1
    no_fee = InstrumentKey.parse("COWSWAP-ETH:POOL:ETH-USDT@ETHEREUM")
    assert no_fee.pool_fee_tier is None
    assert no_fee.pool_fee_rate is None
    tri = InstrumentKey.parse("CURVE-ETH:POOL:DAI-USDC-USDT:100@ETHEREUM")
    assert tri.pool_assets == ("DAI", "USDC", "USDT")
    assert tri.base_asset is None
    assert tri.quote_asset is None
    assert tri.pool_fee_rate == Decimal("0.0001")
    unknown_chain = InstrumentKey.parse("AERODROME-BASE:POOL:ETH-USDC@SOLANA_TEST")
    assert unknown_chain.chain == "SOLANA_TEST"
    assert unknown_chain.chain_id is None


def test_lending_and_staking_views() -> None:
    a = InstrumentKey.parse("AAVE_V3_ETH:A_TOKEN:AUSDT@ETHEREUM")
    assert (a.asset, a.underlying_asset, a.chain, a.chain_id) == ("AUSDT", "USDT", "ETHEREUM", 1)
    d = InstrumentKey.parse("AAVE_V3_ETH:DEBT_TOKEN:DEBTWETH@ETHEREUM")
    assert (d.asset, d.underlying_asset) == ("DEBTWETH", "WETH")
    lst = InstrumentKey.parse("ETHERFI:LST:WEETH@ETHEREUM")
    assert (lst.asset, lst.underlying_asset, lst.chain) == ("WEETH", None, "ETHEREUM")
    assert InstrumentKey.parse("AAVE_V3_ARB:A_TOKEN:AUSDC@ARBITRUM").chain_id == 42161


def test_index_and_equity_views() -> None:
    vix = InstrumentKey.parse("CBOE:INDEX:VIX-USD")
    assert (vix.base_asset, vix.quote_asset, vix.suffix) == ("VIX", "USD", None)
    spx = InstrumentKey.parse("CBOE:INDEX:SPX")
    assert (spx.base_asset, spx.quote_asset) == ("SPX", None)
    eq = InstrumentKey.parse("EQUITY:NASDAQ:EQUITY:AAPL-USD")
    assert eq.asset_class is AssetClass.EQUITY
    assert eq.base_asset == "AAPL"


def test_betting_views() -> None:
    mw = InstrumentKey.parse(SEED_KEYS[13])
    assert mw.asset_class is AssetClass.FOOTBALL
    assert mw.venue == "BETFAIR"
    assert mw.league == "ENG-PREMIER_LEAGUE"
    assert mw.kickoff == datetime(2025, 3, 15, 15, 0, tzinfo=UTC)
    assert mw.fixture == "ARSENAL-LIVERPOOL"
    assert mw.goal_line is None
    ou = InstrumentKey.parse(SEED_KEYS[-1])
    assert ou.fixture == "BAYERN-MUNICH-BORUSSIA-DORTMUND"  # kept whole, no guessed split
    assert ou.league == "GER-BUNDESLIGA"
    assert ou.kickoff == datetime(2025, 3, 16, 14, 30, tzinfo=UTC)
    assert ou.goal_line == Decimal("2.5")
    # the 2.5 suffix of TOTAL_GOALS_OU_2_5 is optional, the line is implied
    bare = InstrumentKey.parse(SEED_KEYS[-1].removesuffix("@2.5"))
    assert bare.goal_line == Decimal("2.5")
    assert bare != ou
    tg = InstrumentKey.parse("FOOTBALL:BETFAIR:TOTAL_GOALS:ENG-PREMIER_LEAGUE:20250315T1500:A-B@3.5")
    assert tg.goal_line == Decimal("3.5")
    assert InstrumentKey.parse(SEED_KEYS[15]).is_sports


ROLES = [
    ("BINANCE-SPOT:SPOT_PAIR:BTC-USDT", InstrumentRole.ROUTING, True, False, False),
    ("BINANCE-SPOT:SPOT_ASSET:BTC", InstrumentRole.HOLDING, False, True, False),
    ("BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN", InstrumentRole.CONTRACT, False, True, True),
    ("DERIBIT:FUTURE:BTC-USD-241225@INV", InstrumentRole.CONTRACT, False, True, True),
    ("DERIBIT:OPTION:BTC-USD-241225-50000-CALL@INV", InstrumentRole.CONTRACT, False, True, True),
    ("UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM", InstrumentRole.MARKET, False, False, True),
    ("ETHERFI:LST:WEETH@ETHEREUM", InstrumentRole.HOLDING, False, True, False),
    ("AAVE_V3_ETH:A_TOKEN:AUSDT@ETHEREUM", InstrumentRole.HOLDING, False, True, False),
    ("AAVE_V3_ETH:DEBT_TOKEN:DEBTWETH@ETHEREUM", InstrumentRole.HOLDING, False, True, False),
    ("NASDAQ:EQUITY:AAPL-USD", InstrumentRole.HOLDING, False, True, False),
    ("CBOE:INDEX:VIX-USD", InstrumentRole.REFERENCE, False, False, False),
    (SEED_KEYS[13], InstrumentRole.BET, False, True, True),
    (SEED_KEYS[14], InstrumentRole.BET, False, True, True),
    (SEED_KEYS[15], InstrumentRole.BET, False, True, True),
    (
        "FOOTBALL:BETFAIR:TOTAL_GOALS:ENG-PREMIER_LEAGUE:20250315T1500:A-B@1.5",
        InstrumentRole.BET,
        False,
        True,
        True,
    ),
    ("HORSE_RACING:BETFAIR:WIN:GB-ASCOT:20250315T1500:R1", InstrumentRole.BET, False, True, True),
]


@pytest.mark.parametrize(("text", "role", "routing", "position", "venue_bound"), ROLES)
def test_roles_per_type(
    text: str, role: InstrumentRole, routing: bool, position: bool, venue_bound: bool
) -> None:
    key = InstrumentKey.parse(text)
    assert key.role is role
    assert key.is_routing is routing
    assert key.is_position is position
    assert key.is_venue_bound is venue_bound
    assert key.is_derivative is (key.instrument_type in {"PERPETUAL", "FUTURE", "OPTION"})


def test_roles_cover_every_type() -> None:
    assert {InstrumentKey.parse(r[0]).instrument_type for r in ROLES} == set(InstrumentType)


# -- bad input -----------------------------------------------------------------------------

BAD = [
    # (text, part named in the message, words of the reason)
    ("", "text", "is empty"),
    (" BINANCE-SPOT:SPOT_PAIR:BTC-USDT", "text", "whitespace"),
    ("BINANCE-SPOT:SPOT_PAIR", "structure", "expected"),
    ("BINANCE-SPOT:SPOT_PAIRS:BTC-USDT", "instrument_type", "unknown type 'SPOT_PAIRS'"),
    ("BINANCE-SPOT:spot_pair:BTC-USDT", "instrument_type", "unknown type 'spot_pair'"),
    ("binance-spot:SPOT_PAIR:BTC-USDT", "venue", "must be upper-case"),
    ("BINANCE SPOT:SPOT_PAIR:BTC-USDT", "venue", "may hold only"),
    ("-BINANCE:SPOT_PAIR:BTC-USDT", "venue", "may hold only"),
    (":SPOT_PAIR:BTC-USDT", "venue", "is empty"),
    ("SOCCER:BETFAIR:MATCH_WINNER:L:20250315T1500:A-B", "asset_class", "unknown asset class 'SOCCER'"),
    ("FOOTBALL:BINANCE-SPOT:SPOT_PAIR:BTC-USDT", "asset_class", "does not apply"),
    ("CEFI:BETFAIR:MATCH_WINNER:L:20250315T1500:A-B", "asset_class", "does not apply to betting"),
    ("BINANCE-SPOT:SPOT_PAIR:", "payload", "is empty"),
    ("BINANCE-SPOT:SPOT_PAIR:BTC", "payload", "should have 2"),
    ("BINANCE-SPOT:SPOT_PAIR:BTC-BTC", "payload", "both 'BTC'"),
    ("BINANCE-SPOT:SPOT_PAIR:btc-USDT", "base asset", "upper-case asset code"),
    ("BINANCE-SPOT:SPOT_PAIR:BTC-", "quote asset", "is empty"),
    ("BINANCE-SPOT:SPOT_PAIR:BTC-USDT@", "suffix", "is empty"),
    ("BINANCE-SPOT:SPOT_PAIR:BTC-USDT@LIN", "suffix", "expected a chain"),
    ("BINANCE-SPOT:SPOT_PAIR:BTC-USDT@ETH@ETH", "suffix", "more than one '@'"),
    ("BINANCE-SPOT:SPOT_ASSET:BTC:X", "payload", "may not contain ':'"),
    ("BINANCE-FUTURES:PERPETUAL:BTC-USDT", "suffix", "settlement style is required"),
    ("BINANCE-FUTURES:PERPETUAL:BTC-USDT@ETHEREUM", "suffix", "'ETHEREUM' is not allowed"),
    ("BINANCE-FUTURES:PERPETUAL:BTC-USDT@lin", "suffix", "'lin' is not allowed"),
    ("DERIBIT:FUTURE:BTC-USD-241325@INV", "expiry", "not a real date"),
    ("DERIBIT:FUTURE:BTC-USD-240230@INV", "expiry", "not a real date"),
    ("DERIBIT:FUTURE:BTC-USD-2412@INV", "expiry", "not YYMMDD"),
    ("DERIBIT:FUTURE:BTC-USD@INV", "payload", "should have 3"),
    ("DERIBIT:OPTION:BTC-USD-241225-50000-CALLS@INV", "option type", "'CALLS' is not CALL or PUT"),
    ("DERIBIT:OPTION:BTC-USD-241225-50000-C@INV", "option type", "'C' is not CALL or PUT"),
    ("DERIBIT:OPTION:BTC-USD-241225-50000.0-CALL@INV", "strike", "not a canonical decimal"),
    ("DERIBIT:OPTION:BTC-USD-241225-050000-CALL@INV", "strike", "not a canonical decimal"),
    ("DERIBIT:OPTION:BTC-USD-241225-5E4-CALL@INV", "strike", "not a canonical decimal"),
    ("DERIBIT:OPTION:BTC-USD-241225-0-CALL@INV", "strike", "must be positive"),
    ("DERIBIT:OPTION:BTC-USD-241225-50000-CALL", "suffix", "settlement style is required"),
    ("UNISWAPV3-ETH:POOL:ETH-USDT:3000", "suffix", "chain suffix is required"),
    ("UNISWAPV3-ETH:POOL:ETH-USDT:3000@INV", "suffix", "expected a chain"),
    ("UNISWAPV3-ETH:POOL:ETH-USDT:3000@ethereum", "suffix", "expected a chain"),
    ("UNISWAPV3-ETH:POOL:ETH:3000@ETHEREUM", "payload", "at least two assets"),
    ("UNISWAPV3-ETH:POOL:ETH-ETH:3000@ETHEREUM", "payload", "repeat"),
    ("UNISWAPV3-ETH:POOL:ETH-USDT:03000@ETHEREUM", "pool fee tier", "non-negative integer"),
    ("UNISWAPV3-ETH:POOL:ETH-USDT:0.3@ETHEREUM", "pool fee tier", "non-negative integer"),
    ("UNISWAPV3-ETH:POOL:ETH-USDT:1000000@ETHEREUM", "pool fee tier", "100%"),
    ("UNISWAPV3-ETH:POOL:ETH-USDT:3000:1@ETHEREUM", "payload", "ASSETS[:FEE_TIER]"),
    ("AAVE_V3_ETH:A_TOKEN:USDT@ETHEREUM", "token", "A<UNDERLYING>"),
    ("AAVE_V3_ETH:A_TOKEN:A@ETHEREUM", "token", "A<UNDERLYING>"),
    ("AAVE_V3_ETH:DEBT_TOKEN:WETH@ETHEREUM", "token", "DEBT<UNDERLYING>"),
    ("AAVE_V3_ETH:DEBT_TOKEN:AUSDT", "token", "DEBT<UNDERLYING>"),
    ("AAVE_V3_ETH:A_TOKEN:AUSDT", "suffix", "chain suffix is required"),
    ("ETHERFI:LST:WEETH", "suffix", "chain suffix is required"),
    ("ETHERFI:LST:WE-ETH@ETHEREUM", "token", "upper-case asset code"),
    ("CBOE:INDEX:VIX-USD@LIN", "suffix", "allows no suffix"),
    ("CBOE:INDEX:VIX-USD-X", "payload", "SYMBOL[-CURRENCY]"),
    ("FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:20251315T1500:A-B", "kickoff", "not a real UTC"),
    ("FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:20250315T2500:A-B", "kickoff", "not a real UTC"),
    (
        "FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:2025-03-15T15:00:A-B",
        "payload",
        "LEAGUE:YYYYMMDDTHHMM",
    ),
    ("FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:20250315-1500:A-B", "kickoff", "not YYYYMMDDTHHMM"),
    ("FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:20250315T1500", "payload", "LEAGUE:YYYYMMDDTHHMM"),
    ("FOOTBALL:BETFAIR:MATCH_WINNER:eng:20250315T1500:A-B", "league", "upper-case name"),
    ("FOOTBALL:BETFAIR:MATCH_WINNER:ENG:20250315T1500:Arsenal-Liverpool", "fixture", "upper-case name"),
    ("FOOTBALL:BETFAIR:MATCH_WINNER:ENG:20250315T1500:A-B@2.5", "suffix", "allows no suffix"),
    ("FOOTBALL:BETFAIR:BTTS:ENG:20250315T1500:A-B@YES", "suffix", "allows no suffix"),
    ("FOOTBALL:BETFAIR:TOTAL_GOALS:ENG:20250315T1500:A-B", "suffix", "needs a goal line"),
    ("FOOTBALL:BETFAIR:TOTAL_GOALS:ENG:20250315T1500:A-B@3", "goal line", "half line"),
    ("FOOTBALL:BETFAIR:TOTAL_GOALS:ENG:20250315T1500:A-B@2.50", "goal line", "canonical decimal"),
    ("FOOTBALL:BETFAIR:TOTAL_GOALS_OU_2_5:ENG:20250315T1500:A-B@3.5", "suffix", "only @2.5"),
]


@pytest.mark.parametrize(("text", "part", "reason"), BAD, ids=[b[0] or "empty" for b in BAD])
def test_bad_keys_name_the_part_and_the_reason(text: str, part: str, reason: str) -> None:
    with pytest.raises(InvalidInstrumentKey) as info:
        InstrumentKey.parse(text)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.code is ErrorCode.INVALID_INSTRUMENT
    assert err.details["part"] == part
    assert reason in err.details["reason"]
    assert f": {part}: " in err.message
    assert repr(text) in err.message
    assert err.instrument_key == text


def test_non_string_input_is_an_invalid_key() -> None:
    with pytest.raises(InvalidInstrumentKey) as info:
        InstrumentKey.parse(42)  # type: ignore[arg-type]
    assert info.value.details["part"] == "text"
    assert info.value.instrument_key is None


def test_direct_construction_is_validated_the_same_way() -> None:
    with pytest.raises(InvalidInstrumentKey) as info:
        InstrumentKey(venue="binance", instrument_type=InstrumentType.SPOT_PAIR, payload="BTC-USDT")
    assert info.value.details["part"] == "venue"
    with pytest.raises(InvalidInstrumentKey) as info:
        InstrumentKey(venue="BINANCE", instrument_type="SPOT_PAIR", payload="BTC-USDT")  # type: ignore[arg-type]
    assert info.value.details["part"] == "instrument_type"
    with pytest.raises(InvalidInstrumentKey) as info:
        InstrumentKey(
            venue="BETFAIR",
            instrument_type=InstrumentType.BTTS,
            payload="L:20250315T1500:A-B",
            asset_class="FOOTBALL",  # type: ignore[arg-type]
        )
    assert info.value.details["part"] == "asset_class"
    with pytest.raises(InvalidInstrumentKey) as info:
        InstrumentKey(
            venue="BINANCE", instrument_type=InstrumentType.SPOT_PAIR, payload="BTC-USDT", suffix=""
        )
    assert info.value.details["part"] == "suffix"


def test_venue_codes_may_hold_digits_dashes_and_underscores() -> None:
    for venue in ("AAVE_V3_ETH", "UNISWAPV3-ETH", "1INCH", "A", "B2C2"):
        assert InstrumentKey.parse(f"{venue}:SPOT_ASSET:ETH").venue == venue


@pytest.mark.parametrize(
    "text",
    [
        # a venue named like an instrument type behind an asset-class prefix
        "EQUITY:INDEX:EQUITY:AAPL-USD",
        "HORSE_RACING:WIN:BTTS:L:20250315T1500:A-B",
        "DEFI:POOL:POOL:ETH-USDT@ETHEREUM",
        # an asset-class name used as a venue
        "FOOTBALL:SPOT_ASSET:BTC",
        "FOOTBALL:FOOTBALL:MATCH_WINNER:L:20250315T1500:A-B",
        # a league named like an instrument type
        "FOOTBALL:MATCH_WINNER:BTTS:20250315T1500:A-B",
    ],
)
def test_ambiguous_looking_keys_still_round_trip(text: str) -> None:
    key = InstrumentKey.parse(text)
    assert str(key) == text
    assert InstrumentKey.parse(str(key)) == key
