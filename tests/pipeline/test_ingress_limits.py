"""The ingress bounds slow clients, caps connections, and shrugs off senders that hang up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli.send import send_github
from bot.pipeline.broker import free_port
from bot.pipeline.bus import ensure_topics
from bot.signatures import sign_github
from tests.support.broker import bus_settings
from tests.support.payloads import DATA
from tests.support.processes import BotProcess, bot_env

SAMPLE = (DATA / "github" / "webhooks" / "pull_request.opened.0.json").read_bytes()
SECRET = "limits-secret-0"
HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 3.0
# Scheduling slack on a loaded two-core machine; the bound itself is what is asserted.
SLACK = 2.5
REQUEST_HEAD = (
    b"POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"X-GitHub-Event: ping\r\nX-GitHub-Delivery: slow-1\r\n"
)


async def _ingress(
    kafka_bootstrap: str, tmp_path: Path, max_connections: int
) -> AsyncIterator[tuple[BotProcess, int]]:
    settings = bus_settings(kafka_bootstrap)
    await ensure_topics(settings, kafka_bootstrap)
    port = free_port()
    env = bot_env(
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_enable_idempotence=str(settings.kafka_enable_idempotence).lower(),
        topic_events=settings.topic_events,
        topic_dlq=settings.topic_dlq,
        topic_notifications=settings.topic_notifications,
        topic_audit=settings.topic_audit,
        github_webhook_secrets=SECRET,
        http_port=port,
        http_header_timeout_seconds=HEADER_TIMEOUT,
        http_body_timeout_seconds=BODY_TIMEOUT,
        http_max_connections=max_connections,
        state_dir=tmp_path / "state",
    )
    ingress = await BotProcess.start(["ingress"], env, tmp_path / "ingress.log")
    try:
        await ingress.logged("ingress.listening")
        yield ingress, port
        assert await ingress.stop() == 0
    finally:
        await ingress.kill()
    assert "Traceback" not in ingress.text()


@pytest.fixture
async def ingress(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[tuple[BotProcess, int]]:
    async for running in _ingress(kafka_bootstrap, tmp_path, max_connections=25):
        yield running


async def _deliver(port: int, delivery: str) -> int:
    url = f"http://127.0.0.1:{port}/webhooks/github"
    return (await send_github(SAMPLE, "pull_request", url, SECRET, delivery)).status


async def _closed_after(port: int, chunks: list[bytes]) -> tuple[float, bytes]:
    """Send `chunks` one per second; the seconds until the server closed, and what it said."""
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    opened, answer = loop.time(), b""
    try:
        for chunk in chunks:
            try:
                writer.write(chunk)
                await writer.drain()
            except ConnectionError:
                break
            try:
                data = await asyncio.wait_for(reader.read(4096), 1.0)
            except TimeoutError:
                continue
            except ConnectionError:
                break
            answer += data
            if not data:
                break
            # An answer came; the connection must be closed right after it.
            answer += await asyncio.wait_for(reader.read(), 5)
            break
        return loop.time() - opened, answer
    finally:
        writer.close()


async def test_trickled_headers_are_cut_off_while_deliveries_go_through(
    ingress: tuple[BotProcess, int],
) -> None:
    """20 connections sending one header byte a second are closed within the header bound,
    and a normal delivery made meanwhile gets 202."""
    bot, port = ingress
    trickle = [REQUEST_HEAD[i : i + 1] for i in range(len(REQUEST_HEAD))]
    slow = [asyncio.create_task(_closed_after(port, trickle)) for _ in range(20)]
    await asyncio.sleep(0.5)  # let the slow clients take their connections first
    assert await _deliver(port, "meanwhile-1") == 202
    results = await asyncio.gather(*slow)
    for seconds, answer in results:
        assert seconds <= HEADER_TIMEOUT + SLACK, results
        assert answer == b""  # no request was read, so no answer: the connection just ends
    assert bot.messages().count("ingress.header_timeout") == 20


async def test_a_trickled_body_gets_408_within_the_body_bound(
    ingress: tuple[BotProcess, int],
) -> None:
    """Complete headers, then one body byte a second: 408 within the body bound, then close."""
    bot, port = ingress
    body = b"{" + b" " * 98 + b"}"
    signature = sign_github(body, SECRET)
    head = (
        REQUEST_HEAD
        + f"Content-Length: {len(body)}\r\nX-Hub-Signature-256: {signature}\r\n\r\n".encode()
    )
    chunks = [head] + [body[i : i + 1] for i in range(len(body))]
    seconds, answer = await _closed_after(port, chunks)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert seconds <= BODY_TIMEOUT + SLACK
    refused = [r for r in bot.records() if r.get("message") == "webhook.refused"]
    assert [r["status"] for r in refused] == [408]


async def test_a_sender_hanging_up_mid_body_is_one_warning(
    ingress: tuple[BotProcess, int],
) -> None:
    """Headers promising 1000 bytes, 10 sent, connection closed: one warning, no traceback."""
    bot, port = ingress
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(REQUEST_HEAD + b"Content-Length: 1000\r\n\r\n" + b"{" * 10)
    await writer.drain()
    await asyncio.sleep(0.2)  # the server reads the headers before the hang-up
    writer.close()
    await bot.logged("webhook.client_disconnected", within=10)
    assert await _deliver(port, "after-hangup-1") == 202  # and the ingress carries on
    assert bot.messages().count("webhook.client_disconnected") == 1
    assert "Error handling request" not in bot.text()


async def test_connections_over_the_limit_get_503(kafka_bootstrap: str, tmp_path: Path) -> None:
    """With 3 connections allowed and 3 idle ones open, a fourth is answered 503 and closed;
    the idle ones are closed at the header bound, and then deliveries get through again."""
    async for bot, port in _ingress(kafka_bootstrap, tmp_path, max_connections=3):
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 503"), answer
        assert "ingress.connection_limit" in bot.messages()
        for idle_reader, idle_writer in idle:
            # A connection that never sends a byte is closed by the server at the bound.
            assert await asyncio.wait_for(idle_reader.read(), HEADER_TIMEOUT + SLACK) == b""
            idle_writer.close()
        assert await _deliver(port, "after-limit-1") == 202
