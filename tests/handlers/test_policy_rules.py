"""`ferrybot/policy` CEL rules: evaluated over the PR (files from the API), shown as a table."""

from __future__ import annotations

from schemas.config import BotConfig
from tests.commands.harness import OWNER, REPO, Bot, bot, pull_payload

__all__ = ["bot"]

RULES = [
    {
        "name": "no-secrets",
        "expr": 'pr.changed_files.all(f, !f.startsWith("secrets/"))',
        "message": "Do not commit under `secrets/`; use the vault.",
    },
    {"name": "main-is-small", "expr": 'pr.base != "main" || pr.size < 500'},
]


async def test_rules_fail_the_check_with_a_table_and_messages(bot: Bot) -> None:
    """A PR touching secrets/ fails `no-secrets` with its message; the table lists both rules."""
    bot.config = BotConfig.model_validate({"policy": {"rules": RULES, "size_labels": False}})
    pr = bot.fake.add_pull(
        OWNER, REPO, head="leak", title="feat: add key", files={"secrets/key.txt": "k\n"}
    )
    await bot.deliver("pull_request", pull_payload(pr, additions=1, deletions=0))
    [run] = bot.fake.check_runs(OWNER, REPO, pr.pull.head_sha if pr.pull else "", "ferrybot/policy")
    assert run.conclusion == "failure"
    summary = run.output["summary"]
    assert run.output["title"] == "Policy not met: rule"
    assert "- Do not commit under `secrets/`; use the vault. (no-secrets)" in summary
    assert "| no-secrets | false | ❌ fail |" in summary
    assert "| main-is-small | true | ✅ pass |" in summary


async def test_rules_pass_and_are_still_shown(bot: Bot) -> None:
    """A PR satisfying every rule passes, and the check still shows each rule's value."""
    bot.config = BotConfig.model_validate({"policy": {"rules": RULES, "size_labels": False}})
    pr = bot.fake.add_pull(OWNER, REPO, head="docs", title="docs: x", files={"README.md": "y\n"})
    await bot.deliver("pull_request", pull_payload(pr, additions=1, deletions=1))
    [run] = bot.fake.check_runs(OWNER, REPO, pr.pull.head_sha if pr.pull else "", "ferrybot/policy")
    assert run.conclusion == "success"
    assert "| no-secrets | true | ✅ pass |" in run.output["summary"]
