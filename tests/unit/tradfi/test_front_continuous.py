"""Front-month keys resolved from real Databento definitions; continuous series, exact and real."""

from __future__ import annotations

import warnings
from datetime import UTC
from datetime import date
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.tradfi.continuous import Adjustment
from nautilus_ext.tradfi.continuous import PricePoint
from nautilus_ext.tradfi.continuous import build_continuous
from nautilus_ext.tradfi.continuous import price_points
from nautilus_ext.tradfi.front import FrontMonthResolver
from nautilus_ext.tradfi.front import InstrumentContractProvider
from nautilus_ext.tradfi.front import RuleContractProvider
from nautilus_ext.tradfi.rolls import RollCalendar
from nautilus_ext.tradfi.trade_date import trade_date
from nautilus_ext.tradfi.trade_date import trade_date_start_ns

ES_FRONT = InstrumentKey.parse("CME:FUTURE:SP500-USD-FRONT@LIN")
D = Decimal


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 1_000_000_000


def _load(path: Path, **kwargs: Any) -> list[Any]:
    from nautilus_trader.adapters.databento.loaders import DatabentoDataLoader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return list(DatabentoDataLoader().from_dbn_file(path, as_legacy_cython=True, **kwargs))


@pytest.fixture(scope="module")
def cal() -> RollCalendar:
    return RollCalendar.default()


@pytest.fixture(scope="module")
def databento(shared_data: Path) -> Path:
    return shared_data / "nautilus_trader" / "tests" / "test_data" / "databento"


@pytest.fixture(scope="module")
def definitions(databento: Path) -> list[Any]:
    files = [
        "definition-glbx-es-fut.dbn.zst",
        "historical_bars_catalog/databento/futures_definition.dbn.zst",
        "options_catalog/databento/futures_definition.dbn.zst",
        "futures_settlement/databento/futures_settlement_definition.dbn.zst",
    ]
    return [i for f in files for i in _load(databento / f)]


# -- the key grammar ------------------------------------------------------------------------------


def test_front_key_grammar() -> None:
    assert ES_FRONT.front_rank == 1
    assert ES_FRONT.is_continuous
    assert ES_FRONT.expiry_date is None
    second = InstrumentKey.parse("CME:FUTURE:SP500-USD-FRONT2@LIN")
    assert second.front_rank == 2
    assert str(second) == "CME:FUTURE:SP500-USD-FRONT2@LIN"
    listed = InstrumentKey.parse("CME:FUTURE:SP500-USD-241220@LIN")
    assert not listed.is_continuous
    assert listed.front_rank is None
    assert listed.front_month() == ES_FRONT
    assert listed.front_month(2) == second
    for bad in (
        "CME:FUTURE:SP500-USD-FRONT1@LIN",
        "CME:FUTURE:SP500-USD-FRONT10@LIN",
        "CME:FUTURE:SP500-USD-FRONT",
        "CME:OPTION:SP500-USD-FRONT-5000-CALL@LIN",
    ):
        with pytest.raises(InvalidInstrumentKey):
            InstrumentKey.parse(bad)
    with pytest.raises(InvalidInstrumentKey, match="only a future"):
        InstrumentKey.parse("CME:OPTION:SP500-USD-240621-5000-CALL@LIN").front_month()


def test_trade_dates_start_at_five_pm_chicago() -> None:
    assert trade_date(_ns("2024-03-06T22:59:59")) == date(2024, 3, 6)  # 16:59 CST
    assert trade_date(_ns("2024-03-06T23:00:00")) == date(2024, 3, 7)  # 17:00 CST
    assert trade_date_start_ns(date(2024, 3, 7)) == _ns("2024-03-06T23:00:00")
    assert trade_date_start_ns(date(2024, 6, 13)) == _ns("2024-06-12T22:00:00")  # CDT


# -- resolution from real definitions --------------------------------------------------------------


def test_listed_definitions_follow_the_expiry_rule(cal: RollCalendar, definitions: list[Any]) -> None:
    provider = InstrumentContractProvider(cal, definitions)
    listed = {c.symbol: c for c in provider.listed_contracts("ES")}
    # ESM3 comes twice in its definition file (and ESM4/ESH6 in two files): each listed once
    assert sorted(c.symbol for c in provider.listed_contracts("ES")) == [
        "ESH6",
        "ESM3",
        "ESM4",
        "ESU4",
        "ESZ5",
    ]
    assert {c.symbol for c in provider.listed_contracts("NQ")} == {"NQM4", "NQU4"}
    for c in [*listed.values(), *provider.listed_contracts("NQ")]:
        # the rule's last trading day is the real definition's expiration date
        assert cal.contract(c.root, c.year, c.month).last_trade == c.last_trade, c.symbol
    assert listed["ESZ5"].key == InstrumentKey.parse("CME:FUTURE:SP500-USD-251219@LIN")
    assert listed["ESZ5"].instrument_id == "ESZ5.GLBX"
    assert listed["ESZ5"].roll_date == date(2025, 12, 11)


