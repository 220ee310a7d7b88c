"""Kafka clients and topics take their fetch wait, linger and retention from the settings."""

from __future__ import annotations

import aiohttp
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from bot.github.clients import GitHubClients
from bot.github.dryrun import DryRunRecorder
from bot.notify.service import Notifier
from bot.pipeline.bus import (
    EventProducer,
    all_topics,
    client_params,
    ensure_topics,
    producer_params,
)
from bot.pipeline.dispatch import Registry
from bot.pipeline.worker import Worker
from bot.settings import load_settings
from tests.support.broker import bus_settings


def test_defaults_do_not_hold_a_hop_for_aiokafkas_half_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The default fetch wait is tens of milliseconds, not aiokafka's 500 ms."""
    monkeypatch.delenv("FERRYBOT_KAFKA_FETCH_MAX_WAIT_MS", raising=False)
    settings = load_settings()
    assert settings.kafka_fetch_max_wait_ms <= 20
    assert settings.kafka_linger_ms == 0


async def test_worker_notifier_and_producer_use_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """FERRYBOT_KAFKA_FETCH_MAX_WAIT_MS and _LINGER_MS reach the aiokafka clients."""
    monkeypatch.setenv("FERRYBOT_KAFKA_FETCH_MAX_WAIT_MS", "37")
    monkeypatch.setenv("FERRYBOT_KAFKA_LINGER_MS", "3")
    settings = load_settings(kafka_bootstrap_servers="127.0.0.1:1")
    async with aiohttp.ClientSession() as session:
        producer = EventProducer(settings, "127.0.0.1:1")  # its aiokafka producer: at start
        clients = GitHubClients(settings, session, DryRunRecorder(None))
        worker = Worker(settings, "127.0.0.1:1", Registry(), clients, producer)
        notifier = Notifier(settings, "127.0.0.1:1", session)
        # aiokafka keeps the values it was given on the client objects.
        assert worker._consumer._fetch_max_wait_ms == 37
        assert notifier._consumer._fetch_max_wait_ms == 37
        assert producer_params(settings, "127.0.0.1:1", idempotence=False)["linger_ms"] == 3


async def test_created_topics_carry_the_retention(kafka_bootstrap: str) -> None:
    """ensure_topics gives every topic retention.ms from FERRYBOT_KAFKA_RETENTION_MS."""
    settings = bus_settings(kafka_bootstrap, kafka_retention_ms=3_600_000)
    await ensure_topics(settings, kafka_bootstrap)
    admin = AIOKafkaAdminClient(**client_params(settings, kafka_bootstrap))
    await admin.start()
    try:
        described = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic) for topic in all_topics(settings)]
        )
    finally:
        await admin.close()
    entries = [
        (resource[3], entry[0], entry[1])
        for response in described
        for resource in response.resources
        for entry in resource[4]
        if entry[0] == "retention.ms"
    ]
    assert sorted(entries) == sorted((t, "retention.ms", "3600000") for t in all_topics(settings))
