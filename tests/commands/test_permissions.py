"""Who may run each command, over the fake GitHub: allowed, refused, author, fork, edit, bot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from schemas.commands_config import CommandGrant
from tests.commands.harness import OWNER, REPO, Bot, bot, comment, comment_payload, pull_payload
from tests.fakegithub.server import FakeGitHub
from tests.fakegithub.state import Issue

__all__ = ["bot"]

LEVELS = ("none", "read", "triage", "write", "maintain", "admin")
AUTHOR = "author"
ACTOR = "maria"


@dataclass(frozen=True)
class Case:
    """One command: the line, the lowest role allowed, setup, and how to see it took effect."""

    line: str
    level: str
    effect: Callable[[FakeGitHub, Issue], bool]
    setup: Callable[[FakeGitHub, Issue], None] = lambda fake, pr: None


def _labels(fake: FakeGitHub, pr: Issue) -> list[str]:
    return fake.labels(OWNER, REPO, pr.number)


def _reviewers(fake: FakeGitHub, pr: Issue) -> list[str]:
    assert pr.pull is not None
    return pr.pull.requested_reviewers


def _close(fake: FakeGitHub, pr: Issue) -> None:
    pr.state = "closed"


def _bug_label(fake: FakeGitHub, pr: Issue) -> None:
    fake.add_label(OWNER, REPO, "bug")


def _bug_on_pr(fake: FakeGitHub, pr: Issue) -> None:
    fake.add_labels(OWNER, REPO, pr.number, ["bug"])


def _assign_alice(fake: FakeGitHub, pr: Issue) -> None:
    pr.assignees.append("alice")


def _request_alice(fake: FakeGitHub, pr: Issue) -> None:
    assert pr.pull is not None
    pr.pull.requested_reviewers.append("alice")


def _hold(fake: FakeGitHub, pr: Issue) -> None:
    fake.add_labels(OWNER, REPO, pr.number, ["do-not-merge/hold"])


def _approval_run(fake: FakeGitHub, pr: Issue) -> bool:
    assert pr.pull is not None
    return bool(fake.check_runs(OWNER, REPO, pr.pull.head_sha, "ferrybot/approval"))


def _help_reply(fake: FakeGitHub, pr: Issue) -> bool:
    return any("the commands I know" in c.body for c in fake.comments(OWNER, REPO, pr.number))


CASES = {
    "help": Case("/help", "none", _help_reply),
    "hold": Case("/hold", "triage", lambda f, pr: "do-not-merge/hold" in _labels(f, pr)),
    "hold cancel": Case(
        "/hold cancel", "triage", lambda f, pr: "do-not-merge/hold" not in _labels(f, pr), _hold
    ),
    "unhold": Case(
        "/unhold", "triage", lambda f, pr: "do-not-merge/hold" not in _labels(f, pr), _hold
    ),
    "lgtm": Case("/lgtm", "write", lambda f, pr: "lgtm" in _labels(f, pr)),
    "approve": Case("/approve", "maintain", lambda f, pr: "approved" in _labels(f, pr)),
    "retest": Case("/retest", "write", _approval_run),
    "label": Case("/label bug", "triage", lambda f, pr: "bug" in _labels(f, pr), _bug_label),
    "remove-label": Case(
        "/remove-label bug", "triage", lambda f, pr: "bug" not in _labels(f, pr), _bug_on_pr
    ),
    "assign": Case("/assign @alice", "triage", lambda f, pr: pr.assignees == ["alice"]),
    "unassign": Case("/unassign @alice", "triage", lambda f, pr: not pr.assignees, _assign_alice),
    "cc": Case("/cc @alice", "triage", lambda f, pr: _reviewers(f, pr) == ["alice"]),
    "uncc": Case("/uncc @alice", "triage", lambda f, pr: not _reviewers(f, pr), _request_alice),
    "close": Case("/close", "triage", lambda f, pr: pr.state == "closed"),
    "reopen": Case("/reopen", "triage", lambda f, pr: pr.state == "open", _close),
}


def _below(level: str) -> str:
    return LEVELS[LEVELS.index(level) - 1]


def _pull(bot: Bot, case: Case, fork: bool = False) -> Issue:
    pr = bot.fake.add_pull(OWNER, REPO, head="feature", title="feat: x", user=AUTHOR, fork=fork)
    case.setup(bot.fake, pr)
    return pr


def _reactions(bot: Bot, comment_id: int) -> list[str]:
    return [r.content for r in bot.fake.reactions(OWNER, REPO, comment_id=comment_id)]


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
async def test_allowed_at_the_required_role(bot: Bot, name: str) -> None:
    """A user with exactly the command's role runs it: the effect, a +1, no refusal reply."""
    case = CASES[name]
    pr = _pull(bot, case)
    if case.level != "none":
        bot.fake.set_permission(OWNER, REPO, ACTOR, case.level)
    comment_id = await comment(bot, pr, case.line, ACTOR)
    assert case.effect(bot.fake, pr)
    assert _reactions(bot, comment_id) == ["+1"]
    assert not any("was not run" in c.body for c in bot.fake.comments(OWNER, REPO, pr.number))


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.level != "none"])
async def test_refused_below_the_required_role(bot: Bot, name: str) -> None:
    """One role lower: nothing changes, a `confused` reaction and one reply saying what works."""
    case = CASES[name]
    pr = _pull(bot, case)
    bot.fake.set_permission(OWNER, REPO, ACTOR, _below(case.level))
    comment_id = await comment(bot, pr, case.line, ACTOR)
    assert not case.effect(bot.fake, pr)
    assert _reactions(bot, comment_id) == ["confused"]
    replies = [c for c in bot.fake.comments(OWNER, REPO, pr.number) if c.user != ACTOR]
    assert len(replies) == 1
    assert replies[0].body.startswith(f"@{ACTOR}: this command was not run:")
    assert f"the {case.level} role (or higher)" in replies[0].body
    assert "<details>" in replies[0].body


