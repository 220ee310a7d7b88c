"""Posting one notification to one channel: paced, retried, deduplicated, revocation kept."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from enum import StrEnum

import aiohttp
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_before_delay,
)

from bot.logs import get_logger
from bot.metrics.definitions import NOTIFICATIONS
from bot.notify.providers import build_request, min_interval
from bot.pipeline.dedupe import DeliveryDedupe
from bot.pipeline.retry import HonourRetryAfter, TransientError
from schemas.notification import Notification
from schemas.notifications_config import NotificationsConfig

log = get_logger(component="notifier")

# How much of an error answer is kept: enough for Slack's `invalid_payload` or Discord's
# JSON error, never a whole page.
DETAIL_BYTES = 300


class Outcome(StrEnum):
    """What became of one notification for one channel."""

    DELIVERED = "delivered"
    DUPLICATE = "duplicate"
    REVOKED = "revoked"
    REJECTED = "rejected"
    EXPIRED = "expired"


class _Revoked(Exception):
    """404/410: the webhook was deleted or its channel archived; retrying cannot help."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class _Rejected(Exception):
    """Any other 4xx (bad payload, forbidden): this message will never be taken."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.detail = detail


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date (RFC 9110)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (now if now is not None else time.time()))


class Pace:
    """Keeps posts to one webhook at least `interval` seconds apart."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._next = 0.0

    async def wait(self) -> None:
        """Sleep until the next post is allowed, and book the slot after it."""
        delay = self._next - self._clock()
        if delay > 0:
            await asyncio.sleep(delay)
        self._next = self._clock() + self._interval


class Delivery:
    """Posts notifications to the configured channels on one shared HTTP session."""

    def __init__(
        self,
        config: NotificationsConfig,
        session: aiohttp.ClientSession,
        dedupe: DeliveryDedupe,
    ) -> None:
        self._config = config
        self._session = session
        self._dedupe = dedupe
        self._timeout = aiohttp.ClientTimeout(total=config.request_timeout_seconds)
        self._paces = {name: Pace(min_interval(ch)) for name, ch in config.channels.items()}
        self.revoked: set[str] = set()
        self.stats: Counter[tuple[str, str]] = Counter()

    async def deliver(self, name: str, notification: Notification) -> Outcome:
        """Post until the service takes it, refuses it for good, or the give-up time passes."""
        key = f"{notification.id}\x00{name}"
        if name in self.revoked:
            # Reported once when it happened; from then on only counted.
            self.stats[("skipped_revoked", name)] += 1
            NOTIFICATIONS.labels(provider=self._provider(name), outcome="skipped_revoked").inc()
            return Outcome.REVOKED
        if self._dedupe.seen(key):
            log.info("notification.duplicate", channel=name, notification=notification.id)
            return self._count(Outcome.DUPLICATE, name)
        retrying = AsyncRetrying(
            stop=stop_before_delay(self._config.give_up_after_seconds),
            wait=HonourRetryAfter(self._config.retry_max_wait_seconds, cap_asked=False),
            retry=retry_if_exception_type(TransientError),
            before_sleep=lambda state: _log_retry(name, notification, state),
            reraise=True,
        )
        attempts = 0
        try:
            async for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    await self._paces[name].wait()
                    await self._post(name, notification)
        except TransientError as exc:
            log.error(
                "notification.expired",
                channel=name,
                notification=notification.id,
                attempts=attempts,
                reason=str(exc),
            )
            return self._count(Outcome.EXPIRED, name)
        except _Revoked as exc:
            self.revoked.add(name)
            log.error(
                "notification.channel_revoked",
                channel=name,
                status=exc.status,
                hint=f"the webhook of channel {name!r} is gone: create a new one and update "
                f"notifications.channels.{name}.url; until then nothing is sent there",
            )
            return self._count(Outcome.REVOKED, name)
        except _Rejected as exc:
            log.error(
                "notification.rejected",
                channel=name,
                notification=notification.id,
                status=exc.status,
                detail=exc.detail,
            )
            return self._count(Outcome.REJECTED, name)
        self._dedupe.mark(key)
        log.info(
            "notification.delivered", channel=name, notification=notification.id, attempts=attempts
        )
        return self._count(Outcome.DELIVERED, name)

    async def _post(self, name: str, notification: Notification) -> None:
        channel = self._config.channels[name]
        # Built per attempt: the generic signature covers a fresh timestamp.
        request = build_request(channel, notification)
        try:
            async with self._session.post(
                channel.url.get_secret_value(),
                data=request.body,
                headers=request.headers,
                timeout=self._timeout,
                # A redirect would carry the body (and a signature) somewhere unconfigured.
                allow_redirects=False,
            ) as response:
                status = response.status
                header = response.headers.get("Retry-After")
                detail = (await response.content.read(DETAIL_BYTES)).decode("utf-8", "replace")
        except (aiohttp.ClientError, TimeoutError) as exc:
            # Only the type: aiohttp's messages can carry the URL, which is a credential.
            raise TransientError(type(exc).__name__) from None
        if 200 <= status < 300:
            return
        if status in (404, 410):
            raise _Revoked(status)
        if status == 429 or status >= 500:
            raise TransientError(f"HTTP {status}", retry_after=parse_retry_after(header))
        raise _Rejected(status, detail)

    def _count(self, outcome: Outcome, name: str) -> Outcome:
        self.stats[(outcome.value, name)] += 1
        NOTIFICATIONS.labels(provider=self._provider(name), outcome=outcome).inc()
        return outcome

    def _provider(self, name: str) -> str:
        return self._config.channels[name].provider.value


def _log_retry(name: str, notification: Notification, state: RetryCallState) -> None:
    outcome = state.outcome
    exc = outcome.exception() if outcome is not None else None
    log.warning(
        "notification.retry",
        channel=name,
        notification=notification.id,
        attempt=state.attempt_number,
        reason=str(exc),
        wait=round(state.upcoming_sleep, 3),
    )