def test_front_month_resolves_from_definitions(cal: RollCalendar, definitions: list[Any]) -> None:
    resolver = FrontMonthResolver(cal, InstrumentContractProvider(cal, definitions))
    # the real bbo window of the settlement data: ESZ5 expires that morning, long rolled
    assert resolver.resolve(ES_FRONT, _ns("2025-12-19T14:30:00")).symbol == "ESH6"
    assert resolver.resolve(ES_FRONT, _ns("2025-12-10T15:00:00")).symbol == "ESZ5"
    # the roll date starts at 17:00 CT the evening before (23:00 UTC in winter)
    assert resolver.resolve(ES_FRONT, _ns("2025-12-10T22:59:00")).symbol == "ESZ5"
    assert resolver.resolve(ES_FRONT, _ns("2025-12-10T23:00:00")).symbol == "ESH6"
    assert resolver.resolve(ES_FRONT.front_month(2), _ns("2025-12-10T15:00:00")).symbol == "ESH6"
    # the options catalog's day: ESM4 is front, ESU4 second
    assert resolver.resolve(ES_FRONT, _ns("2024-05-09T10:00:00")).instrument_id == "ESM4.GLBX"
    nq = InstrumentKey.parse("CME:FUTURE:NASDAQ100-USD-FRONT@LIN")
    assert resolver.resolve(nq, _ns("2024-06-13T12:00:00")).symbol == "NQU4"
    # a listed key resolves to itself; an unlisted one and a dead front are errors
    esz5 = InstrumentKey.parse("CME:FUTURE:SP500-USD-251219@LIN")
    assert resolver.resolve(esz5, 0).symbol == "ESZ5"
    with pytest.raises(InvalidInstrumentKey, match="not a listed contract"):
        resolver.resolve(InstrumentKey.parse("CME:FUTURE:SP500-USD-250321@LIN"), 0)
    with pytest.raises(InvalidInstrumentKey, match="no listed ES contract"):
        resolver.resolve(ES_FRONT, _ns("2026-03-20T12:00:00"))
    with pytest.raises(InvalidInstrumentKey, match="roll calendar"):
        resolver.resolve(InstrumentKey.parse("CME:FUTURE:GOLD-USD-FRONT@LIN"), 0)
    schedule = resolver.schedule(ES_FRONT, _ns("2024-05-01T00:00:00"), _ns("2025-12-31T00:00:00"))
    assert [(t, c.symbol) for t, c in schedule] == [
        (_ns("2024-05-01T00:00:00"), "ESM4"),
        (_ns("2024-06-12T22:00:00"), "ESU4"),
        (_ns("2024-09-11T22:00:00"), "ESZ5"),  # ESZ4 and the 2025 contracts are not in the data
        (_ns("2025-12-10T23:00:00"), "ESH6"),
    ]


def test_rule_provider_lists_every_cycle_month(cal: RollCalendar) -> None:
    resolver = FrontMonthResolver(cal, RuleContractProvider(cal, date(2024, 1, 1), date(2024, 12, 31)))
    cl = InstrumentKey.parse("CME:FUTURE:WTI-USD-FRONT@LIN")
    schedule = resolver.schedule(cl, _ns("2024-01-02T00:00:00"), _ns("2024-11-30T00:00:00"))
    assert [c.symbol for _, c in schedule] == [f"CL{m}4" for m in "GHJKMNQUVXZ"] + ["CLF5"]
    assert schedule[1][1].instrument_id == "CLH4.XCME"


# -- continuous series ------------------------------------------------------------------------------


def _synthetic() -> dict[str, list[PricePoint]]:
    # three contracts, two rolls at t=3 and t=6; each contract also trades outside its span
    return {
        "A": [PricePoint(t, D(p)) for t, p in [(1, "100"), (2, "102"), (3, "104"), (4, "105")]],
        "B": [PricePoint(t, D(p)) for t, p in [(2, "108"), (3, "110"), (4, "111"), (5, "109"), (6, "112")]],
        "C": [PricePoint(t, D(p)) for t, p in [(5, "111"), (6, "116"), (7, "118")]],
    }


def test_back_adjusted_exact() -> None:
    series = build_continuous(_synthetic(), [(0, "A"), (3, "B"), (6, "C")], Adjustment.BACK)
    assert [r.gap for r in series.rolls] == [D(6), D(4)]  # 110-104, 116-112
    assert [(p.ts_ns, p.instrument_id, p.raw, p.adjusted) for p in series.points] == [
        (1, "A", D(100), D(110)),
        (2, "A", D(102), D(112)),
        (3, "B", D(110), D(114)),
        (4, "B", D(111), D(115)),
        (5, "B", D(109), D(113)),
        (6, "C", D(116), D(116)),
        (7, "C", D(118), D(118)),
    ]
    assert series.factor_offset(2) == (D(1), D(10))


