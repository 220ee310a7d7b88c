"""CEL rules: verdicts, errors with positions at config load, the cost limit, the variables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.cel import CelError, compile_rule
from bot.cel.environments import GATE, PULL_REQUEST
from bot.promotion.gate import VersionFacts, gate_result, gate_rows
from schemas.pipelines import GateConfig

ROOT = Path(__file__).resolve().parents[2]
CANDIDATE = VersionFacts(
    "7",
    {"accuracy": 0.91, "latency_p95": 105.0},
    {"learning_rate": "0.01"},
    {"validation": "passed"},
)
CURRENT = VersionFacts("6", {"accuracy": 0.9, "latency_p95": 100.0}, {}, {})
ISSUE_EXAMPLE = (
    "candidate.metrics.accuracy >= 0.85"
    " && candidate.metrics.latency_p95 <= current.metrics.latency_p95 * 1.1"
)
GUARDED = "!current.deployed || candidate.metrics.accuracy >= current.metrics.accuracy - 0.02"
AUTHOR = 'pr.author != "dependabot[bot]" || pr.labels.exists(l, l == "deps")'
BOT = {"author": "dependabot[bot]", "labels": ["deps"]}
SLOWER = "candidate.metrics.latency_p95 <= current.metrics.latency_p95"


@pytest.mark.parametrize(
    ("expression", "passed"),
    [
        (ISSUE_EXAMPLE, True),
        ("candidate.metrics.latency_p95 <= current.metrics.latency_p95", False),
        ("candidate.metrics.accuracy > current.metrics.accuracy", True),
        ('candidate.tags.validation == "passed"', True),
        ('double(candidate.params.learning_rate) < 0.1', True),
        ('stage.name == "prod" && candidate.version != current.version', True),
        ('"f1" in candidate.metrics && candidate.metrics.f1 > 0.5', False),
        ("candidate.metrics.f1 > 0.5", False),  # a missing metric fails closed
        (GUARDED, True),
        ("candidate.metrics.exists(m, m.startsWith('lat'))", True),
    ],
    ids=["issue-example", "slower", "better", "tag", "param", "stage", "has-guard",
         "missing-metric", "not-deployed-guard", "comprehension"],
)  # fmt: skip
def test_gate_rule_verdicts(expression: str, passed: bool) -> None:
    """Each rule's verdict over a candidate, the current version and the stage."""
    gate = GateConfig.model_validate({"rules": [{"name": "r", "expr": expression}]})
    [row] = gate_rows(gate, CANDIDATE, CURRENT, "prod", "churn")
    assert row.passed is passed, row.value


@pytest.mark.parametrize(
    ("expression", "pr", "passed"),
    [
        ("size(pr.title) <= 72", {}, True),
        ('!pr.labels.exists(l, l == "do-not-merge")', {"labels": ["do-not-merge"]}, False),
        ('pr.changed_files.all(f, !f.startsWith("s/"))', {"changed_files": ["s/x"]}, False),
        ('pr.base != "main" || pr.size < 500', {"size": 900}, False),
        (AUTHOR, BOT, True),
        ('pr.title.matches("^(feat|fix)")', {"title": "docs: x"}, False),
    ],
    ids=["title-length", "label", "files", "size-on-main", "author", "regex"],
)  # fmt: skip
def test_policy_rule_verdicts(expression: str, pr: dict[str, object], passed: bool) -> None:
    """Each policy rule's verdict over a pull request's title, labels, files, size, author, base."""
    values = {
        "title": "feat: x", "labels": [], "changed_files": ["a.py"], "additions": 1,
        "deletions": 1, "size": 2, "author": "erin", "base": "main", "draft": False, **pr,
    }  # fmt: skip
    assert compile_rule(expression, PULL_REQUEST).evaluate({"pr": values}).passed is passed


