"""The spool keeps what the slowest consumer group has not finished, on every topic it reads."""

from __future__ import annotations

import json
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from bot.pipeline.bus import EventProducer, client_params, ensure_topics
from bot.pipeline.spool import Backlog, write_spool
from bot.settings import Settings
from tests.support.broker import bus_settings


async def _produce(settings: Settings, bootstrap: str, topic: str, count: int) -> None:
    producer = EventProducer(settings, bootstrap)
    await producer.start()
    try:
        for number in range(count):
            await producer.send(topic, "one-subject", f"record-{number}".encode())
    finally:
        await producer.stop()


async def _commit(settings: Settings, bootstrap: str, group: str, topic: str, offset: int) -> None:
    consumer = AIOKafkaConsumer(**client_params(settings, bootstrap), group_id=group)
    await consumer.start()
    try:
        # The topics have one partition (kafka_partitions=1 below).
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.commit({tp: OffsetAndMetadata(offset, "")})
    finally:
        await consumer.stop()


def _spooled(path: Path) -> list[tuple[str, int]]:
    lines = path.read_text().splitlines() if path.exists() else []
    return [(json.loads(line)["topic"], json.loads(line)["offset"]) for line in lines]


async def test_the_slowest_group_decides_what_is_spooled(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Worker done with 4 of 6 events, ledger with 2: events 2-5 and its unread audit kept."""
    settings = bus_settings(kafka_bootstrap, kafka_partitions=1)
    await ensure_topics(settings, kafka_bootstrap)
    await _produce(settings, kafka_bootstrap, settings.topic_events, 6)
    await _produce(settings, kafka_bootstrap, settings.topic_audit, 3)
    await _produce(settings, kafka_bootstrap, settings.topic_dlq, 1)
    worker, ledger = settings.kafka_consumer_group, f"{settings.kafka_consumer_group}-ledger"
    await _commit(settings, kafka_bootstrap, worker, settings.topic_events, 4)
    await _commit(settings, kafka_bootstrap, ledger, settings.topic_events, 2)
    await _commit(settings, kafka_bootstrap, ledger, settings.topic_audit, 1)

    path = tmp_path / "spool.jsonl"
    backlogs = [
        Backlog(settings.topic_events, (worker, ledger)),
        Backlog(settings.topic_audit, (ledger,)),
        Backlog(settings.topic_dlq),
    ]
    written = await write_spool(settings, kafka_bootstrap, backlogs, path)

    assert written == 4 + 2 + 1
    spooled = _spooled(path)
    assert [o for t, o in spooled if t == settings.topic_events] == [2, 3, 4, 5]
    assert [o for t, o in spooled if t == settings.topic_audit] == [1, 2]
    assert [o for t, o in spooled if t == settings.topic_dlq] == [0]


async def test_a_group_that_never_committed_keeps_everything(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """A ledger that has read nothing yet keeps every event, however far the worker got."""
    settings = bus_settings(kafka_bootstrap, kafka_partitions=1)
    await ensure_topics(settings, kafka_bootstrap)
    await _produce(settings, kafka_bootstrap, settings.topic_events, 3)
    worker = settings.kafka_consumer_group
    await _commit(settings, kafka_bootstrap, worker, settings.topic_events, 3)

    path = tmp_path / "spool.jsonl"
    only_worker = [Backlog(settings.topic_events, (worker,))]
    assert await write_spool(settings, kafka_bootstrap, only_worker, path) == 0
    with_ledger = [Backlog(settings.topic_events, (worker, f"{worker}-ledger"))]
    assert await write_spool(settings, kafka_bootstrap, with_ledger, path) == 3
