"""The worker: consume envelopes, run handlers with retries, dead-letter failures, commit."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from bot.context import Context
from bot.github.clients import GitHubClients
from bot.ledger.store import LedgerStore
from bot.logs import get_logger
from bot.metrics.definitions import (
    DEDUPE_HITS,
    DLQ_PRODUCED,
    HANDLER_RETRIES,
    HandlerOutcome,
    observe_handler,
)
from bot.notify.links import subject_links
from bot.pipeline.bus import (
    MAX_MESSAGE_BYTES,
    BusUnavailable,
    EventProducer,
    client_params,
    close_quietly,
)
from bot.pipeline.dedupe import DeliveryDedupe
from bot.pipeline.dispatch import Handler, Registry
from bot.pipeline.replay import replayed_handler
from bot.pipeline.retry import retrying
from bot.promotion.sources import ArtifactSources
from bot.publisher import Publisher
from bot.settings import Settings
from schemas.envelope import Envelope
from schemas.notification import Notification, NotificationKind, Severity

log = get_logger(component="worker")

# A lane holding more records than this pauses its partition until it drains.
LANE_HIGH_WATER = 1000
# Bound on any single broker call: a dead broker makes commits hang forever otherwise.
BROKER_CALL_TIMEOUT = 10.0
# Tansu's ListOffsets answers the last batch's base offset + 1, short of the real end when
# that batch holds several records. Draining on stop therefore reads until fetching has been
# quiet for longer than a fetch can wait (aiokafka's fetch_max_wait_ms is 500 ms).
DRAIN_QUIET_SECONDS = 1.0


@dataclass
class Lane:
    """One assigned partition's records, handled strictly in order by one task."""

    tp: TopicPartition
    queue: asyncio.Queue[ConsumerRecord[bytes, bytes]] = field(default_factory=asyncio.Queue)
    done_offset: int | None = None
    committed_offset: int | None = None
    busy: bool = False
    task: asyncio.Task[None] | None = None
    idle: asyncio.Event = field(default_factory=asyncio.Event)


