"""The whole path over real sockets: webhook → ingress → Kafka → worker → fake GitHub."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiokafka import ConsumerRecord

from bot.pipeline.replay import DeadLetter, replay
from bot.pipeline.runtime import Components
from bot.settings import Settings
from schemas.envelope import Envelope
from schemas.notification import Notification, NotificationKind
from tests.fakegithub.server import FakeGitHub
from tests.support.bot import (
    bot_settings,
    deliver,
    eventually,
    install_app,
    pull_request_payload,
    running_bot,
)
from tests.support.topics import read_topic

POLICY = "ferrybot/policy"
# These tests count one check's writes and dead letters: the secrets check stays out.
ONLY_POLICY = {"secrets": {"enabled": False}}


async def test_signed_pull_request_gets_one_policy_check_run(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """opened → a failing check run; the same delivery again → still exactly one run."""
    app = install_app(fake_github)
    pr = fake_github.add_pull("acme", "app", head="wip", title="wip")
    sha = pr.pull.head_sha
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)
    payload = pull_request_payload(app, pr.number, sha, title="wip")
    async with running_bot(settings):
        answer = await deliver(settings, "pull_request", payload, delivery="delivery-1")
        assert answer.status == 202
        await eventually(lambda: len(fake_github.check_runs("acme", "app", sha, POLICY)) == 1)
        run = fake_github.check_runs("acme", "app", sha, POLICY)[0]
        assert run.conclusion == "failure"
        assert "Conventional Commits" in run.output["summary"]

        again = await deliver(settings, "pull_request", payload, delivery="delivery-1")
        assert again.status == 202
        fixed = pull_request_payload(app, pr.number, sha, action="edited", title="feat: thing")
        await deliver(settings, "pull_request", fixed)
        await eventually(
            lambda: fake_github.check_runs("acme", "app", sha, POLICY)[0].conclusion == "success"
        )
        chat = await read_topic(settings, kafka_bootstrap, settings.topic_notifications, 1, 3.0)
    assert len(fake_github.check_runs("acme", "app", sha, POLICY)) == 1
    # The check turned to failure once on a PR into the default branch: one chat message.
    alerts = [Notification.from_bytes(record.value or b"") for record in chat]
    assert [(n.kind, n.repository) for n in alerts] == [(NotificationKind.CHECK_FAILED, "acme/app")]
    assert alerts[0].title == f"{POLICY} failed on acme/app#{pr.number}"


async def test_redelivery_with_a_new_id_changes_nothing(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The same event under a new delivery id (after dedupe forgot it) updates nothing."""
    app = install_app(fake_github)
    pr = fake_github.add_pull("acme", "app", head="hold", title="feat: x", labels=["bug"])
    sha = pr.pull.head_sha
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path, bot=ONLY_POLICY)
    payload = pull_request_payload(app, pr.number, sha, action="labeled", title="feat: x")
    async with running_bot(settings):
        await deliver(settings, "pull_request", payload)
        await eventually(lambda: len(fake_github.check_runs("acme", "app", sha, POLICY)) == 1)
        writes_before = _check_run_writes(fake_github)
        await deliver(settings, "pull_request", payload)
        await deliver(settings, "pull_request", pull_request_payload(app, pr.number, sha, "closed"))
        marker = fake_github.add_pull("acme", "app", head="marker", title="feat: marker")
        await deliver(
            settings,
            "pull_request",
            pull_request_payload(app, marker.number, marker.pull.head_sha, title="feat: marker"),
        )
        await eventually(lambda: bool(fake_github.check_runs("acme", "app", marker.pull.head_sha)))
    assert _check_run_writes(fake_github) == writes_before + 1  # only the marker's run


def _check_run_writes(fake: FakeGitHub) -> int:
    return sum(1 for m, p, _ in fake.requests if m in ("POST", "PATCH") and "/check-runs" in p)


