"""GitLab end to end over the real broker: webhook, Kafka, worker, statuses on the fake GitLab."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from bot.pipeline.broker import free_port
from bot.pipeline.bus import EventProducer, ensure_topics
from bot.settings import Settings
from schemas.envelope import Envelope, Source
from tests.fakegitlab.server import FakeGitLab
from tests.support.bot import eventually, running_bot
from tests.support.broker import bus_settings
from tests.support.processes import BotProcess, bot_env

PROJECT = "acme/platform/app"
BOT_TOKEN = "glpat-ferrybot-e2e-token"
HOOK_TOKEN = "gitlab-hook-secret-e2e"
CHECK_SECRET = "gitlab-status-check-secret-e2e"
POLICY = "ferrybot/policy"


def seed(fake: FakeGitLab) -> None:
    """The bot's user and token, and a project where the bot is a Developer."""
    fake.add_user("ferrybot")
    fake.add_token(BOT_TOKEN, "ferrybot")
    fake.add_project(PROJECT, files={"README.md": "# app\n"})
    fake.add_member(PROJECT, "ferrybot", 30)


def gitlab_settings(
    bootstrap: str, fake: FakeGitLab, state_dir: Path, **overrides: object
) -> Settings:
    """A bot pointed at the fake GitLab, with GitHub left in dry run."""
    return bus_settings(
        bootstrap,
        gitlab_url=fake.url,
        gitlab_token=BOT_TOKEN,
        gitlab_webhook_tokens=HOOK_TOKEN,
        http_port=free_port(),
        state_dir=state_dir,
        **overrides,
    )


def latest(fake: FakeGitLab, sha: str) -> list[str]:
    """The policy status rows on a commit, oldest first."""
    return [s["status"] for s in fake.statuses(PROJECT, sha) if s["name"] == POLICY]


