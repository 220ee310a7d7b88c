"""GitHub REST route templates, so metrics name `/repos/{owner}/{repo}/pulls` and not a raw path."""

from __future__ import annotations

import re
from functools import cache

# The operations ferrybot calls (tests/data/github/operations.txt lists the same ones; a test
# keeps the two in step). A path matching none of them is counted as `other`.
TEMPLATES: tuple[str, ...] = (
    "/app",
    "/app/hook/deliveries",
    "/app/hook/deliveries/{delivery_id}/attempts",
    "/app/installations/{installation_id}/access_tokens",
    "/orgs/{org}/teams/{team_slug}/memberships/{username}",
    "/repos/{owner}/{repo}",
    "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches",
    "/repos/{owner}/{repo}/check-runs",
    "/repos/{owner}/{repo}/check-runs/{check_run_id}",
    "/repos/{owner}/{repo}/check-suites/{check_suite_id}/rerequest",
    "/repos/{owner}/{repo}/collaborators/{username}/permission",
    "/repos/{owner}/{repo}/commits",
    "/repos/{owner}/{repo}/commits/{ref}",
    "/repos/{owner}/{repo}/commits/{ref}/check-runs",
    "/repos/{owner}/{repo}/commits/{ref}/check-suites",
    "/repos/{owner}/{repo}/commits/{ref}/status",
    "/repos/{owner}/{repo}/commits/{ref}/statuses",
    "/repos/{owner}/{repo}/contents/{path}",
    "/repos/{owner}/{repo}/dispatches",
    "/repos/{owner}/{repo}/git/blobs",
    "/repos/{owner}/{repo}/git/blobs/{file_sha}",
    "/repos/{owner}/{repo}/git/commits",
    "/repos/{owner}/{repo}/git/commits/{commit_sha}",
    "/repos/{owner}/{repo}/git/ref/{ref}",
    "/repos/{owner}/{repo}/git/refs",
    "/repos/{owner}/{repo}/git/refs/{ref}",
    "/repos/{owner}/{repo}/git/trees",
    "/repos/{owner}/{repo}/git/trees/{tree_sha}",
    "/repos/{owner}/{repo}/installation",
    "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
    "/repos/{owner}/{repo}/issues/{issue_number}",
    "/repos/{owner}/{repo}/issues/{issue_number}/assignees",
    "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    "/repos/{owner}/{repo}/issues/{issue_number}/events",
    "/repos/{owner}/{repo}/issues/{issue_number}/labels",
    "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
    "/repos/{owner}/{repo}/issues/{issue_number}/reactions",
    "/repos/{owner}/{repo}/labels",
    "/repos/{owner}/{repo}/pulls",
    "/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions",
    "/repos/{owner}/{repo}/pulls/{pull_number}",
    "/repos/{owner}/{repo}/pulls/{pull_number}/files",
    "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
    "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
    "/repos/{owner}/{repo}/statuses/{sha}",
    "/user",
)
OTHER = "other"

# GitHub's description marks these as `x-multi-segment`: a file path, a branch `a/b`, a ref.
_MULTI_SEGMENT = frozenset({"path", "ref", "sha"})
_PARAM = re.compile(r"\{([^}]+)\}")


def _pattern(template: str) -> re.Pattern[str]:
    pieces = _PARAM.split(template)
    regex = "".join(
        ((".+" if piece in _MULTI_SEGMENT else "[^/]+") if index % 2 else re.escape(piece))
        for index, piece in enumerate(pieces)
    )
    return re.compile(regex)


@cache
def _ordered() -> tuple[tuple[str, re.Pattern[str]], ...]:
    # Literal segments first: `/commits/{ref}/status` must win over multi-segment `/commits/{ref}`.
    def literals(template: str) -> int:
        return sum(1 for part in template.split("/") if part and "{" not in part)

    ranked = sorted(TEMPLATES, key=lambda t: (-literals(t), t))
    return tuple((template, _pattern(template)) for template in ranked)


def route_template(path: str) -> str:
    """The template a request path belongs to (query string ignored), or `other`."""
    path = path.split("?", 1)[0]
    for template, pattern in _ordered():
        if pattern.fullmatch(path):
            return template
    return OTHER
