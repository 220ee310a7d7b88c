"""The GitLab adapter against the fake GitLab: statuses, the details note, labels, roles, limits."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.checks import CheckResult, Conclusion
from bot.forges.gitlab.adapter import GitLabForge, GitLabMemory
from bot.forges.gitlab.client import GitLabClient
from bot.forges.gitlab.markdown import without_quick_actions
from bot.forges.port import Person
from bot.pipeline.retry import TransientError, is_transient
from schemas.commands_config import PermissionLevel
from tests.fakegitlab.server import FakeGitLab

PROJECT = "acme/platform/app"
TOKEN = "glpat-ferrybot-test-token"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """One HTTP session per test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def seeded(fake: FakeGitLab) -> int:
    """The bot's token, a project where the bot is a Developer, one open MR; its iid."""
    fake.add_user("ferrybot")
    fake.add_token(TOKEN, "ferrybot")
    fake.add_project(PROJECT, files={"README.md": "# app\n"})
    fake.add_member(PROJECT, "ferrybot", 30)
    fake.add_member(PROJECT, "alice", 30)
    return fake.add_merge_request(PROJECT, source_branch="feature", author="alice").iid


def forge_for(fake: FakeGitLab, session: aiohttp.ClientSession) -> GitLabForge:
    """The adapter on a fresh memory, as a newly started worker has."""
    return GitLabForge(GitLabClient(session, url=fake.url, token=TOKEN), GitLabMemory())


def verdict(conclusion: Conclusion, title: str, summary: str = "Details.") -> CheckResult:
    """A policy check result."""
    return CheckResult("ferrybot/policy", conclusion, title, summary)


async def test_a_verdict_is_a_status_on_the_head_pipeline_linking_to_its_details(
    fake_gitlab: FakeGitLab, session: aiohttp.ClientSession
) -> None:
    """The status sits on the MR's head pipeline, with the title and a link to the details note."""
    iid = seeded(fake_gitlab)
    forge = forge_for(fake_gitlab, session)
    change = await forge.get_change(PROJECT, iid)
    assert change.pipeline_id == fake_gitlab.merge_request(PROJECT, iid)["head_pipeline"]["id"]

    before = await forge.set_check(change, verdict(Conclusion.FAILURE, "Policy not met: title"))

    assert before is None
    [status] = fake_gitlab.statuses(PROJECT, change.head_sha)
    assert status["name"] == "ferrybot/policy" and status["status"] == "failed"
    assert status["pipeline_id"] == change.pipeline_id
    assert status["description"] == "Policy not met: title"
    [note] = fake_gitlab.notes(PROJECT, iid)
    assert status["target_url"] == f"{change.url}#note_{note['id']}"
    assert "`ferrybot/policy`: Policy not met: title" in note["body"]


async def test_an_unchanged_verdict_costs_no_write_even_after_a_restart(
    fake_gitlab: FakeGitLab, session: aiohttp.ClientSession
) -> None:
    """The same verdict again posts nothing; a new worker reads the status and note once."""
    iid = seeded(fake_gitlab)
    forge = forge_for(fake_gitlab, session)
    change = await forge.get_change(PROJECT, iid)
    result = verdict(Conclusion.SUCCESS, "Policy satisfied")
    await forge.set_check(change, result)
    writes = _writes(fake_gitlab)

    assert await forge.set_check(change, result) == "success"
    assert await forge_for(fake_gitlab, session).set_check(change, result) == "success"

    assert _writes(fake_gitlab) == writes
    assert len(fake_gitlab.statuses(PROJECT, change.head_sha)) == 1
    assert len(fake_gitlab.notes(PROJECT, iid)) == 1


async def test_each_check_keeps_its_own_section_of_one_note(
    fake_gitlab: FakeGitLab, session: aiohttp.ClientSession
) -> None:
    """Two checks and a changed verdict: still one note, edited in place, both sections current."""
    iid = seeded(fake_gitlab)
    forge = forge_for(fake_gitlab, session)
    change = await forge.get_change(PROJECT, iid)
    await forge.set_check(change, verdict(Conclusion.FAILURE, "Policy not met"))
    manifests = CheckResult("ferrybot/manifests", Conclusion.SUCCESS, "Manifests valid", "ok")
    await forge.set_check(change, manifests)
    await forge.set_check(change, verdict(Conclusion.SUCCESS, "Policy satisfied"))

    [note] = fake_gitlab.notes(PROJECT, iid)
    assert "Policy satisfied" in note["body"] and "Policy not met" not in note["body"]
    assert "`ferrybot/manifests`: Manifests valid" in note["body"]
    latest = {s["name"]: s["status"] for s in fake_gitlab.statuses(PROJECT, change.head_sha)}
    assert latest == {"ferrybot/policy": "success", "ferrybot/manifests": "success"}