async def test_a_merge_request_gets_its_verdict_and_a_redelivery_changes_nothing(
    fake_gitlab: FakeGitLab, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Opened → a status and one note; GitLab's resend → nothing; a hold label → failed."""
    seed(fake_gitlab)
    good = fake_gitlab.add_merge_request(
        PROJECT, source_branch="feat", author="alice", title="feat: add the thing"
    )
    bad = fake_gitlab.add_merge_request(
        PROJECT, source_branch="misc", author="alice", title="did some stuff"
    )
    settings = gitlab_settings(kafka_bootstrap, fake_gitlab, tmp_path)
    url = f"http://127.0.0.1:{settings.http_port}/webhooks/gitlab"
    fake_gitlab.add_project_hook(PROJECT, url, token=HOOK_TOKEN)

    async with running_bot(settings):
        sent = []
        for mr in (good, bad):
            payload = fake_gitlab.merge_request_hook(PROJECT, mr.iid, "open", user="alice")
            sent += await fake_gitlab.send_webhook(PROJECT, payload)
        assert [delivery.status for delivery in sent] == [202, 202]
        await eventually(
            lambda: (
                latest(fake_gitlab, good.sha) == ["success"]
                and latest(fake_gitlab, bad.sha) == ["failed"]
            ),
            what="both verdicts",
        )
        [status] = [s for s in fake_gitlab.statuses(PROJECT, bad.sha) if s["name"] == POLICY]
        assert status["pipeline_id"] == bad.head_pipeline_id
        assert status["description"] == "Policy not met: title convention"

        again = await fake_gitlab.redeliver(sent[0])
        assert again.status == 202
        # Same merge request, so ordered after the resend: when its verdict shows, the resend
        # has been handled (or dropped as a duplicate) already.
        fake_gitlab.set_labels(
            fake_gitlab.state.project(PROJECT),
            fake_gitlab.state.project(PROJECT).merge_request(good.iid),
            ["do-not-merge/hold"],
        )
        fake_gitlab.add_user("bob")
        update = fake_gitlab.merge_request_hook(PROJECT, good.iid, "update", user="bob")
        await fake_gitlab.send_webhook(PROJECT, update)
        await eventually(
            lambda: latest(fake_gitlab, good.sha) == ["success", "failed"], what="the hold"
        )

        async with aiohttp.ClientSession() as session:
            forged = await session.post(
                url,
                json=update,
                headers={"X-Gitlab-Event": "Merge Request Hook", "X-Gitlab-Token": "guess"},
            )
            assert forged.status == 401
            assert await forged.json() == {"error": "not authenticated"}

    for mr in (good, bad):
        notes = fake_gitlab.notes(PROJECT, mr.iid)
        assert [n["author"]["username"] for n in notes] == ["ferrybot"]
    assert "Remove the `do-not-merge/hold` label" in fake_gitlab.notes(PROJECT, good.iid)[0]["body"]


async def test_a_killed_worker_loses_nothing_and_doubles_nothing(
    fake_gitlab: FakeGitLab, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """200 events for 40 merge requests, the worker killed -9 part-way and restarted with an
    empty memory: every MR ends with exactly one status and one note."""
    seed(fake_gitlab)
    settings = gitlab_settings(kafka_bootstrap, fake_gitlab, tmp_path)
    await ensure_topics(settings, kafka_bootstrap)
    shas: dict[int, str] = {}
    producer = EventProducer(settings, kafka_bootstrap)
    await producer.start()
    try:
        for index in range(40):
            title = "feat: change" if index % 2 else "not conventional"
            mr = fake_gitlab.add_merge_request(
                PROJECT, source_branch=f"change-{index}", author="alice", title=title
            )
            shas[mr.iid] = mr.sha
            for step, action in enumerate(("open", "update", "update", "update", "update")):
                payload = fake_gitlab.merge_request_hook(PROJECT, mr.iid, action, user="alice")
                await producer.send_envelope(
                    Envelope(
                        id=f"gitlab:crash-{index}-{step}",
                        source=Source.GITLAB,
                        event="merge_request",
                        action=action,
                        subject=f"gitlab/{PROJECT}!{mr.iid}",
                        payload=payload,
                    )
                )
    finally:
        await producer.stop()

    def judged() -> int:
        return sum(1 for sha in shas.values() if latest(fake_gitlab, sha))

    env = bot_env(
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_enable_idempotence=str(settings.kafka_enable_idempotence).lower(),
        kafka_metadata_max_age_ms=5000,
        kafka_consumer_group=settings.kafka_consumer_group,
        topic_events=settings.topic_events,
        topic_dlq=settings.topic_dlq,
        topic_notifications=settings.topic_notifications,
        topic_audit=settings.topic_audit,
        gitlab_url=fake_gitlab.url,
        gitlab_token=BOT_TOKEN,
        retry_max_wait_seconds=0.2,
        state_dir=tmp_path,
        metrics_port=0,
    )
    log = tmp_path / "worker.log"
    worker = await BotProcess.start(["worker"], env, log)
    try:
        await eventually(lambda: judged() >= 8, within=90, what="the first merge requests")
        worker.process.send_signal(signal.SIGKILL)
        await worker.process.wait()
        assert judged() < len(shas), "the kill came too late to prove anything"
        worker = await BotProcess.start(["worker"], env, log)
        await eventually(lambda: judged() == len(shas), within=120, what="every verdict")
        await asyncio.sleep(1.0)  # anything replayed late would show up as a second row now
    finally:
        worker.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(worker.process.wait(), 60)

    for iid, sha in shas.items():
        expected = "success" if iid % 2 == 0 else "failed"  # iid = index + 1
        assert latest(fake_gitlab, sha) == [expected], f"!{iid}: {latest(fake_gitlab, sha)}"
        assert len(fake_gitlab.notes(PROJECT, iid)) == 1, f"!{iid} has several notes"
    text = log.read_text()
    assert BOT_TOKEN not in text


async def test_an_external_status_check_is_answered_with_ferrybots_verdict(
    fake_gitlab: FakeGitLab, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """GitLab's signed status-check request → failed until a developer's `/lgtm` note and a
    maintainer's approval, then passed on the same head; a forged signature is 401."""
    seed(fake_gitlab)
    for who, level in (("mia", 40), ("dave", 30)):
        fake_gitlab.add_user(who)
        fake_gitlab.add_member(PROJECT, who, level)
    mr = fake_gitlab.add_merge_request(
        PROJECT, source_branch="feat", author="alice", title="feat: add the thing"
    )
    settings = gitlab_settings(
        kafka_bootstrap, fake_gitlab, tmp_path, gitlab_status_check_secrets=CHECK_SECRET
    )
    base = f"http://127.0.0.1:{settings.http_port}/webhooks/gitlab"
    fake_gitlab.add_project_hook(PROJECT, base, token=HOOK_TOKEN)
    check = fake_gitlab.add_external_status_check(
        PROJECT, "ferrybot", f"{base}/status-checks", shared_secret=CHECK_SECRET
    )

    def answers() -> list[str]:
        return [a["status"] for a in fake_gitlab.status_check_responses(PROJECT, mr.iid)]

    async with running_bot(settings):
        sent = await fake_gitlab.send_status_check(
            PROJECT, mr.iid, check, action="open", user="alice"
        )
        assert sent == 202
        await fake_gitlab.send_webhook(
            PROJECT, fake_gitlab.merge_request_hook(PROJECT, mr.iid, "open", user="alice")
        )
        await eventually(lambda: answers()[-1:] == ["failed"], what="not approved yet")
        # Never passed while the approval check had not run yet (policy alone succeeded).
        assert "passed" not in answers()

        # A developer's `/lgtm` in a note, through the broker like every other delivery.
        lgtm = fake_gitlab.add_note(PROJECT, mr.iid, author="dave", body="/lgtm")
        await fake_gitlab.send_webhook(PROJECT, fake_gitlab.note_hook(PROJECT, mr.iid, lgtm))
        await eventually(lambda: "lgtm" in fake_gitlab.labels(PROJECT, mr.iid), what="/lgtm")
        assert answers()[-1] == "failed"  # not approved in GitLab yet
        fake_gitlab.approve(PROJECT, mr.iid, user="mia")
        await fake_gitlab.send_webhook(
            PROJECT, fake_gitlab.merge_request_hook(PROJECT, mr.iid, "approved", user="mia")
        )
        await eventually(lambda: answers()[-1:] == ["passed"], what="approved by a maintainer")

        forged = fake_gitlab.add_external_status_check(
            PROJECT, "forged", f"{base}/status-checks", shared_secret="not-the-secret"
        )
        status = await fake_gitlab.send_status_check(
            PROJECT, mr.iid, forged, action="update", user="alice"
        )
        assert status == 401
    assert "pending" not in answers()[1:] and answers()[-1] == "passed"
    responses = fake_gitlab.status_check_responses(PROJECT, mr.iid)
    assert {r["check"] for r in responses} == {check}
    assert {r["sha"] for r in responses} == {mr.sha}
