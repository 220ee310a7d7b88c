"""The bounded, expiring memory of handled delivery ids."""

from __future__ import annotations

from bot.pipeline.dedupe import DeliveryDedupe


def test_marked_ids_are_seen_until_they_expire() -> None:
    """A delivery id is a duplicate within the TTL and new again after it."""
    now = [0.0]
    dedupe = DeliveryDedupe(ttl_seconds=10, max_entries=100, clock=lambda: now[0])
    dedupe.mark("a")
    assert dedupe.seen("a")
    now[0] = 11
    assert not dedupe.seen("a")


def test_memory_is_bounded() -> None:
    """The oldest ids are forgotten beyond max_entries."""
    dedupe = DeliveryDedupe(ttl_seconds=100, max_entries=2)
    for key in ("a", "b", "c"):
        dedupe.mark(key)
    assert not dedupe.seen("a")
    assert dedupe.seen("b") and dedupe.seen("c")
