"""Promotion PR events as GitHub would deliver them: merged, or synchronized by a push."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.settings import Settings
from tests.fakegithub.server import FakeGitHub
from tests.support.bot import GitHubApp, pull_request_payload
from tests.support.bot import deliver as deliver_github

MERGER_TOKEN = "merger-token"


async def merge_and_deliver(
    fake: FakeGitHub, settings: Settings, app: GitHubApp, number: int, merger: str = "carol"
) -> str:
    """Merge PR `number` through the REST API, deliver its `pull_request.closed`; the merge SHA."""
    fake.add_token(MERGER_TOKEN, login=merger)
    issue = fake.state.repo(app.owner, app.repo).issue(number)
    assert issue.pull is not None
    head_ref, head_sha = issue.pull.head_ref, issue.pull.head_sha
    url = f"{fake.url}/repos/{app.owner}/{app.repo}/pulls/{number}/merge"
    async with (
        aiohttp.ClientSession() as session,
        session.put(url, json={}, headers={"Authorization": f"token {MERGER_TOKEN}"}) as answer,
    ):
        assert answer.status == 200, await answer.text()
        merge_sha: str = (await answer.json())["sha"]
    payload = promotion_pull_payload(app, number, head_ref, head_sha, "closed", issue.title)
    payload["pull_request"].update(merged=True, state="closed", merge_commit_sha=merge_sha)
    payload["sender"]["login"] = merger
    answer_status = (await deliver_github(settings, "pull_request", payload)).status
    assert answer_status == 202
    return merge_sha


def promotion_pull_payload(
    app: GitHubApp, number: int, head_ref: str, head_sha: str, action: str, title: str
) -> dict[str, Any]:
    """A recorded pull_request example re-pointed at a same-repo PR from `head_ref` into main."""
    payload = pull_request_payload(app, number, head_sha, action=action, title=title)
    pull = payload["pull_request"]
    pull["head"]["ref"] = head_ref
    pull["base"]["ref"] = "main"
    for side in ("head", "base"):
        pull[side]["repo"]["name"] = app.repo
        pull[side]["repo"]["full_name"] = f"{app.owner}/{app.repo}"
        pull[side]["repo"]["owner"]["login"] = app.owner
    return payload
