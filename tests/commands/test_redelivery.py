"""A text's commands run once, whatever delivery id it comes under (redeliver, recovery)."""

from __future__ import annotations

import copy
from typing import Any

from tests.commands.harness import OWNER, REPO, Bot, bot, comment_payload, pull_payload
from tests.commands.harness import _user as user_json
from tests.fakegithub.state import Reaction
from tests.support.payloads import load_webhook

__all__ = ["bot"]
ACTOR = "maria"


async def test_same_comment_under_two_delivery_ids_runs_once(bot: Bot) -> None:
    """The second delivery of a handled comment writes nothing; another user's 👍 is no proof."""
    pr = bot.fake.add_pull(OWNER, REPO, head="r", title="feat: r", user="author")
    bot.fake.set_permission(OWNER, REPO, ACTOR, "triage")
    made = bot.fake.add_comment(OWNER, REPO, pr.number, "/hold", user=ACTOR)
    made.reactions.append(Reaction(id=bot.fake.state.next_id(), content="+1", user="fan"))
    payload = comment_payload(pr, made.id, made.body, ACTOR)
    await bot.deliver("issue_comment", payload, delivery="first")
    assert "do-not-merge/hold" in bot.fake.labels(OWNER, REPO, pr.number)
    writes = len(bot.writes())
    await bot.deliver("issue_comment", copy.deepcopy(payload), delivery="redelivered")
    assert bot.writes()[writes:] == []
    assert len(bot.publisher.audits) == 1


async def test_same_review_under_two_delivery_ids_runs_once(bot: Bot) -> None:
    """A review body takes no reaction: its reply is the trace, so a new delivery id is a no-op."""
    pr = bot.fake.add_pull(OWNER, REPO, head="v", title="feat: v", user="author")
    bot.fake.set_permission(OWNER, REPO, "boss", "maintain")
    payload = _review(pull_payload(pr), 901, "/approve", "boss")
    await bot.deliver("pull_request_review", payload, delivery="first")
    assert "approved" in bot.fake.labels(OWNER, REPO, pr.number)
    writes = len(bot.writes())
    await bot.deliver("pull_request_review", copy.deepcopy(payload), delivery="again")
    assert bot.writes()[writes:] == []
    replies = [
        c.body for c in bot.fake.comments(OWNER, REPO, pr.number) if "ferrybot:reply" in c.body
    ]
    assert len(replies) == 1 and replies[0].startswith("@boss: done.")


def _review(pr_payload: dict[str, Any], review_id: int, body: str, login: str) -> dict[str, Any]:
    payload = copy.deepcopy(load_webhook("pull_request_review.submitted.0", 77))
    payload.update(pull_request=pr_payload["pull_request"], repository=pr_payload["repository"])
    payload["review"].update(id=review_id, body=body, user=user_json(login))
    payload["sender"] = user_json(login)
    return payload
