"""Posting to one channel over real HTTP: retries, give-up, pace, dedupe, refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from bot.notify.delivery import Delivery, Outcome, parse_retry_after
from bot.pipeline.dedupe import DeliveryDedupe
from schemas.notification import Notification
from schemas.notifications_config import NotificationsConfig
from tests.notify.conftest import SIGNING_SECRET
from tests.notify.receivers import Receivers, Reply


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session the notifier is given."""
    async with aiohttp.ClientSession() as http:
        yield http


def delivery(
    session: aiohttp.ClientSession, receivers: Receivers, provider: str, **config: Any
) -> Delivery:
    """A Delivery with one channel, `ch`, at the local receiver's hook `ch`."""
    channel: dict[str, Any] = {"provider": provider, "url": receivers.url(provider, "ch")}
    if provider == "generic":
        channel["signing_secret"] = SIGNING_SECRET
    if "min_interval_seconds" in config:
        channel["min_interval_seconds"] = config.pop("min_interval_seconds")
    settings = NotificationsConfig.model_validate(
        {"channels": {"ch": channel}, "retry_max_wait_seconds": 0.1, **config}
    )
    return Delivery(settings, session, DeliveryDedupe(60, 100))


def note(title: str = "Promote churn v7") -> Notification:
    return Notification(
        kind="promotion_opened", subject="model/churn", title=title, delivery_id=title
    )


@pytest.mark.parametrize("status", [500, 502, 503, 504], ids=["500", "502", "503", "504"])
async def test_server_errors_are_retried_until_taken(
    session: aiohttp.ClientSession, receivers: Receivers, status: int
) -> None:
    """5xx answers are transient: backed off and retried until the service takes it."""
    sender = delivery(session, receivers, "teams", min_interval_seconds=0)
    receivers.script("teams", "ch", Reply(status), Reply(status))
    assert await sender.deliver("ch", note()) is Outcome.DELIVERED
    assert [r.status for r in receivers.attempts("teams", "ch")] == [status, status, 202]


@pytest.mark.parametrize(
    ("provider", "status", "detail"),
    [
        ("slack", 400, "invalid_payload"),
        ("slack", 403, "action_prohibited"),
        ("discord", 400, "Invalid Form Body"),
        ("generic", 401, "refused"),
    ],
    ids=["slack-invalid-payload", "slack-forbidden", "discord-form-body", "generic-401"],
)
async def test_refusals_are_logged_once_and_not_retried(
    session: aiohttp.ClientSession,
    receivers: Receivers,
    provider: str,
    status: int,
    detail: str,
) -> None:
    """A 4xx other than 404/410/429 is final: one attempt, one error with the reason."""
    sender = delivery(session, receivers, provider, min_interval_seconds=0)
    receivers.script(provider, "ch", Reply(status))
    with capture_logs() as logs:
        assert await sender.deliver("ch", note()) is Outcome.REJECTED
    assert len(receivers.attempts(provider, "ch")) == 1
    (rejected,) = [e for e in logs if e["event"] == "notification.rejected"]
    assert rejected["status"] == status
    assert detail in rejected["detail"]


async def test_an_outage_longer_than_the_give_up_time_expires(
    session: aiohttp.ClientSession, receivers: Receivers
) -> None:
    """Retries are bounded in time: after give_up_after_seconds the message is dropped."""
    sender = delivery(
        session, receivers, "mattermost", min_interval_seconds=0, give_up_after_seconds=0.5
    )
    await receivers.stop()
    with capture_logs() as logs:
        assert await sender.deliver("ch", note()) is Outcome.EXPIRED
    (expired,) = [e for e in logs if e["event"] == "notification.expired"]
    assert expired["log_level"] == "error"
    assert expired["attempts"] >= 2
    assert sender.stats[("expired", "ch")] == 1


async def test_a_retry_after_beyond_the_give_up_time_expires_at_once(
    session: aiohttp.ClientSession, receivers: Receivers
) -> None:
    """Asked to wait longer than it may keep trying, the notifier stops instead of sleeping."""
    sender = delivery(session, receivers, "discord", give_up_after_seconds=5)
    receivers.script("discord", "ch", Reply(429, {"Retry-After": "3600"}))
    assert await sender.deliver("ch", note()) is Outcome.EXPIRED
    assert len(receivers.attempts("discord", "ch")) == 1


async def test_slack_webhook_is_paced_a_second_apart(
    session: aiohttp.ClientSession, receivers: Receivers
) -> None:
    """Slack's default pace (1 message per second per webhook) holds between posts."""
    sender = delivery(session, receivers, "slack")
    for title in ("first", "second"):
        assert await sender.deliver("ch", note(title)) is Outcome.DELIVERED
    first, second = receivers.attempts("slack", "ch")
    # Measured where the requests arrive; the first one's latency may shave a little off.
    assert second.at - first.at >= 0.95


async def test_a_delivered_notification_is_not_sent_twice(
    session: aiohttp.ClientSession, receivers: Receivers
) -> None:
    """The same notification id to the same channel is delivered once."""
    sender = delivery(session, receivers, "generic", min_interval_seconds=0)
    assert await sender.deliver("ch", note()) is Outcome.DELIVERED
    assert await sender.deliver("ch", note()) is Outcome.DUPLICATE
    assert len(receivers.attempts("generic", "ch")) == 1


async def test_redirects_are_not_followed(
    session: aiohttp.ClientSession, receivers: Receivers
) -> None:
    """A redirect would take the message (and signature) elsewhere: refused, not followed."""
    sender = delivery(session, receivers, "slack", min_interval_seconds=0)
    receivers.script("slack", "ch", Reply(302, {"Location": "http://127.0.0.1:9/elsewhere"}))
    assert await sender.deliver("ch", note()) is Outcome.REJECTED


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("2", 2.0), ("0.5", 0.5), ("-3", 0.0), ("soon", None), (None, None)],
    ids=["seconds", "fraction", "negative", "garbage", "absent"],
)
def test_retry_after_seconds(header: str | None, seconds: float | None) -> None:
    """Retry-After as delta-seconds."""
    assert parse_retry_after(header) == seconds


def test_retry_after_http_date() -> None:
    """Retry-After as an HTTP date is turned into a delay."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(header, now=now.timestamp()) == 30.0


async def test_outcomes_are_counted_by_provider(
    session: aiohttp.ClientSession, receivers: Receivers
) -> None:
    """ferrybot_notifications_total counts delivered, duplicate, revoked and skipped by provider."""

    def counted(outcome: str) -> float:
        labels = {"provider": "discord", "outcome": outcome}
        return REGISTRY.get_sample_value("ferrybot_notifications_total", labels) or 0.0

    outcomes = ("delivered", "duplicate", "revoked", "skipped_revoked")
    before = {outcome: counted(outcome) for outcome in outcomes}
    sender = delivery(session, receivers, "discord", min_interval_seconds=0)
    assert await sender.deliver("ch", note("one")) is Outcome.DELIVERED
    assert await sender.deliver("ch", note("one")) is Outcome.DUPLICATE
    receivers.revoke("discord", "ch", 404)
    assert await sender.deliver("ch", note("two")) is Outcome.REVOKED
    assert await sender.deliver("ch", note("three")) is Outcome.REVOKED
    assert {outcome: counted(outcome) - before[outcome] for outcome in outcomes} == dict.fromkeys(
        outcomes, 1.0
    )
