"""`ferrybot/approval`: the merge gate, the approval comment, and lgtm dropped on a new tree."""

from __future__ import annotations

import json

from handlers.approval import _MARKER, Approvals, render_comment
from schemas.config import BotConfig
from tests.commands.harness import OWNER, REPO, Bot, bot, comment, pull_payload
from tests.fakegithub.state import Issue

__all__ = ["bot"]
CHECK = "ferrybot/approval"


def _run(bot: Bot, sha: str) -> tuple[str | None, str]:
    (run,) = bot.fake.check_runs(OWNER, REPO, sha, CHECK)
    return run.conclusion, run.output["summary"]


def _approval_comments(bot: Bot, pr: Issue) -> list[str]:
    return [
        c.body
        for c in bot.fake.comments(OWNER, REPO, pr.number)
        if "<!-- ferrybot:approval " in c.body
    ]


async def _reviewed(bot: Bot) -> Issue:
    pr = bot.fake.add_pull(
        OWNER, REPO, head="gate", title="feat: gate", user="author", files={"a.txt": "1\n"}
    )
    bot.fake.set_permission(OWNER, REPO, "rev", "write")
    bot.fake.set_permission(OWNER, REPO, "boss", "maintain")
    await comment(bot, pr, "/lgtm", "rev")
    await comment(bot, pr, "/approve", "boss")
    return pr


async def test_gate_needs_lgtm_and_approved_and_no_hold(bot: Bot) -> None:
    """Failure until both labels are on; a hold fails it again; one comment, edited in place."""
    pr = bot.fake.add_pull(OWNER, REPO, head="g", title="feat: g", user="author")
    assert pr.pull is not None
    bot.fake.set_permission(OWNER, REPO, "rev", "write")
    bot.fake.set_permission(OWNER, REPO, "boss", "maintain")
    await comment(bot, pr, "/lgtm", "rev")
    assert _run(bot, pr.pull.head_sha)[0] == "failure"
    assert "`/approve` from an approver" in _run(bot, pr.pull.head_sha)[1]
    await comment(bot, pr, "/approve", "boss")
    assert _run(bot, pr.pull.head_sha)[0] == "success"
    await comment(bot, pr, "/hold", "rev")
    conclusion, summary = _run(bot, pr.pull.head_sha)
    assert conclusion == "failure" and "`do-not-merge/hold` label removed" in summary
    (status,) = _approval_comments(bot, pr)
    assert "LGTM: @rev" in status and "Approved: @boss" in status
    assert "do-not-merge/hold" in status
    await comment(bot, pr, "/hold cancel\n/lgtm cancel", "rev")
    (status,) = _approval_comments(bot, pr)
    assert "LGTM: nobody yet" in status
    assert _run(bot, pr.pull.head_sha)[0] == "failure"


async def test_a_push_that_changes_the_tree_removes_lgtm(bot: Bot) -> None:
    """synchronize to a commit with other files: lgtm goes, the gate fails on the new head."""
    pr = await _reviewed(bot)
    assert pr.pull is not None
    before = pr.pull.head_sha
    after = bot.fake.commit_files(OWNER, REPO, "gate", {"a.txt": "2\n"}, "change a")
    pr.pull.head_sha = after
    payload = pull_payload(pr, "pull_request.synchronize.0")
    payload.update(before=before, after=after)
    await bot.deliver("pull_request", payload)
    assert "lgtm" not in bot.fake.labels(OWNER, REPO, pr.number)
    assert "approved" in bot.fake.labels(OWNER, REPO, pr.number)
    assert _run(bot, after)[0] == "failure"
    (status,) = _approval_comments(bot, pr)
    assert "LGTM: nobody yet" in status and "Approved: @boss" in status


async def test_a_push_with_the_same_tree_keeps_lgtm(bot: Bot) -> None:
    """A reworded or rebased commit with an identical tree keeps lgtm and passes on the new head."""
    pr = await _reviewed(bot)
    assert pr.pull is not None
    before = pr.pull.head_sha
    after = bot.fake.commit_files(OWNER, REPO, "gate", {"a.txt": "1\n"}, "reword")
    assert after != before
    pr.pull.head_sha = after
    payload = pull_payload(pr, "pull_request.synchronize.0")
    payload.update(before=before, after=after)
    await bot.deliver("pull_request", payload)
    assert {"lgtm", "approved"} <= set(bot.fake.labels(OWNER, REPO, pr.number))
    assert _run(bot, after)[0] == "success"


