"""``nautilus-ext ib contracts|account`` (ib_async) against the IB Gateway stand-in."""

from __future__ import annotations

import json
from decimal import Decimal

from typer.testing import CliRunner

from nautilus_ext.cli import app
from nautilus_ext_testkit.fake_ib import FakeIBGateway

runner = CliRunner()


def test_ib_contracts_lists_tradable_months_with_multiplier_and_last_trade_date(
    fake_ib: FakeIBGateway,
) -> None:
    result = runner.invoke(app, ["ib", "contracts", "ES", "--port", str(fake_ib.port), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    # expired months (before the stand-in's today, 2024-06-03) are not tradable
    assert [r["local_symbol"] for r in rows][:3] == ["ESM4", "ESU4", "ESZ4"]
    esz4 = rows[2]
    assert (esz4["last_trade_date"], esz4["contract_month"], esz4["multiplier"]) == (
        "20241220",
        "202412",
        "50",
    )
    assert esz4["instrument_key"] == "CME:FUTURE:SP500-USD-241220@LIN"
    assert all(r["last_trade_date"] >= "20240603" for r in rows)
    assert [r["last_trade_date"] for r in rows] == sorted(r["last_trade_date"] for r in rows)


def test_ib_contracts_table_for_another_exchange(fake_ib: FakeIBGateway) -> None:
    result = runner.invoke(app, ["ib", "contracts", "ZN"], env={"IB_PORT": str(fake_ib.port)})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("local symbol")
    znu4 = next(line for line in lines if line.startswith("ZNU4"))
    assert "CBOT" in znu4
    assert "1000" in znu4
    assert "CME:FUTURE:ZN-USD-" in znu4


def test_ib_account_shows_balances_and_margin_without_the_account_id(fake_ib: FakeIBGateway) -> None:
    fake_ib.trade("ESZ4", 5000.0)  # a quote for the margin estimate
    fake_ib.positions[fake_ib.contract("ESZ4").con_id] = (fake_ib.max_order_quantity / 50, 250_000.0)
    result = runner.invoke(app, ["ib", "account", "--port", str(fake_ib.port), "--json"])
    assert result.exit_code == 0, result.output
    (summary,) = json.loads(result.stdout)
    assert fake_ib.account not in result.stdout
    assert summary["account"] == "DU*****67"
    values = {k: Decimal(v) for k, v in summary["values"].items()}
    assert values["NetLiquidation"] == Decimal(1_000_000)
    # 2 ES at 5000 x 50, 5% initial margin; maintenance 90% of it
    assert values["InitMarginReq"] == Decimal(25_000)
    assert values["MaintMarginReq"] == Decimal(22_500)
    assert values["AvailableFunds"] == Decimal(975_000)


def test_unknown_root_and_unreachable_gateway_are_typed_errors(fake_ib: FakeIBGateway) -> None:
    bad = runner.invoke(app, ["ib", "contracts", "XX", "--port", str(fake_ib.port)])
    assert bad.exit_code == 2
    assert "[INVALID_INSTRUMENT] unknown futures root 'XX'" in bad.stderr
    port = fake_ib.port
    fake_ib.stop()
    down = runner.invoke(app, ["ib", "account", "--port", str(port), "--timeout", "2"])
    assert down.exit_code == 2
    assert "[VENUE_UNAVAILABLE]" in down.stderr
