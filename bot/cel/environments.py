"""The documented variables of each kind of rule: model gates and pull-request policies."""

from __future__ import annotations

from bot.cel.environment import CelType, Environment

_S = CelType.scalar("string")
_D = CelType.scalar("double")


def _version(doc: str) -> CelType:
    return CelType.struct(
        doc,
        version=CelType.scalar("string", 'the model version (`""` when none is deployed)'),
        deployed=CelType.scalar("bool", "false when the stage runs nothing yet"),
        metrics=CelType.map_of(_D, 1000, "latest value of each metric of the version's run"),
        params=CelType.map_of(_S, 1000, "the run's parameters"),
        tags=CelType.map_of(_S, 1000, "the model version's tags"),
    )


GATE = Environment(
    "model gate",
    {
        "candidate": _version("the version the promotion PR proposes"),
        "current": _version("the version the stage runs now (empty maps when none)"),
        "stage": CelType.struct(
            "the stage promoted to",
            name=CelType.scalar("string"),
            pipeline=CelType.scalar("string"),
        ),
    },
)

PULL_REQUEST = Environment(
    "pull-request policy",
    {
        "pr": CelType.struct(
            "the pull request",
            title=CelType.scalar("string"),
            labels=CelType.list_of(_S, 100, "label names"),
            changed_files=CelType.list_of(_S, 3000, "paths changed (GitHub lists at most 3000)"),
            additions=CelType.scalar("int"),
            deletions=CelType.scalar("int"),
            size=CelType.scalar("int", "additions + deletions"),
            author=CelType.scalar("string", "the author's login"),
            base=CelType.scalar("string", "the base branch"),
            draft=CelType.scalar("bool"),
        )
    },
)

ATTESTATION = Environment(
    "attestation",
    {
        "statement": CelType.struct(
            "a verified in-toto statement about the promoted digest",
            type=CelType.scalar("string", "the statement's `_type`"),
            predicate_type=CelType.scalar("string", "e.g. `https://slsa.dev/provenance/v1`"),
            subjects=CelType.list_of(_S, 100, "subject digests (`sha256:<hex>`)"),
            builder_id=CelType.scalar("string", 'SLSA provenance builder id (`""` otherwise)'),
            source_repository=CelType.scalar("string", "provenance source repository URL"),
            source_ref=CelType.scalar("string", "provenance source ref (`refs/heads/main`)"),
            max_severity=CelType.scalar(
                "string", "vulnerability scan: none, low, medium, high or critical"
            ),
            age_seconds=CelType.scalar("double", "seconds since the scan or build (-1: unknown)"),
            predicate=CelType.map_of(
                _S, 1000, "every scalar in the predicate by dotted path, as text"
            ),
        )
    },
)


def documented(environment: Environment) -> list[tuple[str, str, str]]:
    """`(path, type, meaning)` of every variable and field, for the README."""
    rows: list[tuple[str, str, str]] = []

    def walk(path: str, kind: CelType) -> None:
        rows.append((path, kind.describe(), kind.doc))
        for name, inner in kind.fields.items():
            walk(f"{path}.{name}", inner)

    for name, kind in environment.variables.items():
        walk(name, kind)
    return rows
