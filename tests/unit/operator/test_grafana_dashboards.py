"""
The provisioned Grafana dashboards (``deploy/grafana/``) are valid and every PromQL expression
names only metrics the exporter has (:data:`nautilus_ext.operator.METRIC_NAMES`).

Metric names are pulled out of each expression by a small PromQL lexer: strings, label
matchers, ranges and grouping clauses are removed, functions and keywords are recognised, and
what is left is a metric name. ``promtool`` (Debian's ``prometheus`` package, installed by
``make services``) also parses every expression with Prometheus' own parser, and the live-node
metrics test evaluates them on a real Prometheus scraping the node.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nautilus_ext.operator import METRIC_NAMES

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))

_FUNCTIONS = frozenset(
    [
        "abs",
        "absent",
        "absent_over_time",
        "avg",
        "avg_over_time",
        "bottomk",
        "ceil",
        "changes",
        "clamp",
        "clamp_max",
        "clamp_min",
        "count",
        "count_over_time",
        "count_values",
        "day_of_month",
        "day_of_week",
        "deriv",
        "delta",
        "exp",
        "floor",
        "group",
        "histogram_quantile",
        "holt_winters",
        "idelta",
        "increase",
        "irate",
        "label_join",
        "label_replace",
        "label_values",
        "ln",
        "log2",
        "log10",
        "max",
        "max_over_time",
        "min",
        "min_over_time",
        "predict_linear",
        "quantile",
        "quantile_over_time",
        "rate",
        "resets",
        "round",
        "scalar",
        "sort",
        "sort_desc",
        "sqrt",
        "stddev",
        "stdvar",
        "sum",
        "sum_over_time",
        "time",
        "timestamp",
        "topk",
        "vector",
        "last_over_time",
        "present_over_time",
    ]
)
_KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "inf", "nan"})
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """Return the metric names a PromQL expression (or Grafana ``label_values``) references."""
    text = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)  # strings (label values, regexes)
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # range and subquery selectors
    text = _GROUPING.sub(" ", text)
    text = re.sub(r"\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?:ms|[smhdwy])?\b", " ", text)  # numbers, durations
    # label_values(metric, label): the second argument is a label, not a metric
    text = re.sub(r"label_values\s*\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,\s*[A-Za-z_]\w*\s*\)", r" \1 ", text)
    names = set()
    for match in _IDENT.finditer(text):
        word = match.group(0)
        rest = text[match.end() :].lstrip()
        if word in _FUNCTIONS and rest.startswith("("):
            continue
        if word.lower() in _KEYWORDS:
            continue
        names.add(word)
    return names


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels") or [])


def _expressions(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for panel in _panels(dashboard["panels"]):
        for target in panel.get("targets") or []:
            yield panel["title"], target["expr"]
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        yield f"variable {variable['name']}", query["query"] if isinstance(query, dict) else query


def _datasource_uid() -> str:
    provisioning = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/nautilus_ext.yaml").read_text())
    (source,) = provisioning["datasources"]
    assert source["type"] == "prometheus"
    return str(source["uid"])


def test_the_lexer_finds_metrics_and_only_metrics() -> None:
    expr = (
        "histogram_quantile(0.99, sum by (le, venue) (rate(nautilus_ext_order_ack_latency_seconds_bucket"
        '{instance=~"$instance", venue!="a b"}[5m]))) > bool 0.5 and on (venue) nautilus_ext_armed offset 5m'
    )
    assert metric_names(expr) == {"nautilus_ext_order_ack_latency_seconds_bucket", "nautilus_ext_armed"}
    assert metric_names("label_values(nautilus_ext_safe_mode, instance)") == {"nautilus_ext_safe_mode"}
    # a typo or a metric the exporter does not have is caught
    assert metric_names("sum(rate(nautilus_ext_fills[5m]))") - METRIC_NAMES == {"nautilus_ext_fills"}
    assert metric_names("sum by (venue) (up)") - METRIC_NAMES == {"up"}


def test_there_are_dashboards_and_provisioning() -> None:
    assert {p.name for p in DASHBOARDS} == {"nautilus_ext_execution.json", "nautilus_ext_portfolio.json"}
    providers = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/nautilus_ext.yaml").read_text())
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "${NAUTILUS_EXT_GRAFANA_DASHBOARDS}"
    scrape = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    assert scrape["scrape_configs"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9464"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_is_valid_and_references_only_exported_metrics(path: Path) -> None:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    assert dashboard["uid"].startswith("nautilus-ext-")
    assert dashboard["title"]
    assert isinstance(dashboard["schemaVersion"], int)
    ids = [p["id"] for p in _panels(dashboard["panels"])]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    uid = _datasource_uid()
    used: set[str] = set()
    for panel in _panels(dashboard["panels"]):
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == uid, panel["title"]
        assert panel["targets"], f"panel {panel['title']!r} shows nothing"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == uid, panel["title"]
    for where, expr in _expressions(dashboard):
        names = metric_names(expr)
        assert names, f"{path.name}: {where}: no metric in {expr!r}"
        unknown = names - METRIC_NAMES
        assert not unknown, f"{path.name}: {where}: {sorted(unknown)} are not exported (in {expr!r})"
        used |= names
    assert used


def test_the_dashboards_cover_what_the_issue_asks_for() -> None:
    used = {
        n
        for path in DASHBOARDS
        for _, e in _expressions(json.loads(path.read_text()))
        for n in metric_names(e)
    }
    wanted = {
        "nautilus_ext_orders_submitted_total",
        "nautilus_ext_fills_total",
        "nautilus_ext_order_rejects_total",
        "nautilus_ext_gate_denials_total",
        "nautilus_ext_order_request_latency_seconds_bucket",
        "nautilus_ext_order_ack_latency_seconds_bucket",
        "nautilus_ext_order_fill_latency_seconds_bucket",
        "nautilus_ext_feed_staleness_seconds",
        "nautilus_ext_safe_mode",
        "nautilus_ext_position",
        "nautilus_ext_strategy_pnl",
        "nautilus_ext_margin_ratio",
        "nautilus_ext_health_factor",
        "nautilus_ext_funding_collected",
        "nautilus_ext_account_balance",
    }
    assert wanted <= used, sorted(wanted - used)


def test_promtool_parses_every_expression(tmp_path: Path) -> None:
    # not skipped when missing (like PostgreSQL): `make services` installs Debian's prometheus
    assert shutil.which("promtool"), "promtool not found: run `make services` or `apt-get install prometheus`"
    rules = []
    for path in DASHBOARDS:
        for i, (_, expr) in enumerate(_expressions(json.loads(path.read_text()))):
            if expr.startswith("label_values("):
                continue  # a Grafana function, not PromQL
            rules.append({"record": f"check:{path.stem}:{i}", "expr": expr.replace("$instance", ".*")})
    file = tmp_path / "rules.yml"
    file.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        ["promtool", "check", "rules", str(file)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
