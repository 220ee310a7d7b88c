"""Idempotence is what the broker grants; `replay` finds the local `run` by itself."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.cli.send import send_github
from bot.pipeline.broker import free_port
from bot.pipeline.bus import EventProducer, ensure_topics
from bot.pipeline.replay import REPLAY_HEADER
from bot.settings import Settings
from tests.support.broker import TansuProcess, bus_settings
from tests.support.payloads import DATA
from tests.support.processes import BotProcess, bot_env
from tests.support.topics import read_topic

SAMPLE = (DATA / "github" / "webhooks" / "pull_request.opened.0.json").read_bytes()
SECRET = "replay-cli-secret-0"


def _env_for(settings: Settings, bootstrap: str, tmp_path: Path) -> dict[str, str]:
    # Deliberately no FERRYBOT_KAFKA_ENABLE_IDEMPOTENCE: the broker must be asked.
    return bot_env(
        kafka_bootstrap_servers=bootstrap,
        kafka_consumer_group=settings.kafka_consumer_group,
        topic_events=settings.topic_events,
        topic_dlq=settings.topic_dlq,
        topic_notifications=settings.topic_notifications,
        topic_audit=settings.topic_audit,
        state_dir=tmp_path / "state",
    )


async def _cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 90)
    return process.returncode or 0, out.decode(), err.decode()


async def test_replay_against_a_tansu_started_by_hand(
    own_broker: TansuProcess, tmp_path: Path
) -> None:
    """With only FERRYBOT_KAFKA_BOOTSTRAP_SERVERS set, `replay --list` lists the dead letter and
    `replay` puts it back on the events topic, with one warning that idempotence is off."""
    bootstrap = own_broker.bootstrap_servers
    settings = bus_settings(bootstrap)
    await ensure_topics(settings, bootstrap)
    producer = EventProducer(settings, bootstrap)
    await producer.start()
    try:
        headers = [("delivery", b"d-1"), ("handler", b"handlers.policy.policy_check")]
        await producer.send(settings.topic_dlq, "github/acme/app#1", b"{}", headers=headers)
    finally:
        await producer.stop()
    env = _env_for(settings, bootstrap, tmp_path)

    code, out, err = await _cli("replay", "--list", env=env)
    assert code == 0, err
    assert "delivery=d-1 handler=handlers.policy.policy_check" in out
    assert out.rstrip().endswith("1 found")

    code, out, err = await _cli("replay", env=env)
    assert code == 0, err
    assert out.rstrip().endswith("1 replayed")
    assert err.count("kafka.idempotence_unavailable") == 1
    assert "Traceback" not in err
    replayed = await read_topic(settings, bootstrap, settings.topic_events, expect=1)
    assert [dict(r.headers).get(REPLAY_HEADER) for r in replayed] == [
        b"handlers.policy.policy_check"
    ]


async def test_ingress_against_a_tansu_started_by_hand(
    own_broker: TansuProcess, tmp_path: Path
) -> None:
    """`ferrybot ingress` with only the broker's address accepts a delivery (202)."""
    bootstrap = own_broker.bootstrap_servers
    settings = bus_settings(bootstrap)
    await ensure_topics(settings, bootstrap)
    port = free_port()
    env = _env_for(settings, bootstrap, tmp_path)
    env.update({"FERRYBOT_HTTP_PORT": str(port), "FERRYBOT_GITHUB_WEBHOOK_SECRETS": SECRET})
    ingress = await BotProcess.start(["ingress"], env, tmp_path / "ingress.log")
    try:
        await ingress.logged("ingress.listening")
        url = f"http://127.0.0.1:{port}/webhooks/github"
        answer = await send_github(SAMPLE, "pull_request", url, SECRET, "by-hand-1")
        assert answer.status == 202, answer.body
        assert await ingress.stop() == 0
    finally:
        await ingress.kill()
    assert ingress.messages().count("kafka.idempotence_unavailable") == 1
    events = await read_topic(settings, bootstrap, settings.topic_events, expect=1)
    assert [dict(r.headers)["delivery"] for r in events] == [b"by-hand-1"]


async def test_replay_finds_the_running_local_bot_without_a_variable(tmp_path: Path) -> None:
    """`replay --list` with no broker variable reads the running `ferrybot run`'s DLQ; once it
    has stopped, it says so and exits 2."""
    env = bot_env(http_port=free_port(), state_dir=tmp_path / "state")
    bot = await BotProcess.start(["run"], env, tmp_path / "run.log")
    try:
        await bot.logged("ingress.listening")
        code, out, err = await _cli("replay", "--list", env=env)
        assert code == 0, err
        assert out.rstrip().endswith("0 found")
        assert await bot.stop() == 0
    finally:
        await bot.kill()
    code, out, err = await _cli("replay", "--list", env=env)
    assert code == 2
    assert "FERRYBOT_KAFKA_BOOTSTRAP_SERVERS" in err and "ferrybot run" in err
    assert "Traceback" not in err
