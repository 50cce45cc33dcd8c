"""Roll calendars against CME's published rules: a full year of ES and CL, plus ZN and 6E."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.tradfi.business_days import BusinessCalendar
from nautilus_ext.tradfi.business_days import cme_holidays
from nautilus_ext.tradfi.business_days import easter_sunday
from nautilus_ext.tradfi.rolls import RollCalendar
from nautilus_ext.tradfi.rolls import RollsConfig

D = date

# hand-listed from the CME contract specifications (see each rule in nautilus_ext.tradfi.rolls):
# ES: third Friday of March, June, September, December; roll = the Thursday 8 days before.
ES_2024_2025 = [
    ("ESH4", D(2024, 3, 15), D(2024, 3, 7)),
    ("ESM4", D(2024, 6, 21), D(2024, 6, 13)),
    ("ESU4", D(2024, 9, 20), D(2024, 9, 12)),
    ("ESZ4", D(2024, 12, 20), D(2024, 12, 12)),
    ("ESH5", D(2025, 3, 21), D(2025, 3, 13)),
    ("ESM5", D(2025, 6, 20), D(2025, 6, 12)),
    ("ESU5", D(2025, 9, 19), D(2025, 9, 11)),
    ("ESZ5", D(2025, 12, 19), D(2025, 12, 11)),
]
# CL: 3 business days before the 25th of the prior month (4 when the 25th is no business day);
# roll = 2 business days before that. Holidays in play: Christmas 2023/2024, Presidents' Day,
# Juneteenth, Memorial weekend.
CL_2024 = [
    ("CLF4", D(2023, 12, 19), D(2023, 12, 15)),  # 25 Dec 2023 is Christmas: 4 back
    ("CLG4", D(2024, 1, 22), D(2024, 1, 18)),
    ("CLH4", D(2024, 2, 20), D(2024, 2, 15)),  # 25 Feb is a Sunday; 19 Feb Presidents' Day
    ("CLJ4", D(2024, 3, 20), D(2024, 3, 18)),
    ("CLK4", D(2024, 4, 22), D(2024, 4, 18)),
    ("CLM4", D(2024, 5, 21), D(2024, 5, 17)),  # 25 May is a Saturday
    ("CLN4", D(2024, 6, 20), D(2024, 6, 17)),  # roll skips Juneteenth
    ("CLQ4", D(2024, 7, 22), D(2024, 7, 18)),
    ("CLU4", D(2024, 8, 20), D(2024, 8, 16)),  # 25 Aug is a Sunday
    ("CLV4", D(2024, 9, 20), D(2024, 9, 18)),
    ("CLX4", D(2024, 10, 22), D(2024, 10, 18)),
    ("CLZ4", D(2024, 11, 20), D(2024, 11, 18)),
    ("CLF5", D(2024, 12, 19), D(2024, 12, 17)),  # 25 Dec is Christmas: 4 back
]
CL_2025_LAST_TRADE = {
    "CLG5": D(2025, 1, 21),
    "CLH5": D(2025, 2, 20),
    "CLJ5": D(2025, 3, 20),
    "CLK5": D(2025, 4, 22),
    "CLM5": D(2025, 5, 20),
    "CLN5": D(2025, 6, 20),
    "CLQ5": D(2025, 7, 22),
    "CLU5": D(2025, 8, 20),
    "CLV5": D(2025, 9, 22),
    "CLX5": D(2025, 10, 21),
    "CLZ5": D(2025, 11, 20),
    "CLF6": D(2025, 12, 19),
}
# ZN: last trade = 7th business day before the month's last business day; first notice = last
# business day of the month before; roll = 2 business days before first notice.
ZN_2024 = [
    ("ZNH4", D(2024, 3, 19), D(2024, 2, 29), D(2024, 2, 27)),  # 29 Mar 2024 is Good Friday
    ("ZNM4", D(2024, 6, 18), D(2024, 5, 31), D(2024, 5, 29)),
    ("ZNU4", D(2024, 9, 19), D(2024, 8, 30), D(2024, 8, 28)),
    ("ZNZ4", D(2024, 12, 19), D(2024, 11, 29), D(2024, 11, 26)),  # over Thanksgiving
]
SIXE_2024 = [
    ("6EH4", D(2024, 3, 18)),
    ("6EM4", D(2024, 6, 17)),
    ("6EU4", D(2024, 9, 16)),
    ("6EZ4", D(2024, 12, 16)),
]


@pytest.fixture(scope="module")
def cal() -> RollCalendar:
    return RollCalendar.default()


def _by_symbol(
    cal: RollCalendar, root: str, start: date, end: date
) -> dict[str, tuple[date, date, date | None]]:
    return {c.symbol: (c.last_trade, c.roll_date, c.first_notice) for c in cal.contracts(root, start, end)}


def test_es_two_years_of_expiries_and_rolls(cal: RollCalendar) -> None:
    got = _by_symbol(cal, "ES", D(2024, 1, 1), D(2025, 12, 31))
    assert got == {s: (last, roll, None) for s, last, roll in ES_2024_2025}
    rolls = cal.rolls("ES", D(2024, 1, 1), D(2024, 12, 31))
    assert [(d, a.symbol, b.symbol) for d, a, b in rolls] == [
        (D(2024, 3, 7), "ESH4", "ESM4"),
        (D(2024, 6, 13), "ESM4", "ESU4"),
        (D(2024, 9, 12), "ESU4", "ESZ4"),
        (D(2024, 12, 12), "ESZ4", "ESH5"),
    ]


def test_cl_full_year_of_expiries_and_rolls(cal: RollCalendar) -> None:
    got = _by_symbol(cal, "CL", D(2023, 12, 1), D(2024, 12, 31))
    assert got == {s: (last, roll, None) for s, last, roll in CL_2024}
    got_2025 = {s: v[0] for s, v in _by_symbol(cal, "CL", D(2025, 1, 1), D(2025, 12, 31)).items()}
    assert got_2025 == CL_2025_LAST_TRADE
    assert len(cal.rolls("CL", D(2024, 1, 1), D(2024, 12, 31))) == 12


def test_zn_first_notice_and_6e(cal: RollCalendar) -> None:
    got = _by_symbol(cal, "ZN", D(2024, 1, 1), D(2024, 12, 31))
    assert got == {s: (last, roll, notice) for s, last, notice, roll in ZN_2024}
    got_6e = {s: v[0] for s, v in _by_symbol(cal, "6E", D(2024, 1, 1), D(2024, 12, 31)).items()}
    assert got_6e == dict(SIXE_2024)


def test_active_contract_switches_on_the_roll_date(cal: RollCalendar) -> None:
    assert cal.active_contract("ES", D(2024, 3, 6)).symbol == "ESH4"
    assert cal.active_contract("ES", D(2024, 3, 7)).symbol == "ESM4"
    assert cal.active_contract("ES", D(2024, 12, 31)).symbol == "ESH5"
    assert cal.active_contract("CL", D(2024, 1, 1)).symbol == "CLG4"
    assert cal.active_contract("CL", D(2024, 1, 18)).symbol == "CLH4"
    assert cal.active_contract("ZN", D(2024, 2, 26)).symbol == "ZNH4"
    assert cal.active_contract("ZN", D(2024, 2, 27)).symbol == "ZNM4"


def test_keys_match_the_registry(cal: RollCalendar) -> None:
    # the canonical key's expiry is the last trading day, as the shipped registry has it
    reg = InstrumentRegistry.default()
    for symbol, key in [
        ("ESZ4", "CME:FUTURE:SP500-USD-241220@LIN"),
        ("ESU4", "CME:FUTURE:SP500-USD-240920@LIN"),
    ]:
        contract = cal.contract("ES", 2024, 12 if symbol == "ESZ4" else 9)
        assert contract.symbol == symbol
        assert contract.key == InstrumentKey.parse(key)
        assert reg.get(contract.key).exchange_raw_symbol == symbol
    assert cal.root_of(InstrumentKey.parse("CME:FUTURE:WTI-USD-241219@LIN")) == "CL"
    with pytest.raises(InvalidInstrumentKey, match="roll calendar"):
        cal.root_of(InstrumentKey.parse("CME:FUTURE:GOLD-USD-241227@LIN"))


def test_root_aliases_agree_with_the_venue() -> None:
    cal = RollCalendar.default()
    spec = InstrumentRegistry.default().venue("CME")
    for root, rules in cal.config.roots.items():
        assert spec.root_aliases.get(root) == rules.base_asset, root


def test_holidays_and_business_days() -> None:
    assert easter_sunday(2024) == D(2024, 3, 31)
    assert easter_sunday(2025) == D(2025, 4, 20)
    assert cme_holidays(2022) >= {D(2022, 6, 20), D(2022, 12, 26)}  # observed Mondays
    assert D(2021, 12, 31) not in cme_holidays(2022) | cme_holidays(2021)  # Saturday New Year
    cal = BusinessCalendar([D(2025, 1, 9)])
    assert not cal.is_business_day(D(2025, 1, 9))
    assert cal.is_business_day(D(2024, 12, 24))  # early close still settles
    assert cal.add_business_days(D(2024, 3, 28), 1) == D(2024, 4, 1)  # over Good Friday
    assert cal.business_days_between(D(2024, 12, 20), D(2024, 12, 27)) == 4
    assert cal.business_days_between(D(2024, 12, 27), D(2024, 12, 20)) == -4


@pytest.mark.parametrize(
    ("root", "change", "message"),
    [
        ("ES", {"months": "MHUZ"}, "calendar order"),
        ("ES", {"months": "HMUA"}, "month codes"),
        ("ES", {"roll_offset_business_days": 3}, "exactly one"),
        ("CL", {"roll_anchor": "FIRST_NOTICE"}, "first notice"),
        ("CL", {"expiry_rule": "THIRD_MONDAY"}, "expiry_rule"),
        ("CL", {"typo": 1}, "typo"),
    ],
)
def test_bad_root_rules_are_refused(
    tmp_path: Path, root: str, change: dict[str, object], message: str
) -> None:
    import yaml

    raw = RollCalendar.default().config.model_dump(mode="json")
    raw["roots"][root].update(change)
    path = tmp_path / "rolls.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(InvalidConfig, match=message):
        RollCalendar.from_yaml(path)


def test_unknown_root_and_month(cal: RollCalendar) -> None:
    with pytest.raises(InvalidConfig, match="no roll rules"):
        cal.spec("ZZ")
    with pytest.raises(InvalidConfig, match="lists no F"):
        cal.contract("ES", 2024, 1)
    with pytest.raises(ValueError, match="both map"):
        RollsConfig.model_validate(
            {
                "roots": {
                    r: {
                        "base_asset": "SP500",
                        "months": "H",
                        "expiry_rule": "EQUITY_INDEX",
                        "roll_offset_business_days": 1,
                        "session_calendar": "CME_Equity",
                    }
                    for r in ("ES", "MES")
                }
            }
        )
