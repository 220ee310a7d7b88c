"""Merging a promotion PR in the fake and telling the bot, as GitHub would."""

from __future__ import annotations

import aiohttp

from bot.settings import Settings
from tests.fakegithub.server import FakeGitHub
from tests.support.bot import GitHubApp, pull_request_payload
from tests.support.bot import deliver as deliver_github

MERGER_TOKEN = "merger-token"


async def merge_and_deliver(
    fake: FakeGitHub, settings: Settings, app: GitHubApp, number: int, merger: str = "carol"
) -> None:
    """Merge PR `number` through the REST API and deliver its `pull_request.closed`."""
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
    payload = pull_request_payload(app, number, head_sha, action="closed", title=issue.title)
    pull = payload["pull_request"]
    pull["merged"] = True
    pull["state"] = "closed"
    pull["head"]["ref"] = head_ref
    pull["base"]["ref"] = "main"
    for side in ("head", "base"):
        pull[side]["repo"]["name"] = app.repo
        pull[side]["repo"]["full_name"] = f"{app.owner}/{app.repo}"
        pull[side]["repo"]["owner"]["login"] = app.owner
    payload["sender"]["login"] = merger
    answer_status = (await deliver_github(settings, "pull_request", payload)).status
    assert answer_status == 202
