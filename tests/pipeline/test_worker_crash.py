"""A worker killed with SIGKILL mid-stream loses nothing and doubles nothing once restarted."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.pipeline.bus import EventProducer, ensure_topics
from bot.settings import Settings
from schemas.envelope import Envelope, Source
from tests.fakegithub.server import FakeGitHub
from tests.support.bot import APP_ID, bot_settings, eventually, install_app, pull_request_payload

PULLS = 100
EVENTS_PER_PULL = 5  # 500 events in all
POLICY = "ferrybot/policy"


def _worker_env(settings: Settings, private_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FERRYBOT_")}
    env.update(
        {
            "FERRYBOT_KAFKA_BOOTSTRAP_SERVERS": str(settings.kafka_bootstrap_servers),
            "FERRYBOT_KAFKA_ENABLE_IDEMPOTENCE": str(settings.kafka_enable_idempotence).lower(),
            "FERRYBOT_KAFKA_METADATA_MAX_AGE_MS": "5000",
            "FERRYBOT_KAFKA_CONSUMER_GROUP": settings.kafka_consumer_group,
            "FERRYBOT_TOPIC_EVENTS": settings.topic_events,
            "FERRYBOT_TOPIC_DLQ": settings.topic_dlq,
            "FERRYBOT_TOPIC_NOTIFICATIONS": settings.topic_notifications,
            "FERRYBOT_TOPIC_AUDIT": settings.topic_audit,
            "FERRYBOT_GITHUB_API_URL": settings.github_api_url,
            "FERRYBOT_GITHUB_APP_ID": str(APP_ID),
            "FERRYBOT_GITHUB_PRIVATE_KEY": private_key,
            "FERRYBOT_RETRY_MAX_WAIT_SECONDS": "0.2",
            "FERRYBOT_GITHUB_WRITES_PER_MINUTE": "0",
            "FERRYBOT_GITHUB_WRITES_PER_HOUR": "0",
            "FERRYBOT_LOG_FORMAT": "json",
            "FERRYBOT_STATE_DIR": str(settings.state_dir),
            "FERRYBOT_METRICS_PORT": "0",
        }
    )
    return env


async def _start_worker(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "worker",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log.open("ab"),
    )


async def test_sigkill_mid_stream_leaves_every_effect_exactly_once(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """500 events, worker killed -9 part-way, restarted: one run per PR, at its final verdict."""
    app = install_app(fake_github)
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)
    await ensure_topics(settings, kafka_bootstrap)
    shas: dict[int, str] = {}
    envelopes: list[Envelope] = []
    for index in range(PULLS):
        pr = fake_github.add_pull("acme", "app", head=f"change-{index}", title="feat: change")
        shas[pr.number] = pr.pull.head_sha
        for step in range(EVENTS_PER_PULL):
            # Alternate hold on and off; the last event decides the verdict, so order matters.
            labels = ("do-not-merge/hold",) if (index + step) % 2 == 0 else ()
            action = "opened" if step == 0 else ("labeled" if labels else "unlabeled")
            payload = pull_request_payload(app, pr.number, pr.pull.head_sha, action, labels=labels)
            envelopes.append(
                Envelope(
                    id=f"crash-{index}-{step}",
                    source=Source.GITHUB,
                    event="pull_request",
                    action=action,
                    subject=f"github/acme/app#{pr.number}",
                    installation_id=payload["installation"]["id"],
                    payload=payload,
                )
            )
    expected = {
        number: "failure" if (index + EVENTS_PER_PULL - 1) % 2 == 0 else "success"
        for index, number in enumerate(shas)
    }
    producer = EventProducer(settings, kafka_bootstrap)
    await producer.start()
    try:
        for envelope in envelopes:
            await producer.send_envelope(envelope)
    finally:
        await producer.stop()

    def pulls_with_runs() -> int:
        return sum(1 for sha in shas.values() if fake_github.check_runs("acme", "app", sha))

    log = tmp_path / "worker.log"
    env = _worker_env(settings, app.private_key)
    worker = await _start_worker(env, log)
    try:
        await eventually(lambda: pulls_with_runs() >= PULLS // 4, within=90, what="first quarter")
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
        assert pulls_with_runs() < PULLS, "the kill came too late to prove anything"
        worker = await _start_worker(env, log)

        def settled() -> bool:
            for number, sha in shas.items():
                runs = fake_github.check_runs("acme", "app", sha, POLICY)
                if len(runs) != 1 or runs[0].conclusion != expected[number]:
                    return False
            return True

        await eventually(settled, within=120, what="every PR at its final verdict")
        await asyncio.sleep(1.0)  # anything replayed late would show up as a duplicate now
    finally:
        worker.send_signal(signal.SIGTERM)
        await asyncio.wait_for(worker.wait(), 60)

    for number, sha in shas.items():
        runs = fake_github.check_runs("acme", "app", sha, POLICY)
        assert len(runs) == 1, f"PR #{number} has {len(runs)} policy check runs"
        assert runs[0].conclusion == expected[number]
    text = log.read_text()
    assert '"message": "worker.stopped"' in text  # the SIGTERM'd worker drained and left
    for secret in (app.private_key.splitlines()[1], "webhook-secret-for-tests"):
        assert secret not in text
    for token in fake_github.state.tokens:
        assert token not in text
