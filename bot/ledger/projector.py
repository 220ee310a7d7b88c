"""The projector: the events and audit topics in their own consumer group → the ledger store."""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from sqlalchemy.exc import SQLAlchemyError

from bot.ledger.collector import LedgerCollector
from bot.ledger.decode import record_facts
from bot.ledger.facts import Fact
from bot.ledger.store import LedgerStore
from bot.logs import get_logger
from bot.pipeline.bus import MAX_MESSAGE_BYTES, client_params, close_quietly, fetch_unless_stopped
from bot.settings import Settings

log = get_logger(component="ledger")

# Bound on any single broker call: a dead broker makes commits hang forever otherwise.
BROKER_CALL_TIMEOUT = 10.0
# A database that refuses a batch is retried this often (seconds), the offsets held meanwhile.
STORE_RETRY_SECONDS = 2.0


def ledger_group(settings: Settings) -> str:
    """The projector's consumer group, derived from the worker's so test runs stay apart."""
    return f"{settings.kafka_consumer_group}-ledger"


class Projector:
    """Applies every fact to the store, then commits; a crash replays, a replay changes nothing."""

    def __init__(
        self,
        settings: Settings,
        bootstrap_servers: str,
        store: LedgerStore,
        collector: LedgerCollector | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._collector = collector
        self._stopping = asyncio.Event()
        self.applied = 0
        self._consumer: AIOKafkaConsumer = AIOKafkaConsumer(
            **client_params(settings, bootstrap_servers),
            group_id=ledger_group(settings),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
            fetch_max_bytes=MAX_MESSAGE_BYTES,
            fetch_max_wait_ms=50,
        )

    async def start(self) -> None:
        """Join the ledger's consumer group."""
        await asyncio.wait_for(self._consumer.start(), 60)
        topics = [self._settings.topic_events, self._settings.topic_audit]
        self._consumer.subscribe(topics)
        await self._refresh()
        log.info("ledger.projector_started", group=ledger_group(self._settings), topics=topics)

    async def run(self) -> None:
        """Fetch, apply, commit until `stop` is called."""
        try:
            while not self._stopping.is_set():
                batches = await fetch_unless_stopped(
                    self._consumer, self._stopping, timeout_ms=200, max_records=500
                )
                if not batches:
                    continue
                facts: list[Fact] = []
                offsets: dict[TopicPartition, int] = {}
                for tp, records in batches.items():
                    for record in records:
                        facts += record_facts(self._settings, record)
                    offsets[tp] = records[-1].offset + 1
                if not await self._apply(facts):
                    return
                await self._commit(offsets)
        finally:
            await close_quietly(self._consumer.stop(), BROKER_CALL_TIMEOUT)
            log.info("ledger.projector_stopped", applied=self.applied)

    async def _apply(self, facts: list[Fact]) -> bool:
        """Apply until the store takes it; False when stopped first (offsets stay uncommitted)."""
        while True:
            try:
                new = await self._store.apply(facts)
            except (SQLAlchemyError, OSError) as exc:
                log.error("ledger.store_failed", error=type(exc).__name__, facts=len(facts))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), STORE_RETRY_SECONDS)
                if self._stopping.is_set():
                    return False
                continue
            self.applied += new
            if new:
                log.info("ledger.applied", facts=new, seen=len(facts))
                await self._refresh()
            return True

    async def _refresh(self) -> None:
        if self._collector is None:
            return
        try:
            await self._collector.refresh()
        except (SQLAlchemyError, OSError) as exc:
            # Stale gauges until the next batch; the projection itself is safe in the store.
            log.warning("ledger.gauges_stale", error=type(exc).__name__)

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await asyncio.wait_for(self._consumer.commit(offsets), BROKER_CALL_TIMEOUT)
        except (TimeoutError, KafkaError) as exc:
            # Not fatal: the next batch commits further; a replayed fact is a no-op.
            log.warning("ledger.commit_failed", error=type(exc).__name__)

    def stop(self) -> None:
        """Stop after the batch in hand."""
        self._stopping.set()
