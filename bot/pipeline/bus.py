"""Kafka plumbing: client parameters, topic creation, and a producer with a bounded ack wait."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError
from aiokafka.protocol.transaction import InitProducerIdRequest

from bot.logs import get_logger
from bot.metrics.definitions import PRODUCE_DURATION, PRODUCE_FAILURES
from bot.settings import KafkaCompression, Settings
from schemas.envelope import Envelope

log = get_logger(component="bus")

# GitHub sends bodies up to 25 MB; the envelope adds a little. Kafka's defaults (1 MB) would
# refuse such an event, so topics, producer and consumer are all raised to this.
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
# What one fetch returns: per partition, its records in offset order.
Batches = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
# How long asking the cluster what it supports may take before the producer gives up starting.
PROBE_TIMEOUT = 30.0


class BusUnavailable(Exception):
    """The broker did not acknowledge in time: nothing may be acknowledged to the sender."""


def client_params(settings: Settings, bootstrap_servers: str) -> dict[str, Any]:
    """Connection parameters shared by producers, consumers and the admin client."""
    params: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol.value,
        "metadata_max_age_ms": settings.kafka_metadata_max_age_ms,
        "client_id": "ferrybot",
    }
    if settings.kafka_security_protocol.value.endswith("SSL"):
        context = ssl.create_default_context(
            cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
        )
        if settings.kafka_ssl_certfile:
            context.load_cert_chain(
                str(settings.kafka_ssl_certfile),
                str(settings.kafka_ssl_keyfile) if settings.kafka_ssl_keyfile else None,
            )
        params["ssl_context"] = context
    if settings.kafka_sasl_mechanism:
        params["sasl_mechanism"] = settings.kafka_sasl_mechanism
        params["sasl_plain_username"] = settings.kafka_sasl_username
        password = settings.kafka_sasl_password
        params["sasl_plain_password"] = password.get_secret_value() if password else None
    return params


async def supports_idempotence(settings: Settings, bootstrap_servers: str) -> bool:
    """True when a broker grants a producer id (InitProducerId), which idempotence needs."""
    client = AIOKafkaClient(**client_params(settings, bootstrap_servers))
    try:
        await asyncio.wait_for(client.bootstrap(), PROBE_TIMEOUT)
        # The same request an idempotent producer makes at start, without a transactional id;
        # one unused producer id costs the cluster nothing.
        request = InitProducerIdRequest(
            transactional_id=None,  # a plain idempotent producer has none
            transaction_timeout_ms=60_000,
        )
        response = await asyncio.wait_for(
            client.send(client.get_random_node(), request), PROBE_TIMEOUT
        )
    except KafkaConnectionError:
        raise  # no answer at all is not a "no": starting fails as it would without the probe
    except KafkaError as exc:
        # Unsupported API version and the like: the broker said no in its own way.
        log.debug("kafka.idempotence_probe_refused", error=type(exc).__name__)
        return False
    finally:
        await client.close()
    return bool(response.error_code == 0)


async def decide_idempotence(settings: Settings, bootstrap_servers: str) -> bool:
    """The setting when given; else off for the embedded broker; else what the cluster grants."""
    if settings.kafka_enable_idempotence is not None:
        return settings.kafka_enable_idempotence
    if settings.embedded_broker:
        return False  # ferrybot's own Tansu, which is known to refuse InitProducerId
    if await supports_idempotence(settings, bootstrap_servers):
        return True
    log.warning(
        "kafka.idempotence_unavailable",
        bootstrap_servers=bootstrap_servers,
        consequence="producer retries may duplicate records; side effects stay idempotent",
    )
    return False


def producer_params(
    settings: Settings, bootstrap_servers: str, idempotence: bool
) -> dict[str, Any]:
    """Producer parameters: acks=all, compression, large messages, bounded request time."""
    timeout_ms = int(settings.produce_timeout_seconds * 1000)
    return {
        **client_params(settings, bootstrap_servers),
        "acks": "all",
        "enable_idempotence": idempotence,
        "compression_type": (
            None
            if settings.kafka_compression is KafkaCompression.NONE
            else settings.kafka_compression.value
        ),
        "max_request_size": MAX_MESSAGE_BYTES,
        # One partition allows one request in flight; a batch big enough for many webhooks
        # lets concurrent deliveries for the same subject share it instead of queueing.
        "max_batch_size": 1024 * 1024,
        "request_timeout_ms": max(timeout_ms, 1000),
        "linger_ms": settings.kafka_linger_ms,
    }


def consumer_params(settings: Settings, bootstrap_servers: str) -> dict[str, Any]:
    """Consumer parameters every ferrybot consumer shares: connection and fetch wait."""
    return {
        **client_params(settings, bootstrap_servers),
        "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
    }


def all_topics(settings: Settings) -> list[str]:
    """Every topic ferrybot produces to or consumes from."""
    return [
        settings.topic_events,
        settings.topic_dlq,
        settings.topic_notifications,
        settings.topic_audit,
    ]


async def ensure_topics(
    settings: Settings, bootstrap_servers: str, topics: Sequence[str] | None = None
) -> None:
    """Create ferrybot's topics if missing (safe to call from every process)."""
    admin = AIOKafkaAdminClient(**client_params(settings, bootstrap_servers))
    await asyncio.wait_for(admin.start(), 30)
    try:
        existing = set(await asyncio.wait_for(admin.list_topics(), 30))
        missing = [t for t in (topics or all_topics(settings)) if t not in existing]
        if not missing:
            return
        new = [
            NewTopic(
                name=topic,
                num_partitions=settings.kafka_partitions,
                replication_factor=settings.kafka_replication_factor,
                topic_configs={
                    "max.message.bytes": str(MAX_MESSAGE_BYTES),
                    "retention.ms": str(settings.kafka_retention_ms),
                },
            )
            for topic in missing
        ]
        try:
            await asyncio.wait_for(admin.create_topics(new), 30)
        except TopicAlreadyExistsError:
            pass  # another process created them between our list and create
        log.info("topics.created", topics=missing)
    finally:
        await admin.close()


