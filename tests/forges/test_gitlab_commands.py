"""Commands in GitLab merge-request notes: the GitHub grammar, permissions and replies."""

from __future__ import annotations

import re
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.fakegitlab.server import FakeGitLab
from tests.fakegitlab.state import DEVELOPER, GUEST, MAINTAINER, REPORTER
from tests.forges.harness import PROJECT, TOKEN, GitLabBot, gitlab_bot

__all__ = ["gitlab_bot"]

AUTHOR = "alice"
ROLES = {"gina": GUEST, "rita": REPORTER, "dave": DEVELOPER, "mia": MAINTAINER, AUTHOR: DEVELOPER}
HOLD = "do-not-merge/hold"
HOLD_MARKER = "<!-- ferrybot:hold -->"
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def open_mr(fake: FakeGitLab) -> int:
    """An MR by the author, with every role of ROLES a member of the project."""
    for login, level in ROLES.items():
        fake.add_user(login)
        fake.add_member(PROJECT, login, level)
    mr = fake.add_merge_request(PROJECT, source_branch="feat", author=AUTHOR, title="feat: x")
    return mr.iid


async def say(bot: GitLabBot, iid: int, who: str, body: str) -> dict[str, Any]:
    """`who` writes a note; its Note Hook (the fake's real payload) reaches the handlers."""
    note = bot.fake.add_note(PROJECT, iid, author=who, body=body)
    await bot.deliver("note", bot.fake.note_hook(PROJECT, iid, note))
    return note


def replies(fake: FakeGitLab, iid: int) -> list[str]:
    """ferrybot's reply notes, oldest first."""
    return [
        n["body"]
        for n in fake.notes(PROJECT, iid)
        if n["author"]["username"] == "ferrybot" and "ferrybot:reply" in n["body"]
    ]


def hold_threads(fake: FakeGitLab, iid: int) -> list[dict[str, Any]]:
    """ferrybot's hold threads on the MR."""
    return [
        t
        for t in fake.discussions(PROJECT, iid)
        if t["notes"][0]["author"]["username"] == "ferrybot"
        and HOLD_MARKER in t["notes"][0]["body"]
    ]


def quick_action_lines(body: str) -> list[str]:
    """Lines GitLab would run as quick actions: starting with `/`, outside code fences."""
    found, fence = [], None
    for line in body.split("\n"):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1).startswith(fence):
                fence = None
        elif opened:
            fence = opened.group(1)[:3]
        elif line.startswith("/"):
            found.append(line)
    return found


@pytest.mark.parametrize(
    ("who", "body", "label", "refusal"),
    [
        ("gina", "/lgtm", None, "needs the Developer role (or higher) on this project"),
        ("rita", "/lgtm", None, "needs the Developer role (or higher) on this project"),
        ("dave", "/lgtm", "lgtm", None),
        ("mia", "/lgtm", "lgtm", None),
        (AUTHOR, "/lgtm", None, "you opened this merge request"),
        ("gina", "/hold", None, "needs the Reporter role (or higher) on this project"),
        ("rita", "/hold", HOLD, None),
        ("dave", "/hold", HOLD, None),
        ("mia", "/hold", HOLD, None),
        (AUTHOR, "/hold", HOLD, None),
    ],
    ids=[
        "lgtm-guest",
        "lgtm-reporter",
        "lgtm-developer",
        "lgtm-maintainer",
        "lgtm-author",
        "hold-guest",
        "hold-reporter",
        "hold-developer",
        "hold-maintainer",
        "hold-author",
    ],
)
async def test_permission_matrix(
    gitlab_bot: GitLabBot, who: str, body: str, label: str | None, refusal: str | None
) -> None:
    """Each role runs `/lgtm` and `/hold` as on GitHub; a refusal says what role is needed."""
    fake = gitlab_bot.fake
    iid = open_mr(fake)

    note = await say(gitlab_bot, iid, who, body)

    assert fake.labels(PROJECT, iid) == ([label] if label else [])
    awards = fake.awards(PROJECT, iid, note["id"])
    if refusal is None:
        assert awards == [("ferrybot", "thumbsup")]
        assert replies(fake, iid) == []
    else:
        assert awards == [("ferrybot", "confused")]
        [reply] = replies(fake, iid)
        assert reply.startswith(f"@{who}: this command was not run:")
        assert refusal in reply


async def test_redelivery_changes_nothing(gitlab_bot: GitLabBot) -> None:
    """The same Note Hook delivered again posts no second reply and writes no label again."""
    fake = gitlab_bot.fake
    iid = open_mr(fake)
    for who in ("dave", "gina"):
        note = fake.add_note(PROJECT, iid, author=who, body="/lgtm")
        payload = fake.note_hook(PROJECT, iid, note)
        await gitlab_bot.deliver("note", payload)
        before = gitlab_bot.writes()

        await gitlab_bot.deliver("note", payload)

        assert gitlab_bot.writes() == before
    assert len(replies(fake, iid)) == 1
    assert fake.labels(PROJECT, iid) == ["lgtm"]


async def test_hold_opens_one_thread_and_cancel_resolves_it(gitlab_bot: GitLabBot) -> None:
    """`/hold` twice opens exactly one unresolved thread; `/hold cancel` resolves it."""
    fake = gitlab_bot.fake
    iid = open_mr(fake)

    await say(gitlab_bot, iid, "rita", "/hold")
    await say(gitlab_bot, iid, "dave", "/hold")

    [thread] = hold_threads(fake, iid)
    assert [n["resolved"] for n in thread["notes"]] == [False]
    assert fake.labels(PROJECT, iid) == [HOLD]

    await say(gitlab_bot, iid, "mia", "/hold cancel")

    [thread] = hold_threads(fake, iid)
    assert [n["resolved"] for n in thread["notes"]] == [True]
    assert fake.labels(PROJECT, iid) == []

    await say(gitlab_bot, iid, "rita", "/hold")

    assert len(hold_threads(fake, iid)) == 1
    assert not hold_threads(fake, iid)[0]["notes"][0]["resolved"]


