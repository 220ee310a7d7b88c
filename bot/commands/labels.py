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


async def labels_set_by(
    gh: GitHubAPI, owner: str, repo: str, number: int, login: str | None
) -> set[str]:
    """Labels whose latest addition to the PR `login` made, from the issue events API.

    A label anyone can add by hand (the author in the UI, a workflow of theirs) proves
    nothing about a review: only the timeline says who put it on.
    """
    if login is None:
        return set()
    latest: dict[str, str] = {}
    async for event in gh.getiter(
        "/repos/{owner}/{repo}/issues/{issue_number}/events{?per_page}",
        url_vars={"owner": owner, "repo": repo, "issue_number": str(number), "per_page": "100"},
    ):
        kind = event.get("event")
        name = str((event.get("label") or {}).get("name", ""))
        if kind == "labeled":
            latest[name] = str((event.get("actor") or {}).get("login", ""))
        elif kind == "unlabeled":
            latest.pop(name, None)
    return {name for name, actor in latest.items() if actor.lower() == login.lower()}
