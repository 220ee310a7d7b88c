"""`/label` and `/remove-label` leave the labels ferrybot manages to their own commands."""

from __future__ import annotations

import pytest

from schemas.config import BotConfig
from schemas.pipelines import Pipeline
from tests.commands.harness import OWNER, REPO, Bot, bot, comment

__all__ = ["bot"]
AUTHOR = "author"


def _replies(bot: Bot, number: int) -> list[str]:
    return [c.body for c in bot.fake.comments(OWNER, REPO, number) if c.user == "ferrybot[bot]"]


async def test_the_author_cannot_approve_with_label(bot: Bot) -> None:
    """`/label lgtm approved` by the PR's author sets nothing; the reply points to `/lgtm`."""
    pr = bot.fake.add_pull(OWNER, REPO, head="self", title="feat: self", user=AUTHOR)
    assert pr.pull is not None
    bot.fake.add_label(OWNER, REPO, "lgtm")
    bot.fake.add_label(OWNER, REPO, "approved")
    bot.fake.set_permission(OWNER, REPO, AUTHOR, "admin")
    await comment(bot, pr, "/label lgtm approved", AUTHOR)
    assert "lgtm" not in bot.fake.labels(OWNER, REPO, pr.number)
    assert "approved" not in bot.fake.labels(OWNER, REPO, pr.number)
    (reply,) = _replies(bot, pr.number)
    assert "`lgtm` is set by a command of its own: use `/lgtm`" in reply
    runs = bot.fake.check_runs(OWNER, REPO, pr.pull.head_sha, "ferrybot/approval")
    assert all(run.conclusion != "success" for run in runs)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/label do-not-merge/hold", "use `/hold`"),
        ("/remove-label do-not-merge/hold", "use `/hold cancel`"),
        ("/remove-label APPROVED", "use `/approve cancel`"),
        ("/label size/XL", "`size/*` labels are set by `ferrybot/policy`"),
        ("/label promotion", "use `/promote` or `/rollback`"),
    ],
    ids=["hold", "unhold", "approved-any-case", "size", "promotion"],
)
async def test_managed_labels_are_refused(bot: Bot, line: str, expected: str) -> None:
    """Hold, review, size and promotion labels (from the config) get a reply naming the way."""
    bot.config = BotConfig(pipelines=[_pipeline()])
    pr = bot.fake.add_pull(
        OWNER, REPO, head="m", title="feat: m", user=AUTHOR, labels=["do-not-merge/hold"]
    )
    for name in ("size/XL", "promotion", "approved"):
        bot.fake.add_label(OWNER, REPO, name)
    bot.fake.set_permission(OWNER, REPO, "triager", "triage")
    await comment(bot, pr, line, "triager")
    assert bot.fake.labels(OWNER, REPO, pr.number) == ["do-not-merge/hold"]
    (reply,) = _replies(bot, pr.number)
    assert expected in reply


async def test_other_labels_still_work(bot: Bot) -> None:
    """An ordinary repository label is added as before."""
    pr = bot.fake.add_pull(OWNER, REPO, head="o", title="feat: o", user=AUTHOR)
    bot.fake.add_label(OWNER, REPO, "bug")
    bot.fake.set_permission(OWNER, REPO, "triager", "triage")
    await comment(bot, pr, "/label bug", "triager")
    assert "bug" in bot.fake.labels(OWNER, REPO, pr.number)


def _pipeline() -> Pipeline:
    return Pipeline.model_validate(
        {
            "name": "churn",
            "model": {"name": "churn", "alias": "champion"},
            "stages": [
                {
                    "name": "staging",
                    "repo": "acme/gitops",
                    "writes": [
                        {"kind": "yaml", "file": "a.yaml", "path": "spec.x", "value": "{version}"}
                    ],
                }
            ],
        }
    )