@pytest.mark.parametrize("line", ["/lgtm", "/approve"])
async def test_authors_cannot_review_their_own_pull_request(bot: Bot, line: str) -> None:
    """An admin who opened the PR still cannot /lgtm or /approve it."""
    pr = bot.fake.add_pull(OWNER, REPO, head="mine", title="feat: mine", user=AUTHOR)
    bot.fake.set_permission(OWNER, REPO, AUTHOR, "admin")
    comment_id = await comment(bot, pr, line, AUTHOR)
    assert _labels(bot.fake, pr) == []
    assert _reactions(bot, comment_id) == ["confused"]
    reply = bot.fake.comments(OWNER, REPO, pr.number)[-1].body
    assert "you opened this pull request" in reply


async def test_configured_approvers_by_user_and_team(bot: Bot) -> None:
    """`commands.permissions.approve` users and team members approve with only write access."""
    bot.config = bot.config.model_copy(
        update={
            "commands": bot.config.commands.model_copy(
                update={
                    "permissions": {
                        "approve": CommandGrant(users=["lead"], teams=["acme/platform"])
                    }
                }
            )
        }
    )
    bot.fake.add_team_member("acme", "platform", "teamer")
    for login in ("lead", "teamer", "outsider"):
        bot.fake.set_permission(OWNER, REPO, login, "write")
    prs = {
        login: bot.fake.add_pull(OWNER, REPO, head=login, title="feat: x", user=AUTHOR)
        for login in ("lead", "teamer", "outsider")
    }
    for login, pr in prs.items():
        await comment(bot, pr, "/approve", login)
    assert "approved" in _labels(bot.fake, prs["lead"])
    assert "approved" in _labels(bot.fake, prs["teamer"])
    assert "approved" not in _labels(bot.fake, prs["outsider"])
    reply = bot.fake.comments(OWNER, REPO, prs["outsider"].number)[-1].body
    assert "being one of `lead`" in reply and "membership in `acme/platform`" in reply


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
async def test_fork_pull_requests_never_touch_the_fork(bot: Bot, name: str) -> None:
    """On a PR from a fork every command works and no request names the fork's repository."""
    case = CASES[name]
    pr = _pull(bot, case, fork=True)
    if case.level != "none":
        bot.fake.set_permission(OWNER, REPO, ACTOR, case.level)
    await comment(bot, pr, case.line, ACTOR)
    assert case.effect(bot.fake, pr)
    assert not [p for _, p, _ in bot.fake.requests if p.startswith(f"/repos/{AUTHOR}/")]


async def test_edited_and_deleted_comments_trigger_nothing(bot: Bot) -> None:
    """Edited or deleted comments and an edited PR body: no command runs, nothing is posted."""
    pr = bot.fake.add_pull(OWNER, REPO, head="e", title="feat: e", user=AUTHOR)
    bot.fake.set_permission(OWNER, REPO, ACTOR, "admin")
    made = bot.fake.add_comment(OWNER, REPO, pr.number, "/hold\n/lgtm", user=ACTOR)
    before = len(bot.fake.requests)
    for action in ("edited", "deleted"):
        payload = comment_payload(pr, made.id, "/hold\n/lgtm", ACTOR, action=action)
        await bot.deliver("issue_comment", payload)
    edited_body = pull_payload(pr, "pull_request.opened.0", body="/close")
    edited_body["action"] = "edited"
    await bot.deliver("pull_request", edited_body)
    assert pr.state == "open"
    assert not [p for _, p, _ in bot.fake.requests[before:] if "/comments" in p]
    assert _labels(bot.fake, pr) == ["size/XS"]  # the policy check's, not a command's


@pytest.mark.parametrize("login", ["renovate[bot]", "ferrybot[bot]"])
async def test_bot_authors_are_ignored(bot: Bot, login: str) -> None:
    """Comments by Apps (ferrybot itself included) are never read for commands."""
    pr = bot.fake.add_pull(OWNER, REPO, head="b", title="feat: b", user=AUTHOR)
    before = len(bot.fake.requests)
    await comment(bot, pr, "/hold\n/close", login)
    assert len(bot.fake.requests) == before
    assert pr.state == "open"


async def test_permission_is_read_once_per_delivery(bot: Bot) -> None:
    """Three commands by one user cost one collaborator-permission request."""
    pr = bot.fake.add_pull(OWNER, REPO, head="c", title="feat: c", user=AUTHOR)
    bot.fake.set_permission(OWNER, REPO, ACTOR, "write")
    await comment(bot, pr, "/hold\n/lgtm\n/assign", ACTOR)
    asked = [p for _, p, _ in bot.fake.requests if p.endswith(f"/collaborators/{ACTOR}/permission")]
    assert len(asked) == 1
    assert set(_labels(bot.fake, pr)) == {"do-not-merge/hold", "lgtm", "size/XS"}
