"""Repository webhooks under App auth: the App's installation is looked up for the repository."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fakegithub.server import FakeGitHub
from tests.support.bot import (
    APP_ID,
    INSTALLATION_ID,
    GitHubApp,
    bot_settings,
    deliver,
    eventually,
    install_app,
    pull_request_payload,
    running_bot,
)
from tests.support.topics import read_topic

POLICY = "ferrybot/policy"
LOOKUP = "/repos/acme/app/installation"


def _repository_webhook(app: GitHubApp, number: int, sha: str, repo: str = "app") -> dict[str, Any]:
    """A pull_request as a repository webhook sends it: no `installation` object."""
    payload = pull_request_payload(app, number, sha)
    del payload["installation"]
    payload["repository"]["name"] = repo
    payload["repository"]["full_name"] = f"acme/{repo}"
    return payload


def _lookups(fake: FakeGitHub, path: str = LOOKUP) -> int:
    return sum(1 for method, p, _ in fake.requests if method == "GET" and p == path)


async def test_a_repository_webhook_is_handled_through_the_apps_installation(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """No installation id: looked up once for the repository, then both PRs get their check."""
    app = install_app(fake_github)
    first = fake_github.add_pull("acme", "app", head="one", title="feat: one")
    second = fake_github.add_pull("acme", "app", head="two", title="feat: two")
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)
    async with running_bot(settings):
        for pr in (first, second):
            payload = _repository_webhook(app, pr.number, pr.pull.head_sha)
            assert (await deliver(settings, "pull_request", payload)).status == 202
        for pr in (first, second):
            sha = pr.pull.head_sha
            await eventually(
                lambda sha=sha: bool(fake_github.check_runs("acme", "app", sha, POLICY))
            )
        assert await read_topic(settings, kafka_bootstrap, settings.topic_dlq, 0, 1.0) == []
    assert _lookups(fake_github) == 1


async def test_a_repository_the_app_is_not_installed_on_is_refused_with_that_reason(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The lookup answers 404: dead-lettered saying the App is not installed there."""
    app = install_app(fake_github)
    fake_github.add_repo("acme", "elsewhere", files={"README.md": "x\n"})
    pr = fake_github.add_pull("acme", "elsewhere", head="x", title="feat: x")
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)
    payload = _repository_webhook(app, pr.number, pr.pull.head_sha, repo="elsewhere")
    async with running_bot(settings):
        await deliver(settings, "pull_request", payload, delivery="not-installed")
        dead = await read_topic(settings, kafka_bootstrap, settings.topic_dlq, expect=1)
    reasons = {dict(record.headers)["reason"].decode() for record in dead}
    assert reasons == {
        "PermanentError: the GitHub App is not installed on acme/elsewhere: install it there "
        "(or on its account) for ferrybot to act on it"
    }
    assert not fake_github.check_runs("acme", "elsewhere", pr.pull.head_sha)


async def test_a_reinstalled_app_is_found_again_under_its_new_installation(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The cached installation is gone (404 minting a token): asked again, and the event goes on."""
    app = install_app(fake_github)
    # Tokens expire at once, so each event mints one and meets the uninstall straight away.
    fake_github.token_ttl = 1
    before = fake_github.add_pull("acme", "app", head="before", title="feat: before")
    after = fake_github.add_pull("acme", "app", head="after", title="feat: after")
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)
    async with running_bot(settings):
        await deliver(
            settings, "pull_request", _repository_webhook(app, before.number, before.pull.head_sha)
        )
        await eventually(lambda: bool(fake_github.check_runs("acme", "app", before.pull.head_sha)))
        del fake_github.state.installations[INSTALLATION_ID]
        fake_github.add_installation(INSTALLATION_ID + 1, APP_ID, ["acme/app"])
        await deliver(
            settings, "pull_request", _repository_webhook(app, after.number, after.pull.head_sha)
        )
        await eventually(lambda: bool(fake_github.check_runs("acme", "app", after.pull.head_sha)))
        assert await read_topic(settings, kafka_bootstrap, settings.topic_dlq, 0, 1.0) == []
    assert _lookups(fake_github) == 2
