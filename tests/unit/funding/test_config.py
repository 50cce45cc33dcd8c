"""The collector config: the shipped file loads, each rule fails with a typed error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.funding.cli import parse_time
from nautilus_ext.funding.config import load_collector_config
from nautilus_ext.funding.config import parse_collector_config

SHIPPED = Path(__file__).resolve().parents[3] / "configs" / "funding" / "collector.yaml"


def test_the_shipped_config_loads() -> None:
    config = load_collector_config(SHIPPED)
    assert [v.venue for v in config.venues] == ["BYBIT", "BINANCE", "OKX", "HYPERLIQUID"]
    assert config.poll_interval_secs == 60


def _venue(**kw: Any) -> dict[str, Any]:
    return {"exchange_id": "bybit", **kw}


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"venues": []}, "at least 1"),
        ({"venues": [_venue()], "surprise": 1}, "Extra inputs"),
        ({"venues": [_venue(exchange_id="kraken")]}, "no recorded funding convention"),
        ({"venues": [_venue(), _venue()]}, "venues listed twice"),
        ({"venues": [_venue(rest_url_override="http://x")]}, "both or neither"),
        (
            {"venues": [_venue(testnet=True, rest_url_override="http://x", ws_url_override="ws://x")]},
            "exclusive",
        ),
        ({"venues": [_venue(symbols=["BTC", "BTC"])]}, "duplicate symbols"),
        ({"venues": [_venue(symbols=[" BTC"])]}, "surrounding spaces"),
        ({"venues": [_venue()], "poll_interval_secs": 0}, "greater than 0"),
        ({"venues": [_venue()], "backoff_initial_ms": 5000, "backoff_max_ms": 100}, "exceeds"),
        ({"venues": [_venue(timeout_ms=-1)]}, "greater than 0"),
        ({"venues": [_venue(history_page_limit=5000)]}, "less than or equal"),
        ([1, 2], "expected a mapping"),
    ],
)
def test_each_rule_fails_typed(raw: Any, needle: str) -> None:
    with pytest.raises(InvalidConfig, match=needle):
        parse_collector_config(raw)


def test_unreadable_files_are_typed(tmp_path: Path) -> None:
    with pytest.raises(InvalidConfig, match="cannot read"):
        load_collector_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("venues: [\n")
    with pytest.raises(InvalidConfig, match="cannot read"):
        load_collector_config(bad)


def test_parse_time() -> None:
    now = 1_800_000_000 * 10**9
    assert parse_time("now", now_ns=now) == now
    assert parse_time("2d", now_ns=now) == now - 2 * 86_400 * 10**9
    assert parse_time("15m", now_ns=now) == now - 15 * 60 * 10**9
    assert parse_time("2025-01-31") == 1_738_281_600 * 10**9
    assert parse_time("2025-01-31T08:00:00+01:00") == (1_738_281_600 + 7 * 3600) * 10**9
    with pytest.raises(InvalidConfig, match="neither ISO-8601"):
        parse_time("yesterday")


def test_bad_yaml_names_the_position_never_the_text(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("venues:\n  - exchange_id: bybit\n    note: AKIAIOSFODNN7EXAMPLE\n    symb")
    with pytest.raises(InvalidConfig, match=r"not valid YAML at line 4") as info:
        load_collector_config(bad)
    assert "AKIA" not in str(info.value)
    assert "symb" not in str(info.value)
