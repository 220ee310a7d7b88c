"""`ferrybot/policy` on GitLab merge requests: size labels from the diffs, rules, the verdict."""

from __future__ import annotations

from schemas.config import BotConfig
from tests.forges.harness import PROJECT, GitLabBot, gitlab_bot

__all__ = ["gitlab_bot"]


def _label_writes(bot: GitLabBot) -> list[tuple[str, str]]:
    return [w for w in bot.writes() if w[0] == "PUT" and "/merge_requests/" in w[1]]


async def test_size_label_follows_the_head_and_its_echo_costs_nothing(
    gitlab_bot: GitLabBot,
) -> None:
    """3 added lines → size/XS; the label's own update event writes nothing; 40 more lines
    pushed → size/M replaces it."""
    fake = gitlab_bot.fake
    mr = fake.add_merge_request(
        PROJECT, source_branch="feat", author="alice", title="feat: x", files={"a.txt": "1\n2\n3\n"}
    )
    await gitlab_bot.deliver(
        "merge_request", fake.merge_request_hook(PROJECT, mr.iid, "open", user="alice")
    )
    assert fake.labels(PROJECT, mr.iid) == ["size/XS"]
    writes = len(_label_writes(gitlab_bot))
    echo = fake.merge_request_hook(PROJECT, mr.iid, "update", user="ferrybot")
    await gitlab_bot.deliver("merge_request", echo)
    assert len(_label_writes(gitlab_bot)) == writes

    lines = "".join(f"{n}\n" for n in range(43))
    pushed = fake.push(PROJECT, "feat", {"a.txt": lines}, author="alice")
    hook = fake.merge_request_hook(PROJECT, mr.iid, "update", user="alice", oldrev=mr.sha)
    await gitlab_bot.deliver("merge_request", hook)
    assert fake.labels(PROJECT, mr.iid) == ["size/M"]
    [policy] = [s for s in fake.statuses(PROJECT, pushed) if s["name"] == "ferrybot/policy"]
    assert policy["status"] == "success"


async def test_rules_read_the_changed_files(gitlab_bot: GitLabBot) -> None:
    """A CEL rule over `pr.changed_files` and `pr.size` judges the MR's real diff."""
    fake = gitlab_bot.fake
    gitlab_bot.config = BotConfig.model_validate(
        {
            "policy": {
                "rules": [
                    {
                        "name": "no-secrets-dir",
                        "expr": "!pr.changed_files.exists(f, f.startsWith('secrets/'))",
                        "message": "Keep secrets out of the repository.",
                    }
                ]
            }
        }
    )
    mr = fake.add_merge_request(
        PROJECT,
        source_branch="feat",
        author="alice",
        title="feat: x",
        files={"secrets/key.txt": "k\n"},
    )
    await gitlab_bot.deliver(
        "merge_request", fake.merge_request_hook(PROJECT, mr.iid, "open", user="alice")
    )
    [policy] = [s for s in fake.statuses(PROJECT, mr.sha) if s["name"] == "ferrybot/policy"]
    assert policy["status"] == "failed"
    [note] = fake.notes(PROJECT, mr.iid)
    assert "Keep secrets out of the repository. (no-secrets-dir)" in note["body"]
