"""Verdicts reused only for the same digest, key set and policy, for a bounded time."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Generic, TypeVar

T = TypeVar("T")


def cache_key(digest: str, key_set: str, policy_json: str) -> tuple[str, str, str]:
    """Nothing is shared across digests, key sets or policies."""
    return digest, key_set, hashlib.sha256(policy_json.encode()).hexdigest()


class VerdictCache(Generic[T]):
    """A small LRU with a time-to-live; a scan's age and a key's rotation bound its life."""

    def __init__(self, max_entries: int = 1024) -> None:
        self._max = max_entries
        self._entries: OrderedDict[tuple[str, str, str], tuple[float, T]] = OrderedDict()

    def get(self, key: tuple[str, str, str]) -> T | None:
        """The cached verdict, None when absent or expired."""
        found = self._entries.get(key)
        if found is None or found[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        self._entries.move_to_end(key)
        return found[1]

    def put(self, key: tuple[str, str, str], value: T, ttl_seconds: float) -> None:
        """Remember a verdict for `ttl_seconds` (not at all with zero)."""
        if ttl_seconds <= 0:
            return
        self._entries[key] = (time.monotonic() + ttl_seconds, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
