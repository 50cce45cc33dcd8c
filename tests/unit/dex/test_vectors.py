"""``nautilus-ext dex check-vectors``: the v3-core swap-vector snapshot replayed with the pure math."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from nautilus_ext.cli import app
from nautilus_ext.dex.vectors import encode_price_sqrt
from nautilus_ext.dex.vectors import format_price
from nautilus_ext.dex.vectors import format_token_amount
from nautilus_ext.dex.vectors import to_precision5

VECTORS = "uniswap-v3-core/test/__snapshots__/UniswapV3Pool.swaps.vectors.json"
runner = CliRunner()


def _vectors(shared_data: Path) -> dict[str, dict[str, object]]:
    data: dict[str, dict[str, object]] = json.loads((shared_data / VECTORS).read_text())
    return data


def test_every_shared_vector_matches(shared_data: Path) -> None:
    result = runner.invoke(app, ["dex", "check-vectors", str(shared_data / VECTORS)])
    n = len(_vectors(shared_data))
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1] == f"{n}/{n} cases match"
    assert len(lines) == n + 1
    assert all(line.startswith("match ") for line in lines[:-1])


def test_a_changed_amount_is_a_mismatch_naming_the_field(shared_data: Path, tmp_path: Path) -> None:
    data = _vectors(shared_data)
    name = next(k for k, v in data.items() if "amount1Delta" in v)
    data[name]["amount1Delta"] = str(int(str(data[name]["amount1Delta"])) + 1)
    path = tmp_path / "v.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["dex", "check-vectors", str(path)])
    assert result.exit_code == 1
    bad = [line for line in result.output.splitlines() if line.startswith("mismatch")]
    assert len(bad) == 1
    assert name in bad[0]
    assert "amount1Delta" in bad[0]
    assert result.output.strip().endswith(f"{len(data) - 1}/{len(data)} cases match")


def test_an_expected_revert_our_math_does_not_refuse_is_a_mismatch(shared_data: Path, tmp_path: Path) -> None:
    data = _vectors(shared_data)
    ok_name = next(k for k, v in data.items() if "swapError" not in v)
    err_name = next(k for k, v in data.items() if "swapError" in v)
    data[ok_name] = dict(data[err_name])  # a swap that succeeds, recorded as a revert
    data[err_name]["swapError"] = "VM Exception while processing transaction: revert AS"  # wrong reason
    path = tmp_path / "v.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["dex", "check-vectors", str(path)])
    assert result.exit_code == 1
    bad = {
        line.split(":")[0].removeprefix("mismatch").strip()
        for line in result.output.splitlines()
        if line.startswith("mismatch")
    }
    assert bad == {ok_name, err_name}


def test_an_unknown_test_name_is_a_mismatch(shared_data: Path, tmp_path: Path) -> None:
    data = _vectors(shared_data)
    first = next(iter(data.values()))
    path = tmp_path / "v.json"
    path.write_text(
        json.dumps({"UniswapV3Pool swap tests no such pool swap exactly 1.0000 token0 for token1 1": first})
    )
    result = runner.invoke(app, ["dex", "check-vectors", str(path)])
    assert result.exit_code == 1
    assert "unknown test name" in result.output
    assert "0/1 cases match" in result.output


def test_bad_files_are_typed_errors_not_tracebacks(tmp_path: Path) -> None:
    cases = {
        "missing.json": None,
        "notjson.json": "{not json",
        "list.json": "[1, 2]",
        "empty.json": "{}",
        "entry.json": json.dumps({"x 1": 5}),
        "field.json": json.dumps({"x 1": {"amount0Before": "1"}}),
        "type.json": json.dumps(
            {
                "x 1": {
                    "swapError": "revert SPL",
                    "poolBalance0": [],
                    "poolBalance1": "1",
                    "poolPriceBefore": "1",
                    "tickBefore": 0,
                }
            }
        ),
    }
    for name, text in cases.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        result = runner.invoke(app, ["dex", "check-vectors", str(path)])
        assert result.exit_code == 2, (name, result.output)
        assert "[INVALID_CONFIG]" in result.output, name
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_formatting_follows_the_test_suite() -> None:
    assert format_token_amount(10**18) == "1.0000"
    assert format_token_amount(1000) == "0.0000000000000010000"
    assert format_price(encode_price_sqrt(5, 2)) == "2.5000"
    assert format_price(encode_price_sqrt(50, 100)) == "0.50000"
    assert format_price(encode_price_sqrt(1, 2**127)) == "0.0000000000000000000000000000000000000059000"
    assert format_price(encode_price_sqrt(2**127, 1)) == "1.7014e+38"
    assert to_precision5(Decimal("12345.6")) == "12346"
    assert to_precision5(Decimal("-0.123456")) == "-0.12346"
    assert encode_price_sqrt(1, 1) == 2**96


def test_dex_group_is_on_the_command_line() -> None:
    assert "dex" in runner.invoke(app, ["--help"]).output
    result = runner.invoke(app, ["dex", "--help"])
    assert result.exit_code == 0
    assert "check-vectors" in result.output