async def test_a_pasted_marker_is_not_ferrybots_note(
    fake_gitlab: FakeGitLab, session: aiohttp.ClientSession
) -> None:
    """A note someone else wrote with ferrybot's marker is left alone; the bot writes its own."""
    iid = seeded(fake_gitlab)
    pasted = fake_gitlab.add_note(
        PROJECT, iid, author="alice", body="<!-- ferrybot:details -->\nall green, trust me"
    )
    forge = forge_for(fake_gitlab, session)
    await forge.set_check(await forge.get_change(PROJECT, iid), verdict(Conclusion.FAILURE, "No"))

    notes = fake_gitlab.notes(PROJECT, iid)
    assert [n["body"] for n in notes if n["id"] == pasted["id"]] == [pasted["body"]]
    assert [n["author"]["username"] for n in notes] == ["alice", "ferrybot"]


async def test_the_note_is_found_past_the_first_page(
    fake_gitlab: FakeGitLab, session: aiohttp.ClientSession
) -> None:
    """Among 250 other notes, a restarted worker still finds and edits ferrybot's own note."""
    iid = seeded(fake_gitlab)
    change = await forge_for(fake_gitlab, session).get_change(PROJECT, iid)
    for number in range(130):
        fake_gitlab.add_note(PROJECT, iid, author="alice", body=f"comment {number}")
    await forge_for(fake_gitlab, session).set_check(change, verdict(Conclusion.FAILURE, "No"))
    for number in range(120):
        fake_gitlab.add_note(PROJECT, iid, author="alice", body=f"later {number}")

    await forge_for(fake_gitlab, session).set_check(change, verdict(Conclusion.SUCCESS, "Yes"))

    own = [n for n in fake_gitlab.notes(PROJECT, iid) if n["author"]["username"] == "ferrybot"]
    assert len(own) == 1 and "`ferrybot/policy`: Yes" in own[0]["body"]


@pytest.mark.parametrize(
    ("status", "headers", "asked"),
    [
        (429, {"Retry-After": "7"}, 7.0),
        (429, {}, None),
        (409, {}, None),
    ],
    ids=["429-with-retry-after", "429-without-retry-after", "409-concurrent-writer"],
)
async def test_rate_limits_and_concurrent_writers_are_retried(
    fake_gitlab: FakeGitLab,
    session: aiohttp.ClientSession,
    status: int,
    headers: dict[str, str],
    asked: float | None,
) -> None:
    """GitLab 429s (with or without Retry-After) and 409s on a status are retried."""
    iid = seeded(fake_gitlab)
    forge = forge_for(fake_gitlab, session)
    change = await forge.get_change(PROJECT, iid)
    fake_gitlab.fail_next("POST", r"/statuses/", status, headers=headers)

    with pytest.raises(TransientError) as caught:
        await forge.set_check(change, verdict(Conclusion.SUCCESS, "Yes"))

    assert is_transient(caught.value)
    if status == 429 and asked is not None:
        assert caught.value.retry_after == asked
    await forge.set_check(change, verdict(Conclusion.SUCCESS, "Yes"))
    assert [s["status"] for s in fake_gitlab.statuses(PROJECT, change.head_sha)] == ["success"]


async def test_a_refused_transition_is_settled_by_what_the_status_says_now(
    fake_gitlab: FakeGitLab, session: aiohttp.ClientSession
) -> None:
    """GitLab's 400 "Cannot transition": done if the status already says it, else retried."""
    iid = seeded(fake_gitlab)
    first, second = forge_for(fake_gitlab, session), forge_for(fake_gitlab, session)
    change = await first.get_change(PROJECT, iid)
    await first.set_check(change, verdict(Conclusion.FAILURE, "No"))
    await second.set_check(change, verdict(Conclusion.SUCCESS, "Yes"))  # another worker
    refusal = {"message": "Cannot transition status via :success from :success"}
    fake_gitlab.fail_next("POST", r"/statuses/", 400, body=refusal)

    await first.set_check(change, verdict(Conclusion.SUCCESS, "Yes"))  # remembers "failed"

    assert [s["status"] for s in fake_gitlab.statuses(PROJECT, change.head_sha)] == [
        "failed",
        "success",
    ]
    fake_gitlab.fail_next("POST", r"/statuses/", 400, body=refusal)
    with pytest.raises(TransientError):
        await first.set_check(change, verdict(Conclusion.FAILURE, "No again"))