async def test_permanent_failure_is_dead_lettered_and_later_events_flow(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """A repo the App cannot see: 404, DLQ with reason, handler, attempts; later events flow."""
    app = install_app(fake_github)
    fake_github.add_repo("acme", "secret-repo", files={"a": "b"})
    hidden = fake_github.add_pull("acme", "secret-repo", head="x", title="feat: hidden")
    pr = fake_github.add_pull("acme", "app", head="ok", title="feat: visible")
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path, bot=ONLY_POLICY)
    lost = pull_request_payload(app, hidden.number, hidden.pull.head_sha, title="feat: hidden")
    lost["repository"]["name"] = "secret-repo"
    lost["repository"]["full_name"] = "acme/secret-repo"
    async with running_bot(settings):
        await deliver(settings, "pull_request", lost, delivery="doomed")
        later = pull_request_payload(app, pr.number, pr.pull.head_sha, title="feat: visible")
        await deliver(settings, "pull_request", later)
        await eventually(lambda: bool(fake_github.check_runs("acme", "app", pr.pull.head_sha)))
        dead = await read_topic(settings, kafka_bootstrap, settings.topic_dlq, expect=1)
    assert len(dead) == 1
    headers = _headers(dead[0])
    assert headers["handler"] == "handlers.policy.policy_check"
    assert headers["attempts"] == "1"
    assert "404" in headers["reason"] or "Not Found" in headers["reason"]
    assert headers["delivery"] == "doomed"
    assert Envelope.from_bytes(dead[0].value or b"").id == "doomed"


