"""Pace one installation's writes as GitHub asks integrators to: one at a time, under the limits.

GitHub's secondary rate limits: no concurrent requests for one installation, no more than 80
content-generating requests per minute and 500 per hour, and after a `retry-after` nothing
until it has passed. Reads are not paced (they have their own, far higher, budget).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# GitHub counts by when requests arrive, we by when they start: a second of slack per window
# keeps network jitter from putting an 81st write into GitHub's minute (measured in the bench).
MINUTE = 61.0
HOUR = 3601.0


class WritePacer:
    """Serialises one installation's writes and spaces them under per-minute/hour budgets."""

    def __init__(
        self,
        per_minute: int,
        per_hour: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._per_minute = per_minute
        self._per_hour = per_hour
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        # Start times of the writes of the last hour (at most `per_hour` of them).
        self._starts: deque[float] = deque()
        self._resume_at = 0.0

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[None]:
        """Hold the installation's one write slot, once the budgets allow another write."""
        async with self._lock:
            await self._wait_for_budget()
            self._starts.append(self._clock())
            yield

    def back_off(self, seconds: float) -> None:
        """GitHub said `retry-after`: no write for this installation before it has passed."""
        self._resume_at = max(self._resume_at, self._clock() + max(0.0, seconds))

    async def _wait_for_budget(self) -> None:
        while True:
            now = self._clock()
            while self._starts and self._starts[0] <= now - HOUR:
                self._starts.popleft()
            wait = self._resume_at - now
            if self._per_hour and len(self._starts) >= self._per_hour:
                wait = max(wait, self._starts[-self._per_hour] + HOUR - now)
            if self._per_minute and len(self._starts) >= self._per_minute:
                wait = max(wait, self._starts[-self._per_minute] + MINUTE - now)
            if wait <= 0:
                return
            await self._sleep(wait)


class WritePacers:
    """One pacer per installation; limits of 0 turn pacing off (tests, benchmarks)."""

    def __init__(
        self,
        per_minute: int,
        per_hour: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._per_minute = per_minute
        self._per_hour = per_hour
        self._clock = clock
        self._sleep = sleep
        self._pacers: dict[int | None, WritePacer] = {}

    @property
    def enabled(self) -> bool:
        """False when both limits are 0."""
        return bool(self._per_minute or self._per_hour)

    def for_installation(self, installation_id: int | None) -> WritePacer | None:
        """The installation's pacer, or None when pacing is off."""
        if not self.enabled:
            return None
        pacer = self._pacers.get(installation_id)
        if pacer is None:
            pacer = WritePacer(self._per_minute, self._per_hour, self._clock, self._sleep)
            self._pacers[installation_id] = pacer
        return pacer
