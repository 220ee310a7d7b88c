"""Kafka plumbing: client parameters, topic creation, and a producer with a bounded ack wait."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from bot.logs import get_logger
from bot.metrics.definitions import PRODUCE_DURATION, PRODUCE_FAILURES
from bot.settings import Settings
from schemas.envelope import Envelope

log = get_logger(component="bus")

# GitHub sends bodies up to 25 MB; the envelope adds a little. Kafka's defaults (1 MB) would
# refuse such an event, so topics, producer and consumer are all raised to this.
MAX_MESSAGE_BYTES = 32 * 1024 * 1024


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


def producer_params(settings: Settings, bootstrap_servers: str) -> dict[str, Any]:
    """Producer parameters: acks=all, compression, large messages, bounded request time."""
    idempotence = settings.kafka_enable_idempotence
    if idempotence is None:
        idempotence = not settings.embedded_broker
    timeout_ms = int(settings.produce_timeout_seconds * 1000)
    return {
        **client_params(settings, bootstrap_servers),
        "acks": "all",
        "enable_idempotence": idempotence,
        "compression_type": "gzip",
        "max_request_size": MAX_MESSAGE_BYTES,
        # One partition allows one request in flight; a batch big enough for many webhooks
        # lets concurrent deliveries for the same subject share it instead of queueing.
        "max_batch_size": 1024 * 1024,
        "request_timeout_ms": max(timeout_ms, 1000),
        "linger_ms": 0,
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
                topic_configs={"max.message.bytes": str(MAX_MESSAGE_BYTES)},
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


class EventProducer:
    """Produces with acks=all and gives up after a bounded wait, so callers can answer 503."""

    def __init__(self, settings: Settings, bootstrap_servers: str) -> None:
        self._settings = settings
        self._producer = AIOKafkaProducer(**producer_params(settings, bootstrap_servers))

    async def start(self) -> None:
        """Connect to the cluster."""
        await asyncio.wait_for(self._producer.start(), 30)

    async def stop(self) -> None:
        """Flush and close."""
        try:
            await asyncio.wait_for(self._producer.stop(), 10)
        except TimeoutError:
            log.warning("producer.stop_timeout")

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
            await asyncio.wait_for(
                self._producer.send_and_wait(
                    topic, value=value, key=key.encode(), headers=list(headers)
                ),
                ack_timeout or self._settings.produce_timeout_seconds,
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
            metadata = await asyncio.wait_for(self._producer.client.fetch_all_metadata(), within)
        except (TimeoutError, KafkaError, OSError):
            return False
        return bool(metadata.brokers())
