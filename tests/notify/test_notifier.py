"""The notifier end to end: handler-side publish → real broker → local chat receivers.

One notifier serves the whole module (joining a consumer group takes seconds): every test
has its own channels, reached through a route on its own pipeline name.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, TopicPartition
from structlog.testing import capture_logs

from bot.notify.publish import publish_notification
from bot.notify.service import Notifier, notifier_group
from bot.pipeline.bus import EventProducer, client_params
from bot.settings import Settings
from schemas.notification import Notification, NotificationKind, Severity
from tests.notify.conftest import SIGNING_SECRET, notify_settings, running
from tests.notify.receivers import Receivers, Reply

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROVIDERS = ("slack", "mattermost", "teams", "discord", "generic")
CHAT = ("slack", "mattermost", "teams", "discord")


def channel(receivers: Receivers, provider: str, hook: str, **extra: Any) -> dict[str, Any]:
    """A channel entry pointing at the local receiver, unpaced unless asked."""
    entry: dict[str, Any] = {
        "provider": provider,
        "url": receivers.url(provider, hook),
        "min_interval_seconds": 0,
        **extra,
    }
    if provider == "generic":
        entry["signing_secret"] = SIGNING_SECRET
    return entry


def promotion(pipeline: str, **overrides: Any) -> Notification:
    """A promotion-opened notification, as the promotion engine would publish it."""
    values: dict[str, Any] = {
        "kind": NotificationKind.PROMOTION_OPENED,
        "subject": "model/churn",
        "title": "Promote churn v7 to production",
        "text": "Opened acme/gitops#12: churn 6 → 7 in production.",
        "fields": {"Model": "churn", "Version": "7", "Stage": "production"},
        "links": {"Pull request": "https://github.com/acme/gitops/pull/12"},
        "delivery_id": str(uuid.uuid4()),
        "repository": "acme/gitops",
        "pipeline": pipeline,
        **overrides,
    }
    return Notification(**values)


def _world_config(receivers: Receivers) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    routes: dict[str, Any] = {}

    def scenario(name: str, hooks: dict[str, str]) -> None:
        for hook, provider in hooks.items():
            channels[hook] = channel(receivers, provider, hook)
        routes[name] = {"pipelines": [name], "channels": list(hooks)}

    scenario("one", {f"one-{p}": p for p in PROVIDERS})
    scenario("down", {"down": "mattermost"})
    scenario("retry-after", {"retry-after": "slack"})
    for status in (404, 410):
        scenario(f"gone{status}", {f"gone{status}": "slack", f"alive{status}": "discord"})
    scenario("inject", {f"inject-{p}": p for p in PROVIDERS})
    scenario("logs", {f"logs-{p}": p for p in PROVIDERS})
    for hook, provider in {"promotions": "slack", "alerts": "discord", "churn": "teams"}.items():
        channels[hook] = channel(receivers, provider, hook)
    routes["acme-promotions"] = {
        "kinds": ["promotion_opened", "promotion_merged"],
        "repositories": ["acme/*"],
        "pipelines": ["routing-*"],
        "channels": ["promotions"],
    }
    routes["loud"] = {"min_severity": "error", "pipelines": ["routing-*"], "channels": ["alerts"]}
    routes["churn-team"] = {"pipelines": ["routing-churn*"], "channels": ["churn"]}
    return {"channels": channels, "routes": routes}


@dataclass
class World:
    """The module's receivers, running notifier and handler-side producer."""

    settings: Settings
    receivers: Receivers
    notifier: Notifier
    producer: EventProducer

    async def publish(self, notification: Notification) -> None:
        """What a handler does."""
        await publish_notification(self.producer, self.settings.topic_notifications, notification)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(kafka_bootstrap: str) -> AsyncIterator[World]:
    """Receivers for every scenario and one notifier routing to them."""
    receivers = Receivers(SIGNING_SECRET)
    await receivers.start()
    settings = notify_settings(kafka_bootstrap, _world_config(receivers))
    async with running(settings, kafka_bootstrap) as (notifier, producer):
        yield World(settings, receivers, notifier, producer)
    await receivers.stop()


