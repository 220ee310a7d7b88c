"""The ingress's intake gate: open while webhooks are accepted, closed once shutdown begins."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator


class IntakeGate:
    """Counts webhooks being handled; once closed, new ones are answered 503 instead."""

    def __init__(self) -> None:
        self._open = True
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def is_open(self) -> bool:
        """False once shutdown has begun."""
        return self._open

    @property
    def in_flight(self) -> int:
        """Webhooks admitted and not yet answered."""
        return self._in_flight

    def close(self) -> None:
        """Refuse new webhooks from now on; those already admitted carry on."""
        self._open = False

    @contextlib.contextmanager
    def admitted(self) -> Iterator[None]:
        """Held while one webhook is read, produced and answered."""
        self._in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def wait_idle(self, within: float) -> int:
        """Wait until no admitted webhook is left (at most `within` s); how many still are."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), within)
        return self._in_flight