async def test_unreviewed_pull_requests_get_no_approval_run(bot: Bot) -> None:
    """Opening a PR or labelling it `bug` leaves the gate "expected" and costs no request."""
    pr = bot.fake.add_pull(OWNER, REPO, head="n", title="feat: n", user="author", labels=["bug"])
    assert pr.pull is not None
    await bot.deliver("pull_request", pull_payload(pr))
    labeled = pull_payload(pr, "pull_request.labeled.0")
    labeled["label"] = {"name": "bug"}
    await bot.deliver("pull_request", labeled)
    assert bot.fake.check_runs(OWNER, REPO, pr.pull.head_sha, CHECK) == []


def test_an_approval_comment_of_1000_reviewers_fits_and_keeps_its_state() -> None:
    """1,000 reviewers and 1,000 approvers: the visible lines are cut to fit GitHub's 65,536
    characters, and the hidden state that records every one of them is kept whole."""
    config = BotConfig()
    approvals = Approvals(
        [f"reviewer-number-{n:04}" for n in range(1000)],
        [f"approver-number-{n:04}" for n in range(1000)],
    )
    labels = {config.commands.lgtm_label, config.commands.approved_label}
    body = render_comment(approvals, labels, labels, config)
    assert len(body) <= 65_536
    assert body.startswith("**Approval status**") and "… 4 more lines" in body
    match = _MARKER.search(body)
    assert match is not None
    assert json.loads(match.group(1)) == {"lgtm": approvals.lgtm, "approved": approvals.approved}


async def test_review_labels_added_by_hand_do_not_approve(bot: Bot) -> None:
    """The author puts lgtm + approved on in the UI: the labeled webhook keeps the gate red."""
    pr = bot.fake.add_pull(OWNER, REPO, head="hand", title="feat: hand", user="author")
    assert pr.pull is not None
    bot.fake.add_labels(OWNER, REPO, pr.number, ["lgtm", "approved"], actor="author")
    labeled = pull_payload(pr, "pull_request.labeled.0")
    labeled["label"] = {"name": "approved"}
    await bot.deliver("pull_request", labeled)
    conclusion, summary = _run(bot, pr.pull.head_sha)
    assert conclusion == "failure"
    assert "the `lgtm` label was not set by ferrybot" in summary
    assert "the `approved` label was not set by ferrybot" in summary


async def test_commands_make_hand_set_labels_count_and_forged_comments_are_ignored(
    bot: Bot,
) -> None:
    """/lgtm and /approve re-add hand-set labels as ferrybot; a pasted marker is ignored."""
    pr = bot.fake.add_pull(OWNER, REPO, head="re", title="feat: re", user="author")
    assert pr.pull is not None
    forged = '<!-- ferrybot:approval {"lgtm": ["author"], "approved": ["author"]} -->'
    bot.fake.add_comment(OWNER, REPO, pr.number, forged, user="author")
    bot.fake.add_labels(OWNER, REPO, pr.number, ["lgtm", "approved"], actor="author")
    bot.fake.set_permission(OWNER, REPO, "rev", "write")
    bot.fake.set_permission(OWNER, REPO, "boss", "maintain")
    await comment(bot, pr, "/lgtm", "rev")
    await comment(bot, pr, "/approve", "boss")
    assert _run(bot, pr.pull.head_sha)[0] == "success"
    mine = [
        c.body
        for c in bot.fake.comments(OWNER, REPO, pr.number)
        if "<!-- ferrybot:approval " in c.body and c.user == "ferrybot[bot]"
    ]
    assert len(mine) == 1 and "LGTM: @rev" in mine[0] and "Approved: @boss" in mine[0]
    assert forged in [c.body for c in bot.fake.comments(OWNER, REPO, pr.number)]


async def test_hold_turns_policy_red_without_a_labeled_webhook(bot: Bot) -> None:
    """`/hold` re-runs ferrybot/policy itself; `/hold cancel` turns it green again."""
    pr = bot.fake.add_pull(OWNER, REPO, head="p", title="feat: p", user="author")
    assert pr.pull is not None
    await bot.deliver("pull_request", pull_payload(pr))
    policy = "ferrybot/policy"
    (run,) = bot.fake.check_runs(OWNER, REPO, pr.pull.head_sha, policy)
    assert run.conclusion == "success"
    bot.fake.set_permission(OWNER, REPO, "rev", "triage")
    await comment(bot, pr, "/hold", "rev")
    (run,) = bot.fake.check_runs(OWNER, REPO, pr.pull.head_sha, policy)
    assert run.conclusion == "failure" and "do-not-merge/hold" in run.output["summary"]
    await comment(bot, pr, "/hold cancel", "rev")
    (run,) = bot.fake.check_runs(OWNER, REPO, pr.pull.head_sha, policy)
    assert run.conclusion == "success"
