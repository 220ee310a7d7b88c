"""GitHub request paths become route templates, so metrics never carry owners, numbers or refs."""

from __future__ import annotations

import pytest

from bot.github.routes import OTHER, TEMPLATES, route_template
from tests.support.payloads import DATA

OPERATIONS = DATA / "github" / "operations.txt"


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/repos/acme/app/pulls/12", "/repos/{owner}/{repo}/pulls/{pull_number}"),
        ("/repos/acme/app/pulls", "/repos/{owner}/{repo}/pulls"),
        ("/repos/acme/app/check-runs?per_page=100", "/repos/{owner}/{repo}/check-runs"),
        (
            "/repos/acme/gitops/contents/envs/prod/values.yaml",
            "/repos/{owner}/{repo}/contents/{path}",
        ),
        (
            "/repos/acme/gitops/git/ref/heads/ferrybot/promote/churn/prod",
            "/repos/{owner}/{repo}/git/ref/{ref}",
        ),
        ("/repos/acme/app/commits/feat/x/status", "/repos/{owner}/{repo}/commits/{ref}/status"),
        ("/repos/acme/app/commits/feat/x", "/repos/{owner}/{repo}/commits/{ref}"),
        (
            "/app/installations/77/access_tokens",
            "/app/installations/{installation_id}/access_tokens",
        ),
        (
            "/repos/acme/app/issues/3/labels/do-not-merge%2Fhold",
            "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
        ),
        ("/user/repos", OTHER),
        ("/repos/acme/app/hooks/1", OTHER),
    ],
    ids=[
        "pull",
        "pulls",
        "query-ignored",
        "contents-path-with-slashes",
        "ref-with-slashes",
        "literal-suffix-beats-multi-segment",
        "multi-segment-ref",
        "app-token",
        "encoded-label",
        "unknown",
        "unused-operation",
    ],
)
def test_path_to_template(path: str, template: str) -> None:
    """Each path maps to GitHub's template for it, or to `other`."""
    assert route_template(path) == template


def test_every_operation_the_bot_may_call_has_a_template() -> None:
    """The fake GitHub's operations list and the metrics' templates name the same routes."""
    listed = {
        line.split()[1]
        for line in OPERATIONS.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert listed == set(TEMPLATES)
