"""One partition, many subjects: in order per subject, concurrent across them, commits safe."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, TopicPartition

from bot.context import Context
from bot.github.clients import GitHubClients
from bot.github.dryrun import DryRunRecorder
from bot.pipeline.bus import EventProducer, client_params, ensure_topics
from bot.pipeline.dispatch import Registry
from bot.pipeline.worker import Worker
from bot.settings import Settings
from schemas.envelope import Envelope, Source
from tests.support.bot import eventually
from tests.support.broker import bus_settings


def _settings(bootstrap: str, tmp_path: Path, **overrides: Any) -> Settings:
    # Dry-run GitHub: these handlers never call it; one partition so that every subject
    # shares it and only the worker's own design can run them side by side.
    return bus_settings(bootstrap, kafka_partitions=1, state_dir=tmp_path, **overrides)


def _event(subject: str, seq: int, head: str = "a" * 40, action: str = "edited") -> Envelope:
    return Envelope(
        id=f"{subject}-{seq}",
        source=Source.GITHUB,
        event="pull_request",
        action=action,
        subject=subject,
        installation_id=1,
        payload={"seq": seq, "pull_request": {"head": {"sha": head}}},
    )


async def _produce(settings: Settings, bootstrap: str, envelopes: list[Envelope]) -> None:
    await ensure_topics(settings, bootstrap)
    producer = EventProducer(settings, bootstrap)
    await producer.start()
    try:
        for envelope in envelopes:
            await producer.send_envelope(envelope)
    finally:
        await producer.stop()


@contextlib.asynccontextmanager
async def _worker(settings: Settings, bootstrap: str, registry: Registry) -> AsyncIterator[Worker]:
    async with aiohttp.ClientSession() as session:
        producer = EventProducer(settings, bootstrap)
        await producer.start()
        clients = GitHubClients(settings, session, DryRunRecorder(None))
        worker = Worker(settings, bootstrap, registry, clients, producer)
        await worker.start()
        task = asyncio.create_task(worker.run())
        try:
            yield worker
        finally:
            worker.stop()
            await asyncio.wait_for(task, 60)
            await producer.stop()


async def _committed(settings: Settings, bootstrap: str) -> int | None:
    # A member of no group asking for the group's committed offset (OffsetFetch).
    reader = AIOKafkaConsumer(
        **client_params(settings, bootstrap), group_id=settings.kafka_consumer_group
    )
    await reader.start()
    try:
        found: int | None = await reader.committed(TopicPartition(settings.topic_events, 0))
        return found
    finally:
        await reader.stop()


async def test_subjects_run_side_by_side_and_each_in_order(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """30 subjects x 8 events on one partition: each subject's events in order, many at once."""
    settings = _settings(kafka_bootstrap, tmp_path, worker_concurrency=16)
    seen: dict[str, list[int]] = defaultdict(list)
    running: set[str] = set()
    most = 0
    registry = Registry()

    @registry.on("pull_request")
    async def record(ctx: Context) -> None:
        nonlocal most
        subject = ctx.envelope.subject
        assert subject not in running, "two events of one subject ran at once"
        running.add(subject)
        most = max(most, len(running))
        seen[subject].append(ctx.payload["seq"])
        await asyncio.sleep(0.01)
        running.discard(subject)

    subjects = [f"github/acme/app#{n}" for n in range(30)]
    await _produce(
        settings, kafka_bootstrap, [_event(s, seq) for seq in range(8) for s in subjects]
    )
    async with _worker(settings, kafka_bootstrap, registry):
        await eventually(lambda: sum(map(len, seen.values())) == 240, within=60)
    assert all(seen[s] == list(range(8)) for s in subjects)
    assert 1 < most <= 16


async def test_the_commit_stays_below_the_oldest_unfinished_event(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """A slow first event holds the committed offset at 0 while 20 later ones finish."""
    settings = _settings(kafka_bootstrap, tmp_path)
    release = asyncio.Event()
    finished: list[str] = []
    registry = Registry()

    @registry.on("pull_request")
    async def slow_first(ctx: Context) -> None:
        if ctx.envelope.id == "github/acme/app#0-0":
            await release.wait()
        finished.append(ctx.envelope.id)

    events = [_event(f"github/acme/app#{n}", 0) for n in range(21)]
    await _produce(settings, kafka_bootstrap, events)
    async with _worker(settings, kafka_bootstrap, registry):
        await eventually(lambda: len(finished) == 20, within=60)
        await asyncio.sleep(0.5)  # several commit rounds
        assert await _committed(settings, kafka_bootstrap) in (None, 0)
        release.set()
        await eventually(lambda: len(finished) == 21, within=10)
    assert await _committed(settings, kafka_bootstrap) == 21


async def test_waiting_events_of_one_head_publish_once_for_the_newest(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """While one event runs, three more of its PR wait: a state check runs for the last only."""
    settings = _settings(kafka_bootstrap, tmp_path)
    started, release = asyncio.Event(), asyncio.Event()
    checked: list[int] = []
    every: list[int] = []
    other_head: list[int] = []
    registry = Registry()

    @registry.on("pull_request", coalesce=True)
    async def state_check(ctx: Context) -> None:
        if ctx.payload["seq"] == 0:
            started.set()
            await release.wait()
        checked.append(ctx.payload["seq"])

    @registry.on("pull_request")
    async def every_event(ctx: Context) -> None:
        every.append(ctx.payload["seq"])

    @registry.on("pull_request.synchronize", coalesce=True)
    async def new_head_only(ctx: Context) -> None:
        other_head.append(ctx.payload["seq"])

    pr = "github/acme/app#1"
    events = [_event(pr, seq) for seq in range(4)]
    # A push moves the head: what came before it was about another commit, so it still runs.
    events.append(_event(pr, 4, head="b" * 40, action="synchronize"))
    async with _worker(settings, kafka_bootstrap, registry):
        await _produce(settings, kafka_bootstrap, events[:1])
        await asyncio.wait_for(started.wait(), 30)
        await _produce(settings, kafka_bootstrap, events[1:])
        await asyncio.sleep(1.0)  # the later events are fetched and wait behind the first
        release.set()
        await eventually(lambda: len(every) == 5, within=30)
    assert checked == [0, 3, 4]
    assert every == [0, 1, 2, 3, 4]
    assert other_head == [4]
