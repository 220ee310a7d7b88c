"""One pull request per promotion branch: found and updated in place, or opened."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gidgethub.abc import GitHubAPI

from bot.forges.port import ChangeProposal
from bot.github.limits import COMMENT_BODY, PULL_BODY, PULL_TITLE, fit
from bot.promotion.gitdata import RepoRef


@dataclass(frozen=True)
class PullRequestRef:
    """The promotion pull request after this run."""

    number: int
    html_url: str
    created: bool
    updated: bool


async def open_pull(gh: GitHubAPI, repo: RepoRef, branch: str) -> dict[str, Any] | None:
    """The open pull request whose head is `branch` in `repo`, if any."""
    async for pull in gh.getiter(
        f"{repo.api}/pulls?state=open&head={repo.owner}:{branch}&per_page=100"
    ):
        if pull["head"]["ref"] == branch:
            found: dict[str, Any] = pull
            return found
    return None


async def open_or_update_pr(
    gh: GitHubAPI, repo: RepoRef, proposal: ChangeProposal
) -> PullRequestRef:
    """Update the branch's open PR if it reads differently, else open one; then decorate it.

    `draft` applies when the PR is opened (REST cannot turn an open PR into a draft; a
    failing required check blocks that one instead).
    """
    title, body = fit(proposal.title, PULL_TITLE), fit(proposal.body, PULL_BODY)
    branch, draft = proposal.source_branch, proposal.draft
    existing = await open_pull(gh, repo, branch)
    if existing is None:
        data = {"title": title, "body": body, "head": branch, "base": proposal.target_branch}
        pull = await gh.post(f"{repo.api}/pulls", data={**data, "draft": True} if draft else data)
        created, updated = True, False
    else:
        pull, created = existing, False
        updated = existing.get("title") != title or (existing.get("body") or "") != body
        if updated:
            pull = await gh.patch(
                f"{repo.api}/pulls/{existing['number']}", data={"title": title, "body": body}
            )
    number = int(pull["number"])
    await _decorate(gh, repo, proposal, pull)
    return PullRequestRef(number, str(pull.get("html_url", "")), created, updated)


async def _decorate(
    gh: GitHubAPI, repo: RepoRef, proposal: ChangeProposal, pull: dict[str, Any]
) -> None:
    number = pull["number"]
    # Only what is missing is added: a reviewer who already reviewed is not asked again.
    labels = {label["name"] for label in pull.get("labels", [])}
    if missing := [label for label in proposal.labels if label not in labels]:
        await gh.post(f"{repo.api}/issues/{number}/labels", data={"labels": missing})
    requested = {user["login"] for user in pull.get("requested_reviewers", [])}
    teams = {team["slug"] for team in pull.get("requested_teams", [])}
    reviewers = [login for login in proposal.reviewers if login not in requested]
    team_reviewers = [slug for slug in proposal.team_reviewers if slug not in teams]
    if pull.get("user", {}).get("login") in reviewers:
        reviewers.remove(pull["user"]["login"])  # GitHub refuses the author as a reviewer
    if reviewers or team_reviewers:
        await gh.post(
            f"{repo.api}/pulls/{number}/requested_reviewers",
            data={"reviewers": reviewers, "team_reviewers": team_reviewers},
        )
    assigned = {user["login"] for user in pull.get("assignees", [])}
    if missing_assignees := [login for login in proposal.assignees if login not in assigned]:
        await gh.post(
            f"{repo.api}/issues/{number}/assignees", data={"assignees": missing_assignees}
        )


async def close_superseded(gh: GitHubAPI, repo: RepoRef, branch: str, why: str) -> int | None:
    """Close the branch's open PR (saying why) when the stage already runs the candidate."""
    existing = await open_pull(gh, repo, branch)
    if existing is None:
        return None
    number = int(existing["number"])
    await gh.post(f"{repo.api}/issues/{number}/comments", data={"body": fit(why, COMMENT_BODY)})
    await gh.patch(f"{repo.api}/pulls/{number}", data={"state": "closed"})
    return number
