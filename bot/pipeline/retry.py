"""The one retry policy: what is transient, how long to wait, when to give up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import aiohttp
import gidgethub
from gidgetlab.exceptions import GitLabBroken, RateLimitExceeded
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from bot.pipeline.bus import BusUnavailable
from bot.settings import Settings


class PermanentError(Exception):
    """Retrying cannot help (bad input, missing resource): straight to the DLQ."""


class TransientError(Exception):
    """Worth retrying, optionally after a known delay."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def is_transient(exc: BaseException) -> bool:
    """True for failures that may succeed later: 5xx, 429, rate limits, network, Kafka."""
    if isinstance(exc, TransientError | BusUnavailable | TimeoutError | ConnectionError):
        return True
    if isinstance(exc, aiohttp.ClientError):
        return True
    if isinstance(exc, gidgethub.GitHubBroken | gidgethub.RateLimitExceeded):
        return True
    if isinstance(exc, GitLabBroken | RateLimitExceeded):
        return True
    if isinstance(exc, gidgethub.BadRequest):
        status = int(exc.status_code)
        if status == 429:
            return True
        # Secondary rate limits are 403s that carry retry-after or an exhausted quota.
        if status == 403 and _rate_limited(exc.headers):
            return True
    return False


def _rate_limited(headers: Mapping[str, str]) -> bool:
    return "retry-after" in headers or headers.get("x-ratelimit-remaining") == "0"


def retry_after(exc: BaseException, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, from retry-after or x-ratelimit-reset."""
    if isinstance(exc, TransientError):
        return exc.retry_after
    headers: Mapping[str, str] = getattr(exc, "headers", None) or {}
    value = headers.get("retry-after")
    if value is not None:
        try:
            return max(0.0, float(value))
        except ValueError:
            return None
    if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
        try:
            reset = float(headers["x-ratelimit-reset"])
        except ValueError:
            return None
        return max(0.0, reset - (now if now is not None else time.time()))
    return None


class HonourRetryAfter:
    """A tenacity wait: what the server asked for, else capped exponential back-off with jitter.

    `cap_asked=False` waits the full asked delay even beyond `max_wait`, for callers (chat
    delivery) whose total time is bounded elsewhere: retrying early only earns another 429.
    """

    def __init__(self, max_wait: float, *, cap_asked: bool = True) -> None:
        self._max_wait = max_wait
        self._cap_asked = cap_asked
        self._backoff = wait_exponential_jitter(multiplier=0.2, max=max_wait, jitter=0.2)

    def __call__(self, state: RetryCallState) -> float:
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        asked = retry_after(exc) if exc is not None else None
        if asked is not None:
            return min(asked, self._max_wait) if self._cap_asked else asked
        return min(float(self._backoff(state)), self._max_wait)


def retrying(settings: Settings) -> AsyncRetrying:
    """A tenacity controller for one handler run: transient errors only, then re-raise."""
    return AsyncRetrying(
        stop=stop_after_attempt(settings.retry_attempts),
        wait=HonourRetryAfter(settings.retry_max_wait_seconds),
        retry=retry_if_exception(is_transient),
        sleep=asyncio.sleep,
        reraise=True,
    )
