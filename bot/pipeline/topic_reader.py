"""Reading topics to their current end, which Tansu's end offsets alone cannot tell."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

# Tansu's ListOffsets answers the last batch's base offset + 1, short of the real end when
# that batch holds several records; so a topic is read until it has been quiet this long.
QUIET_SECONDS = 0.6
# Consumers that read this way should not let one fetch wait longer than part of that.
FETCH_MAX_WAIT_MS = int(QUIET_SECONDS * 1000 / 4)
CALL_TIMEOUT = 10.0


async def read_to_quiet(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition]
) -> list[ConsumerRecord[bytes, bytes]]:
    """Records from the consumer's positions on until the end; nothing may be producing."""
    # The end offsets are a lower bound (see QUIET_SECONDS); quiet after them is the end.
    ends = await asyncio.wait_for(consumer.end_offsets(tps), CALL_TIMEOUT)
    loop = asyncio.get_running_loop()
    records: list[ConsumerRecord[bytes, bytes]] = []
    quiet_since = loop.time()
    while True:
        batch = await asyncio.wait_for(consumer.getmany(timeout_ms=FETCH_MAX_WAIT_MS), CALL_TIMEOUT)
        fetched = [record for tp_records in batch.values() for record in tp_records]
        if fetched:
            records.extend(fetched)
            quiet_since = loop.time()
            continue
        if loop.time() - quiet_since < QUIET_SECONDS:
            continue
        if all([await consumer.position(tp) >= ends[tp] for tp in tps]):
            return sorted(records, key=lambda r: (r.partition, r.offset))
