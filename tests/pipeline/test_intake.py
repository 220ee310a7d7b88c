"""The intake gate: once closed, new webhooks get 503; one already being read still lands."""

from __future__ import annotations

import asyncio
import json

from aiohttp.test_utils import TestServer

from bot.ingress.app import GATE_KEY, create_app
from bot.pipeline.bus import EventProducer, ensure_topics
from bot.signatures import sign_github
from tests.support.bot import eventually
from tests.support.broker import bus_settings
from tests.support.payloads import load_webhook
from tests.support.topics import read_topic

SECRET = "intake-secret-0"


def _request_head(body: bytes, delivery: str) -> bytes:
    return (
        "POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-GitHub-Event: pull_request\r\nX-GitHub-Delivery: {delivery}\r\n"
        f"X-Hub-Signature-256: {sign_github(body, SECRET)}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()


async def test_a_webhook_admitted_before_the_gate_closed_is_still_accepted(
    kafka_bootstrap: str,
) -> None:
    """A delivery whose body is still arriving when intake closes gets 202 and is in Kafka, the
    gate waits for it, and a delivery starting after the close gets 503 and is not."""
    settings = bus_settings(kafka_bootstrap, github_webhook_secrets=SECRET)
    await ensure_topics(settings, kafka_bootstrap)
    producer = EventProducer(settings, kafka_bootstrap)
    await producer.start()
    app = create_app(settings, producer)
    server = TestServer(app)
    await server.start_server()
    try:
        body = json.dumps(load_webhook("pull_request.opened.0")).encode()
        port = server.port
        assert port is not None
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(_request_head(body, "admitted-1") + body[:100])
        await writer.drain()
        gate = app[GATE_KEY]
        # Admitted once its headers were read: the handler now waits for the rest of the body.
        await eventually(lambda: gate.in_flight == 1, within=10, what="request admitted")
        gate.close()

        late_reader, late_writer = await asyncio.open_connection("127.0.0.1", port)
        late_writer.write(_request_head(body, "late-1") + body)
        await late_writer.drain()
        late = await asyncio.wait_for(late_reader.read(), 10)
        late_writer.close()
        assert late.startswith(b"HTTP/1.1 503"), late[:100]

        writer.write(body[100:])
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 202"), answer[:100]
        assert await gate.wait_idle(5) == 0
    finally:
        await server.close()
        await producer.stop()
    records = await read_topic(settings, kafka_bootstrap, settings.topic_events, expect=1)
    assert [dict(r.headers)["delivery"] for r in records] == [b"admitted-1"]