async def test_each_provider_gets_exactly_one_message(world: World) -> None:
    """One published notification reaches every routed channel once, in its service's shape."""
    note = promotion("one")
    await world.publish(note)
    # The same record again (a handler retried): still one message per channel.
    await world.publish(note)
    for provider in PROVIDERS:
        await world.receivers.wait_accepted(provider, f"one-{provider}", 1)
    await asyncio.sleep(0.5)
    for provider in PROVIDERS:
        attempts = world.receivers.attempts(provider, f"one-{provider}")
        assert [r.accepted for r in attempts] == [True], provider
    assert world.notifier.stats[("duplicate", "one-slack")] == 1


async def test_receiver_down_for_a_while_gets_it_after_recovery_once(world: World) -> None:
    """Connection refused is retried until the service is back; then it arrives once."""
    await world.receivers.stop()
    try:
        await world.publish(promotion("down"))
        await asyncio.sleep(1.5)
        assert world.notifier.stats[("delivered", "down")] == 0
    finally:
        await world.receivers.start()
    await world.receivers.wait_accepted("mattermost", "down", 1)
    await asyncio.sleep(0.5)
    assert len(world.receivers.attempts("mattermost", "down")) == 1
    assert world.notifier.stats[("delivered", "down")] == 1


async def test_retry_after_two_seconds_is_honoured(world: World) -> None:
    """After a 429 with Retry-After: 2 the next attempt comes no sooner than 2 s later."""
    world.receivers.script("slack", "retry-after", Reply(429, {"Retry-After": "2"}))
    await world.publish(promotion("retry-after"))
    await world.receivers.wait_accepted("slack", "retry-after", 1)
    first, second = world.receivers.attempts("slack", "retry-after")
    assert first.status == 429
    assert second.accepted
    assert second.at - first.at >= 2.0


@pytest.mark.parametrize("status", [404, 410], ids=["404-deleted", "410-archived"])
async def test_revoked_webhook_is_given_up_and_reported_once(world: World, status: int) -> None:
    """404/410 stops deliveries to that channel, logged and counted once; others carry on."""
    gone, alive = f"gone{status}", f"alive{status}"
    world.receivers.revoke("slack", gone, status)
    with capture_logs() as logs:
        for n in range(3):
            await world.publish(promotion(gone, title=f"promotion {n}"))
        await world.receivers.wait_accepted("discord", alive, 3)
        await asyncio.sleep(0.3)
    assert len(world.receivers.attempts("slack", gone)) == 1
    reports = [e for e in logs if e["event"] == "notification.channel_revoked"]
    assert [(e["log_level"], e["channel"], e["status"]) for e in reports] == [
        ("error", gone, status)
    ]
    assert world.notifier.stats[("revoked", gone)] == 1
    assert world.notifier.stats[("skipped_revoked", gone)] == 2
    assert gone in world.notifier.revoked_channels


def _title(provider: str, payload: dict[str, Any]) -> str:
    if provider == "slack":
        return str(payload["blocks"][0]["text"]["text"])
    if provider == "discord":
        return str(payload["embeds"][0]["title"])
    return str(payload["attachments"][0]["content"]["body"][0]["text"])


async def test_routing_by_kind_severity_and_repository(world: World) -> None:
    """Each channel gets exactly the notifications its routes select."""
    notes = [
        promotion("routing-fraud", title="opened acme"),
        promotion("routing-fraud", title="opened other", repository="other/gitops"),
        promotion(
            "routing-churn",
            title="gate failed",
            kind=NotificationKind.GATE_FAILED,
            severity=Severity.ERROR,
        ),
        promotion(
            "routing-churn",
            title="merged churn",
            kind=NotificationKind.PROMOTION_MERGED,
            repository="other/gitops",
        ),
        promotion(
            "routing-x",
            title="check warning",
            kind=NotificationKind.CHECK_FAILED,
            severity=Severity.WARNING,
        ),
    ]
    for note in notes:
        await world.publish(note)
    await world.receivers.wait_accepted("teams", "churn", 2)
    await world.receivers.wait_accepted("discord", "alerts", 1)
    await world.receivers.wait_accepted("slack", "promotions", 1)
    await asyncio.sleep(0.5)

    def titles(provider: str, hook: str) -> list[str]:
        return sorted(_title(provider, r.payload) for r in world.receivers.attempts(provider, hook))

    assert titles("slack", "promotions") == ["opened acme"]
    assert titles("discord", "alerts") == ["gate failed"]
    assert titles("teams", "churn") == ["gate failed", "merged churn"]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


