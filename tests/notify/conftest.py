"""Notifier test fixtures: the suite's real broker, local chat receivers, a running notifier."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.notify.service import Notifier
from bot.pipeline.bus import EventProducer, ensure_topics
from bot.settings import Settings
from tests.notify.receivers import Receivers
from tests.support.broker import bus_settings

SIGNING_SECRET = "generic-signing-s3cret-0123456789"


@pytest.fixture
async def receivers() -> AsyncIterator[Receivers]:
    """Slack, Mattermost, Teams, Discord and generic webhooks on 127.0.0.1."""
    server = Receivers(SIGNING_SECRET)
    await server.start()
    yield server
    await server.stop()


def notify_settings(bootstrap: str, notifications: dict[str, Any], **overrides: Any) -> Settings:
    """Settings with their own topics and the given `notifications:` section, fast retries."""
    section = {"retry_max_wait_seconds": 0.2, "request_timeout_seconds": 2.0, **notifications}
    return bus_settings(bootstrap, bot={"notifications": section}, **overrides)


@contextlib.asynccontextmanager
async def running(
    settings: Settings, bootstrap: str
) -> AsyncIterator[tuple[Notifier, EventProducer]]:
    """A started notifier (partitions assigned) and a producer for the handler side."""
    await ensure_topics(settings, bootstrap, [settings.topic_notifications])
    producer = EventProducer(settings, bootstrap)
    await producer.start()
    async with aiohttp.ClientSession() as session:
        notifier = Notifier(settings, bootstrap, session)
        await notifier.start()
        task = asyncio.create_task(notifier.run())
        try:
            await asyncio.wait_for(notifier.assigned.wait(), 30)
            yield notifier, producer
        finally:
            notifier.stop()
            await task
            await producer.stop()
