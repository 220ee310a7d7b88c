"""Which offsets may be committed while notifications of a partition finish out of order."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiokafka import TopicPartition


@dataclass(frozen=True)
class Ticket:
    """One consumed record still owed deliveries; stale once its partition was revoked."""

    tp: TopicPartition
    offset: int
    generation: int


@dataclass
class _Partition:
    generation: int = 0
    # offset -> deliveries still owed for that record
    owed: dict[int, int] = field(default_factory=dict)
    next_offset: int | None = None
    committed: int | None = None


class PendingOffsets:
    """Per partition: the committable offset is the lowest record still owed a delivery.

    Channels deliver independently (a Slack outage must not hold Teams back), so records of
    one partition finish out of order; committing past an unfinished one would lose it.
    """

    def __init__(self) -> None:
        self._partitions: dict[TopicPartition, _Partition] = {}
        self._generations: dict[TopicPartition, int] = {}

    def add(self, tp: TopicPartition, offset: int, deliveries: int) -> Ticket:
        """Record a consumed offset owing `deliveries` (0: done at once)."""
        part = self._partitions.get(tp)
        if part is None:
            part = _Partition(generation=self._generations.get(tp, 0))
            self._partitions[tp] = part
        if deliveries > 0:
            part.owed[offset] = deliveries
        part.next_offset = max(part.next_offset or 0, offset + 1)
        return Ticket(tp, offset, part.generation)

    def live(self, ticket: Ticket) -> bool:
        """False when the ticket's partition was revoked since (another member has it)."""
        part = self._partitions.get(ticket.tp)
        return part is not None and part.generation == ticket.generation

    def done(self, ticket: Ticket) -> None:
        """One delivery owed by the ticket's record has finished (whatever its outcome)."""
        if not self.live(ticket):
            return
        part = self._partitions[ticket.tp]
        left = part.owed.get(ticket.offset, 0) - 1
        if left > 0:
            part.owed[ticket.offset] = left
        else:
            part.owed.pop(ticket.offset, None)

    def owed(self, tp: TopicPartition) -> int:
        """Records of the partition still owed deliveries."""
        part = self._partitions.get(tp)
        return len(part.owed) if part is not None else 0

    def committable(self, tps: list[TopicPartition] | None = None) -> dict[TopicPartition, int]:
        """Offsets to commit now: per partition, the lowest owed record or the next one."""
        offsets: dict[TopicPartition, int] = {}
        for tp, part in self._partitions.items():
            if tps is not None and tp not in tps:
                continue
            offset = min(part.owed) if part.owed else part.next_offset
            if offset is not None and offset != part.committed:
                offsets[tp] = offset
        return offsets

    def committed(self, offsets: dict[TopicPartition, int]) -> None:
        """Remember what the broker acknowledged."""
        for tp, offset in offsets.items():
            if (part := self._partitions.get(tp)) is not None:
                part.committed = offset

    def forget(self, tps: list[TopicPartition]) -> None:
        """Drop revoked partitions; their outstanding tickets go stale."""
        for tp in tps:
            if self._partitions.pop(tp, None) is not None:
                self._generations[tp] = self._generations.get(tp, 0) + 1
