"""`ferrybot/model-gate`: the candidate's metrics against thresholds and the deployed version."""

from __future__ import annotations

from dataclasses import dataclass

from bot.checks import CheckResult, Conclusion
from bot.promotion.markdown import cell
from schemas.pipelines import GateConfig

CHECK_NAME = "ferrybot/model-gate"


@dataclass(frozen=True)
class GateRow:
    """One rule and whether the candidate met it."""

    metric: str
    candidate: float | None
    rule: str
    current: float | None
    passed: bool


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.6g}"


def gate_rows(
    gate: GateConfig, candidate: dict[str, float], current: dict[str, float] | None
) -> list[GateRow]:
    """Every threshold and comparison of the stage's gate, evaluated."""
    rows: list[GateRow] = []
    for metric, threshold in gate.thresholds.items():
        value = candidate.get(metric)
        bounds = []
        passed = value is not None
        if threshold.min is not None:
            bounds.append(f"≥ {threshold.min:g}")
            passed = passed and value is not None and value >= threshold.min
        if threshold.max is not None:
            bounds.append(f"≤ {threshold.max:g}")
            passed = passed and value is not None and value <= threshold.max
        rows.append(GateRow(metric, value, " and ".join(bounds) or "logged", None, passed))
    for comparison in gate.not_worse_than_current:
        value = candidate.get(comparison.metric)
        now = (current or {}).get(comparison.metric)
        sign = "≥" if comparison.higher_is_better else "≤"
        margin = f" − {comparison.margin:g}" if comparison.higher_is_better else ""
        margin = margin or f" + {comparison.margin:g}"
        rule = f"{sign} current{margin}"
        if current is None or now is None:
            # Nothing deployed (or nothing logged for it): there is nothing to be worse than.
            rows.append(GateRow(comparison.metric, value, rule, None, value is not None))
            continue
        if value is None:
            passed = False
        elif comparison.higher_is_better:
            passed = value >= now - comparison.margin
        else:
            passed = value <= now + comparison.margin
        rows.append(GateRow(comparison.metric, value, rule, now, passed))
    return rows


def gate_result(
    rows: list[GateRow], candidate_label: str, current_label: str | None
) -> CheckResult:
    """The check run: a table, failing when any rule failed."""
    failed = [row for row in rows if not row.passed]
    current_head = f"current (v{current_label})" if current_label else "current (none deployed)"
    lines = [
        f"| metric | candidate (v{cell(candidate_label)}) | rule | {cell(current_head)} | result |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        verdict = "✅ pass" if row.passed else "❌ fail"
        lines.append(
            f"| {cell(row.metric)} | {_number(row.candidate)} | {row.rule} "
            f"| {_number(row.current)} | {verdict} |"
        )
    table = "\n".join(lines)
    if failed:
        names = ", ".join(row.metric for row in failed)
        return CheckResult(
            CHECK_NAME,
            Conclusion.FAILURE,
            f"Model gate failed: {names}"[:200],
            f"{table}\n\nThe candidate does not meet the stage's gate; promote a better "
            "version or change the thresholds in the pipeline config.",
        )
    return CheckResult(CHECK_NAME, Conclusion.SUCCESS, "Model gate passed", table)
