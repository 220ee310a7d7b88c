"""The new endpoints over HTTP and a real broker: accepted means in Kafka; tokens stay secret."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from structlog.testing import capture_logs

from bot.ingress.app import create_app
from bot.pipeline.bus import EventProducer, ensure_topics
from bot.settings import Settings
from schemas.envelope import Envelope
from tests.promotion.setup import delivered_sample
from tests.support.broker import bus_settings
from tests.support.topics import read_topic

HUB_TOKEN = "hub-url-token-0123456789"
DIST_TOKEN = "dist-token-0123456789"


@pytest.fixture
async def ingress(kafka_bootstrap: str) -> AsyncIterator[tuple[Settings, TestServer]]:
    settings = bus_settings(
        kafka_bootstrap,
        dockerhub_url_token=HUB_TOKEN,
        registry_webhook_tokens={"distribution": DIST_TOKEN},
    )
    await ensure_topics(settings, kafka_bootstrap)
    producer = EventProducer(settings, kafka_bootstrap)
    await producer.start()
    server = TestServer(create_app(settings, producer))
    await server.start_server()
    yield settings, server
    await server.close()
    await producer.stop()


async def _post(server: TestServer, path: str, body: bytes, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(server.make_url(path), data=body, headers=headers) as response,
    ):
        return response.status


async def test_docker_hub_path_token_is_checked_and_never_logged(
    ingress: tuple[Settings, TestServer], kafka_bootstrap: str
) -> None:
    """The right path token → 202 and one envelope; a wrong one → 401; neither token is logged."""
    settings, server = ingress
    body = json.dumps(
        {
            "push_data": {"pushed_at": 1700000000, "pusher": "ci", "tag": "1.4.0"},
            "repository": {"repo_name": "acme/app", "namespace": "acme", "name": "app"},
        }
    ).encode()
    with capture_logs() as logs:
        ok = await _post(server, f"/webhooks/registry/docker-hub/{HUB_TOKEN}", body, {})
        bad = await _post(server, "/webhooks/registry/docker-hub/guessed-token", body, {})
    assert (ok, bad) == (202, 401)
    assert HUB_TOKEN not in repr(logs) and "guessed-token" not in repr(logs)
    records = await read_topic(settings, kafka_bootstrap, settings.topic_events, expect=1)
    assert [Envelope.from_bytes(r.value or b"").name for r in records] == ["manifest.push"]


async def test_distribution_envelope_lands_as_one_record_per_event(
    ingress: tuple[Settings, TestServer], kafka_bootstrap: str
) -> None:
    """Captured events: a wrong token is refused; the right one lands one record per event."""
    settings, server = ingress
    sample = delivered_sample("registry", "push.oci-manifest")
    push = sample["body_json"]["events"][0]
    pull = delivered_sample("registry", "pull.blob")["body_json"]["events"][0]
    body = json.dumps({"events": [push, pull]}).encode()
    media = {"Content-Type": "application/vnd.docker.distribution.events.v1+json"}
    refused = await _post(
        server, "/webhooks/registry/distribution", body, {**media, "Authorization": "Bearer x"}
    )
    accepted = await _post(
        server,
        "/webhooks/registry/distribution",
        body,
        {**media, "Authorization": f"Bearer {DIST_TOKEN}"},
    )
    assert (refused, accepted) == (401, 202)
    records = await read_topic(settings, kafka_bootstrap, settings.topic_events, expect=2)
    assert sorted(Envelope.from_bytes(r.value or b"").id for r in records) == sorted(
        [push["id"], pull["id"]]
    )
