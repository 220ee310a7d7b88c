"""Validates one YAML file's text: parses, no duplicate keys, Kubernetes objects to schema."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import kubernetes_validate
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from bot.bounded_yaml import YAMLTooLarge, bounded_yaml

# Far deeper and larger than real manifests (CRD schemas included), and far below what would
# make validating one file recurse out of the stack or run for minutes.
MAX_DEPTH = 100
MAX_VALUES = 200_000


@dataclass(frozen=True)
class Finding:
    """One problem at a line of a file, as a check-run annotation needs it."""

    line: int
    message: str
    level: str = "failure"  # "failure" fails the check; "notice" only informs


def supported_versions() -> list[str]:
    """Kubernetes minor versions whose schemas ship with kubernetes-validate (offline)."""
    found = {".".join(v.split(".")[:2]) for v in kubernetes_validate.utils.all_versions()}
    return sorted(found, key=lambda v: tuple(int(part) for part in v.split(".")))


def validate_manifest(text: str, version: str, strict: bool) -> list[Finding]:
    """Every problem in a multi-document YAML text; an empty list means it is fine."""
    yaml = bounded_yaml("rt", max_depth=MAX_DEPTH, max_nodes=MAX_VALUES)
    yaml.allow_duplicate_keys = False
    try:
        documents = list(yaml.load_all(text))
    except YAMLTooLarge as exc:
        return [Finding(exc.line or 1, f"not validated: the YAML {exc}")]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        return [Finding(line, _yaml_problem(exc))]
    except YAMLError as exc:
        return [Finding(1, f"not valid YAML: {type(exc).__name__}")]
    findings: list[Finding] = []
    for document in documents:
        if isinstance(document, CommentedMap) and "apiVersion" in document and "kind" in document:
            findings.extend(_validate_object(document, version, strict))
    return findings


def _yaml_problem(exc: MarkedYAMLError) -> str:
    # Both parts are ruamel's own words about the structure; neither echoes file content
    # beyond key names, which the reader wrote into their own pull request.
    problem = (exc.problem or "").strip()
    context = (exc.context or "").strip()
    if "duplicate key" in problem or "duplicate key" in context:
        return "duplicate key: " + " ".join(part for part in (context, problem) if part)
    return "not valid YAML: " + " ".join(part for part in (context, problem) if part)


def _validate_object(document: CommentedMap, version: str, strict: bool) -> Iterator[Finding]:
    start = document.lc.line + 1
    kind, api = str(document["kind"]), str(document["apiVersion"])
    try:
        kubernetes_validate.validate(_plain(document), version, strict=strict)
    except SchemaNotFoundError:
        yield Finding(
            start,
            f"no Kubernetes {version} schema for {kind} ({api}); a custom resource is not "
            "validated",
            "notice",
        )
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.path) or "(the object)"
        yield Finding(
            _line_of(document, list(exc.path)) or start,
            f"{kind} {_name(document)}: {where}: {exc.message}",
        )


def _name(document: CommentedMap) -> str:
    metadata = document.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return f"`{name}`" if isinstance(name, str) else "(unnamed)"


def _line_of(node: Any, path: list[Any]) -> int | None:
    """The 1-based line of the deepest part of `path` present in the round-trip tree."""
    line: int | None = None
    for part in path:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
        else:
            break
        node = node[part]
    return line


def _plain(node: Any) -> Any:
    """The round-trip tree as plain JSON types, which the schemas are written against."""
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, datetime.date):
        return node.isoformat()
    return str(node)