async def test_injected_mentions_and_links_arrive_inert(world: World) -> None:
    """Mentions and links typed into titles, fields and text reach no chat service live."""
    hostile = "<!channel> <!here> <@U024BE7LH> @everyone @here [click](https://evil.example)"
    note = promotion(
        "inject",
        title=f"Promote {hostile}",
        text=f"{hostile} <https://evil.example|click> @every\u200bone ＜!channel＞",
        fields={"Branch": hostile, "x" * 300: "y" * 5000},
    )
    await world.publish(note)
    for provider in PROVIDERS:
        await world.receivers.wait_accepted(provider, f"inject-{provider}", 1)
    for provider in CHAT:
        (received,) = world.receivers.attempts(provider, f"inject-{provider}")
        assert received.accepted, provider
        for text in _strings(received.payload):
            for live in ("<!channel>", "<!here>", "<@U024BE7LH>", "@everyone", "@here"):
                assert live not in text, (provider, live)
            assert "](https://evil.example)" not in text, provider
            assert "<https://evil.example|" not in text, provider
    discord = world.receivers.accepted("discord", "inject-discord")[0].payload
    assert discord["allowed_mentions"] == {"parse": []}
    # The generic webhook is for programs: it gets the text exactly as published.
    generic = world.receivers.accepted("generic", "inject-generic")[0].payload
    assert generic["title"] == note.title


async def test_no_url_or_secret_reaches_a_log_line(world: World) -> None:
    """Through success, 400, 429, 5xx and 404 the logs name channels, never URLs or secrets."""
    world.receivers.script("slack", "logs-slack", Reply(429, {"Retry-After": "0.2"}))
    world.receivers.script("mattermost", "logs-mattermost", Reply(400))
    world.receivers.revoke("discord", "logs-discord", 404)
    world.receivers.script("teams", "logs-teams", Reply(503))
    with capture_logs() as logs:
        await world.publish(promotion("logs"))
        for provider in ("generic", "slack", "teams"):
            await world.receivers.wait_accepted(provider, f"logs-{provider}", 1)
        await asyncio.sleep(0.3)
    events = {e["event"] for e in logs}
    assert {"notification.retry", "notification.rejected", "notification.delivered"} <= events
    assert "notification.channel_revoked" in events
    text = repr(logs)
    for provider in PROVIDERS:
        assert world.receivers.url(provider, f"logs-{provider}") not in text
        assert f"T0KEN-logs-{provider}" not in text
    assert SIGNING_SECRET not in text


async def _committed(settings: Settings, bootstrap: str) -> int | None:
    # A consumer in the group that never subscribes only reads the group's offsets.
    consumer = AIOKafkaConsumer(
        **client_params(settings, bootstrap), group_id=notifier_group(settings)
    )
    await consumer.start()
    try:
        return await consumer.committed(TopicPartition(settings.topic_notifications, 0))
    finally:
        await consumer.stop()


async def test_a_record_owed_a_delivery_is_not_committed(kafka_bootstrap: str) -> None:
    """Stopping during an outage commits up to the undelivered record, not past it."""
    receivers = Receivers(SIGNING_SECRET)
    await receivers.start()
    settings = notify_settings(
        kafka_bootstrap,
        {
            "channels": {"ops": channel(receivers, "discord", "ops")},
            "routes": {"all": {"channels": ["ops"]}},
        },
        kafka_partitions=1,
    )
    async with running(settings, kafka_bootstrap) as (_, producer):
        await publish_notification(producer, settings.topic_notifications, promotion("a"))
        await receivers.wait_accepted("discord", "ops", 1)
        await receivers.stop()
        await publish_notification(producer, settings.topic_notifications, promotion("b"))
        await asyncio.sleep(1.0)
    assert len(receivers.accepted("discord", "ops")) == 1
    # Offset 0 was delivered, offset 1 is owed: the group resumes at 1 and sends it then.
    assert await _committed(settings, kafka_bootstrap) == 1
