"""`ferrybot/model-gate`: CEL rules (thresholds are their shorthand) over candidate and current."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from bot.cel import CelRule, compile_rule
from bot.cel.environments import GATE
from bot.checks import CheckResult, Conclusion
from bot.promotion.markdown import cell
from schemas.pipelines import Comparison, GateConfig, Threshold

CHECK_NAME = "ferrybot/model-gate"


@dataclass(frozen=True)
class VersionFacts:
    """What a gate rule may know about one model version."""

    version: str = ""
    metrics: Mapping[str, float] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    deployed: bool = True

    def variable(self) -> dict[str, object]:
        """As the CEL variable `candidate` or `current`."""
        return {
            "version": self.version,
            "deployed": self.deployed,
            "metrics": dict(self.metrics),
            "params": dict(self.params),
            "tags": dict(self.tags),
        }


NOTHING_DEPLOYED = VersionFacts(deployed=False)


@dataclass(frozen=True)
class GateRow:
    """One rule and whether the candidate met it; `value` is the CEL rule's own result."""

    metric: str
    candidate: float | None
    rule: str
    current: float | None
    passed: bool
    expression: str = ""
    value: str = ""
    message: str = ""
    cel: bool = False


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.6g}"


def _literal(value: float) -> str:
    # A CEL double literal: never `50`, which is an int and does not mix with doubles.
    return repr(float(value))


def threshold_expression(metric: str, threshold: Threshold) -> str:
    """The CEL rule a threshold stands for."""
    key = json.dumps(metric)
    parts = [f"{key} in candidate.metrics"]
    if threshold.min is not None:
        parts.append(f"candidate.metrics[{key}] >= {_literal(threshold.min)}")
    if threshold.max is not None:
        parts.append(f"candidate.metrics[{key}] <= {_literal(threshold.max)}")
    return " && ".join(parts)


def comparison_expression(comparison: Comparison) -> str:
    """The CEL rule a not-worse-than-current comparison stands for."""
    key = json.dumps(comparison.metric)
    mine, theirs = f"candidate.metrics[{key}]", f"current.metrics[{key}]"
    if comparison.higher_is_better:
        test = f"{mine} >= {theirs} - {_literal(comparison.margin)}"
    else:
        test = f"{mine} <= {theirs} + {_literal(comparison.margin)}"
    # Nothing deployed (or nothing logged for it): there is nothing to be worse than.
    return (
        f"!current.deployed || !({key} in current.metrics) ? {key} in candidate.metrics"
        f" : {key} in candidate.metrics && {test}"
    )


@lru_cache(maxsize=1024)
def _compiled(expression: str) -> CelRule:
    return compile_rule(expression, GATE)


def _facts(value: Mapping[str, float] | VersionFacts | None) -> VersionFacts:
    if value is None:
        return NOTHING_DEPLOYED
    return value if isinstance(value, VersionFacts) else VersionFacts(metrics=value)


def gate_rows(
    gate: GateConfig,
    candidate: Mapping[str, float] | VersionFacts,
    current: Mapping[str, float] | VersionFacts | None,
    stage: str = "",
    pipeline: str = "",
) -> list[GateRow]:
    """Every threshold, comparison and CEL rule of the stage's gate, evaluated through CEL."""
    mine, theirs = _facts(candidate), _facts(current)
    values = {
        "candidate": mine.variable(),
        "current": theirs.variable(),
        "stage": {"name": stage, "pipeline": pipeline},
    }
    rows: list[GateRow] = []
    for metric, threshold in gate.thresholds.items():
        bounds = []
        if threshold.min is not None:
            bounds.append(f"≥ {threshold.min:g}")
        if threshold.max is not None:
            bounds.append(f"≤ {threshold.max:g}")
        expression = threshold_expression(metric, threshold)
        verdict = _compiled(expression).evaluate(values)
        rule = " and ".join(bounds) or "logged"
        value = mine.metrics.get(metric)
        rows.append(GateRow(metric, value, rule, None, verdict.passed, expression, verdict.shown()))
    for comparison in gate.not_worse_than_current:
        sign = "≥" if comparison.higher_is_better else "≤"
        margin = f" − {comparison.margin:g}" if comparison.higher_is_better else ""
        margin = margin or f" + {comparison.margin:g}"
        expression = comparison_expression(comparison)
        verdict = _compiled(expression).evaluate(values)
        now = theirs.metrics.get(comparison.metric) if theirs.deployed else None
        rows.append(
            GateRow(
                comparison.metric,
                mine.metrics.get(comparison.metric),
                f"{sign} current{margin}",
                now,
                verdict.passed,
                expression,
                verdict.shown(),
            )
        )
    for custom in gate.rules:
        verdict = _compiled(custom.expr).evaluate(values)
        rows.append(
            GateRow(
                custom.name,
                None,
                custom.expr,
                None,
                verdict.passed,
                custom.expr,
                verdict.shown(),
                custom.message,
                cel=True,
            )
        )
    return rows


def gate_result(
    rows: list[GateRow], candidate_label: str, current_label: str | None
) -> CheckResult:
    """The check run: tables of the rules, failing when any rule failed."""
    failed = [row for row in rows if not row.passed]
    current_head = f"current (v{current_label})" if current_label else "current (none deployed)"
    metric_rows = [row for row in rows if not row.cel]
    cel_rows = [row for row in rows if row.cel]
    sections = []
    if metric_rows or not cel_rows:
        lines = [
            f"| metric | candidate (v{cell(candidate_label)}) | rule | {cell(current_head)} "
            "| result |",
            "|---|---|---|---|---|",
        ]
        for row in metric_rows:
            verdict = "✅ pass" if row.passed else "❌ fail"
            lines.append(
                f"| {cell(row.metric)} | {_number(row.candidate)} | {row.rule} "
                f"| {_number(row.current)} | {verdict} |"
            )
        sections.append("\n".join(lines))
    if cel_rows:
        lines = ["| rule | expression | value | result |", "|---|---|---|---|"]
        for row in cel_rows:
            verdict = "✅ pass" if row.passed else "❌ fail"
            lines.append(
                f"| {cell(row.metric)} | {cell(row.expression)} | {cell(row.value)} | {verdict} |"
            )
        sections.append("\n".join(lines))
    table = "\n\n".join(sections)
    if failed:
        names = ", ".join(row.metric for row in failed)
        messages = [f"- **{cell(row.metric)}**: {row.message}" for row in failed if row.message]
        explained = "\n\n" + "\n".join(messages) if messages else ""
        return CheckResult(
            CHECK_NAME,
            Conclusion.FAILURE,
            f"Model gate failed: {names}"[:200],
            f"{table}{explained}\n\nThe candidate does not meet the stage's gate; promote a "
            "better version or change the gate in the pipeline config.",
        )
    return CheckResult(CHECK_NAME, Conclusion.SUCCESS, "Model gate passed", table)