def _headers(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    return {key: value.decode() for key, value in record.headers}


async def test_transient_github_errors_are_retried_in_order(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """502s and a 429 with retry-after are retried; the run appears once, nothing dead-lettered."""
    app = install_app(fake_github)
    pr = fake_github.add_pull("acme", "app", head="flaky", title="feat: flaky")
    sha = pr.pull.head_sha
    fake_github.fail_next("POST", r"/check-runs$", 502, times=2)
    fake_github.fail_next("GET", r"/check-runs", 429, headers={"retry-after": "1"})
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path, retry_max_wait_seconds=2)
    async with running_bot(settings):
        await deliver(settings, "pull_request", pull_request_payload(app, pr.number, sha))
        await eventually(lambda: len(fake_github.check_runs("acme", "app", sha, POLICY)) == 1)
        assert await read_topic(settings, kafka_bootstrap, settings.topic_dlq, 0, 1.0) == []
    statuses = [status for m, p, status in fake_github.requests if "/check-runs" in p]
    assert statuses.count(502) == 2 and statuses.count(429) == 1


async def test_expired_installation_token_is_refreshed_once(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """A token GitHub stops accepting early is replaced and the call succeeds."""
    app = install_app(fake_github)
    first = fake_github.add_pull("acme", "app", head="one", title="feat: one")
    second = fake_github.add_pull("acme", "app", head="two", title="feat: two")
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)
    async with running_bot(settings):
        payload = pull_request_payload(app, first.number, first.pull.head_sha)
        await deliver(settings, "pull_request", payload)
        await eventually(lambda: bool(fake_github.check_runs("acme", "app", first.pull.head_sha)))
        fake_github.expire_tokens()
        payload = pull_request_payload(app, second.number, second.pull.head_sha)
        await deliver(settings, "pull_request", payload)
        await eventually(lambda: bool(fake_github.check_runs("acme", "app", second.pull.head_sha)))
    minted = [p for m, p, s in fake_github.requests if p.endswith("/access_tokens")]
    assert len(minted) == 2


async def test_personal_token_falls_back_to_a_commit_status(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """A PAT cannot create check runs, so the verdict becomes a ferrybot/policy status."""
    app = install_app(fake_github)
    fake_github.add_token("ghp_patforferrybottests0000000000000000", kind="pat", login="octo")
    fake_github.set_permission("acme", "app", "octo", "write")
    pr = fake_github.add_pull("acme", "app", head="pat", title="nope")
    sha = pr.pull.head_sha
    settings = bot_settings(
        kafka_bootstrap,
        fake_github,
        app,
        tmp_path,
        github_app_id=None,
        github_private_key=None,
        github_token="ghp_patforferrybottests0000000000000000",
        bot=ONLY_POLICY,
    )
    async with running_bot(settings):
        await deliver(
            settings, "pull_request", pull_request_payload(app, pr.number, sha, title="x")
        )
        await eventually(lambda: bool(fake_github.statuses("acme", "app", sha)))
    statuses = fake_github.statuses("acme", "app", sha)
    assert [(s.context, s.state) for s in statuses] == [(POLICY, "failure")]
    assert fake_github.check_runs("acme", "app", sha) == []


async def test_ingress_and_worker_run_as_separate_components(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """`ferrybot ingress` and `ferrybot worker` share only Kafka."""
    app = install_app(fake_github)
    pr = fake_github.add_pull("acme", "app", head="split", title="feat: split")
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)
    async with (
        running_bot(settings, Components(ingress=True, worker=False, notifier=False)),
        running_bot(settings.model_copy(update={"http_port": 0}), Components(False, True, False)),
    ):
        await deliver(
            settings, "pull_request", pull_request_payload(app, pr.number, pr.pull.head_sha)
        )
        await eventually(lambda: bool(fake_github.check_runs("acme", "app", pr.pull.head_sha)))


async def test_dead_letter_is_replayed_for_its_handler(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """A 422 dead-letters the event; once fixed, `ferrybot replay` re-runs just that handler."""
    app = install_app(fake_github)
    pr = fake_github.add_pull("acme", "app", head="later", title="feat: later")
    sha = pr.pull.head_sha
    fake_github.fail_next("POST", r"/check-runs$", 422)
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path, bot=ONLY_POLICY)
    async with running_bot(settings):
        await deliver(settings, "pull_request", pull_request_payload(app, pr.number, sha), "late")
        await eventually(lambda: any(s == 422 for _, _, s in fake_github.requests))
        listed = await _replay_until(settings, kafka_bootstrap, dry_list=True)
        assert [(d.delivery, d.handler) for d in listed] == [("late", POLICY_HANDLER)]
        assert fake_github.check_runs("acme", "app", sha) == []
        replayed = await replay(settings, kafka_bootstrap, delivery="late")
        assert [d.delivery for d in replayed] == ["late"]
        await eventually(lambda: len(fake_github.check_runs("acme", "app", sha, POLICY)) == 1)


POLICY_HANDLER = "handlers.policy.policy_check"


async def _replay_until(settings: Settings, bootstrap: str, dry_list: bool) -> list[DeadLetter]:
    for _ in range(50):
        found = await replay(settings, bootstrap, dry_list=dry_list)
        if found:
            return found
        await asyncio.sleep(0.2)
    return []


async def test_each_dead_letter_is_its_own_chat_message_with_a_link(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Dead-lettered, replayed, failing again: two dlq_grew notifications, each linking the PR."""
    app = install_app(fake_github)
    pr = fake_github.add_pull("acme", "app", head="twice", title="feat: twice")
    sha = pr.pull.head_sha
    fake_github.fail_next("POST", r"/check-runs$", 422, times=2)
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)
    async with running_bot(settings):
        await deliver(settings, "pull_request", pull_request_payload(app, pr.number, sha), "bad")
        assert await _replay_until(settings, kafka_bootstrap, dry_list=True)
        await replay(settings, kafka_bootstrap, delivery="bad")
        chat = await read_topic(settings, kafka_bootstrap, settings.topic_notifications, 2)
    grew = [Notification.from_bytes(r.value or b"") for r in chat]
    grew = [n for n in grew if n.kind == NotificationKind.DLQ_GREW]
    assert len(grew) == 2 and grew[0].id != grew[1].id
    link = f"{fake_github.url}/acme/app/pull/{pr.number}"
    assert [n.links for n in grew] == [{"Pull request": link}] * 2
