"""A GitLab project's own config file: read from the default branch, allowed keys merged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.repo_config import RepoConfig, RepoConfigCache
from schemas.config import BotConfig
from schemas.envelope import Envelope, Source
from tests.forges.harness import PROJECT, GitLabBot, gitlab_bot
from tests.forges.test_gitlab_commands import replies, say

__all__ = ["gitlab_bot"]

FILE = ".github/ferrybot.yml"
STRICT = "policy:\n  required_labels: [kind/*]\n"


def _central(*allowed: str) -> BotConfig:
    return BotConfig.model_validate(
        {"repo_config": {"allowed_overrides": list(allowed or ["policy.required_labels"])}}
    )


def _policy(bot: GitLabBot, sha: str) -> str:
    [status] = [s for s in bot.fake.statuses(PROJECT, sha) if s["name"] == "ferrybot/policy"]
    return str(status["status"])


async def _open(bot: GitLabBot, files: dict[str, str] | None = None) -> Any:
    mr = bot.fake.add_merge_request(
        PROJECT, source_branch="feat", author="alice", title="feat: x", files=files or {}
    )
    hook = bot.fake.merge_request_hook(PROJECT, mr.iid, "open", user="alice")
    await bot.deliver("merge_request", hook)
    return mr


def _ferrybot_notes(bot: GitLabBot, iid: int) -> list[str]:
    notes = bot.fake.notes(PROJECT, iid)
    return [n["body"] for n in notes if n["author"]["username"] == "ferrybot"]


async def test_an_allowed_key_on_the_default_branch_applies(gitlab_bot: GitLabBot) -> None:
    """`policy.required_labels` from the project's file fails an MR that lacks the label."""
    gitlab_bot.config = _central()
    gitlab_bot.fake.push(PROJECT, "main", {FILE: STRICT}, author="acme-owner")

    mr = await _open(gitlab_bot)

    assert _policy(gitlab_bot, mr.sha) == "failed"
    assert any("kind/*" in body for body in _ferrybot_notes(gitlab_bot, mr.iid))


async def test_the_merge_requests_own_file_is_not_read(gitlab_bot: GitLabBot) -> None:
    """An MR that adds a stricter (or looser) file is judged by the default branch's: none."""
    gitlab_bot.config = _central()

    mr = await _open(gitlab_bot, {FILE: STRICT})

    assert _policy(gitlab_bot, mr.sha) == "success"
    assert not [
        path
        for method, path, _ in gitlab_bot.fake.requests
        if method == "GET" and "/repository/files/" in path and "ref=feat" in path
    ]


async def test_without_allowed_overrides_the_file_is_never_read(gitlab_bot: GitLabBot) -> None:
    """No `allowed_overrides`: the file is ignored and costs no request."""
    gitlab_bot.fake.push(PROJECT, "main", {FILE: STRICT}, author="acme-owner")

    mr = await _open(gitlab_bot)

    assert _policy(gitlab_bot, mr.sha) == "success"
    assert not [p for m, p, _ in gitlab_bot.fake.requests if "/repository/files/" in p]


async def test_a_refused_key_or_bad_yaml_is_said_once_and_the_central_config_holds(
    gitlab_bot: GitLabBot,
) -> None:
    """A key outside `allowed_overrides` sets the file aside and says so in one note (not
    again for the MR's next event); broken YAML likewise; neither dead-letters the event."""
    fake = gitlab_bot.fake
    gitlab_bot.config = _central()
    fake.push(PROJECT, "main", {FILE: "secrets:\n  enabled: false\n" + STRICT}, author="o")

    mr = await _open(gitlab_bot)
    again = fake.merge_request_hook(PROJECT, mr.iid, "reopen", user="alice")
    await gitlab_bot.deliver("merge_request", again)

    assert _policy(gitlab_bot, mr.sha) == "success"
    [problem] = [b for b in _ferrybot_notes(gitlab_bot, mr.iid) if "central configuration" in b]
    assert "sets `secrets`, which this installation does not let repositories" in problem
    assert "ferrybot:repo-config sha=" in problem

    fake.push(PROJECT, "main", {FILE: "policy: [unclosed\n"}, author="o")
    pushed = fake.push(PROJECT, "feat", {"b.txt": "b\n"}, author="alice")
    update = fake.merge_request_hook(PROJECT, mr.iid, "update", user="alice", oldrev=mr.sha)
    await gitlab_bot.deliver("merge_request", update)

    assert _policy(gitlab_bot, pushed) == "success"
    problems = [b for b in _ferrybot_notes(gitlab_bot, mr.iid) if "central configuration" in b]
    assert len(problems) == 2 and "is not valid YAML" in problems[1]


async def test_a_command_grant_from_the_project_file(gitlab_bot: GitLabBot) -> None:
    """`commands.permissions.lgtm` from the file lets a Reporter `/lgtm`; the central default
    (Developer) refuses another project's Reporter."""
    fake = gitlab_bot.fake
    gitlab_bot.config = _central("commands.permissions.lgtm")
    grant = "commands:\n  permissions:\n    lgtm: {level: triage}\n"
    fake.push(PROJECT, "main", {FILE: grant}, author="acme-owner")
    fake.add_member(PROJECT, "rita", 20)
    mr = fake.add_merge_request(PROJECT, source_branch="feat", author="alice", title="feat: x")

    await say(gitlab_bot, mr.iid, "rita", "/lgtm")

    assert fake.labels(PROJECT, mr.iid) == ["lgtm"]
    assert replies(fake, mr.iid) == []


async def test_a_push_to_the_default_branch_forgets_the_projects_entry() -> None:
    """GitLab's own Push Hook example, on the default branch, drops the project's cached
    file; on another branch, or for the same path on GitHub, it does not."""
    payload = json.loads((Path(__file__).parents[1] / "data/gitlab/webhooks/push.json").read_text())
    project = payload["project"]["path_with_namespace"]
    payload["ref"] = f"refs/heads/{payload['project']['default_branch']}"
    reads: list[str] = []

    async def read() -> RepoConfig:
        reads.append(project)
        return RepoConfig(BotConfig())

    cache = RepoConfigCache(ttl_seconds=3600)
    key = f"gitlab:{project}"
    envelope = Envelope(
        id="gitlab:push-1",
        source=Source.GITLAB,
        event="push",
        subject=f"gitlab/{project}",
        payload=payload,
    )
    other_branch = envelope.model_copy(update={"payload": {**payload, "ref": "refs/heads/feature"}})
    await cache.get_read(key, read)
    cache.note_event(other_branch)
    cache.forget(*project.rsplit("/", 1))  # the GitHub repository of the same name
    await cache.get_read(key, read)
    assert len(reads) == 1
    cache.note_event(envelope)
    await cache.get_read(key, read)
    assert len(reads) == 2
