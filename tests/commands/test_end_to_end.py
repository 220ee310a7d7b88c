"""A PR conversation through the real bot: webhook → ingress → Kafka → worker → fake GitHub."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from tests.commands.harness import _user as user_json
from tests.commands.harness import comment_payload, pull_payload
from tests.fakegithub.server import FakeGitHub
from tests.support.bot import bot_settings, deliver, eventually, install_app, running_bot
from tests.support.payloads import load_webhook
from tests.support.topics import read_topic

OWNER, REPO = "acme", "app"
APPROVAL = "ferrybot/approval"


def _review(pr_payload: dict[str, Any], review_id: int, body: str, login: str) -> dict[str, Any]:
    """GitHub's recorded pull_request_review.submitted example, on the fake's PR."""
    payload = copy.deepcopy(load_webhook("pull_request_review.submitted.0", 77))
    payload.update(pull_request=pr_payload["pull_request"], repository=pr_payload["repository"])
    payload["review"].update(id=review_id, body=body, user=user_json(login))
    payload["sender"] = user_json(login)
    return payload


async def test_pr_conversation_over_the_broker(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """PR body /hold, comment /lgtm + /hold cancel, review /approve, a stranger refused;
    the same delivery twice and the same comment under a new id change nothing more."""
    app = install_app(fake_github)
    for login, level in (("author", "write"), ("rev", "write"), ("boss", "maintain")):
        fake_github.set_permission(OWNER, REPO, login, level)
    pr = fake_github.add_pull(
        OWNER, REPO, head="feat", title="feat: thing", user="author", body="Ready.\n\n/hold"
    )
    assert pr.pull is not None
    sha = pr.pull.head_sha
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)

    def labels() -> set[str]:
        return set(fake_github.labels(OWNER, REPO, pr.number))

    def gate() -> str | None:
        runs = fake_github.check_runs(OWNER, REPO, sha, APPROVAL)
        return runs[0].conclusion if runs else None

    opened = pull_payload(pr)
    lgtm = fake_github.add_comment(OWNER, REPO, pr.number, "/lgtm\n/hold cancel", user="rev")
    lgtm_payload = comment_payload(pr, lgtm.id, lgtm.body, "rev")
    refused = fake_github.add_comment(OWNER, REPO, pr.number, "/approve", user="stranger")
    async with running_bot(settings):
        assert (await deliver(settings, "pull_request", opened)).status == 202
        await eventually(lambda: "do-not-merge/hold" in labels(), what="PR body /hold")
        await eventually(lambda: bool(fake_github.reactions(OWNER, REPO, pr.number)))
        assert [r.content for r in fake_github.reactions(OWNER, REPO, pr.number)] == ["+1"]

        await deliver(settings, "issue_comment", lgtm_payload, delivery="lgtm-delivery")
        await eventually(lambda: "lgtm" in labels() and "do-not-merge/hold" not in labels())
        await deliver(settings, "pull_request_review", _review(opened, 901, "/approve", "boss"))
        await eventually(lambda: gate() == "success", what="approval check success")

        await deliver(
            settings,
            "issue_comment",
            comment_payload(pr, refused.id, refused.body, "stranger"),
        )
        await eventually(
            lambda: any(
                c.body.startswith("@stranger:") for c in fake_github.comments(OWNER, REPO, 1)
            )
        )
        writes = _writes(fake_github)
        await deliver(settings, "issue_comment", lgtm_payload, delivery="lgtm-delivery")
        await deliver(settings, "issue_comment", lgtm_payload, delivery="lgtm-redelivered")
        marker = fake_github.add_comment(OWNER, REPO, pr.number, "/cc @rev", user="boss")
        await deliver(settings, "issue_comment", comment_payload(pr, marker.id, "/cc @rev", "boss"))
        await eventually(
            lambda: bool(fake_github.reactions(OWNER, REPO, comment_id=marker.id)),
            what="the /cc handled to the end",
        )
    assert pr.pull.requested_reviewers == ["rev"]

    new_writes = _writes(fake_github)[len(writes) :]
    # After the first handling, the repeats cost only label requests GitHub answers as no-ops
    # (the same id is not even handled again): no comment, no edit, no check-run update.
    effects = [w for w in new_writes if "/labels" not in w and "reactions" not in w]
    assert effects == [f"POST /repos/{OWNER}/{REPO}/pulls/1/requested_reviewers"]
    assert labels() == {"lgtm", "approved", "size/XS"}
    assert [r.content for r in fake_github.reactions(OWNER, REPO, comment_id=lgtm.id)] == ["+1"]
    assert [r.content for r in fake_github.reactions(OWNER, REPO, comment_id=refused.id)] == [
        "confused"
    ]
    bot_comments = [c for c in fake_github.comments(OWNER, REPO, 1) if c.user.endswith("[bot]")]
    # The approval comment, the one refusal reply, and the review's reply (a review body
    # takes no reaction, so a reply is its acknowledgement).
    assert len(bot_comments) == 3
    assert any(c.body.startswith("@boss: done.") for c in bot_comments)
    (status,) = [c.body for c in bot_comments if "ferrybot:approval" in c.body]
    assert "LGTM: @rev" in status and "Approved: @boss" in status and "Ready to merge" in status
    assert len(fake_github.check_runs(OWNER, REPO, sha, APPROVAL)) == 1


def _writes(fake: FakeGitHub) -> list[str]:
    return [f"{m} {p}" for m, p, _ in fake.requests if m in ("POST", "PATCH", "PUT", "DELETE")]


async def test_a_comment_of_720_label_lines_gets_one_reply_within_githubs_limit(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """720 `/label bug` lines (8 KB): the first 10 run, one reply within 65,536 characters
    that counts what it left out, nothing dead-lettered; a redelivery posts no second reply."""
    app = install_app(fake_github)
    fake_github.set_permission(OWNER, REPO, "rev", "write")
    fake_github.add_label(OWNER, REPO, "bug")
    pr = fake_github.add_pull(OWNER, REPO, head="many", title="feat: many", user="author")
    text = "\n".join(["/label bug"] * 720)
    made = fake_github.add_comment(OWNER, REPO, pr.number, text, user="rev")
    payload = comment_payload(pr, made.id, text, "rev")
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)

    def replies() -> list[str]:
        return [c.body for c in fake_github.comments(OWNER, REPO, pr.number) if "@rev:" in c.body]

    async with running_bot(settings):
        await deliver(settings, "issue_comment", payload, delivery="many-1")
        await eventually(lambda: bool(replies()), what="the reply")
        await deliver(settings, "issue_comment", payload, delivery="many-2")
        marker = fake_github.add_comment(OWNER, REPO, pr.number, "/cc @rev", user="rev")
        await deliver(settings, "issue_comment", comment_payload(pr, marker.id, "/cc @rev", "rev"))
        await eventually(lambda: bool(fake_github.reactions(OWNER, REPO, comment_id=marker.id)))
        assert await read_topic(settings, kafka_bootstrap, settings.topic_dlq, 0, 1.0) == []
    (reply,) = replies()
    assert len(reply) <= 65_536
    assert "710 commands were not run" in reply
    assert re.search(r"… \d+ more lines", reply)
    assert reply.endswith("refusal=1 -->")
    assert "bug" in fake_github.labels(OWNER, REPO, pr.number)


async def test_a_comment_redelivered_after_a_restart_runs_nothing(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """/hold, then the worker restarts (its memory gone) and GitHub redelivers the comment
    under a new id: no GitHub write at all."""
    app = install_app(fake_github)
    fake_github.set_permission(OWNER, REPO, "rev", "triage")
    pr = fake_github.add_pull(OWNER, REPO, head="rs", title="feat: restart", user="author")
    made = fake_github.add_comment(OWNER, REPO, pr.number, "/hold", user="rev")
    payload = comment_payload(pr, made.id, made.body, "rev")
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)

    def writes() -> list[tuple[str, str]]:
        return [(m, p) for m, p, _ in fake_github.requests if m in ("POST", "PATCH", "DELETE")]

    async with running_bot(settings):
        await deliver(settings, "issue_comment", payload, delivery="before-restart")
        await eventually(lambda: bool(fake_github.reactions(OWNER, REPO, comment_id=made.id)))
    done = len(writes())
    async with running_bot(settings):
        await deliver(settings, "issue_comment", payload, delivery="after-restart")
        marker = fake_github.add_pull(OWNER, REPO, head="mk", title="feat: marker")
        assert marker.pull is not None
        await deliver(settings, "pull_request", pull_payload(marker))
        await eventually(lambda: bool(fake_github.check_runs(OWNER, REPO, marker.pull.head_sha)))
    # Only the marker PR got writes after the restart: nothing on the held PR or its comment.
    later = [path for _, path in writes()[done:]]
    assert any(f"/issues/{marker.number}/" in path for path in later)
    assert not [p for p in later if f"/issues/{pr.number}/" in p or f"/{made.id}/" in p]
    assert fake_github.labels(OWNER, REPO, pr.number) == ["do-not-merge/hold", "size/XS"]