@pytest.mark.parametrize(
    "body",
    ["> /hold", "```\n/hold\n```", "    /hold", "please `/hold` this"],
    ids=["quoted", "fenced", "indented", "inline-code"],
)
async def test_quoted_or_fenced_hold_does_nothing(gitlab_bot: GitLabBot, body: str) -> None:
    """A `/hold` that is quoted, fenced or code is not a command: nothing is written."""
    fake = gitlab_bot.fake
    iid = open_mr(fake)

    await say(gitlab_bot, iid, "mia", body)

    assert gitlab_bot.writes() == []


@pytest.mark.parametrize(
    ("who", "body"),
    [
        ("ferrybot", "/hold"),
        ("mia", "/hold\n<!-- ferrybot:reply delivery=x source=note/1 to=mia refusal=0 -->"),
    ],
    ids=["ferrybot-itself", "pasted-marker"],
)
async def test_own_notes_do_nothing(gitlab_bot: GitLabBot, who: str, body: str) -> None:
    """ferrybot's own notes, and notes carrying its marker, run nothing (no loops)."""
    fake = gitlab_bot.fake
    iid = open_mr(fake)

    await say(gitlab_bot, iid, who, body)

    assert gitlab_bot.writes() == []


async def test_an_edited_note_runs_nothing(gitlab_bot: GitLabBot) -> None:
    """A Note Hook with action `update` (an edit) runs no command."""
    fake = gitlab_bot.fake
    iid = open_mr(fake)
    note = fake.add_note(PROJECT, iid, author="mia", body="/hold")
    payload = fake.note_hook(PROJECT, iid, note)
    payload["object_attributes"]["action"] = "update"

    await gitlab_bot.deliver("note", payload)

    assert gitlab_bot.writes() == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("/approve", "`/approve` is GitLab's own quick action: approve in GitLab's UI"),
        ("/uncc @dave", "`/unassign_reviewer`"),
        ("/label bug", "`/label` is GitLab's own quick action"),
    ],
    ids=["approve", "uncc", "label"],
)
async def test_github_only_commands_are_refused_by_name(
    gitlab_bot: GitLabBot, body: str, reason: str
) -> None:
    """GitLab's own quick actions, when they arrive in a note, are refused, saying why."""
    fake = gitlab_bot.fake
    iid = open_mr(fake)

    await say(gitlab_bot, iid, "mia", body)

    [reply] = replies(fake, iid)
    assert "does not run on GitLab" in reply
    assert reason in reply
    assert fake.labels(PROJECT, iid) == []


async def test_retest_reruns_ferrybots_statuses(gitlab_bot: GitLabBot) -> None:
    """`/retest` publishes ferrybot/policy and ferrybot/approval on the head commit."""
    fake = gitlab_bot.fake
    iid = open_mr(fake)

    await say(gitlab_bot, iid, "dave", "/retest")

    sha = fake.merge_request(PROJECT, iid)["sha"]
    names = {row["name"] for row in fake.statuses(PROJECT, sha)}
    assert {"ferrybot/policy", "ferrybot/approval"} <= names
    [reply] = replies(fake, iid)
    assert "re-ran `ferrybot/approval`, `ferrybot/policy`" in reply


@pytest.mark.parametrize(
    ("body", "left", "refusal"),
    [
        ("/remove-label bug docs", ["lgtm"], None),
        ("/remove-label lgtm", ["bug", "docs", "lgtm"], "use `/lgtm cancel`"),
        ("/remove-label missing", ["bug", "docs", "lgtm"], "this merge request has no label"),
    ],
    ids=["two-labels", "managed-label", "absent-label"],
)
async def test_remove_label_on_gitlab(
    gitlab_bot: GitLabBot, body: str, left: list[str], refusal: str | None
) -> None:
    """`/remove-label` (not a GitLab quick action) removes labels, never a managed one."""
    fake = gitlab_bot.fake
    iid = open_mr(fake)
    project = fake.state.project(PROJECT)
    fake.set_labels(project, project.merge_request(iid), ["bug", "docs", "lgtm"])

    await say(gitlab_bot, iid, "rita", body)

    assert fake.labels(PROJECT, iid) == left
    if refusal is None:
        assert replies(fake, iid) == []
    else:
        [reply] = replies(fake, iid)
        assert refusal in reply


async def test_replies_hold_no_quick_action_and_logs_no_token(gitlab_bot: GitLabBot) -> None:
    """No note ferrybot writes has a line GitLab would run; no log line carries the token."""
    fake = gitlab_bot.fake
    iid = open_mr(fake)
    with capture_logs() as logs:
        await say(gitlab_bot, iid, "gina", "/lgtm\n/hold\n/merge")
        await say(gitlab_bot, iid, "mia", "/help")
        await say(gitlab_bot, iid, "mia", "/hold")
        await say(gitlab_bot, iid, "mia", "/promote app to prod")

    written = [n["body"] for n in fake.notes(PROJECT, iid) if n["author"]["username"] == "ferrybot"]
    assert len(replies(fake, iid)) == 3
    assert any("| `/hold [cancel]` |" in body for body in written)
    for body in written:
        assert quick_action_lines(body) == [], body
    assert TOKEN not in repr(logs)
