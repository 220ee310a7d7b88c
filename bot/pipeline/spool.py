"""The embedded broker's unfinished records, kept in a file across a clean stop."""

# The embedded broker holds everything in memory only. On a clean stop, whatever a consumer
# group has not committed yet (or, for topics nobody consumes, everything) is written here;
# the next start produces it again and removes the file.

from __future__ import annotations

import asyncio
import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bot.logs import get_logger
from bot.pipeline.bus import MAX_MESSAGE_BYTES, EventProducer, client_params, close_quietly
from bot.pipeline.topic_reader import FETCH_MAX_WAIT_MS, read_to_quiet
from bot.settings import Settings

log = get_logger(component="spool")

SPOOL_FILE = "spool.jsonl"
# Bound on each broker call while spooling; the broker is local, so this is generous.
CALL_TIMEOUT = 10.0


@dataclass(frozen=True)
class Backlog:
    """A topic and the consumer groups whose uncommitted records count as unfinished."""

    topic: str
    # Every record past the lowest committed offset of these groups is kept; no group (the
    # DLQ, which nobody consumes) keeps every record.
    groups: tuple[str, ...] = ()


def spool_path(settings: Settings) -> Path:
    """Where the spool lives: the local run's state dir."""
    return settings.state_dir / SPOOL_FILE


async def write_spool(
    settings: Settings, bootstrap: str, backlogs: list[Backlog], path: Path
) -> int:
    """Write every unfinished record of `backlogs` to `path` (atomically); the count written."""
    lines: list[str] = []
    for backlog in backlogs:
        for record in await _unfinished(settings, bootstrap, backlog):
            lines.append(json.dumps(_encode(record)))
    _store(path, lines)
    return len(lines)


async def restore_spool(path: Path, producer: EventProducer) -> int:
    """Produce the spooled records again, in their order, then remove the file; the count."""
    items = _load(path)
    for item in items:
        await producer.send(
            item["topic"],
            item["key"],
            base64.b64decode(item["value"]),
            headers=[(name, base64.b64decode(value)) for name, value in item["headers"]],
        )
    # Only once all of it is back in the broker; a crash before this replays the file again,
    # which the worker's idempotent handling makes harmless.
    _store(path, [])
    return len(items)


# The file is small and local: plain blocking I/O, kept out of the coroutines.
def _store(path: Path, lines: list[str]) -> None:
    if not lines:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)


def _load(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


async def _unfinished(
    settings: Settings, bootstrap: str, backlog: Backlog
) -> list[ConsumerRecord[bytes, bytes]]:
    consumer = AIOKafkaConsumer(
        **client_params(settings, bootstrap),
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
        fetch_max_bytes=MAX_MESSAGE_BYTES,
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
    )
    await asyncio.wait_for(consumer.start(), CALL_TIMEOUT)
    try:
        partitions = consumer.partitions_for_topic(backlog.topic) or set()
        tps = [TopicPartition(backlog.topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        # Assigned by hand: reading the group's committed offsets without joining the group.
        consumer.assign(tps)
        lowest = await _lowest_committed(settings, bootstrap, backlog.groups, tps)
        for tp in tps:
            committed = lowest.get(tp)
            if committed is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, committed)
        return await read_to_quiet(consumer, tps)
    finally:
        await close_quietly(consumer.stop(), CALL_TIMEOUT)


async def _lowest_committed(
    settings: Settings, bootstrap: str, groups: tuple[str, ...], tps: list[TopicPartition]
) -> dict[TopicPartition, int]:
    # The slowest group decides: a record one group has finished and another has not is
    # unfinished. A partition left out (no group, or one that never committed there) is read
    # from the beginning.
    if not groups:
        return {}
    admin = AIOKafkaAdminClient(**client_params(settings, bootstrap))
    await asyncio.wait_for(admin.start(), CALL_TIMEOUT)
    try:
        per_group = [
            await asyncio.wait_for(
                admin.list_consumer_group_offsets(group, partitions=tps), CALL_TIMEOUT
            )
            for group in groups
        ]
    finally:
        await close_quietly(admin.close(), CALL_TIMEOUT)
    lowest: dict[TopicPartition, int] = {}
    for tp in tps:
        offsets = [offsets[tp].offset if tp in offsets else -1 for offsets in per_group]
        if min(offsets) >= 0:
            lowest[tp] = min(offsets)
    return lowest


def _encode(record: ConsumerRecord[bytes, bytes]) -> dict[str, Any]:
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": record.key.decode() if record.key else "-",
        "value": base64.b64encode(record.value or b"").decode(),
        "headers": [[name, base64.b64encode(value).decode()] for name, value in record.headers],
    }
