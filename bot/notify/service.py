"""The notifier: consume the notifications topic in its own group, deliver, then commit."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import aiohttp
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from bot.logs import get_logger, redactor
from bot.notify.delivery import Delivery
from bot.notify.offsets import PendingOffsets, Ticket
from bot.notify.routing import channels_for
from bot.pipeline.bus import close_quietly, consumer_params, fetch_unless_stopped
from bot.pipeline.dedupe import DeliveryDedupe
from bot.settings import Settings
from schemas.notification import Notification

log = get_logger(component="notifier")

# Bound on any single broker call: a dead broker makes commits hang forever otherwise.
BROKER_CALL_TIMEOUT = 10.0
# A partition owing more records than this is paused until it is down to half.
HIGH_WATER = 1000
# On stop, queued deliveries get this long to finish; the rest are redelivered next start.
SHUTDOWN_GRACE_SECONDS = 2.0

_Job = tuple[Ticket, Notification]


def notifier_group(settings: Settings) -> str:
    """The notifier's consumer group, derived from the worker's so test runs stay apart."""
    return f"{settings.kafka_consumer_group}-notifier"


class Notifier:
    """Delivers notifications; each channel has its own queue, so one outage holds up only
    that channel, and offsets are committed once every channel of a record is done."""

    def __init__(
        self, settings: Settings, bootstrap_servers: str, session: aiohttp.ClientSession
    ) -> None:
        self._settings = settings
        self._config = settings.bot.notifications
        redactor.add(self._config.secret_values())
        dedupe = DeliveryDedupe(settings.dedupe_ttl_seconds, settings.dedupe_max_entries)
        self._delivery = Delivery(self._config, session, dedupe)
        self._offsets = PendingOffsets()
        self._queues: dict[str, asyncio.Queue[_Job]] = {}
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self._paused: set[TopicPartition] = set()
        self._stopping = asyncio.Event()
        self.assigned = asyncio.Event()
        # Small fetches: notifications are small, and a record is owed until delivered.
        self._consumer: AIOKafkaConsumer = AIOKafkaConsumer(
            **consumer_params(settings, bootstrap_servers),
            group_id=notifier_group(settings),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )

    @property
    def stats(self) -> Counter[tuple[str, str]]:
        """(outcome, channel) counts: delivered, duplicate, revoked, rejected, expired, ..."""
        return self._delivery.stats

    @property
    def revoked_channels(self) -> frozenset[str]:
        """Channels whose webhook answered 404/410 and get nothing more until restart."""
        return frozenset(self._delivery.revoked)

    async def start(self) -> None:
        """Join the notifier's consumer group."""
        await asyncio.wait_for(self._consumer.start(), 60)
        self._consumer.subscribe([self._settings.topic_notifications], listener=_Rebalance(self))
        log.info(
            "notifier.started",
            group=notifier_group(self._settings),
            channels=sorted(self._config.channels),
            routes=sorted(self._config.routes),
        )

    async def run(self) -> None:
        """Fetch, route and queue records until `stop` is called, then commit and leave."""
        try:
            while not self._stopping.is_set():
                batches = await fetch_unless_stopped(
                    self._consumer, self._stopping, timeout_ms=200, max_records=500
                )
                for tp, records in batches.items():
                    for record in records:
                        self._accept(tp, record)
                self._apply_backpressure()
                await self.commit_done()
        finally:
            await self._shutdown()

    def stop(self) -> None:
        """Stop intake; `run` gives queued deliveries a short grace, commits and leaves."""
        self._stopping.set()

    def _accept(self, tp: TopicPartition, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            notification = Notification.from_bytes(record.value or b"")
        except ValidationError as exc:
            # Nothing to deliver and nothing a retry could fix: skip it, loudly.
            log.error(
                "notification.undecodable",
                partition=tp.partition,
                offset=record.offset,
                errors=exc.error_count(),
            )
            self._offsets.add(tp, record.offset, 0)
            return
        channels = channels_for(self._config, notification)
        ticket = self._offsets.add(tp, record.offset, len(channels))
        if not channels:
            log.info("notification.unrouted", notification=notification.id)
        for name in channels:
            self._queue(name).put_nowait((ticket, notification))

    def _queue(self, name: str) -> asyncio.Queue[_Job]:
        queue = self._queues.get(name)
        if queue is None:
            queue = self._queues[name] = asyncio.Queue()
            self._lanes[name] = asyncio.create_task(self._drain(name, queue), name=f"notify-{name}")
        return queue

    async def _drain(self, name: str, queue: asyncio.Queue[_Job]) -> None:
        while True:
            ticket, notification = await queue.get()
            try:
                if self._offsets.live(ticket):
                    await self._delivery.deliver(name, notification)
            # One malformed message must not stop a channel's lane for good; cancellation
            # (a BaseException) still passes, and leaves the record owed for redelivery.
            except Exception as exc:
                log.error(
                    "notification.failed",
                    channel=name,
                    notification=notification.id,
                    error=type(exc).__name__,
                )
            self._offsets.done(ticket)
            queue.task_done()

    def _apply_backpressure(self) -> None:
        for tp in self._consumer.assignment():
            owed = self._offsets.owed(tp)
            if owed > HIGH_WATER and tp not in self._paused:
                self._consumer.pause(tp)
                self._paused.add(tp)
                log.warning("notifier.partition_paused", partition=tp.partition, owed=owed)
            elif owed <= HIGH_WATER // 2 and tp in self._paused:
                self._consumer.resume(tp)
                self._paused.discard(tp)

    async def commit_done(self, tps: list[TopicPartition] | None = None) -> None:
        """Commit, per partition, up to the first record still owed a delivery."""
        offsets = self._offsets.committable(tps)
        if not offsets:
            return
        try:
            await asyncio.wait_for(self._consumer.commit(offsets), BROKER_CALL_TIMEOUT)
        except (TimeoutError, KafkaError) as exc:
            # Not fatal: committed on the next round; a record seen twice meanwhile is
            # skipped by the per-channel dedupe.
            log.warning("notifier.commit_failed", error=type(exc).__name__)
            return
        self._offsets.committed(offsets)

    async def release(self, tps: list[TopicPartition]) -> None:
        """Commit what revoked partitions finished and let their queued records go stale."""
        await self.commit_done(tps)
        self._offsets.forget(tps)
        self._paused.difference_update(tps)

    async def _shutdown(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(q.join() for q in self._queues.values())),
                SHUTDOWN_GRACE_SECONDS,
            )
        for task in self._lanes.values():
            task.cancel()
        for task in self._lanes.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.commit_done()
        await close_quietly(self._consumer.stop(), BROKER_CALL_TIMEOUT)
        log.info("notifier.stopped")


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Commits a partition's finished records before it moves to another member."""

    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._notifier.release(list(revoked))
        log.info("notifier.partitions_revoked", partitions=sorted(tp.partition for tp in revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("notifier.partitions_assigned", partitions=sorted(tp.partition for tp in assigned))
        if assigned:
            self._notifier.assigned.set()
