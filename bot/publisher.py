"""What handlers emit besides GitHub calls: notifications and audit records, each on its topic."""

from __future__ import annotations

from bot.logs import get_logger
from bot.notify.publish import publish_notification
from bot.pipeline.bus import EventProducer
from bot.settings import Settings
from schemas.audit import AuditRecord
from schemas.notification import Notification

log = get_logger(component="publisher")


class Publisher:
    """Produces notifications and audit records; raises BusUnavailable so the worker retries."""

    def __init__(self, settings: Settings, producer: EventProducer) -> None:
        self._settings = settings
        self._producer = producer

    async def notify(self, notification: Notification) -> None:
        """Queue a chat notification (delivered by the notifier, off the critical path)."""
        await publish_notification(self._producer, self._settings.topic_notifications, notification)

    async def audit(self, record: AuditRecord) -> None:
        """Record a decision or action on the audit topic."""
        await self._producer.send(
            self._settings.topic_audit,
            record.subject,
            record.to_bytes(),
            headers=[("audit", record.id.encode()), ("action", record.action.encode())],
        )
        log.info("audit.recorded", audit=record.id, audit_action=record.action)
