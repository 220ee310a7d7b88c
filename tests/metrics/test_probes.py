"""A process without an ingress serves /metrics, /healthz and /readyz on FERRYBOT_METRICS_PORT."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from bot.metrics.server import Health, start_metrics_server
from bot.notify.service import notifier_group
from bot.pipeline.broker import free_port
from bot.pipeline.bus import EventProducer
from bot.pipeline.runtime import Components
from tests.fakegithub.server import FakeGitHub
from tests.metrics.scrape import metrics_url, samples, scrape_until, value
from tests.support.bot import bot_settings, install_app, running_bot
from tests.support.broker import TansuProcess, bus_settings

LAG = "ferrybot_consumer_lag_messages"


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


def _lag_groups(text: str) -> set[str]:
    return {dict(labels)["group"] for name, labels in samples(text) if name == LAG}


async def test_worker_and_notifier_probes_follow_the_broker(
    fake_github: FakeGitHub, own_broker: TansuProcess, tmp_path: Path
) -> None:
    """Alive; ready once both groups have partitions; lag for both; broker gone → not ready."""
    app = install_app(fake_github)
    port = free_port()
    settings = bot_settings(
        own_broker.bootstrap_servers, fake_github, app, tmp_path, metrics_port=port
    )
    base = f"http://{settings.metrics_host}:{port}"
    url = metrics_url(settings.metrics_host, port)
    groups = {settings.kafka_consumer_group, notifier_group(settings)}
    parts = Components(ingress=False, worker=True, notifier=True, reconciler=False)
    async with running_bot(settings, parts):
        assert (await _get(f"{base}/healthz"))[0] == 200
        deadline = asyncio.get_running_loop().time() + 60
        while (await _get(f"{base}/readyz"))[0] != 200:
            assert asyncio.get_running_loop().time() < deadline, "never ready"
            await asyncio.sleep(0.2)
        # A subset: bots of earlier tests in this process left their groups' series behind.
        text = await scrape_until(
            url,
            lambda t: value(t, "ferrybot_broker_reachable") == 1 and groups <= _lag_groups(t),
            what="lag series for the worker and the notifier group",
        )
        assert value(text, LAG, group=settings.kafka_consumer_group) == 0
        own_broker.stop()
        status, body = await _get(f"{base}/readyz")
        assert (status, "broker unreachable" in body) == (503, True)
        await scrape_until(
            url,
            lambda t: value(t, "ferrybot_broker_reachable") == 0,
            what="the broker reported unreachable",
        )
        # Still alive: a broker outage is no reason to restart the process.
        assert (await _get(f"{base}/healthz"))[0] == 200
        own_broker.start()


async def test_healthz_fails_once_a_service_task_has_ended(kafka_bootstrap: str) -> None:
    """A service whose task ended is named in a 503; while all run, 200."""
    settings = bus_settings(kafka_bootstrap)
    producer = EventProducer(settings, kafka_bootstrap)
    await producer.start()
    port = free_port()

    async def crashes() -> None:
        raise RuntimeError("boom")

    health = Health(producer)
    runner = await start_metrics_server("127.0.0.1", port, health)
    alive = asyncio.create_task(asyncio.Event().wait(), name="Worker")
    try:
        health.tasks.append(alive)
        assert (await _get(f"http://127.0.0.1:{port}/healthz"))[0] == 200
        dead = asyncio.create_task(crashes(), name="Notifier")
        health.tasks.append(dead)
        await asyncio.wait({dead})
        assert isinstance(dead.exception(), RuntimeError)
        status, body = await _get(f"http://127.0.0.1:{port}/healthz")
        assert status == 503 and "Notifier" in body and "Worker" not in body
    finally:
        alive.cancel()
        await runner.cleanup()
        await producer.stop()
