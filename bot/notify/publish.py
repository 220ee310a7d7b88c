"""The one call handlers make to notify: put the notification on its topic."""

from __future__ import annotations

from bot.logs import get_logger
from bot.pipeline.bus import EventProducer
from schemas.notification import Notification

log = get_logger(component="notify")


async def publish_notification(
    producer: EventProducer, topic: str, notification: Notification
) -> None:
    """Produce the notification keyed by its subject; raises BusUnavailable like any send.

    Only the broker is on the caller's path: the chat services are the notifier's business,
    so their outages never slow a handler down.
    """
    await producer.send(
        topic,
        notification.subject,
        notification.to_bytes(),
        headers=[
            ("notification", notification.id.encode()),
            ("kind", notification.kind.value.encode()),
            ("delivery", notification.delivery_id.encode()),
        ],
    )
    log.info(
        "notification.published",
        notification=notification.id,
        kind=notification.kind.value,
        subject=notification.subject,
    )
