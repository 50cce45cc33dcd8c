"""
The carry report over stored position records, on SQLite and PostgreSQL: every number checked
against a hand computation of a small fixed scenario (one closed position, one open position
with a partial fill neutralised), the records idempotent, the HTML holding the figures.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.persistence import Database
from nautilus_ext.persistence.models import PositionFill
from nautilus_ext.persistence.models import StrategyPosition
from nautilus_ext.persistence.models import VenueMargin
from nautilus_ext.persistence.records import PositionRecords
from nautilus_ext.persistence.repository import StrategyRepository
from nautilus_ext.reports.carry import attribute
from nautilus_ext.reports.carry import leg_imbalance
from nautilus_ext.reports.carry import summarise
from nautilus_ext.reports.carry import write_carry_report
from nautilus_ext.strategies.position_records import position_mark
from nautilus_ext.strategies.position_records import venue_margin

T0 = datetime(2024, 1, 1, 23, 0, tzinfo=UTC)
D = Decimal
BN, BY = "BINANCE-FUTURES", "BYBIT"


def _position(
    repo: StrategyRepository, long_venue: str, short_venue: str, at: datetime, **kw: object
) -> uuid.UUID:
    return repo.add_position(
        StrategyPosition(
            strategy_name="funding_carry",
            symbol="BTC",
            long_venue=long_venue,
            short_venue=short_venue,
            size_usd=D("6000"),
            entry_long_rate=D("0.0001"),
            entry_short_rate=D("0.00025"),
            entry_divergence=D("0.00001875"),
            opened_at=at,
            status=str(kw.get("status", "open")),
            exit_reason=kw.get("exit_reason"),  # type: ignore[arg-type]
            closed_at=kw.get("closed_at"),  # type: ignore[arg-type]
        )
    )


def _fill(
    pid: uuid.UUID, leg: str, side: str, qty: str, price: str, ref: str, fee: str, at: datetime, **kw: str
) -> PositionFill:
    venue = kw.get("venue", BN if leg == "LONG" else BY)
    return PositionFill(
        position_id=pid,
        leg=leg,
        intent=kw.get("intent", "ENTRY"),
        venue=venue,
        instrument_key=f"{venue}:PERPETUAL:BTC-USDT@LIN",
        side=side,
        quantity=D(qty),
        price=D(price),
        quote_currency="USDT",
        fee=D(fee),
        fee_currency="USDT",
        reference_price=D(ref),
        group_id="g",
        trade_id=kw.get("trade_id", f"{leg}-{side}-{at.timestamp()}"),
        ts=at,
    )


def _scenario(database: Database) -> tuple[uuid.UUID, uuid.UUID]:
    repo = StrategyRepository(database)
    records = PositionRecords(database)
    # P1: long Binance / short Bybit 0.1 BTC, opened, funded once on both legs, closed
    p1 = _position(
        repo, BN, BY, T0, status="closed", exit_reason="MAX_HOLD", closed_at=T0 + timedelta(hours=9)
    )
    m = timedelta(minutes=1)
    p1_fills = [
        _fill(p1, "LONG", "BUY", "0.1", "60010.0", "60000.0", "3.0005", T0),
        _fill(p1, "SHORT", "SELL", "0.1", "60090.0", "60100.0", "3.0045", T0 + m),
        _fill(p1, "LONG", "SELL", "0.1", "60500.0", "60510.0", "3.025", T0 + 540 * m, intent="EXIT"),
        _fill(p1, "SHORT", "BUY", "0.1", "60560.0", "60570.0", "3.028", T0 + 541 * m, intent="EXIT"),
    ]
    assert records.record_fills(p1_fills) == 4
    assert records.record_fills(p1_fills) == 0  # a group recorded twice keeps one row per fill
    for venue, amount in ((BN, "-0.60005"), (BY, "1.50225")):
        repo.record_funding_payment(
            position_id=p1,
            venue=venue,
            symbol="BTC",
            funding_rate=D("0.0001"),
            amount=D(amount),
            currency="USDT",
            payment_time=T0 + timedelta(hours=1),
        )
    # P2: long Bybit 0.05, short Binance only 0.04 filled, 0.01 of the long neutralised; still open
    p2 = _position(repo, BY, BN, T0 + timedelta(hours=10))
    t2 = T0 + timedelta(hours=10)
    records.record_fills(
        [
            _fill(p2, "LONG", "BUY", "0.05", "60000.0", "59995.0", "1.5", t2, venue=BY),
            _fill(p2, "SHORT", "SELL", "0.04", "60020.0", "60025.0", "1.2", t2 + m, venue=BN),
            _fill(
                p2,
                "LONG",
                "SELL",
                "0.01",
                "59990.0",
                "59995.0",
                "0.3",
                t2 + 2 * m,
                venue=BY,
                intent="NEUTRALISE",
            ),
        ]
    )
    repo.record_funding_payment(
        position_id=p2,
        venue=BN,
        symbol="BTC",
        funding_rate=D("0.0001"),
        amount=D("0.123456789012"),
        currency="USDT",
        payment_time=t2 + timedelta(hours=6),
    )
    for minutes, (long_px, short_px) in ((3, ("60050.0", "60040.0")), (60, ("60100.0", "60110.0"))):
        mark = position_mark(
            p2,
            t2 + minutes * m,
            divergence=D("0.00002"),
            rates=(D("0.00001"), D("0.00003")),
            quantities=(D("0.04"), D("-0.04")),
            prices=(D(long_px), D(short_px)),
            funding=D(0),
        )
        records.record_mark(mark)
        records.record_mark(mark)  # the same time again replaces, never duplicates
    return p1, p2


@pytest.fixture
def database(db_url: str) -> Database:
    database = Database.open(db_url)
    yield database  # type: ignore[misc]
    database.close()


def test_attribution_matches_a_hand_computation(database: Database) -> None:
    p1, p2 = _scenario(database)
    history = PositionRecords(database).history(["funding_carry"])
    assert len(history.marks) == 2
    closed, still_open = attribute(history)
    assert closed.position_id == p1
    assert still_open.position_id == p2
    # P1: funding = sum of the settlements; trading = sells - buys
    assert closed.funding == D("0.90220000")  # -0.60005 + 1.50225
    assert closed.trading == D("2.00000000")  # long 6050 - 6001, short 6009 - 6056
    assert closed.fees == D("12.05800000")  # 3.0005 + 3.0045 + 3.025 + 3.028
    assert closed.slippage == D("2.00000000")  # 1 + 1 + 1 - 1 (the last buy beat its mid)
    assert closed.net == D("-9.15580000")
    assert (closed.open_long, closed.open_short, closed.unmarked) == (0, 0, ())
    # P2: 0.04 left on each leg, valued at the latest mark (long 60100, short 60110)
    assert still_open.funding == D("0.12345679")  # 12 places rounded half-even to USDT's 8
    assert still_open.trading == D("0.30000000")  # long 0.04 x 100 - 0.01 x 10, short -0.04 x 90
    assert still_open.fees == D("3.00000000")
    assert still_open.slippage == D("0.50000000")  # 0.25 + 0.2 + 0.05
    assert still_open.net == D("-2.57654321")
    assert (still_open.open_long, still_open.open_short) == (D("0.04"), D("-0.04"))
    (total,) = summarise([closed, still_open])
    assert total.as_row() == {
        "currency": "USDT",
        "positions": "2",
        "funding": "1.02565679",
        "trading": "2.30000000",
        "fees": "15.05800000",
        "slippage": "2.50000000",
        "net": "-11.73234321",
    }
    steps = leg_imbalance([f for f in history.fills if f.position_id == p2])
    assert [s[3] for s in steps] == [D("0.05"), D("0.01"), D("0.00")]


def test_report_html_holds_the_figures_and_exact_numbers(database: Database, tmp_path: Path) -> None:
    _scenario(database)
    records = PositionRecords(database)
    for venue, ratio in ((BN, "0.5"), (BY, "0.18")):
        records.record_margin(
            _margin(
                venue, T0 + timedelta(hours=10, minutes=3), equity=D(ratio) * D("2400"), notional=D("2400")
            )
        )
    report = write_carry_report(
        tmp_path / "carry.html", records.history(["funding_carry"]), title="Carry test"
    )
    text = report.path.read_text(encoding="utf-8")
    for heading in (
        "Carry attribution per position",
        "Divergence (short minus long funding, APR)",
        "Leg imbalance at every fill time",
        "Margin ratio per venue",
    ):
        assert heading in text
    assert text.count('class="plotly-graph-div"') == 4
    data = json.loads(
        re.search(r"<script type='application/json' id='carry-data'>(.*?)</script>", text).group(1)
    )  # type: ignore[union-attr]
    assert data["summary"] == [s.as_row() for s in report.summary]
    assert data["summary"][0]["net"] == "-11.73234321"
    assert [p["exit_reason"] for p in data["positions"]] == ["MAX_HOLD", ""]
    summary_table = re.search(r"<table id='carry-summary'>(.*?)</table>", text).group(1)  # type: ignore[union-attr]
    assert "<td>-11.73234321</td>" in summary_table
    assert "<td>15.058</td>" in summary_table
    assert BN in text
    assert BY in text


def _margin(venue: str, ts: datetime, *, equity: Decimal, notional: Decimal) -> VenueMargin:
    margin = venue_margin("funding_carry", venue, ts, currency="USDT", equity=equity, notional=notional)
    assert margin.margin_ratio == (equity / notional).quantize(D("1e-12"))
    return margin


def test_a_flat_venue_has_no_ratio() -> None:
    from nautilus_ext.strategies.position_records import margin_ratio

    assert margin_ratio(D("100"), D("0")) is None
    assert margin_ratio(D("100"), D("400")) == D("0.25")


def test_cli_writes_the_report_and_refuses_bad_input(db_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from nautilus_ext.cli import app

    database = Database.open(db_url)
    try:
        _scenario(database)
    finally:
        database.close()
    out = tmp_path / "carry.html"
    runner = CliRunner()
    result = runner.invoke(
        app, ["carry", "report", "--db", db_url, "--out", str(out), "--strategy", "funding_carry"]
    )
    assert result.exit_code == 0, result.output
    assert (
        "2 positions (USDT): funding 1.02565679, trading 2.3, fees 15.058, slippage 2.5, net -11.73234321"
        in result.output
    )
    assert "id='carry-data'" in out.read_text(encoding="utf-8")
    # only the positions opened in the window: the closed one
    later = runner.invoke(
        app, ["carry", "report", "--db", db_url, "--out", str(out), "--until", "2024-01-02T08:00:00+00:00"]
    )
    assert "1 positions (USDT): funding 0.9022," in later.output
    none = runner.invoke(
        app, ["carry", "report", "--db", db_url, "--out", str(out), "--strategy", "perp_spread"]
    )
    assert none.exit_code == 0
    assert "no positions in" in none.output
    bad = runner.invoke(app, ["carry", "report", "--db", db_url, "--out", str(out), "--since", "2024-01-02"])
    assert bad.exit_code == 2
    assert "[INVALID_CONFIG]" in bad.output
    assert "has no time zone" in bad.output


def test_legs_filled_at_one_instant_count_together() -> None:
    pid = uuid.uuid4()
    fills = [
        _fill(pid, "LONG", "BUY", "0.2", "60000.0", "60000.0", "0", T0),
        _fill(pid, "SHORT", "SELL", "0.2", "60010.0", "60010.0", "0", T0),
        _fill(pid, "SHORT", "BUY", "0.05", "60010.0", "60010.0", "0", T0 + timedelta(seconds=1)),
    ]
    assert [(s[1], s[2], s[3]) for s in leg_imbalance(fills)] == [
        (D("0.2"), D("-0.2"), D("0.0")),
        (D("0.2"), D("-0.15"), D("0.05")),
    ]
