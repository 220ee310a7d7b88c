"""Offsets are committed only up to the first record still owed a delivery."""

from __future__ import annotations

from aiokafka import TopicPartition

from bot.notify.offsets import PendingOffsets

TP = TopicPartition("notifications", 0)


def test_out_of_order_finishes_commit_up_to_the_first_owed() -> None:
    """A later record finishing first does not let the commit skip an earlier one."""
    offsets = PendingOffsets()
    first, second = offsets.add(TP, 10, 1), offsets.add(TP, 11, 2)
    offsets.done(second)
    offsets.done(second)
    assert offsets.committable() == {TP: 10}
    offsets.done(first)
    assert offsets.committable() == {TP: 12}


def test_records_routed_nowhere_are_done_at_once() -> None:
    """A record with no channel is committable straight away."""
    offsets = PendingOffsets()
    offsets.add(TP, 0, 0)
    assert offsets.committable() == {TP: 1}


def test_committed_offsets_are_not_committed_again() -> None:
    """Nothing new finished: nothing to commit."""
    offsets = PendingOffsets()
    offsets.done(offsets.add(TP, 0, 1))
    offsets.committed(offsets.committable())
    assert offsets.committable() == {}


def test_a_revoked_partition_makes_its_tickets_stale() -> None:
    """After a rebalance, deliveries of the old assignment neither run nor count."""
    offsets = PendingOffsets()
    old = offsets.add(TP, 5, 1)
    offsets.forget([TP])
    assert not offsets.live(old)
    new = offsets.add(TP, 5, 1)
    offsets.done(old)
    assert offsets.live(new)
    assert offsets.committable() == {TP: 5}