@pytest.mark.parametrize(
    ("access_level", "role"),
    [
        (10, PermissionLevel.READ),
        (15, PermissionLevel.READ),
        (20, PermissionLevel.TRIAGE),
        (30, PermissionLevel.WRITE),
        (40, PermissionLevel.MAINTAIN),
        (50, PermissionLevel.ADMIN),
        (None, PermissionLevel.NONE),
    ],
    ids=["guest", "planner", "reporter", "developer", "maintainer", "owner", "stranger"],
)
async def test_roles_come_from_effective_access_levels(
    fake_gitlab: FakeGitLab,
    session: aiohttp.ClientSession,
    access_level: int | None,
    role: PermissionLevel,
) -> None:
    """Each GitLab access level maps to one ferrybot role; a non-member has none."""
    seeded(fake_gitlab)
    user = fake_gitlab.add_user("carol")
    if access_level is not None:
        fake_gitlab.add_member(PROJECT, "carol", access_level)
    forge = forge_for(fake_gitlab, session)

    assert await forge.permission(PROJECT, Person("carol", user.id)) is role
    assert await forge.permission(PROJECT, Person("carol")) is role  # looked up by username


async def test_labels_are_added_and_removed_idempotently(
    fake_gitlab: FakeGitLab, session: aiohttp.ClientSession
) -> None:
    """Adding a label twice and removing one already gone both leave the expected set."""
    iid = seeded(fake_gitlab)
    forge = forge_for(fake_gitlab, session)
    change = await forge.get_change(PROJECT, iid)
    await forge.add_labels(change, ["hold", "size/S"])
    await forge.add_labels(change, ["hold"])
    await forge.remove_label(change, "size/S")
    await forge.remove_label(change, "size/S")

    assert fake_gitlab.labels(PROJECT, iid) == ["hold"]
    assert (await forge.get_change(PROJECT, iid)).labels == {"hold"}


async def test_a_self_managed_instance_under_a_path(session: aiohttp.ClientSession) -> None:
    """With GitLab at https://host/gitlab, every call goes below /gitlab/api/v4."""
    fake = FakeGitLab("/gitlab")
    await fake.start()
    try:
        iid = seeded(fake)
        forge = forge_for(fake, session)
        change = await forge.get_change(PROJECT, iid)
        await forge.set_check(change, verdict(Conclusion.SUCCESS, "Yes"))
        assert fake.statuses(PROJECT, change.head_sha)[0]["status"] == "success"
        assert fake.url.endswith("/gitlab") and not fake.violations
    finally:
        await fake.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/merge", "\\/merge"),
        ("fine\n/approve\nstill", "fine\n\\/approve\nstill"),
        ("```\n/merge\n```", "```\n/merge\n```"),
        ("~~~text\n/close\n~~~\n/close", "~~~text\n/close\n~~~\n\\/close"),
        (" /merge", " /merge"),
    ],
    ids=["alone", "between-lines", "in-a-fence", "after-a-fence", "indented"],
)
def test_quick_actions_in_what_ferrybot_writes_are_neutralised(text: str, expected: str) -> None:
    """A line GitLab would run as a quick action is escaped; fenced code is shown as it is."""
    assert without_quick_actions(text) == expected


async def test_a_check_summary_cannot_run_a_quick_action(
    fake_gitlab: FakeGitLab, session: aiohttp.ClientSession
) -> None:
    """A summary line `/merge` (a hostile rule message, a quoted title) reaches GitLab escaped."""
    iid = seeded(fake_gitlab)
    forge = forge_for(fake_gitlab, session)
    change = await forge.get_change(PROJECT, iid)
    await forge.set_check(change, verdict(Conclusion.FAILURE, "No", "To pass:\n/merge\n/approve"))

    [note] = fake_gitlab.notes(PROJECT, iid)
    assert "\n\\/merge\n\\/approve" in note["body"]
    assert not any(line.startswith("/") for line in note["body"].splitlines())


def _writes(fake: FakeGitLab) -> list[tuple[str, str, int]]:
    return [r for r in fake.requests if r[0] not in ("GET", "HEAD")]
