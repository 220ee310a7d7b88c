"""Ingress over a real broker: what is acknowledged is in Kafka, and nothing else is."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.ingress.app import create_app
from bot.pipeline.bus import EventProducer, ensure_topics
from bot.settings import Settings
from bot.signatures import sign_github
from schemas.envelope import Envelope
from tests.support.broker import TansuProcess, bus_settings
from tests.support.payloads import load_webhook
from tests.support.topics import read_topic

SECRET = "it-is-a-secret-0"


async def _ingress(settings: Settings, bootstrap: str) -> tuple[TestServer, EventProducer]:
    await ensure_topics(settings, bootstrap)
    producer = EventProducer(settings, bootstrap)
    await producer.start()
    server = TestServer(create_app(settings, producer))
    await server.start_server()
    return server, producer


@pytest.fixture
async def ingress(kafka_bootstrap: str) -> AsyncIterator[tuple[Settings, TestServer]]:
    settings = bus_settings(
        kafka_bootstrap, github_webhook_secrets=SECRET, max_body_bytes=26 * 1024 * 1024
    )
    server, producer = await _ingress(settings, kafka_bootstrap)
    yield settings, server
    await server.close()
    await producer.stop()


def _headers(body: bytes, event: str = "pull_request", **extra: str) -> dict[str, str]:
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": "d-1",
        "X-Hub-Signature-256": sign_github(body, SECRET),
        "Content-Type": "application/json",
    }
    headers.update(extra)
    return headers


async def _post(server: TestServer, path: str, body: bytes, headers: dict[str, str]) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.post(server.make_url(path), data=body, headers=headers) as response,
    ):
        return response.status, await response.json()


async def test_signed_delivery_is_in_kafka_before_202(
    ingress: tuple[Settings, TestServer], kafka_bootstrap: str
) -> None:
    """A correctly signed pull_request is answered 202 and is on the events topic, keyed."""
    settings, server = ingress
    body = json.dumps(load_webhook("pull_request.opened.0")).encode()
    status, answer = await _post(server, "/webhooks/github", body, _headers(body))
    assert (status, answer) == (202, {"accepted": ["d-1"]})
    records = await read_topic(settings, kafka_bootstrap, settings.topic_events, expect=1)
    assert len(records) == 1
    envelope = Envelope.from_bytes(records[0].value or b"")
    assert envelope.id == "d-1"
    assert envelope.name == "pull_request.opened"
    assert records[0].key == envelope.subject.encode()
    assert envelope.subject.startswith("github/") and "#" in envelope.subject
    assert envelope.payload == json.loads(body)


def _forge(body: bytes) -> dict[str, str]:
    return _headers(body, **{"X-Hub-Signature-256": sign_github(body, "wrong-secret")})


def _missing(body: bytes) -> dict[str, str]:
    headers = _headers(body)
    del headers["X-Hub-Signature-256"]
    return headers


def _sha1_only(body: bytes) -> dict[str, str]:
    headers = _missing(body)
    headers["X-Hub-Signature"] = "sha1=0123456789abcdef0123456789abcdef01234567"
    return headers


def _no_event(body: bytes) -> dict[str, str]:
    headers = _headers(body)
    del headers["X-GitHub-Event"]
    return headers


def _no_delivery(body: bytes) -> dict[str, str]:
    headers = _headers(body)
    del headers["X-GitHub-Delivery"]
    return headers


@pytest.mark.parametrize(
    ("path", "body", "make_headers", "status"),
    [
        ("/webhooks/github", b'{"zen":"x"}', _forge, 401),
        ("/webhooks/github", b'{"zen":"x"}', _missing, 401),
        ("/webhooks/github", b'{"zen":"x"}', _sha1_only, 401),
        ("/webhooks/github", b'{"zen":"x"}', _no_event, 400),
        ("/webhooks/github", b'{"zen":"x"}', _no_delivery, 400),
        ("/webhooks/github", b"not json", _headers, 400),
        ("/webhooks/github", b"[1, 2]", _headers, 400),
        ("/webhooks/bitbucket", b'{"zen":"x"}', _headers, 404),
    ],
    ids=[
        "forged",
        "missing",
        "sha1-only",
        "no-event",
        "no-delivery",
        "not-json",
        "not-object",
        "unknown-source",
    ],
)
async def test_bad_requests_are_refused_and_produce_nothing(
    ingress: tuple[Settings, TestServer],
    kafka_bootstrap: str,
    path: str,
    body: bytes,
    make_headers: Callable[[bytes], dict[str, str]],
    status: int,
) -> None:
    """Bad input gets a clear answer and nothing reaches Kafka."""
    settings, server = ingress
    answer_status, answer = await _post(server, path, body, make_headers(body))
    assert answer_status == status
    assert answer["error"]
    assert await read_topic(settings, kafka_bootstrap, settings.topic_events, 0, 1.0) == []


async def test_oversized_body_is_413(kafka_bootstrap: str) -> None:
    """A body over max_body_bytes is refused before it is read whole."""
    settings = bus_settings(kafka_bootstrap, github_webhook_secrets=SECRET, max_body_bytes=4096)
    server, producer = await _ingress(settings, kafka_bootstrap)
    try:
        body = json.dumps({"blob": "x" * 10_000}).encode()
        status, _ = await _post(server, "/webhooks/github", body, _headers(body))
        assert status == 413
        assert await read_topic(settings, kafka_bootstrap, settings.topic_events, 0, 1.0) == []
    finally:
        await server.close()
        await producer.stop()


async def test_ping_is_200_and_recorded(
    ingress: tuple[Settings, TestServer], kafka_bootstrap: str
) -> None:
    """GitHub's ping gets 200 and is on the topic like any event."""
    settings, server = ingress
    body = json.dumps(load_webhook("ping.0")).encode()
    status, _ = await _post(server, "/webhooks/github", body, _headers(body, event="ping"))
    assert status == 200
    records = await read_topic(settings, kafka_bootstrap, settings.topic_events, expect=1)
    assert Envelope.from_bytes(records[0].value or b"").event == "ping"


