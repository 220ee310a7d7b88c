"""`ferrybot ledger rebuild`: empty the ledger and re-read both topics from their beginning."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition

from bot.ledger.decode import record_facts
from bot.ledger.facts import Fact
from bot.ledger.store import LedgerStore
from bot.logs import get_logger
from bot.pipeline.bus import MAX_MESSAGE_BYTES, client_params, close_quietly
from bot.settings import Settings

log = get_logger(component="ledger")


async def rebuild(settings: Settings, bootstrap_servers: str, store: LedgerStore) -> int:
    """Replace the ledger with the projection of everything on the topics now; returns facts."""
    consumer = AIOKafkaConsumer(
        **client_params(settings, bootstrap_servers),
        enable_auto_commit=False,
        max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
        fetch_max_bytes=MAX_MESSAGE_BYTES,
        fetch_max_wait_ms=50,
    )
    await asyncio.wait_for(consumer.start(), 60)
    try:
        await asyncio.wait_for(consumer.topics(), 30)  # loads the cluster's metadata
        partitions = [
            TopicPartition(topic, number)
            for topic in (settings.topic_events, settings.topic_audit)
            for number in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        # No group: read what is there now, from the first offset to the end offset of each.
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await asyncio.wait_for(consumer.end_offsets(partitions), 30)
        facts: list[Fact] = []
        for tp in partitions:
            while await consumer.position(tp) < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=500, max_records=1000)
                for record in batch.get(tp, []):
                    if record.offset < ends[tp]:
                        facts += record_facts(settings, record)
    finally:
        await close_quietly(consumer.stop(), 30)
    applied = await store.replace(facts)
    log.info("ledger.rebuilt", facts=applied, partitions=len(partitions))
    return applied
