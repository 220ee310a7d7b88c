"""`/retrain` on a PR or a plain issue: /promote's permissions, one dispatch per comment."""

from __future__ import annotations

import copy

from schemas.config import BotConfig
from tests.commands.harness import OWNER, REPO, Bot, bot, comment, comment_payload
from tests.evaluation.setup import pipeline_config, seed

__all__ = ["bot"]  # the fixture, imported for pytest


def _config() -> BotConfig:
    pipeline = pipeline_config()
    pipeline["stages"][1]["approvers"] = ["dave"]
    return BotConfig.model_validate({"pipelines": [pipeline]})


def _replies(bot: Bot, number: int) -> str:
    return "\n".join(c.body for c in bot.fake.comments(OWNER, REPO, number) if c.user != "erin")


async def test_retrain_needs_the_stage_approver_and_dispatches_once(bot: Bot) -> None:
    """A reader is refused, a writer not approving prod is refused, the approver dispatches once."""
    bot.config = _config()
    seed(bot.fake)
    for login, level in (("rita", "read"), ("mallory", "write"), ("dave", "write")):
        bot.fake.set_permission(OWNER, REPO, login, level)
    tracking = bot.fake.add_pull(OWNER, REPO, head="drift", title="drift seen", user="erin")

    await comment(bot, tracking, "/retrain churn", "rita")
    await comment(bot, tracking, "/retrain churn in prod", "mallory")
    assert not bot.fake.dispatches(OWNER, REPO)
    replies = _replies(bot, tracking.number)
    assert "needs one of its approvers: `dave`" in replies

    await comment(bot, tracking, "/retrain churn", "dave", delivery="retrain-1")
    await comment(bot, tracking, "/retrain churn", "dave", delivery="retrain-1")
    [dispatch] = bot.fake.dispatches(OWNER, REPO)
    assert dispatch.inputs["version"] == "1.4.0"
    assert dispatch.inputs["alert"] == "/retrain by dave"
    assert "dispatched training of `churn` in acme/app (`prod` runs 1.4.0)" in _replies(
        bot, tracking.number
    )
    actions = [a.action for a in bot.publisher.audits if a.action.startswith("retrain.")]
    assert actions == ["retrain.dispatched", "retrain.skipped"]


async def test_retrain_of_a_pipeline_without_workflow_is_refused(bot: Bot) -> None:
    """A pipeline with no `retrain` section: the reply says so and nothing is dispatched."""
    pipeline = pipeline_config()
    del pipeline["retrain"]
    pipeline["on_alert"] = []
    bot.config = BotConfig.model_validate({"pipelines": [pipeline]})
    seed(bot.fake)
    bot.fake.set_permission(OWNER, REPO, "dave", "write")
    tracking = bot.fake.add_pull(OWNER, REPO, head="x", title="x", user="erin")
    await comment(bot, tracking, "/retrain churn", "dave")
    assert "has no `retrain` workflow" in _replies(bot, tracking.number)
    assert not bot.fake.dispatches(OWNER, REPO)


async def test_retrain_on_a_plain_issue_dispatches_once(bot: Bot) -> None:
    """A writer's `/retrain` on an issue dispatches once, linking it; a redelivery adds nothing."""
    bot.config = _config()
    seed(bot.fake)
    bot.fake.set_permission(OWNER, REPO, "dave", "write")
    report = bot.fake.add_issue(OWNER, REPO, "churn drifts in prod", user="erin")
    made = bot.fake.add_comment(OWNER, REPO, report.number, "/retrain churn", user="dave")
    payload = comment_payload(report, made.id, made.body, "dave")
    await bot.deliver("issue_comment", payload, delivery="issue-retrain-1")

    [dispatch] = bot.fake.dispatches(OWNER, REPO)
    assert dispatch.inputs["alert"] == "/retrain by dave"
    assert dispatch.inputs["link"].endswith(f"/{OWNER}/{REPO}/issues/{report.number}")
    assert ("GET", f"/repos/{OWNER}/{REPO}/issues/{report.number}", 200) in bot.fake.requests
    assert [r.content for r in bot.fake.reactions(OWNER, REPO, comment_id=made.id)] == ["+1"]
    assert "dispatched training of `churn` in acme/app (`prod` runs 1.4.0)" in _replies(
        bot, report.number
    )
    [record] = [a for a in bot.publisher.audits if a.action == "command.retrain"]
    assert record.subject == f"github/{OWNER}/{REPO}#{report.number}"

    writes = len(bot.writes())
    await bot.deliver("issue_comment", copy.deepcopy(payload), delivery="issue-retrain-2")
    assert len(bot.fake.dispatches(OWNER, REPO)) == 1
    assert bot.writes()[writes:] == []


async def test_retrain_on_a_plain_issue_keeps_the_permission_model(bot: Bot) -> None:
    """On an issue a reader is refused, and so is the approver who opened the issue."""
    bot.config = _config()
    seed(bot.fake)
    bot.fake.set_permission(OWNER, REPO, "rita", "read")
    bot.fake.set_permission(OWNER, REPO, "dave", "write")
    report = bot.fake.add_issue(OWNER, REPO, "churn drifts", user="dave")

    by_reader = await comment(bot, report, "/retrain churn", "rita")
    by_author = await comment(bot, report, "/retrain churn in prod", "dave")
    assert not bot.fake.dispatches(OWNER, REPO)
    replies = _replies(bot, report.number)
    assert "@rita: this command was not run:" in replies
    assert "`/retrain` needs the write role" in replies
    assert "you authored this change, and `prod` needs an approver who did not" in replies
    for made in (by_reader, by_author):
        reactions = bot.fake.reactions(OWNER, REPO, comment_id=made)
        assert [r.content for r in reactions] == ["confused"]