@pytest.mark.parametrize(
    ("expression", "position", "says"),
    [
        ("candidate.metrics.accuracy >=", "1:30", "syntax"),
        ("candidate.metrics.accuracy > 0.8 &&\n  envs.HOME == 'x'", "2:3", "unknown variable"),
        ("candidate.password == 'x'", "1:11", "`password` is not a field"),
        ("stage.name.exec('rm')", "1:12", "function `exec` is not available"),
        ("candidate.metrics.accuracy * 2 > 1.0", "1:1", "type error"),
        ("candidate.metrics.accuracy", "1:1", "must give true or false"),
    ],
    ids=["syntax", "unknown-variable", "unknown-field", "function", "int-times-double", "not-bool"],
)  # fmt: skip
def test_compile_errors_carry_a_position(expression: str, position: str, says: str) -> None:
    """Rules that cannot run are refused at load with line:column and the reason."""
    with pytest.raises(CelError) as caught:
        compile_rule(expression, GATE)
    assert str(caught.value).startswith(position + ": ")
    assert says in caught.value.reason


def test_cost_over_the_limit_is_refused_at_load() -> None:
    """Nested comprehensions over changed files exceed the cost limit before anything runs."""
    cheap = compile_rule('pr.changed_files.all(f, f.endsWith(".py"))', PULL_REQUEST)
    assert cheap.cost <= PULL_REQUEST.cost_limit
    with pytest.raises(CelError) as caught:
        compile_rule("pr.changed_files.all(f, pr.changed_files.exists(g, f != g))", PULL_REQUEST)
    assert "over the limit of 100000" in caught.value.reason
    assert str(caught.value).startswith("1:18: ")


def test_rules_read_only_documented_variables() -> None:
    """A gate rule cannot name policy variables, and values outside the declaration are refused."""
    with pytest.raises(CelError, match="may read only candidate, current, stage"):
        compile_rule('pr.title == "x"', GATE)
    rule = compile_rule("candidate.metrics.accuracy > 0.5", GATE)
    with pytest.raises(TypeError, match="undeclared variables"):
        rule.evaluate({"candidate": {}, "current": {}, "stage": {}, "os": {}})


def test_gate_table_shows_each_rule_its_value_and_verdict() -> None:
    """Thresholds (CEL sugar) in the metric table, CEL rules in their own, messages on failure."""
    gate = GateConfig.model_validate(
        {
            "thresholds": {"accuracy": {"min": 0.85}},
            "rules": [
                {"name": "latency", "expr": SLOWER, "message": "Do not ship a slower model."},
            ],
        }
    )  # fmt: skip
    rows = gate_rows(gate, CANDIDATE, CURRENT, "prod", "churn")
    assert (
        rows[0].expression
        == '"accuracy" in candidate.metrics && candidate.metrics["accuracy"] >= 0.85'
    )
    result = gate_result(rows, "7", "6")
    assert result.conclusion.value == "failure"
    assert "| accuracy | 0.91 | ≥ 0.85 | — | ✅ pass |" in result.summary
    assert f"| latency | {SLOWER.replace('<', '&lt;')} | false | ❌ fail |" in result.summary
    assert "- **latency**: Do not ship a slower model." in result.summary


CONFIG = """\
bot:
  policy:
    rules:
      - name: small
        expr: "pr.size < 500 &&"
  pipelines:
    - name: churn
      model: {name: churn}
      stages:
        - name: prod
          repo: acme/gitops
          writes:
            - {kind: yaml, file: a.yaml, path: spec.uri, value: "models:/{name}/{version}"}
          gate:
            rules:
              - {name: fast, expr: "candidate.metrics.latency <= current.metrics.latency * 1.1"}
"""


def test_config_validate_shows_the_error_and_position(tmp_path: Path) -> None:
    """`ferrybot config validate` exits 2 naming the key, the rule, line:column and the reason."""
    path = tmp_path / "ferrybot.yaml"
    path.write_text(CONFIG)
    run = subprocess.run(
        [sys.executable, "-m", "bot", "config", "validate", str(path)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    # A value from the file is named by its YAML key and the file, not by a variable.
    assert f"bot.policy.rules.0 in {path}" in run.stderr
    assert "rule 'small', expr at 1:17: syntax" in run.stderr
    path.write_text(CONFIG.replace("pr.size < 500 &&", "pr.size < 500"))
    good = subprocess.run(
        [sys.executable, "-m", "bot", "config", "validate", str(path)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert good.returncode == 0, good.stderr
