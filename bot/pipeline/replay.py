"""`ferrybot replay`: put dead-lettered events back on the events topic for their handler."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from bot.pipeline.bus import MAX_MESSAGE_BYTES, EventProducer, close_quietly, consumer_params
from bot.pipeline.topic_reader import FETCH_MAX_WAIT_MS, read_to_quiet
from bot.settings import Settings

# The header that tells the worker which single handler a replayed event is for.
REPLAY_HEADER = "replay_handler"


def replayed_handler(record: ConsumerRecord[bytes, bytes]) -> str | None:
    """The handler a replayed record is meant for, or None for an ordinary event."""
    return _header(record, REPLAY_HEADER) or None


@dataclass(frozen=True)
class DeadLetter:
    """One DLQ record, as `ferrybot replay` lists it."""

    offset: str
    delivery: str
    handler: str
    attempts: str
    reason: str


def _header(record: ConsumerRecord[bytes, bytes], name: str) -> str:
    for key, value in record.headers or ():
        if key == name:
            return str(value.decode(errors="replace"))
    return ""


async def read_dead_letters(
    settings: Settings, bootstrap: str
) -> list[tuple[DeadLetter, ConsumerRecord[bytes, bytes]]]:
    """Every record now on the DLQ (read from the start up to the current end)."""
    consumer = AIOKafkaConsumer(
        **{**consumer_params(settings, bootstrap), "fetch_max_wait_ms": FETCH_MAX_WAIT_MS},
        enable_auto_commit=False,
        max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
        fetch_max_bytes=MAX_MESSAGE_BYTES,
    )
    await asyncio.wait_for(consumer.start(), 30)
    try:
        partitions = consumer.partitions_for_topic(settings.topic_dlq) or set()
        tps = [TopicPartition(settings.topic_dlq, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        found: list[tuple[DeadLetter, ConsumerRecord[bytes, bytes]]] = []
        for record in await read_to_quiet(consumer, tps):
            letter = DeadLetter(
                offset=f"{record.partition}/{record.offset}",
                delivery=_header(record, "delivery"),
                handler=_header(record, "handler"),
                attempts=_header(record, "attempts"),
                reason=_header(record, "reason"),
            )
            found.append((letter, record))
        return found
    finally:
        await close_quietly(consumer.stop(), 10)


async def replay(
    settings: Settings,
    bootstrap: str,
    delivery: str | None = None,
    handler: str | None = None,
    dry_list: bool = False,
) -> list[DeadLetter]:
    """Re-produce the matching dead letters to the events topic, each for its own handler."""
    chosen = [
        (letter, record)
        for letter, record in await read_dead_letters(settings, bootstrap)
        if (delivery is None or letter.delivery == delivery)
        and (handler is None or letter.handler == handler)
        # An undecodable envelope has no handler to replay it for.
        and letter.handler not in ("", "-")
    ]
    if dry_list or not chosen:
        return [letter for letter, _ in chosen]
    producer = EventProducer(settings, bootstrap)
    await producer.start()
    try:
        for letter, record in chosen:
            await producer.send(
                settings.topic_events,
                record.key.decode() if record.key else letter.delivery,
                record.value or b"",
                headers=[(REPLAY_HEADER, letter.handler.encode())],
            )
    finally:
        await producer.stop()
    return [letter for letter, _ in chosen]
