"""`ferrybot/secrets` on GitLab merge requests: the added lines of the MR's diffs."""

from __future__ import annotations

from tests.forges.harness import PROJECT, GitLabBot, gitlab_bot

__all__ = ["gitlab_bot"]

SECRETS = "ferrybot/secrets"
# Split so that this file itself holds no key a scanner would flag.
AWS_LINE = 'aws_access_key_id = "AKIA' + 'Z4B7QX2M6LRT3PVN"\n'


def _rows(bot: GitLabBot, sha: str) -> list[str]:
    return [s["status"] for s in bot.fake.statuses(PROJECT, sha) if s["name"] == SECRETS]


async def test_an_added_key_fails_and_a_clean_push_passes(gitlab_bot: GitLabBot) -> None:
    """An AWS key added → failed, file and rule in ferrybot's note, an audit record; the key
    removed by a new push → success on the new head."""
    fake = gitlab_bot.fake
    mr = fake.add_merge_request(
        PROJECT,
        source_branch="conf",
        author="alice",
        title="feat: config",
        files={"config/app.ini": "[aws]\n" + AWS_LINE},
    )
    await gitlab_bot.deliver(
        "merge_request", fake.merge_request_hook(PROJECT, mr.iid, "open", user="alice")
    )
    assert _rows(gitlab_bot, mr.sha) == ["failed"]
    [note] = fake.notes(PROJECT, mr.iid)
    assert "| `config/app.ini` | 2 | AWS Access Key |" in note["body"]
    [audit] = [a for a in gitlab_bot.publisher.audits if a.action == "secrets.failure"]
    assert audit.subject == f"gitlab/{PROJECT}!{mr.iid}"
    assert "AKIA" not in str(audit.details)

    pushed = fake.push(PROJECT, "conf", {"config/app.ini": "[aws]\n"}, author="alice")
    hook = fake.merge_request_hook(PROJECT, mr.iid, "update", user="alice", oldrev=mr.sha)
    await gitlab_bot.deliver("merge_request", hook)
    assert _rows(gitlab_bot, pushed) == ["success"]
