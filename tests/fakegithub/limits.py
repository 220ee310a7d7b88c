"""GitHub's documented length limits that its REST description does not carry: 422 beyond them."""

from __future__ import annotations

from typing import Any

_ISSUE_TEXT = {"title": 256, "body": 65_536}
_CHECK_OUTPUT = {
    "output.summary": 65_535,
    "output.text": 65_535,
    "output.annotations[].message": 64 * 1024,
    "output.annotations[].raw_details": 64 * 1024,
    "output.annotations[].title": 255,
}
# operation → dotted field (`[]` for every item of a list) → most characters GitHub takes.
# Check-run summary and text are documented as characters but refused by UTF-8 size ("summary
# exceeds a maximum bytesize of 65535", github/docs#35252); annotation fields are "64 KB".
LIMITS: dict[str, dict[str, int]] = {
    "POST /repos/{owner}/{repo}/issues/{issue_number}/comments": {"body": 65_536},
    "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}": {"body": 65_536},
    "PATCH /repos/{owner}/{repo}/issues/{issue_number}": _ISSUE_TEXT,
    "POST /repos/{owner}/{repo}/pulls": _ISSUE_TEXT,
    "PATCH /repos/{owner}/{repo}/pulls/{pull_number}": _ISSUE_TEXT,
    "POST /repos/{owner}/{repo}/statuses/{sha}": {"description": 140},
    "POST /repos/{owner}/{repo}/check-runs": _CHECK_OUTPUT,
    "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}": _CHECK_OUTPUT,
}
_IN_BYTES = frozenset(
    {
        "output.summary",
        "output.text",
        "output.annotations[].message",
        "output.annotations[].raw_details",
    }
)


def length_problems(operation: str, body: Any) -> list[str]:
    """GitHub's refusals of `body` for `operation`, worded as GitHub words them."""
    problems = []
    for field, limit in LIMITS.get(operation, {}).items():
        for value in _values(body, field.split(".")):
            if not isinstance(value, str):
                continue
            size = len(value.encode()) if field in _IN_BYTES else len(value)
            if size > limit:
                name = field.rsplit(".", 1)[-1]
                problems.append(
                    f"{name} exceeds a maximum bytesize of {limit}"
                    if field in _IN_BYTES
                    else f"{name} is too long (maximum is {limit} characters)"
                )
                break  # one refusal per field, however many list items exceed it
    return problems


def _values(node: Any, parts: list[str]) -> list[Any]:
    if not parts:
        return [node]
    head, rest = parts[0], parts[1:]
    if not isinstance(node, dict):
        return []
    if head.endswith("[]"):
        items = node.get(head[:-2])
        return [v for item in items for v in _values(item, rest)] if isinstance(items, list) else []
    return _values(node[head], rest) if head in node else []
