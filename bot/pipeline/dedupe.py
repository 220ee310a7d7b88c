"""Remembers recently handled delivery ids (bounded, with a time to live)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class DeliveryDedupe:
    """An LRU of delivery ids with expiry; a hint, since side effects are idempotent anyway."""

    def __init__(
        self, ttl_seconds: float, max_entries: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def seen(self, key: str) -> bool:
        """True if the key was marked within the TTL."""
        marked = self._seen.get(key)
        if marked is None:
            return False
        if self._clock() - marked > self._ttl:
            del self._seen[key]
            return False
        return True

    def mark(self, key: str) -> None:
        """Remember the key as handled."""
        self._seen[key] = self._clock()
        self._seen.move_to_end(key)
        while len(self._seen) > self._max:
            self._seen.popitem(last=False)
