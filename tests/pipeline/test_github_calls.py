"""GitHub calls a pull-request check costs, counted in the fake: no lookups the bot can skip."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.pipeline.worker import LIVE_MARGIN_MS
from bot.settings import Settings
from tests.fakegithub.server import FakeGitHub
from tests.support.bot import (
    GitHubApp,
    bot_settings,
    deliver,
    eventually,
    install_app,
    pull_request_payload,
    running_bot,
)

POLICY = "ferrybot/policy"


async def _joined(fake: FakeGitHub, app: GitHubApp, settings: Settings) -> int:
    """Wait until the worker has its partitions (events from before may be replays)."""
    warm = fake.add_pull("acme", "app", head="warm-up", title="feat: warm up")
    await deliver(
        settings, "pull_request", pull_request_payload(app, warm.number, warm.pull.head_sha)
    )
    await eventually(lambda: bool(fake.check_runs("acme", "app", warm.pull.head_sha, POLICY)))
    # Events count as new to the group only once written clearly after the assignment.
    await asyncio.sleep(LIVE_MARGIN_MS / 1000)
    return len(fake.requests)


def _calls(fake: FakeGitHub, since: int = 0) -> list[tuple[str, str, int]]:
    """What the bot asked GitHub, minus token minting (once per installation and hour)."""
    return [
        (method, re.sub(r"/\d+(/|$)", r"/N\1", re.sub(r"[0-9a-f]{40}", "SHA", path)), status)
        for method, path, status in fake.requests[since:]
        if not path.endswith("/access_tokens")
    ]


async def test_opened_costs_its_writes_only_and_known_runs_need_no_lookup(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Trusting new heads, a live opened: label + create, no lookup; the label echo is free."""
    app = install_app(fake_github)
    pr = fake_github.add_pull("acme", "app", head="feature", title="feat: thing")
    sha = pr.pull.head_sha
    settings = bot_settings(
        kafka_bootstrap, fake_github, app, tmp_path, check_run_trust_new_heads=True
    )
    async with running_bot(settings):
        start = await _joined(fake_github, app, settings)
        opened = pull_request_payload(app, pr.number, sha, title="feat: thing", live=True)
        await deliver(settings, "pull_request", opened)
        await eventually(lambda: len(fake_github.check_runs("acme", "app", sha, POLICY)) == 1)
        opened_calls = _calls(fake_github, start)
        # Other checks (the secret scan) read the diff; none looks a check run up first.
        assert ("POST", "/repos/acme/app/issues/N/labels", 200) in opened_calls
        assert ("POST", "/repos/acme/app/check-runs", 201) in opened_calls
        assert not [c for c in opened_calls if c[0] == "GET" and c[1].endswith("/check-runs")]
        start = len(fake_github.requests)
        # The webhook GitHub sends for the size label the bot just set, then a human edit.
        echo = pull_request_payload(app, pr.number, sha, "labeled", "feat: thing", ("size/XS",))
        echo["label"] = {"name": "size/XS"}
        echo["sender"] = {"login": "ferrybot[bot]", "type": "Bot", "id": 1}
        await deliver(settings, "pull_request", echo)
        edited = pull_request_payload(app, pr.number, sha, "edited", "wip", ("size/XS",))
        await deliver(settings, "pull_request", edited)
        await eventually(
            lambda: fake_github.check_runs("acme", "app", sha, POLICY)[0].conclusion == "failure"
        )
        # The echo costs nothing; the edit costs a PATCH and no lookup.
        assert [c for c in _calls(fake_github, start) if c[1] != "/app"] == [
            ("PATCH", "/repos/acme/app/check-runs/N", 200)
        ]


async def test_by_default_a_head_that_had_a_run_never_gets_a_second(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """A PR reopened on a head that already has a run: the default looks it up, one run stays."""
    app = install_app(fake_github)
    first = fake_github.add_pull("acme", "app", head="reused", title="feat: first")
    sha = first.pull.head_sha
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)
    async with running_bot(settings):
        await deliver(settings, "pull_request", pull_request_payload(app, first.number, sha))
        await eventually(lambda: len(fake_github.check_runs("acme", "app", sha, POLICY)) == 1)
    # A new worker (nothing in memory), and a new live PR on the same head commit.
    # Its title fails the policy, so the verdict changes: an update of the run, or a second run.
    second = fake_github.add_pull("acme", "app", head="reused", title="wip")
    async with running_bot(settings):
        start = await _joined(fake_github, app, settings)
        opened = pull_request_payload(app, second.number, sha, title="wip", live=True)
        await deliver(settings, "pull_request", opened)
        await eventually(
            lambda: any(
                run.conclusion == "failure"
                for run in fake_github.check_runs("acme", "app", sha, POLICY)
            )
        )
        assert any(
            c[:2] == ("PATCH", "/repos/acme/app/check-runs/N") for c in _calls(fake_github, start)
        )
    assert len(fake_github.check_runs("acme", "app", sha, POLICY)) == 1


