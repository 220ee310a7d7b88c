"""What signed in-toto statements say: SLSA provenance, SBOMs, vulnerability scans, CEL rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.trust.intoto import Statement
from schemas.rules import AttestationRule
from schemas.trust import SEVERITIES, ProvenancePolicy, VulnerabilityPolicy

SLSA_PROVENANCE = ("https://slsa.dev/provenance/v1", "https://slsa.dev/provenance/v0.2")
SBOM_TYPES = ("https://spdx.dev/Document", "https://cyclonedx.org/bom")
VULN_TYPES = ("https://cosign.sigstore.dev/attestation/vuln/v1",)
_MAX_LEAVES = 1000


@dataclass(frozen=True)
class Row:
    """One line of the check's table: what was checked, whether it held, and why."""

    check: str
    passed: bool
    detail: str


def _get(node: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _split_git_uri(uri: str) -> tuple[str, str]:
    """`git+https://github.com/o/r@refs/heads/main` → (`https://github.com/o/r`, ref)."""
    uri = uri.removeprefix("git+")
    repository, _, ref = uri.partition("@")
    return repository.removesuffix(".git"), ref


def provenance_facts(statement: Statement) -> tuple[str, str, str]:
    """(builder id, source repository, source ref) of SLSA v1 or v0.2 provenance."""
    p = statement.predicate
    if statement.predicate_type == SLSA_PROVENANCE[0]:
        builder = _get(p, "runDetails", "builder", "id")
        workflow = _get(p, "buildDefinition", "externalParameters", "workflow")
        repository = _get(workflow, "repository")
        ref = _get(workflow, "ref")
        if not isinstance(repository, str):
            deps = _get(p, "buildDefinition", "resolvedDependencies")
            uri = _get(deps[0], "uri") if isinstance(deps, list) and deps else None
            repository, ref = _split_git_uri(uri) if isinstance(uri, str) else ("", "")
        return str(builder or ""), str(repository or "").removesuffix(".git"), str(ref or "")
    if statement.predicate_type == SLSA_PROVENANCE[1]:
        builder = _get(p, "builder", "id")
        uri = _get(p, "invocation", "configSource", "uri")
        repository, ref = _split_git_uri(uri) if isinstance(uri, str) else ("", "")
        return str(builder or ""), repository, ref
    return "", "", ""


def _severities(result: Any) -> list[str] | None:
    """Severities of a Trivy or Grype report; None when the report is in neither shape."""
    if isinstance(result, dict) and isinstance(result.get("Results"), list):
        return [
            str(v.get("Severity", "unknown")).lower()
            for r in result["Results"]
            if isinstance(r, dict)
            for v in (r.get("Vulnerabilities") or [])
            if isinstance(v, dict)
        ]
    if isinstance(result, dict) and isinstance(result.get("matches"), list):
        return [
            str(_get(m, "vulnerability", "severity") or "unknown").lower()
            for m in result["matches"]
        ]
    return None


def max_severity(statement: Statement) -> str | None:
    """The highest severity a vulnerability scan found (`none` when clean), None if unreadable."""
    found = _severities(_get(statement.predicate, "scanner", "result"))
    if found is None:
        return None
    # An unknown or negligible severity is not "none": it counts as low.
    ranks = [SEVERITIES.index(s) if s in SEVERITIES else 1 for s in found]
    return SEVERITIES[max(ranks, default=0)]


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def age_seconds(statement: Statement, now: datetime) -> float | None:
    """Seconds since the scan finished or the build finished; None when the statement says not."""
    p = statement.predicate
    moment = (
        _parse_time(_get(p, "metadata", "scanFinishedOn"))
        or _parse_time(_get(p, "runDetails", "metadata", "finishedOn"))
        or _parse_time(_get(p, "metadata", "buildFinishedOn"))
    )
    return None if moment is None else (now - moment).total_seconds()


def _leaves(node: Any, prefix: str, out: dict[str, str]) -> None:
    if len(out) >= _MAX_LEAVES:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            _leaves(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _leaves(value, f"{prefix}.{index}", out)
    elif node is not None:
        out[prefix] = str(node).lower() if isinstance(node, bool) else str(node)


def cel_statement(statement: Statement, now: datetime) -> dict[str, Any]:
    """The statement as the CEL variable `statement`."""
    builder, repository, ref = provenance_facts(statement)
    leaves: dict[str, str] = {}
    _leaves(statement.predicate, "", leaves)
    age = age_seconds(statement, now)
    return {
        "type": statement.type,
        "predicate_type": statement.predicate_type,
        "subjects": statement.subjects,
        "builder_id": builder,
        "source_repository": repository,
        "source_ref": ref,
        "max_severity": max_severity(statement) or "",
        "age_seconds": -1.0 if age is None else age,
        "predicate": leaves,
    }


def _of_type(statements: list[Statement], prefixes: tuple[str, ...]) -> list[Statement]:
    return [s for s in statements if s.predicate_type.startswith(prefixes)]


def provenance_row(statements: list[Statement], policy: ProvenancePolicy) -> Row:
    """Some signed provenance names an allowed builder, repository and ref."""
    found = _of_type(statements, SLSA_PROVENANCE)
    if not found:
        return Row("SLSA provenance", False, "no signed SLSA provenance for this digest")
    seen = []
    for statement in found:
        builder, repository, ref = provenance_facts(statement)
        if (
            builder in policy.builder_ids
            and repository in policy.source_repositories
            and (not policy.source_refs or ref in policy.source_refs)
        ):
            return Row("SLSA provenance", True, f"built by {builder} from {repository}@{ref}")
        seen.append(f"{builder or '?'} from {repository or '?'}@{ref or '?'}")
    return Row(
        "SLSA provenance",
        False,
        "not an allowed builder, repository and ref: " + "; ".join(seen),
    )


def sbom_row(statements: list[Statement]) -> Row:
    """A signed SPDX or CycloneDX SBOM is attached."""
    found = _of_type(statements, SBOM_TYPES)
    if not found:
        return Row("SBOM", False, "no signed SPDX or CycloneDX SBOM for this digest")
    return Row("SBOM", True, found[0].predicate_type)


def vulnerability_row(
    statements: list[Statement], policy: VulnerabilityPolicy, now: datetime
) -> Row:
    """The newest readable signed scan is recent and finds nothing above the allowed severity."""
    scans = []
    for statement in _of_type(statements, VULN_TYPES):
        age = age_seconds(statement, now)
        severity = max_severity(statement)
        if age is not None and severity is not None:
            scans.append((age, severity))
    if not scans:
        return Row("vulnerability scan", False, "no signed, readable vulnerability scan")
    age, severity = min(scans)
    hours = age / 3600
    if age > policy.max_age_seconds:
        return Row(
            "vulnerability scan",
            False,
            f"newest scan is {hours:.1f} h old; at most {policy.max_age_seconds / 3600:.1f} h",
        )
    if SEVERITIES.index(severity) > SEVERITIES.index(policy.max_severity):
        return Row(
            "vulnerability scan",
            False,
            f"finds {severity}; at most {policy.max_severity} is allowed",
        )
    return Row("vulnerability scan", True, f"highest severity {severity}, {hours:.1f} h old")


def rule_row(statements: list[Statement], rule: AttestationRule, now: datetime) -> Row:
    """Some signed statement of the rule's predicate type makes the rule true."""
    candidates = [s for s in statements if s.predicate_type == rule.predicate_type]
    message = rule.message or f"Make `{rule.expr}` true."
    if not candidates:
        return Row(rule.name, False, f"no signed `{rule.predicate_type}` attestation. {message}")
    program = rule.compiled()
    shown = []
    for statement in candidates:
        verdict = program.evaluate({"statement": cel_statement(statement, now)})
        if verdict.passed:
            return Row(rule.name, True, "true")
        shown.append(verdict.shown())
    return Row(rule.name, False, f"{', '.join(shown)}. {message}")
