"""`ferrybot/manifests` on GitLab merge requests: the changed YAML, read at the head commit."""

from __future__ import annotations

from pathlib import Path

from schemas.config import BotConfig
from tests.forges.harness import PROJECT, GitLabBot, gitlab_bot

__all__ = ["gitlab_bot"]

MANIFESTS = "ferrybot/manifests"
DEPLOYMENT = (Path(__file__).parents[1] / "data" / "manifests" / "deployment.yaml").read_text()


def _rows(bot: GitLabBot, sha: str) -> list[str]:
    return [s["status"] for s in bot.fake.statuses(PROJECT, sha) if s["name"] == MANIFESTS]


async def test_valid_and_broken_manifests(gitlab_bot: GitLabBot) -> None:
    """A valid Deployment passes; a duplicate key pushed on top fails with file and line in
    ferrybot's note; a title edit (update without new commits) reads nothing again."""
    fake = gitlab_bot.fake
    gitlab_bot.config = BotConfig.model_validate({"manifests": {"repositories": [PROJECT]}})
    mr = fake.add_merge_request(
        PROJECT,
        source_branch="deploy",
        author="alice",
        title="feat: deploy",
        files={"deploy/app.yaml": DEPLOYMENT, "README.md": "# not a manifest\n"},
    )
    await gitlab_bot.deliver(
        "merge_request", fake.merge_request_hook(PROJECT, mr.iid, "open", user="alice")
    )
    assert _rows(gitlab_bot, mr.sha) == ["success"]

    broken = DEPLOYMENT + "metadata:\n  name: twice\n"
    pushed = fake.push(PROJECT, "deploy", {"deploy/app.yaml": broken}, author="alice")
    hook = fake.merge_request_hook(PROJECT, mr.iid, "update", user="alice", oldrev=mr.sha)
    await gitlab_bot.deliver("merge_request", hook)
    assert _rows(gitlab_bot, pushed) == ["failed"]
    [note] = fake.notes(PROJECT, mr.iid)
    assert "`ferrybot/manifests`: 1 of 1 manifest files have problems" in note["body"]
    assert "deploy/app.yaml:" in note["body"]

    reads = len(fake.requests)
    edit = fake.merge_request_hook(PROJECT, mr.iid, "update", user="alice")
    await gitlab_bot.deliver("merge_request", edit)
    later = [path for _, path, _ in fake.requests[reads:]]
    assert not [p for p in later if p.endswith("/diffs") or "/repository/files/" in p]


async def test_other_projects_are_not_read(gitlab_bot: GitLabBot) -> None:
    """A project that is not a configured GitOps repository costs no request for this check."""
    fake = gitlab_bot.fake
    gitlab_bot.config = BotConfig.model_validate({"manifests": {"repositories": ["other/gitops"]}})
    mr = fake.add_merge_request(
        PROJECT, source_branch="deploy", author="alice", title="feat: x", files={"a.yaml": "a: 1\n"}
    )
    await gitlab_bot.deliver(
        "merge_request", fake.merge_request_hook(PROJECT, mr.iid, "open", user="alice")
    )
    assert _rows(gitlab_bot, mr.sha) == []
