"""deploy/monitoring/ as the tests read it: the rules, the dashboard, the metrics they name."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "monitoring"
PROMETHEUS_RULE = MONITORING / "prometheusrule.yaml"
RULE_TESTS = MONITORING / "rules.test.yaml"
DASHBOARD = MONITORING / "grafana-dashboard.json"
# rules.test.yaml names the generated rules file by this name.
RULES_FILE = "ferrybot-rules.yaml"

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool not installed: `apt-get install prometheus` (Debian's package ships it)",
)
needs_prometheus = pytest.mark.skipif(
    PROMETHEUS is None, reason="prometheus not installed: `apt-get install prometheus`"
)

_METRIC = re.compile(r"\bferrybot_[a-z0-9_]+")


def write_rules(directory: Path) -> Path:
    """The plain rules file, generated from the PrometheusRule as users are told to."""
    target = directory / RULES_FILE
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "prometheus_rules.py"), "--output", str(target)],
        check=True,
    )
    return target


def rules() -> list[dict[str, Any]]:
    """Every rule of the PrometheusRule."""
    document = YAML(typ="safe").load(PROMETHEUS_RULE.read_text(encoding="utf-8"))
    return [rule for group in document["spec"]["groups"] for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    """The Grafana dashboard."""
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def dashboard_queries() -> list[str]:
    """Every PromQL query of the dashboard: panel targets and template variables."""
    board = dashboard()
    queries = [t["expr"] for panel in board["panels"] for t in panel["targets"]]
    for variable in board["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            queries.append(query["query"])
    return queries


def metric_names(queries: list[str]) -> set[str]:
    """The ferrybot series names the queries use."""
    return {name for query in queries for name in _METRIC.findall(query)}


def label_values_query(query: str) -> str:
    """Grafana's `label_values(metric, label)` as the PromQL selector it stands for."""
    found = re.fullmatch(r"label_values\((\w+), *\w+\)", query)
    return found.group(1) if found else query
