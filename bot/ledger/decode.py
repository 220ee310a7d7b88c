"""A Kafka record of the events or audit topic → the facts it holds (none if it holds none)."""

from __future__ import annotations

from aiokafka import ConsumerRecord
from pydantic import ValidationError

from bot.ledger.facts import Fact, facts_from_audit, facts_from_envelope, may_hold_facts
from bot.logs import get_logger
from bot.settings import Settings
from schemas.audit import AuditRecord
from schemas.envelope import Envelope

log = get_logger(component="ledger")


def record_facts(settings: Settings, record: ConsumerRecord[bytes, bytes]) -> list[Fact]:
    """Decode by topic; an undecodable record is logged and yields nothing (no retry fixes it)."""
    raw = record.value or b""
    try:
        if record.topic == settings.topic_audit:
            return facts_from_audit(AuditRecord.model_validate_json(raw))
        peeked = Envelope.peek(raw)
        if peeked is not None and not may_hold_facts(*peeked):
            # Most events (every pull request's) tell the ledger nothing: parsing their 25 KB
            # bodies here cost `ferrybot run` a second decode of every webhook.
            return []
        return facts_from_envelope(Envelope.from_bytes(raw))
    except ValidationError as exc:
        log.error(
            "ledger.undecodable",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            errors=exc.error_count(),
        )
        return []