def test_ratio_adjusted_exact() -> None:
    series = build_continuous(_synthetic(), [(0, "A"), (3, "B"), (6, "C")], Adjustment.RATIO)
    r1, r2 = D(110) / D(104), D(116) / D(112)
    assert [r.ratio for r in series.rolls] == [r1, r2]
    adjusted = {p.ts_ns: p.adjusted for p in series.points}
    assert adjusted[1] == D(100) * r1 * r2
    assert adjusted[4] == D(111) * r2
    assert adjusted[7] == D(118)
    # returns are preserved inside a contract's span
    assert adjusted[2] / adjusted[1] == pytest.approx(D(102) / D(100), rel=D("1e-25"))
    raw = build_continuous(_synthetic(), [(0, "A"), (3, "B"), (6, "C")], Adjustment.NONE)
    assert [p.adjusted for p in raw.points] == [p.raw for p in raw.points]


def test_continuous_errors() -> None:
    with pytest.raises(InvalidConfig, match="at least one"):
        build_continuous({}, [], Adjustment.BACK)
    with pytest.raises(InvalidConfig, match="increasing"):
        build_continuous(_synthetic(), [(3, "A"), (3, "B")], Adjustment.BACK)
    with pytest.raises(InvalidConfig, match="C has no price at or before"):
        build_continuous(_synthetic(), [(0, "A"), (3, "C")], Adjustment.BACK)


def test_back_adjusted_real_es_roll_at_expiry(databento: Path, definitions: list[Any]) -> None:
    # real CME bbo-1m of ESZ5 and ESH6 around ESZ5's final settlement (14:30 UTC, 19 Dec 2025)
    name = "futures_settlement_bbo-1m_2025-12-19T14-25-00_2025-12-19T14-35-00.dbn.zst"
    quotes = _load(databento / "futures_settlement" / "databento" / name, price_precision=2)
    prices = price_points(quotes)
    expiry_ns = next(i.expiration_ns for i in definitions if i.id.value == "ESZ5.GLBX")
    start = _ns("2025-12-19T14:25:00")
    series = build_continuous(prices, [(start, "ESZ5.GLBX"), (expiry_ns, "ESH6.GLBX")], Adjustment.BACK)
    (roll,) = series.rolls
    assert (roll.old_price, roll.new_price) == (D("6798.00"), D("6847.375"))  # the 14:30 mids
    assert roll.gap == D("49.375")
    before = [p for p in series.points if p.ts_ns < expiry_ns]
    after = [p for p in series.points if p.ts_ns >= expiry_ns]
    assert [p.instrument_id for p in before] == ["ESZ5.GLBX"] * 5
    assert [p.instrument_id for p in after] == ["ESH6.GLBX"] * 5
    assert before[0].raw == D("6792.00")
    assert before[0].adjusted == D("6841.375")
    assert all(p.adjusted == p.raw + roll.gap for p in before)
    assert all(p.adjusted == p.raw for p in after)
    # the spliced series has no calendar-spread jump: its step at the roll is ESH6's own move
    assert after[0].adjusted - before[-1].adjusted == D("6847.375") - (D("6793.125") + roll.gap)


def _future(symbol: str, underlying: str, expiry: str, venue: str = "CME") -> Any:
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.enums import AssetClass
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.identifiers import Symbol
    from nautilus_trader.model.identifiers import Venue
    from nautilus_trader.model.instruments import FuturesContract
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity

    return FuturesContract(
        instrument_id=InstrumentId(Symbol(symbol.replace(" ", "")), Venue(venue)),
        raw_symbol=Symbol(symbol),
        asset_class=AssetClass.INDEX,
        currency=USD,
        price_precision=2,
        price_increment=Price.from_str("0.25"),
        multiplier=Quantity.from_int(50),
        lot_size=Quantity.from_int(1),
        underlying=underlying,
        activation_ns=0,
        expiration_ns=_ns(expiry),
        ts_event=0,
        ts_init=0,
    )


def test_broker_style_contract_details(cal: RollCalendar) -> None:
    # IB's futures: local symbols as raw symbols, the underlying IB's own name ("EUR" for 6E);
    # expirations at the session close in UTC
    contracts = [
        _future("ESZ4", "ES", "2024-12-20T22:00:00"),
        _future("ESH5", "ES", "2025-03-21T21:00:00"),
        _future("6EZ4", "EUR", "2024-12-16T21:00:00"),
        _future("ZN   DEC 24", "ZN", "2024-12-19T20:00:00"),
        _future("ESV4", "ES", "2024-10-18T21:00:00"),  # a serial month: not in ES's roll cycle
        _future("GCZ4", "GC", "2024-12-27T18:30:00"),  # no roll rules for gold
    ]
    provider = InstrumentContractProvider(cal, contracts)
    assert [c.symbol for c in provider.listed_contracts("ES")] == ["ESZ4", "ESH5"]
    (sixe,) = provider.listed_contracts("6E")
    assert (sixe.key, sixe.instrument_id) == (
        InstrumentKey.parse("CME:FUTURE:EURUSD-USD-241216@LIN"),
        "6EZ4.CME",
    )
    (zn,) = provider.listed_contracts("ZN")
    assert (zn.year, zn.month, zn.roll_date) == (2024, 12, date(2024, 11, 26))  # 2 days before first notice
    resolver = FrontMonthResolver(cal, provider)
    assert resolver.resolve(ES_FRONT, _ns("2024-12-12T12:00:00")).symbol == "ESH5"
