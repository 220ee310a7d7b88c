"""Polls the broker: whether it answers, and each consumer group's lag per partition."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from bot.logs import get_logger
from bot.metrics.definitions import BROKER_REACHABLE, CONSUMER_LAG
from bot.pipeline.bus import EventProducer, client_params
from bot.settings import Settings

log = get_logger(component="metrics")

# Often enough for a 15-30 s scrape interval; each round is three small broker requests.
POLL_SECONDS = 5.0
# Bound on one round: a dead broker makes aiokafka calls wait for their own long timeouts.
ROUND_TIMEOUT = 10.0


class BrokerMonitor:
    """Keeps `ferrybot_broker_reachable` and `ferrybot_consumer_lag_messages` current.

    `groups` maps each consumer group this process runs to the topic it consumes. Lag is the
    end offset minus the group's committed offset (the start of the log when nothing is
    committed yet): what a crash would replay plus what is not fetched yet.
    """

    def __init__(
        self,
        settings: Settings,
        bootstrap_servers: str,
        producer: EventProducer,
        groups: Mapping[str, str],
        interval: float = POLL_SECONDS,
    ) -> None:
        self._producer = producer
        self._groups = dict(groups)
        self._interval = interval
        self._stopping = asyncio.Event()
        params = client_params(settings, bootstrap_servers)
        self._admin = AIOKafkaAdminClient(**params)
        # No group: this consumer only asks for offsets, it never joins or fetches.
        self._offsets = AIOKafkaConsumer(**params, enable_auto_commit=False)
        self._started = False

    async def start(self) -> None:
        """Connect the offset clients (only when there is a group to watch)."""
        if self._groups:
            await asyncio.wait_for(self._admin.start(), 30)
            await asyncio.wait_for(self._offsets.start(), 30)
            self._started = True

    async def run(self) -> None:
        """Poll until `stop`; a failed round is logged and the next one tries again."""
        try:
            while not self._stopping.is_set():
                await self.poll()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._interval)
        finally:
            if self._started:
                with contextlib.suppress(TimeoutError, KafkaError):
                    await asyncio.wait_for(self._offsets.stop(), 10)
                with contextlib.suppress(TimeoutError, KafkaError):
                    await asyncio.wait_for(self._admin.close(), 10)

    def stop(self) -> None:
        """End `run` after the current round."""
        self._stopping.set()

    async def poll(self) -> None:
        """One round: reachability, then every group's lag."""
        reachable = await self._producer.reachable()
        BROKER_REACHABLE.set(1 if reachable else 0)
        if not reachable:
            return
        for group, topic in self._groups.items():
            try:
                lag = await asyncio.wait_for(self._lag(group, topic), ROUND_TIMEOUT)
            except (TimeoutError, KafkaError, OSError) as exc:
                log.warning("metrics.lag_failed", group=group, error=type(exc).__name__)
                continue
            for partition, messages in lag.items():
                CONSUMER_LAG.labels(group=group, topic=topic, partition=str(partition)).set(
                    messages
                )

    async def _lag(self, group: str, topic: str) -> dict[int, int]:
        described = await self._admin.describe_topics([topic])
        partitions = [
            TopicPartition(topic, p["partition"]) for d in described for p in d["partitions"]
        ]
        if not partitions:
            return {}
        committed = await self._admin.list_consumer_group_offsets(group, partitions=partitions)
        ends = await self._offsets.end_offsets(partitions)
        starts = await self._offsets.beginning_offsets(partitions)
        lag: dict[int, int] = {}
        for tp in partitions:
            meta = committed.get(tp)
            # -1: the group has committed nothing here and will start from the beginning.
            done = meta.offset if meta is not None and meta.offset >= 0 else starts[tp]
            lag[tp.partition] = max(0, ends[tp] - done)
        return lag
