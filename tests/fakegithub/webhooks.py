"""The App's webhook as GitHub runs it: signed deliveries, their log, redelivery on request."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp

from tests.fakegithub.state import now

# GitHub gives the receiver 10 s before it records a timeout.
DELIVERY_TIMEOUT = 10.0


@dataclass
class HookDelivery:
    """One attempt GitHub made (or failed to make) to deliver an event to the App's webhook."""

    id: int
    app_id: int
    guid: str
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None
    body: bytes
    redelivery: bool
    delivered_at: datetime = field(default_factory=now)
    status: str = "pending"
    status_code: int = 0
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "OK"


@dataclass
class AppWebhook:
    """Where the App's events go and the secret they are signed with."""

    url: str
    secret: str


class Webhooks:
    """Sends deliveries and remembers each attempt (GitHub keeps them for a few days)."""

    def __init__(self) -> None:
        self.hooks: dict[int, AppWebhook] = {}
        self.deliveries: list[HookDelivery] = []
        self._tasks: set[asyncio.Task[HookDelivery]] = set()

    def find(self, app_id: int, delivery_id: int) -> HookDelivery | None:
        return next(
            (d for d in self.deliveries if d.id == delivery_id and d.app_id == app_id), None
        )

    async def send(
        self,
        next_id: int,
        app_id: int,
        event: str,
        payload: dict[str, Any],
        *,
        guid: str | None = None,
        redelivery: bool = False,
    ) -> HookDelivery:
        """POST the event, signed, to the App's webhook URL and log how it went."""
        body = json.dumps(payload).encode()
        delivery = HookDelivery(
            id=next_id,
            app_id=app_id,
            guid=guid or str(uuid.uuid4()),
            event=event,
            action=payload.get("action"),
            installation_id=(payload.get("installation") or {}).get("id"),
            repository_id=(payload.get("repository") or {}).get("id"),
            body=body,
            redelivery=redelivery,
        )
        self.deliveries.append(delivery)
        await self._post(delivery)
        return delivery

    def redeliver_later(self, next_id: int, original: HookDelivery) -> None:
        """Queue a new attempt of `original` (same guid), as GitHub does after answering 202."""
        payload = json.loads(original.body)
        task = asyncio.get_running_loop().create_task(
            self.send(next_id, original.app_id, original.event, payload, guid=original.guid,
                      redelivery=True)
        )  # fmt: skip
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait for queued redeliveries to finish."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _post(self, delivery: HookDelivery) -> None:
        hook = self.hooks.get(delivery.app_id)
        started = time.monotonic()
        if hook is None:
            delivery.status = "no webhook URL configured"
            return
        signature = hmac.new(hook.secret.encode(), delivery.body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/fake",
            "X-GitHub-Event": delivery.event,
            "X-GitHub-Delivery": delivery.guid,
            "X-GitHub-Hook-ID": str(delivery.app_id),
            "X-GitHub-Hook-Installation-Target-Type": "integration",
            "X-GitHub-Hook-Installation-Target-ID": str(delivery.app_id),
            "X-Hub-Signature-256": f"sha256={signature}",
        }
        try:
            timeout = aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT)
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(hook.url, data=delivery.body, headers=headers) as answer,
            ):
                delivery.status_code = answer.status
                ok = 200 <= answer.status < 300
                delivery.status = "OK" if ok else f"Invalid HTTP Response: {answer.status}"
        except TimeoutError:
            delivery.status = "timed out"
        except aiohttp.ClientError:
            delivery.status = "failed to connect to host"
        finally:
            delivery.duration = round(time.monotonic() - started, 3)
