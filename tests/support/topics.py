"""Read what is on a topic, for assertions."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from bot.pipeline.bus import MAX_MESSAGE_BYTES, client_params
from bot.settings import Settings


async def read_topic(
    settings: Settings, bootstrap: str, topic: str, expect: int, within: float = 10.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on the topic, waiting up to `within` s for at least `expect` of them."""
    consumer = AIOKafkaConsumer(
        **client_params(settings, bootstrap),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
        fetch_max_bytes=MAX_MESSAGE_BYTES,
    )
    await consumer.start()
    try:
        # Without a group id, subscribing assigns every partition, read from the start.
        consumer.subscribe([topic])
        records: list[ConsumerRecord[bytes, bytes]] = []
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for items in batch.values():
                records.extend(items)
            if expect and len(records) >= expect:
                # One more short poll so that extra (duplicate) records are seen too.
                for items in (await consumer.getmany(timeout_ms=300)).values():
                    records.extend(items)
                break
        return records
    finally:
        await consumer.stop()