class Worker:
    """Consumes the events topic in a consumer group; partitions run concurrently."""

    def __init__(
        self,
        settings: Settings,
        bootstrap_servers: str,
        registry: Registry,
        clients: GitHubClients,
        producer: EventProducer,
        drain_on_stop: bool = False,
        ledger: LedgerStore | None = None,
    ) -> None:
        self._settings = settings
        # Only the last copy of the events (the embedded broker) needs draining on stop; with
        # a real cluster, unstarted records stay there for the next member.
        self._drain_on_stop = drain_on_stop
        self._ledger = ledger
        self._registry = registry
        self._clients = clients
        self._producer = producer
        self._publisher = Publisher(settings, producer)
        # Built once: the registry client caches its bearer tokens across events.
        self._sources = ArtifactSources.from_settings(
            settings, clients.session, clients.for_repository
        )
        self._dedupe = DeliveryDedupe(settings.dedupe_ttl_seconds, settings.dedupe_max_entries)
        self._lanes: dict[TopicPartition, Lane] = {}
        self._paused: set[TopicPartition] = set()
        self._stopping = asyncio.Event()
        self._handled = 0
        self.assigned = asyncio.Event()
        self._consumer: AIOKafkaConsumer = AIOKafkaConsumer(
            **client_params(settings, bootstrap_servers),
            group_id=settings.kafka_consumer_group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
            fetch_max_bytes=MAX_MESSAGE_BYTES,
        )

    async def start(self) -> None:
        """Join the group."""
        await asyncio.wait_for(self._consumer.start(), 60)
        self._consumer.subscribe([self._settings.topic_events], listener=_Rebalance(self))
        log.info("worker.started", group=self._settings.kafka_consumer_group)

    async def run(self) -> None:
        """Fetch and hand records to lanes until `stop` is called, then drain and leave."""
        try:
            while not self._stopping.is_set():
                await self._fetch_round()
        finally:
            await self._shutdown()

    def stop(self) -> None:
        """Stop; `run` drains (see `drain_on_stop`), commits and leaves the group."""
        self._stopping.set()

    async def _fetch_round(self) -> int:
        batches = await self._consumer.getmany(timeout_ms=200, max_records=500)
        fetched = 0
        for tp, records in batches.items():
            lane = self._lane(tp)
            for record in records:
                lane.queue.put_nowait(record)
                lane.idle.clear()
            fetched += len(records)
        self._raise_if_a_lane_died()
        self._apply_backpressure()
        await self._commit_done()
        return fetched

    def _lane(self, tp: TopicPartition) -> Lane:
        lane = self._lanes.get(tp)
        if lane is None:
            lane = Lane(tp)
            lane.task = asyncio.create_task(self._drain(lane), name=f"lane-{tp.partition}")
            self._lanes[tp] = lane
        return lane

    def _raise_if_a_lane_died(self) -> None:
        # A lane that crashed would leave its partition stuck without a word; stopping the
        # worker instead lets the uncommitted events replay on a fresh start.
        for lane in self._lanes.values():
            if lane.task is not None and lane.task.done() and not lane.task.cancelled():
                error = lane.task.exception()
                if error is not None:
                    raise error

    def _apply_backpressure(self) -> None:
        for tp, lane in self._lanes.items():
            size = lane.queue.qsize()
            if size > LANE_HIGH_WATER and tp not in self._paused:
                self._consumer.pause(tp)
                self._paused.add(tp)
            elif size == 0 and tp in self._paused:
                self._consumer.resume(tp)
                self._paused.discard(tp)

    async def _drain(self, lane: Lane) -> None:
        while True:
            if lane.queue.empty():
                lane.idle.set()
            record = await lane.queue.get()
            lane.busy = True
            try:
                await self._process(record)
            finally:
                lane.busy = False
            lane.done_offset = record.offset + 1
            self._handled += 1

    async def _process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            envelope = Envelope.from_bytes(record.value or b"")
        except ValidationError as exc:
            reason = f"undecodable envelope: {exc.error_count()} errors"
            await self._dead_letter(record, None, "-", 0, reason)
            return
        fields = {
            "delivery": envelope.id,
            "source": envelope.source.value,
            "_event": envelope.event,
            "action": envelope.action,
            "subject": envelope.subject,
        }
        replay_of = replayed_handler(record)
        with structlog.contextvars.bound_contextvars(**fields):
            if replay_of is None and self._dedupe.seen(envelope.id):
                log.info("event.duplicate")
                DEDUPE_HITS.inc()
                return
            for handler in self._registry.for_envelope(envelope):
                # A replay from the DLQ re-runs only the handler that failed; the others
                # already did their part.
                if replay_of is None or handler.name == replay_of:
                    await self._run_handler(handler, envelope, record)
            self._dedupe.mark(envelope.id)
            log.info("event.handled", replay_of=replay_of)

    async def _run_handler(
        self, handler: Handler, envelope: Envelope, record: ConsumerRecord[bytes, bytes]
    ) -> None:
        attempts = 0
        handler_log = log.bind(handler=handler.name)
        started = time.monotonic()
        try:
            async for attempt in retrying(self._settings):
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    if attempts > 1:
                        handler_log.warning("handler.retry", attempt=attempts)
                        HANDLER_RETRIES.labels(handler=handler.name).inc()
                    gh = await self._clients.for_envelope(envelope)
                    ctx = Context(
                        envelope=envelope,
                        gh=gh,
                        config=self._settings.bot,
                        log=handler_log,
                        dry_run=self._settings.effective_dry_run,
                        publisher=self._publisher,
                        sources=self._sources,
                        bot_login=await self._clients.bot_login(),
                        ledger=self._ledger,
                    )
                    await handler.func(ctx)
        # The worker is the one place that decides what a failure means: every handler error
        # that survives the retry policy is dead-lettered so the partition can move on.
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"[:1000]
            handler_log.error("handler.failed", attempts=attempts, reason=reason)
            observe_handler(handler.name, HandlerOutcome.DEAD_LETTERED, started)
            await self._dead_letter(record, envelope, handler.name, attempts, reason)
        else:
            observe_handler(handler.name, HandlerOutcome.OK, started)

    async def _dead_letter(
        self,
        record: ConsumerRecord[bytes, bytes],
        envelope: Envelope | None,
        handler: str,
        attempts: int,
        reason: str,
    ) -> None:
        headers = [
            ("reason", reason.encode()),
            ("handler", handler.encode()),
            ("attempts", str(attempts).encode()),
            ("origin", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        if envelope is not None:
            headers.append(("delivery", envelope.id.encode()))
        key = record.key.decode() if record.key else "-"
        delay = 0.5
        # The offset may only move on once the DLQ holds the event, so keep trying.
        while True:
            try:
                await self._producer.send(
                    self._settings.topic_dlq, key, record.value or b"", headers=headers
                )
                break
            except BusUnavailable:
                if self._stopping.is_set():
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
        log.warning("event.dead_lettered", handler=handler, attempts=attempts, reason=reason)
        DLQ_PRODUCED.labels(handler=handler).inc()
        await self._announce_dead_letter(key, envelope, handler, attempts, reason, record)

    async def _announce_dead_letter(
        self,
        key: str,
        envelope: Envelope | None,
        handler: str,
        attempts: int,
        reason: str,
        record: ConsumerRecord[bytes, bytes],
    ) -> None:
        # The event itself is safe in the DLQ; a lost announcement only costs a chat message.
        origin = f"{record.topic}/{record.partition}/{record.offset}"
        delivery = envelope.id if envelope else origin
        notification = Notification(
            # One message per failure: a replay is a new record (new offset) failing anew, so
            # it is news; the same record failing again after a crash is not.
            id=f"{delivery}:{NotificationKind.DLQ_GREW.value}:{handler}:{origin}:{attempts}",
            kind=NotificationKind.DLQ_GREW,
            severity=Severity.ERROR,
            subject=key,
            title=f"Event dead-lettered after {attempts} attempt(s)",
            text=reason,
            fields={"handler": handler, "event": envelope.name if envelope else "undecodable"},
            links=subject_links(self._settings, key, envelope),
            delivery_id=delivery,
            repository=_repository(envelope),
        )
        try:
            await self._publisher.notify(notification)
        except BusUnavailable:
            log.warning("dlq.announce_failed", delivery=delivery)

    async def _commit_done(self, lanes: list[Lane] | None = None) -> None:
        offsets = {
            lane.tp: lane.done_offset
            for lane in (lanes if lanes is not None else self._lanes.values())
            if lane.done_offset is not None and lane.done_offset != lane.committed_offset
        }
        if not offsets:
            return
        try:
            await asyncio.wait_for(self._consumer.commit(offsets), BROKER_CALL_TIMEOUT)
        except (TimeoutError, KafkaError) as exc:
            # Not fatal: the offsets are committed on the next round, and anything handled
            # again meanwhile is a no-op thanks to idempotent side effects.
            log.warning("offsets.commit_failed", error=type(exc).__name__)
            return
        for tp, offset in offsets.items():
            if (lane := self._lanes.get(tp)) is not None:
                lane.committed_offset = offset

    async def finish_lanes(
        self, tps: list[TopicPartition], grace: float = BROKER_CALL_TIMEOUT * 6
    ) -> None:
        """Drop unstarted records, give in-flight ones `grace` s, commit, forget the lanes."""
        lanes = [self._lanes[tp] for tp in tps if tp in self._lanes]
        for lane in lanes:
            while not lane.queue.empty():
                lane.queue.get_nowait()
            if not lane.busy:
                lane.idle.set()
        deadline = asyncio.get_running_loop().time() + grace
        for lane in lanes:
            remaining = max(0.0, deadline - asyncio.get_running_loop().time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lane.idle.wait(), remaining)
        await self._commit_done(lanes)
        for lane in lanes:
            if lane.task is not None:
                lane.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await lane.task
            self._lanes.pop(lane.tp, None)
            self._paused.discard(lane.tp)

    async def _shutdown(self) -> None:
        bound = self._settings.shutdown_drain_seconds
        deadline = asyncio.get_running_loop().time() + bound
        if self._drain_on_stop and bound > 0:
            try:
                await asyncio.wait_for(self._drain_accepted(), bound)
            except (TimeoutError, KafkaError) as exc:
                # The bound passed, or the broker is gone (what it held is lost either way).
                log.warning("worker.drain_incomplete", error=type(exc).__name__)
            except Exception as exc:
                # A lane that died while draining: its records stay uncommitted (spooled),
                # and stopping the rest in order matters more than this one error.
                log.error("worker.drain_failed", reason=f"{type(exc).__name__}: {exc}"[:500])
        # Whatever is still in flight at the bound is cancelled and stays uncommitted, so it
        # is handled again: by the next member, or (embedded broker) from the spool.
        grace = max(0.0, deadline - asyncio.get_running_loop().time())
        await self.finish_lanes(list(self._lanes), grace)
        await close_quietly(self._consumer.stop(), BROKER_CALL_TIMEOUT)
        log.info("worker.stopped")

    async def _drain_accepted(self) -> None:
        """Handle every record the events topic held when intake stopped, then return."""
        # Right after start the group may not have assigned the partitions yet.
        await self.assigned.wait()
        tps = sorted(self._consumer.assignment(), key=lambda tp: tp.partition)
        ends = await asyncio.wait_for(self._consumer.end_offsets(tps), BROKER_CALL_TIMEOUT)
        log.info("worker.draining", partitions=[tp.partition for tp in tps])
        loop = asyncio.get_running_loop()
        quiet_since = loop.time()
        handled_before = self._handled
        while True:
            # The end offsets are only a lower bound (see DRAIN_QUIET_SECONDS): the end is
            # where fetching has found nothing more for a while, with no partition paused.
            if await self._fetch_round() or self._paused:
                quiet_since = loop.time()
            elif loop.time() - quiet_since >= DRAIN_QUIET_SECONDS and await self._reached(ends):
                break
        log.info("worker.drained", handled=self._handled - handled_before)

    async def _reached(self, ends: dict[TopicPartition, int]) -> bool:
        for tp, end in ends.items():
            lane = self._lanes.get(tp)
            if lane is not None and (lane.busy or not lane.queue.empty()):
                return False
            position = await asyncio.wait_for(self._consumer.position(tp), BROKER_CALL_TIMEOUT)
            if position < end:
                return False
        return True


def _repository(envelope: Envelope | None) -> str | None:
    if envelope is None or not envelope.subject.startswith("github/"):
        return None
    return envelope.subject.removeprefix("github/").split("#")[0] or None


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Finishes and commits a partition's in-flight work before it moves to another member."""

    def __init__(self, worker: Worker) -> None:
        self._worker = worker

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._worker.finish_lanes(list(revoked))
        log.info("partitions.revoked", partitions=sorted(tp.partition for tp in revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("partitions.assigned", partitions=sorted(tp.partition for tp in assigned))
        if assigned:
            self._worker.assigned.set()
