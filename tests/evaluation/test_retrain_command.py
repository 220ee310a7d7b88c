"""`/retrain` on a pull request: /promote's permissions, one dispatch per comment."""

from __future__ import annotations

from schemas.config import BotConfig
from tests.commands.harness import OWNER, REPO, Bot, bot, comment
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