async def test_a_redelivered_opened_looks_the_run_up_first(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """An opened whose pull request changed long ago may have a run already: look it up."""
    app = install_app(fake_github)
    pr = fake_github.add_pull("acme", "app", head="old", title="feat: old")
    sha = pr.pull.head_sha
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)
    async with running_bot(settings):
        await deliver(settings, "pull_request", pull_request_payload(app, pr.number, sha))
        await eventually(lambda: len(fake_github.check_runs("acme", "app", sha, POLICY)) == 1)
    assert ("GET", "/repos/acme/app/commits/SHA/check-runs", 200) in _calls(fake_github)


async def test_a_create_that_failed_is_looked_up_before_it_is_tried_again(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Trusting new heads, a create whose answer was lost is looked up before it is retried."""
    app = install_app(fake_github)
    pr = fake_github.add_pull("acme", "app", head="flaky", title="feat: flaky")
    sha = pr.pull.head_sha
    settings = bot_settings(
        kafka_bootstrap,
        fake_github,
        app,
        tmp_path,
        retry_max_wait_seconds=0.1,
        check_run_trust_new_heads=True,
    )
    async with running_bot(settings):
        start = await _joined(fake_github, app, settings)
        fake_github.fail_next("POST", r"/check-runs$", 502)
        payload = pull_request_payload(app, pr.number, sha, title="feat: flaky", live=True)
        await deliver(settings, "pull_request", payload)
        await eventually(lambda: len(fake_github.check_runs("acme", "app", sha, POLICY)) == 1)
    runs = [call for call in _calls(fake_github, start) if "check-runs" in call[1]]
    failed = runs.index(("POST", "/repos/acme/app/check-runs", 502))
    # The failed create is looked up (a 304 when the ETag cache holds the list) before it is
    # tried again; nothing else is.
    assert runs[failed + 1][:2] == ("GET", "/repos/acme/app/commits/SHA/check-runs")
    assert sum(1 for call in runs if call[0] == "GET") == 1
    assert len(fake_github.check_runs("acme", "app", sha, POLICY)) == 1


@pytest.mark.parametrize(
    ("sender", "relabels"),
    [("ferrybot[bot]", 0), ("someone-else[bot]", 1), ("octocat", 1)],
    ids=["own-echo-ignored", "other-bot-judged", "person-judged"],
)
async def test_only_the_bots_own_size_label_change_is_ignored(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path, sender: str, relabels: int
) -> None:
    """A size label removed by anyone but the bot itself is put back; the bot's own echo not."""
    app = install_app(fake_github)
    pr = fake_github.add_pull("acme", "app", head="sized", title="feat: sized")
    sha = pr.pull.head_sha
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)
    async with running_bot(settings):
        payload = pull_request_payload(app, pr.number, sha, "unlabeled", "feat: sized")
        payload["label"] = {"name": "size/XS"}
        payload["sender"] = {"login": sender, "type": "Bot" if "[bot]" in sender else "User"}
        await deliver(settings, "pull_request", payload)
        # Events of one PR are handled in order: once the next push's run exists, the above
        # was handled (a push moves the head, so the two are not coalesced into one check).
        pushed = fake_github.add_pull("acme", "app", head="sized-2", title="feat: x").pull.head_sha
        later = pull_request_payload(app, pr.number, pushed, "edited", "feat: sized", ("size/XS",))
        await deliver(settings, "pull_request", later)
        await eventually(lambda: bool(fake_github.check_runs("acme", "app", pushed, POLICY)))
    label_posts = [
        call
        for call in _calls(fake_github)
        if call[0] == "POST" and call[1] == "/repos/acme/app/issues/N/labels"
    ]
    assert len(label_posts) == relabels
