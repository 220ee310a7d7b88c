"""Reactions and replies: one per text, never twice, rate-limited refusals, every source."""

from __future__ import annotations

from tests.commands.harness import (
    OWNER,
    REPO,
    Bot,
    bot,
    comment,
    comment_payload,
    pull_payload,
)
from tests.commands.harness import _user as user_json
from tests.support.payloads import load_webhook

__all__ = ["bot"]
ACTOR = "maria"


def _replies(bot: Bot, number: int) -> list[str]:
    return [c.body for c in bot.fake.comments(OWNER, REPO, number) if c.user == "ferrybot[bot]"]


async def test_redelivery_posts_nothing_twice(bot: Bot) -> None:
    """The same delivery handled twice: one label, one reaction of each kind, one reply."""
    pr = bot.fake.add_pull(OWNER, REPO, head="r", title="feat: r", user="author")
    bot.fake.set_permission(OWNER, REPO, ACTOR, "triage")
    made = bot.fake.add_comment(OWNER, REPO, pr.number, "/hold\n/approve", user=ACTOR)
    payload = comment_payload(pr, made.id, made.body, ACTOR)
    for _ in range(2):
        await bot.deliver("issue_comment", payload, delivery="same-delivery")
    # /hold re-runs ferrybot/policy at once, which keeps the size label.
    assert bot.fake.labels(OWNER, REPO, pr.number) == ["do-not-merge/hold", "size/XS"]
    reactions = sorted(r.content for r in bot.fake.reactions(OWNER, REPO, comment_id=made.id))
    assert reactions == ["+1", "confused"]
    replies = _replies(bot, pr.number)
    assert len(replies) == 1
    assert "delivery=same-delivery" in replies[0]
    refused = [n for n in bot.publisher.notifications if n.kind == "command_refused"]
    assert len(refused) == 1


async def test_refusal_replies_are_rate_limited_per_user_and_pr(bot: Bot) -> None:
    """A second refused comment within the minute gets `confused` but no second reply."""
    pr = bot.fake.add_pull(OWNER, REPO, head="l", title="feat: l", user="author")
    first = await comment(bot, pr, "/lgtm", ACTOR)
    second = await comment(bot, pr, "/approve", ACTOR)
    other = await comment(bot, pr, "/lgtm", "someone-else")
    assert len(_replies(bot, pr.number)) == 2  # maria once, someone-else once
    for comment_id in (first, second, other):
        reactions = bot.fake.reactions(OWNER, REPO, comment_id=comment_id)
        assert [r.content for r in reactions] == ["confused"]


async def test_refused_input_is_quoted_escaped(bot: Bot) -> None:
    """A look-alike command and a bad label are quoted inert in a collapsed block."""
    pr = bot.fake.add_pull(OWNER, REPO, head="q", title="feat: q", user="author")
    bot.fake.set_permission(OWNER, REPO, ACTOR, "triage")
    await comment(bot, pr, "/h\u043eld\n/label <script>@admin", ACTOR)
    (reply,) = _replies(bot, pr.number)
    assert reply.startswith(f"@{ACTOR}: 2 commands were not run:")
    assert "U+043E (CYRILLIC SMALL LETTER O)" in reply
    assert "<script>" not in reply and "@admin" not in reply
    assert "this repository has no label" in reply
    assert "<details>" in reply and "</details>" in reply


async def test_commands_in_the_pr_body_on_open(bot: Bot) -> None:
    """`/hold` in the description of a new PR: held, and the PR itself gets the +1."""
    pr = bot.fake.add_pull(
        OWNER, REPO, head="b", title="feat: b", user=ACTOR, body="Adds b.\n\n/hold\n/cc @alice"
    )
    bot.fake.set_permission(OWNER, REPO, ACTOR, "triage")
    await bot.deliver("pull_request", pull_payload(pr))
    assert "do-not-merge/hold" in bot.fake.labels(OWNER, REPO, pr.number)
    assert pr.pull is not None and pr.pull.requested_reviewers == ["alice"]
    assert [r.content for r in bot.fake.reactions(OWNER, REPO, pr.number)] == ["+1"]


async def test_commands_in_review_comments_and_review_bodies(bot: Bot) -> None:
    """A review comment gets its reaction; a review body (no reactions on GitHub) a reply."""
    pr = bot.fake.add_pull(OWNER, REPO, head="v", title="feat: v", user="author")
    bot.fake.set_permission(OWNER, REPO, ACTOR, "write")
    review_comment = bot.fake.add_review_comment(
        OWNER, REPO, pr.number, "/lgtm", path="v.txt", user=ACTOR
    )
    payload = load_webhook("pull_request_review_comment.created.0", 77)
    rc = pull_payload(pr, "pull_request_review_comment.created.0")
    payload.update(pull_request=rc["pull_request"], repository=rc["repository"])
    payload["comment"].update(id=review_comment.id, body="/lgtm", user=user_json(ACTOR))
    payload["sender"] = user_json(ACTOR)
    await bot.deliver("pull_request_review_comment", payload)
    assert "lgtm" in bot.fake.labels(OWNER, REPO, pr.number)
    reactions = bot.fake.reactions(OWNER, REPO, review_comment_id=review_comment.id)
    assert [r.content for r in reactions] == ["+1"]

    review = load_webhook("pull_request_review.submitted.0", 77)
    review.update(pull_request=rc["pull_request"], repository=rc["repository"])
    review["review"].update(id=555, body="Looks fine.\n/approve", user=user_json(ACTOR))
    review["sender"] = user_json(ACTOR)
    await bot.deliver("pull_request_review", review)
    assert "approved" not in bot.fake.labels(OWNER, REPO, pr.number)
    (reply,) = [r for r in _replies(bot, pr.number) if "source=review/555" in r]
    assert "`/approve` needs the maintain role (or higher)" in reply


async def test_unknown_commands_are_left_to_other_bots(bot: Bot) -> None:
    """`/azp run` and paths: no request at all beyond none."""
    pr = bot.fake.add_pull(OWNER, REPO, head="u", title="feat: u", user="author")
    before = len(bot.fake.requests)
    await comment(bot, pr, "/azp run\n/usr/bin/env", ACTOR)
    assert len(bot.fake.requests) == before