async def close_quietly(closing: Awaitable[None], within: float) -> None:
    """Await an aiokafka client's stop, bounded; a lost broker's errors there are not ours."""
    try:
        await asyncio.wait_for(closing, within)
    except (TimeoutError, KafkaError, OSError) as exc:
        log.debug("kafka.close_failed", error=type(exc).__name__)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # a real cancellation of the caller
        # aiokafka's fetcher re-raises the cancellation of its own retry sleep when it is
        # closed while the broker is gone; that is the end of the client, not of the caller.
        log.debug("kafka.close_cancelled")


async def fetch_unless_stopped(
    consumer: AIOKafkaConsumer, stopping: asyncio.Event | None, timeout_ms: int, max_records: int
) -> Batches:
    """`consumer.getmany(...)`, or nothing if `stopping` is set before it returns."""
    # getmany waits without bound while a group rebalance is in progress (aiokafka 0.14,
    # Fetcher.fetched_records), and a broker lost in the middle of a JoinGroup leaves it
    # in progress for good: a stop must not wait on that. Cancelling getmany there drains
    # nothing, so no fetched record is dropped; one that completed first is returned.
    fetching: Awaitable[Batches] = consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
    if stopping is None:
        return await fetching
    fetch: asyncio.Future[Batches] = asyncio.ensure_future(fetching)
    stop_wait = asyncio.ensure_future(stopping.wait())
    racing: set[asyncio.Future[Any]] = {fetch, stop_wait}
    try:
        await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop_wait.cancel()
        if not fetch.done():
            fetch.cancel()
            await asyncio.wait({fetch})
    return {} if fetch.cancelled() else fetch.result()


class EventProducer:
    """Produces with acks=all and gives up after a bounded wait, so callers can answer 503."""

    def __init__(self, settings: Settings, bootstrap_servers: str) -> None:
        self._settings = settings
        self._bootstrap_servers = bootstrap_servers
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Ask the cluster what it supports, then connect."""
        idempotence = await decide_idempotence(self._settings, self._bootstrap_servers)
        self._producer = AIOKafkaProducer(
            **producer_params(self._settings, self._bootstrap_servers, idempotence)
        )
        await asyncio.wait_for(self._producer.start(), 30)

    @property
    def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("EventProducer used before start()")
        return self._producer

    async def stop(self) -> None:
        """Flush and close."""
        if self._producer is None:
            return
        await close_quietly(self._producer.stop(), 10)

    async def send(
        self,
        topic: str,
        key: str,
        value: bytes,
        headers: Sequence[tuple[str, bytes]] = (),
        ack_timeout: float | None = None,
    ) -> None:
        """Return only once the broker has the message; raise BusUnavailable otherwise."""
        started = time.perf_counter()
        try:
            # A timeout scope rather than wait_for, which wraps every produce in a task of its own.
            async with asyncio.timeout(ack_timeout or self._settings.produce_timeout_seconds):
                await self._started.send_and_wait(
                    topic, value=value, key=key.encode(), headers=list(headers)
                )
        except (TimeoutError, KafkaError) as exc:
            PRODUCE_FAILURES.labels(topic=topic).inc()
            raise BusUnavailable(f"broker did not acknowledge: {type(exc).__name__}") from exc
        PRODUCE_DURATION.labels(topic=topic).observe(time.perf_counter() - started)

    async def send_envelope(self, envelope: Envelope, topic: str | None = None) -> None:
        """Produce an envelope keyed by its subject."""
        await self.send(
            topic or self._settings.topic_events,
            envelope.subject,
            envelope.to_bytes(),
            headers=[
                ("delivery", envelope.id.encode()),
                ("source", envelope.source.value.encode()),
                ("event", envelope.name.encode()),
            ],
        )

    async def reachable(self, within: float = 2.0) -> bool:
        """True when the cluster answers a metadata request in time."""
        try:
            metadata = await asyncio.wait_for(self._started.client.fetch_all_metadata(), within)
        except (TimeoutError, KafkaError, OSError):
            return False
        return bool(metadata.brokers())
