"""deploy/monitoring/: promtool accepts the rules and their unit tests; only real metrics named."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ruamel.yaml import YAML

from tests.fakegithub.server import FakeGitHub
from tests.metrics.scrape import exposed_names, metrics_url, scrape
from tests.ops.monitoring import (
    PROMTOOL,
    RULE_TESTS,
    dashboard,
    dashboard_queries,
    metric_names,
    needs_promtool,
    rules,
    write_rules,
)
from tests.support.bot import bot_settings, install_app, running_bot

ALERTS = {
    "FerrybotConsumerLagGrowing",
    "FerrybotDeadLettersGrowing",
    "FerrybotGitHubRateLimitNearlySpent",
    "FerrybotBrokerUnreachable",
}


@needs_promtool
def test_promtool_checks_the_rules(tmp_path: Path) -> None:
    """`promtool check rules` accepts the rules extracted from the PrometheusRule."""
    assert PROMTOOL is not None
    check = subprocess.run(
        [PROMTOOL, "check", "rules", str(write_rules(tmp_path))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"SUCCESS: {len(rules())} rules found" in check.stdout


@needs_promtool
def test_promtool_unit_tests_fire_and_clear_every_alert(tmp_path: Path) -> None:
    """`promtool test rules` passes, and tests each alert both firing and quiet."""
    assert PROMTOOL is not None
    write_rules(tmp_path)
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    run = subprocess.run(
        [PROMTOOL, "test", "rules", RULE_TESTS.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SUCCESS" in run.stdout
    cases = YAML(typ="safe").load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
    checks = [check for case in cases for check in case.get("alert_rule_test", [])]
    firing = {c["alertname"] for c in checks if c["exp_alerts"]}
    quiet = {c["alertname"] for c in checks if not c["exp_alerts"]}
    assert {rule["alert"] for rule in rules()} == ALERTS == firing == quiet


def test_every_alert_says_what_to_do() -> None:
    """Each alert has a severity, a summary and a description that names a next step."""
    for rule in rules():
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"]
        assert len(rule["annotations"]["description"]) > 40


def test_dashboard_panels_are_well_formed() -> None:
    """Unique panel ids, every target has a query and reads the chosen Prometheus data source."""
    board = dashboard()
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids)) and len(ids) >= 10
    for panel in board["panels"]:
        assert panel["title"] and panel["targets"]
        for target in panel["targets"]:
            assert target["expr"].strip()
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


async def test_dashboard_and_rules_name_only_metrics_the_bot_exports(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Every ferrybot_ series the dashboard and the alerts query is in a running bot's /metrics."""
    app = install_app(fake_github)
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)
    async with running_bot(settings):
        text = await scrape(metrics_url(settings.http_host, settings.http_port))
    used = metric_names(dashboard_queries() + [rule["expr"] for rule in rules()])
    assert len(used) >= 15
    assert used - exposed_names(text) == set()
