"""The worker: consume envelopes, run handlers with retries, dead-letter failures, commit."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections import deque
from dataclasses import dataclass, field

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from bot.check_runs import CheckRunLedger, CheckRunScope
from bot.context import Context
from bot.forges.directory import Forges
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
from bot.notify.offsets import PendingOffsets, Ticket
from bot.pipeline.bus import (
    MAX_MESSAGE_BYTES,
    BusUnavailable,
    EventProducer,
    close_quietly,
    consumer_params,
    fetch_unless_stopped,
)
from bot.pipeline.dedupe import DeliveryDedupe
from bot.pipeline.dispatch import Handler, Registry
from bot.pipeline.freshness import live_head
from bot.pipeline.replay import replayed_handler
from bot.pipeline.retry import retrying
from bot.promotion.sources import ArtifactSources
from bot.publisher import Publisher
from bot.repo_config import RepoConfigCache
from bot.settings import Settings
from schemas.envelope import Envelope, Source, payload_dict
from schemas.notification import Notification, NotificationKind, Severity

log = get_logger(component="worker")

# Bound on any single broker call: a dead broker makes commits hang forever otherwise.
BROKER_CALL_TIMEOUT = 10.0
# How long a rebalancing worker lets the events it is running finish.
DRAIN_TIMEOUT = BROKER_CALL_TIMEOUT * 6
# Tansu's ListOffsets answers the last batch's base offset + 1, short of the real end when
# that batch holds several records. Draining on stop therefore reads until fetching has been
# quiet for longer than a fetch can wait.
DRAIN_QUIET_SECONDS = 1.0
# A record counts as written after this worker got its partition only when its timestamp is
# this much later than the assignment: room for the producer's and our clocks to disagree.
LIVE_MARGIN_MS = 2000


@dataclass
class _Item:
    """One fetched record, decoded once, and the ticket that keeps its offset uncommitted."""

    record: ConsumerRecord[bytes, bytes]
    ticket: Ticket
    envelope: Envelope | None
    undecodable: str | None = None
    # Read once: every older event of the subject compares its head with the waiting ones.
    head: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.envelope is not None:
            self.head = _head_sha(self.envelope)


@dataclass
class _SubjectLane:
    """The records of one subject (the Kafka key) of one partition, handled in order."""

    items: deque[_Item] = field(default_factory=deque)
    current: _Item | None = None
    task: asyncio.Task[None] | None = None


class Worker:
    """Consumes the events topic in a consumer group: in order per subject, concurrent across
    subjects even within a partition (the Confluent Parallel Consumer's key ordering).

    A partition's offset is committed only below its lowest unfinished record, so a crash
    replays whatever had not finished, and nothing beyond.
    """

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
        self._forges = Forges.from_settings(settings, clients)
        self._dedupe = DeliveryDedupe(settings.dedupe_ttl_seconds, settings.dedupe_max_entries)
        self._check_runs = CheckRunLedger()
        self._repo_configs = RepoConfigCache(settings.repo_config_ttl_seconds)
        # Per partition, the first offset produced after this worker got it: no other group
        # member can have handled a record from there on.
        self._live_from: dict[TopicPartition, int] = {}
        self._assigned_ms: dict[TopicPartition, int] = {}
        self._offsets = PendingOffsets()
        self._lanes: dict[tuple[TopicPartition, str], _SubjectLane] = {}
        self._slots = asyncio.Semaphore(settings.worker_concurrency)
        self._buffered = 0
        self._paused: set[TopicPartition] = set()
        self._failure: BaseException | None = None
        self._stopping = asyncio.Event()
        self._handled = 0
        self._draining = False
        self.assigned = asyncio.Event()
        self._consumer: AIOKafkaConsumer = AIOKafkaConsumer(
            **consumer_params(settings, bootstrap_servers),
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
        """Fetch and hand records to subject lanes until `stop`, then drain and leave."""
        try:
            while not self._stopping.is_set():
                await self._fetch_round()
        finally:
            await self._shutdown()

    def stop(self) -> None:
        """Stop; `run` drains (see `drain_on_stop`), commits and leaves the group."""
        self._stopping.set()

    async def _fetch_round(self) -> int:
        # Never more in one fetch than the buffer holds: the bound is 2 x max_buffered.
        # A drain runs after the stop and has its own bound, so only an ordinary round yields
        # to the stop.
        batches = await fetch_unless_stopped(
            self._consumer,
            None if self._draining else self._stopping,
            timeout_ms=200,
            max_records=min(500, self._settings.worker_max_buffered),
        )
        if self._stopping.is_set() and not self._draining:
            # Fetched while the stop began: not started. Back to the first of them, so that a
            # drain reads them again; otherwise, uncommitted, the next reader (or the spool)
            # has them.
            for tp, records in batches.items():
                if records:
                    self._consumer.seek(tp, records[0].offset)
            return 0
        fetched = 0
        for tp, records in batches.items():
            for record in records:
                self._accept(tp, record)
            fetched += len(records)
        if self._failure is not None:
            raise self._failure
        self._apply_backpressure()
        await self._commit_done()
        return fetched

    def _accept(self, tp: TopicPartition, record: ConsumerRecord[bytes, bytes]) -> None:
        ticket = self._offsets.add(tp, record.offset, 1)
        try:
            item = _Item(record, ticket, Envelope.from_bytes(record.value or b""))
        except ValueError as exc:  # pydantic's ValidationError and JSON errors alike
            detail = (
                f"{exc.error_count()} errors"
                if isinstance(exc, ValidationError)
                else type(exc).__name__
            )
            item = _Item(record, ticket, None, f"undecodable envelope: {detail}")
        key = (tp, record.key.decode(errors="replace") if record.key else "")
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _SubjectLane()
        lane.items.append(item)
        self._buffered += 1
        if lane.task is None:
            lane.task = asyncio.create_task(self._drain(key, lane), name=f"subject-{key[1]}")

    async def _drain(self, key: tuple[TopicPartition, str], lane: _SubjectLane) -> None:
        try:
            while lane.items:
                async with self._slots:
                    if not lane.items:
                        break  # dropped while this lane waited for a slot (a revocation)
                    item = lane.current = lane.items.popleft()
                    try:
                        if self._offsets.live(item.ticket):
                            await self._process(item, lane.items)
                    finally:
                        lane.current = None
                        self._buffered -= 1
                    # Only a finished record lets the commit pass it.
                    self._offsets.done(item.ticket)
                    self._handled += 1
        except Exception as exc:
            # A lane that crashed would leave its subject stuck without a word; stopping the
            # worker instead lets the uncommitted events replay on a fresh start. The lane
            # keeps its finished task, so nothing more of this subject runs out of order.
            self._failure = exc
            return
        lane.task = None
        if not lane.items and self._lanes.get(key) is lane:
            del self._lanes[key]

    def _apply_backpressure(self) -> None:
        limit = self._settings.worker_max_buffered
        if self._buffered > limit and not self._paused:
            self._paused = set(self._consumer.assignment())
            self._consumer.pause(*self._paused)
        elif self._paused and self._buffered <= limit // 2:
            self._consumer.resume(*(self._paused & self._consumer.assignment()))
            self._paused = set()

    async def _process(self, item: _Item, waiting: deque[_Item]) -> None:
        record, envelope = item.record, item.envelope
        if envelope is None:
            await self._dead_letter(record, None, "-", 0, item.undecodable or "undecodable")
            return
        replay_of = replayed_handler(record)
        handlers = [
            handler
            for handler in self._registry.for_envelope(envelope)
            # A replay from the DLQ re-runs only the handler that failed; the others
            # already did their part.
            if replay_of is None or handler.name == replay_of
        ]
        fields = {
            "delivery": envelope.id,
            "source": envelope.source.value,
            "_event": envelope.event,
            "action": envelope.action,
            "subject": envelope.subject,
        }
        with structlog.contextvars.bound_contextvars(**fields):
            if replay_of is None and self._dedupe.seen(envelope.id):
                log.debug("event.duplicate")
                DEDUPE_HITS.inc()
                return
            self._repo_configs.note_event(envelope)
            if replay_of is None:
                handlers = self._without_superseded(envelope, handlers, waiting)
            if handlers:
                scope = CheckRunScope(self._check_runs, self._new_head(record, envelope, replay_of))
                await self._run_handlers(handlers, envelope, record, scope)
            self._dedupe.mark(envelope.id)
            # The one line per event kept at info: operators and the shutdown tests count it.
            log.info("event.handled", replay_of=replay_of)

    def _without_superseded(
        self, envelope: Envelope, handlers: list[Handler], waiting: deque[_Item]
    ) -> list[Handler]:
        """Drop the handlers a newer event of this subject, already waiting, will run anyway."""
        head = _head_sha(envelope)
        if head is None or not any(handler.coalesce for handler in handlers):
            return handlers
        newer = [
            item.envelope for item in waiting if item.envelope is not None and item.head == head
        ]
        kept = [
            handler
            for handler in handlers
            if not (handler.coalesce and any(handler.wants(later) for later in newer))
        ]
        if len(kept) < len(handlers):
            log.debug("event.coalesced", handlers=[h.name for h in handlers if h not in kept])
        return kept

    def _new_head(
        self, record: ConsumerRecord[bytes, bytes], envelope: Envelope, replay_of: str | None
    ) -> str | None:
        tp = TopicPartition(record.topic, record.partition)
        live_from, assigned_ms = self._live_from.get(tp), self._assigned_ms.get(tp)
        if not self._settings.check_run_trust_new_heads:
            return None  # every create is looked up first: never two runs for one name + SHA
        if replay_of is not None or live_from is None or assigned_ms is None:
            return None
        # Both marks: Tansu's end offset can fall short of the real end (its last batch's base
        # offset + 1), so a record must also have been written after the assignment.
        if record.offset < live_from or record.timestamp < assigned_ms + LIVE_MARGIN_MS:
            return None  # the previous owner may have handled it before it crashed
        return live_head(envelope)

    async def note_assigned(self, assigned: set[TopicPartition]) -> None:
        """Remember where each new partition's end is: records past it are new to the group."""
        if not assigned:
            return
        try:
            ends = await asyncio.wait_for(
                self._consumer.end_offsets(list(assigned)), BROKER_CALL_TIMEOUT
            )
        except (TimeoutError, KafkaError) as exc:
            # Without the mark every record gets the lookup before a create: slower, safe.
            log.warning("partitions.end_offsets_failed", error=type(exc).__name__)
            return
        self._live_from.update(ends)
        now_ms = int(time.time() * 1000)
        self._assigned_ms.update({tp: now_ms for tp in ends})

    def note_revoked(self, revoked: set[TopicPartition]) -> None:
        """Partitions left: another member may now write runs this process knew about."""
        for tp in revoked:
            self._live_from.pop(tp, None)
            self._assigned_ms.pop(tp, None)
        self._check_runs.clear()

    async def _run_handlers(
        self,
        handlers: list[Handler],
        envelope: Envelope,
        record: ConsumerRecord[bytes, bytes],
        scope: CheckRunScope,
    ) -> None:
        # One retry controller, one client and one Context (with its parsed payload models)
        # for the whole event; each handler gets the Context with its own logger.
        retry = retrying(self._settings)
        shared: Context | None = None
        for handler in handlers:
            attempts = 0
            handler_log = log.bind(handler=handler.name)
            started = time.monotonic()
            try:
                async for attempt in retry:
                    with attempt:
                        attempts = attempt.retry_state.attempt_number
                        if attempts > 1:
                            handler_log.warning("handler.retry", attempt=attempts)
                            HANDLER_RETRIES.labels(handler=handler.name).inc()
                        if shared is None:
                            shared = Context(
                                envelope=envelope,
                                gh=await self._clients.for_envelope(envelope),
                                config=self._settings.bot,
                                log=handler_log,
                                dry_run=self._dry_run(envelope),
                                publisher=self._publisher,
                                sources=self._sources,
                                check_runs=scope,
                                bot_login=await self._clients.bot_login(),
                                ledger=self._ledger,
                                repo_configs=self._repo_configs,
                                forge=self._forges.for_envelope(envelope),
                                forges=self._forges,
                            )
                        await handler.func(dataclasses.replace(shared, log=handler_log))
            # The worker is the one place that decides what a failure means: every handler
            # error that survives the retry policy is dead-lettered so the subject can move on.
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"[:1000]
                handler_log.error("handler.failed", attempts=attempts, reason=reason)
                observe_handler(handler.name, HandlerOutcome.DEAD_LETTERED, started)
                await self._dead_letter(record, envelope, handler.name, attempts, reason)
            else:
                observe_handler(handler.name, HandlerOutcome.OK, started)

    def _dry_run(self, envelope: Envelope) -> bool:
        """Dry run for the forge the event came from: GitHub and GitLab each have their own."""
        if envelope.source is Source.GITLAB:
            return self._settings.gitlab_dry_run
        return self._settings.effective_dry_run

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

    async def _commit_done(self, tps: list[TopicPartition] | None = None) -> None:
        offsets = self._offsets.committable(tps)
        if not offsets:
            return
        try:
            await asyncio.wait_for(self._consumer.commit(offsets), BROKER_CALL_TIMEOUT)
        except (TimeoutError, KafkaError) as exc:
            # Not fatal: the offsets are committed on the next round, and anything handled
            # again meanwhile is a no-op thanks to idempotent side effects.
            log.warning("offsets.commit_failed", error=type(exc).__name__)
            return
        self._offsets.committed(offsets)

    async def finish_partitions(
        self, tps: list[TopicPartition], grace: float = DRAIN_TIMEOUT
    ) -> None:
        """Drop unstarted records, give running ones `grace` s, commit, forget the partitions.

        Whatever did not finish in time is cancelled: its offset, and everything after it,
        stays uncommitted and is handled again by whoever reads the partition next.
        """
        wanted = set(tps)
        lanes = [lane for (tp, _), lane in self._lanes.items() if tp in wanted]
        for lane in lanes:
            self._buffered -= len(lane.items)
            lane.items.clear()
        tasks = [lane.task for lane in lanes if lane.task is not None and not lane.task.done()]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace) if grace > 0 else ((), tasks)
            for task in late:
                task.cancel()
            for task in late:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if late:
                log.warning("worker.running_cancelled", unfinished=len(late))
        await self._commit_done(tps)
        self._offsets.forget(tps)
        for key in [key for key in self._lanes if key[0] in wanted]:
            self._buffered -= len(self._lanes.pop(key).items)
        self._paused -= wanted

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
        # Whatever is still running at the bound is cancelled and stays uncommitted, so it
        # is handled again: by the next member, or (embedded broker) from the spool.
        grace = max(0.0, deadline - asyncio.get_running_loop().time())
        held = {tp for tp, _ in self._lanes} | set(self._consumer.assignment())
        await self.finish_partitions(list(held), grace)
        await close_quietly(self._consumer.stop(), BROKER_CALL_TIMEOUT)
        log.info("worker.stopped")

    async def _drain_accepted(self) -> None:
        """Handle every record the events topic held when intake stopped, then return."""
        # Right after start the group may not have assigned the partitions yet.
        await self.assigned.wait()
        tps = sorted(self._consumer.assignment(), key=lambda tp: tp.partition)
        ends = await asyncio.wait_for(self._consumer.end_offsets(tps), BROKER_CALL_TIMEOUT)
        log.info("worker.draining", partitions=[tp.partition for tp in tps])
        self._draining = True
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
        busy = {tp for (tp, _), lane in self._lanes.items() if lane.items or lane.current}
        for tp, end in ends.items():
            if tp in busy:
                return False
            position = await asyncio.wait_for(self._consumer.position(tp), BROKER_CALL_TIMEOUT)
            if position < end:
                return False
        return True


def _head_sha(envelope: Envelope) -> str | None:
    """The head commit a pull-request event is about, if it is one."""
    if envelope.source is not Source.GITHUB or envelope.event != "pull_request":
        return None
    pull = payload_dict(envelope).get("pull_request")
    head = pull.get("head") if isinstance(pull, dict) else None
    sha = head.get("sha") if isinstance(head, dict) else None
    return sha if isinstance(sha, str) else None


def _repository(envelope: Envelope | None) -> str | None:
    if envelope is None or not envelope.subject.startswith("github/"):
        return None
    return envelope.subject.removeprefix("github/").split("#")[0] or None


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Finishes and commits a partition's in-flight work before it moves to another member."""

    def __init__(self, worker: Worker) -> None:
        self._worker = worker

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._worker.finish_partitions(list(revoked))
        self._worker.note_revoked(revoked)
        log.info("partitions.revoked", partitions=sorted(tp.partition for tp in revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._worker.note_assigned(assigned)
        log.info("partitions.assigned", partitions=sorted(tp.partition for tp in assigned))
        if assigned:
            self._worker.assigned.set()
