"""Label changes on a pull request, idempotent as at-least-once delivery needs."""

from __future__ import annotations

import gidgethub
from gidgethub.abc import GitHubAPI


async def add_labels(gh: GitHubAPI, owner: str, repo: str, number: int, names: list[str]) -> None:
    """Add labels (GitHub ignores ones already there and creates missing repository labels)."""
    if not names:
        return
    await gh.post(
        "/repos/{owner}/{repo}/issues/{issue_number}/labels",
        url_vars={"owner": owner, "repo": repo, "issue_number": str(number)},
        data={"labels": names},
    )


async def remove_label(gh: GitHubAPI, owner: str, repo: str, number: int, name: str) -> None:
    """Remove a label; one already gone is fine (a redelivery, or someone was quicker)."""
    try:
        await gh.delete(
            "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
            url_vars={"owner": owner, "repo": repo, "issue_number": str(number), "name": name},
        )
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) != 404:
            raise


async def repository_labels(gh: GitHubAPI, owner: str, repo: str) -> dict[str, str]:
    """The repository's labels, lower-cased name → name as spelt on GitHub."""
    names: dict[str, str] = {}
    async for label in gh.getiter(
        "/repos/{owner}/{repo}/labels{?per_page}",
        url_vars={"owner": owner, "repo": repo, "per_page": "100"},
    ):
        names[str(label["name"]).lower()] = str(label["name"])
    return names
