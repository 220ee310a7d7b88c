"""What this process knows about the check runs it made, so a known run costs no lookup."""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass

# Enough for every open pull request of a busy organisation; the oldest are forgotten first
# (forgetting only costs a lookup later).
LEDGER_ENTRIES = 20_000


@dataclass(frozen=True)
class KnownRun:
    """A check run as the bot last wrote or read it."""

    id: int
    status: str | None
    conclusion: str | None
    title: str | None
    summary: str | None


RunKey = tuple[str, str, str]  # ("owner/repo" lower-cased, check name, head SHA)


def run_key(owner: str, repo: str, name: str, head_sha: str) -> RunKey:
    """The ledger key for one check name on one commit of one repository."""
    return (f"{owner}/{repo}".lower(), name, head_sha)


def external_id(name: str, head_sha: str) -> str:
    """The deterministic `external_id` ferrybot gives a run, so a lookup can tell its own."""
    return f"ferrybot:{name}:{head_sha}"


class CheckRunLedger:
    """Bounded map of runs created or seen; a key being written is "pending" until answered.

    A pending key is never trusted: the create may have reached GitHub before the request
    failed, so the next attempt looks the run up instead of creating a second one.
    """

    def __init__(self, max_entries: int = LEDGER_ENTRIES) -> None:
        self._runs: OrderedDict[RunKey, KnownRun | None] = OrderedDict()
        self._max = max_entries
        self._locks: dict[RunKey, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def guard(self, key: RunKey) -> AsyncIterator[None]:
        """One writer per key at a time: two pull requests may share a head commit, and
        their events run concurrently; without this both could look, find nothing, create."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def known(self, key: RunKey) -> KnownRun | None:
        """The run last written or read for `key`, or None when unknown or pending."""
        run = self._runs.get(key)
        if run is not None:
            self._runs.move_to_end(key)
        return run

    def untouched(self, key: RunKey) -> bool:
        """True when this process never wrote, read or started writing a run for `key`."""
        return key not in self._runs

    def pending(self, key: RunKey) -> None:
        """A write for `key` is about to go out; until it is answered nothing is certain."""
        self._remember(key, None)

    def record(self, key: RunKey, run: KnownRun) -> None:
        """GitHub answered: this is the run for `key` now."""
        self._remember(key, run)

    def forget(self, key: RunKey) -> None:
        """The run is gone (deleted on GitHub): look it up next time."""
        self._runs.pop(key, None)

    def clear(self) -> None:
        """Forget everything (another process may have written runs meanwhile)."""
        self._runs.clear()

    def _remember(self, key: RunKey, run: KnownRun | None) -> None:
        self._runs[key] = run
        self._runs.move_to_end(key)
        while len(self._runs) > self._max:
            self._runs.popitem(last=False)


@dataclass(frozen=True)
class CheckRunScope:
    """The ledger as one event sees it, with the head SHA the event itself brought, if any.

    `new_head` is set only when the event is certainly the first this bot sees of that
    commit (a live `opened` or `synchronize` nobody handled before); then no run can exist
    yet and creating one needs no lookup.
    """

    ledger: CheckRunLedger
    new_head: str | None = None