async def test_a_25_mb_event_gets_through(
    ingress: tuple[Settings, TestServer], kafka_bootstrap: str
) -> None:
    """GitHub's largest payload fits through the producer, topic and consumer limits."""
    settings, server = ingress
    payload = load_webhook("push.0")
    # Random hex compresses poorly, like real diffs and base64 blobs do.
    payload["padding"] = os.urandom(12 * 1024 * 1024).hex()
    body = json.dumps(payload).encode()
    assert len(body) > 24 * 1024 * 1024
    status, _ = await _post(server, "/webhooks/github", body, _headers(body, event="push"))
    assert status == 202
    records = await read_topic(settings, kafka_bootstrap, settings.topic_events, expect=1)
    assert Envelope.from_bytes(records[0].value or b"").payload["padding"] == payload["padding"]


async def test_broker_down_means_503_and_not_ready(own_broker: TansuProcess) -> None:
    """With the broker gone nothing is acknowledged: 503 within the bounded wait."""
    settings = bus_settings(
        own_broker.bootstrap_servers, github_webhook_secrets=SECRET, produce_timeout_seconds=1.0
    )
    server, producer = await _ingress(settings, own_broker.bootstrap_servers)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(server.make_url("/readyz")) as response:
                assert response.status == 200
            own_broker.stop()
            body = b'{"zen":"x"}'
            status, answer = await _post(server, "/webhooks/github", body, _headers(body, "ping"))
            assert status == 503
            assert "retry" in answer["error"]
            async with session.get(server.make_url("/readyz")) as response:
                assert response.status == 503
            async with session.get(server.make_url("/healthz")) as response:
                assert response.status == 200
    finally:
        await server.close()
        await producer.stop()
