"""Delivering webhook payloads the way GitLab's project hooks do: headers, token, signature.

Headers as GitLab sends them (doc/api/project_webhooks.md and group_webhooks.md, the hook
events' `request_headers`): Content-Type, User-Agent `GitLab/<version>`, Idempotency-Key (kept
across retries and manual resends), X-Gitlab-Event, X-Gitlab-Webhook-UUID (the hook),
X-Gitlab-Instance, X-Gitlab-Event-UUID, X-Gitlab-Token (the secret token). With a signing token
the delivery also carries Standard Webhooks headers: webhook-id, webhook-timestamp and
webhook-signature `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.fakegitlab.state import ProjectHook
from tests.fakegitlab.webhooks import EVENT_HEADERS

USER_AGENT = "GitLab/18.5.0"
SIGNING_PREFIX = "whsec_"


@dataclass
class HookDelivery:
    """One attempt to deliver: what was sent and how the receiver answered."""

    hook: ProjectHook = field(repr=False)
    url: str
    event: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None
    error: str | None = None

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


def standard_signature(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks' v1 signature; a `whsec_` secret is base64 of the key."""
    key = secret.encode()
    if secret.startswith(SIGNING_PREFIX):
        try:
            key = base64.b64decode(secret.removeprefix(SIGNING_PREFIX), validate=True)
        except binascii.Error:
            pass
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def delivery_headers(
    hook: ProjectHook,
    payload: Mapping[str, Any],
    body: bytes,
    *,
    instance: str,
    idempotency_key: str,
    event_uuid: str,
    now: float | None = None,
) -> dict[str, str]:
    kind = str(payload.get("object_kind") or payload.get("event_name") or "")
    try:
        event = EVENT_HEADERS[kind]
    except KeyError:
        raise ValueError(f"no X-Gitlab-Event is known for object_kind {kind!r}") from None
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Idempotency-Key": idempotency_key,
        "X-Gitlab-Event": event,
        "X-Gitlab-Webhook-UUID": hook.uuid,
        "X-Gitlab-Instance": instance,
        "X-Gitlab-Event-UUID": event_uuid,
    }
    if hook.token is not None:
        headers["X-Gitlab-Token"] = hook.token
    if hook.signing_token is not None:
        timestamp = str(int(time.time() if now is None else now))
        headers["webhook-id"] = idempotency_key
        headers["webhook-timestamp"] = timestamp
        headers["webhook-signature"] = standard_signature(
            hook.signing_token, idempotency_key, timestamp, body
        )
    return headers


async def post(hook: ProjectHook, headers: Mapping[str, str], body: bytes) -> HookDelivery:
    """POST once; connection failures are recorded, not raised (GitLab logs them too)."""
    url = hook.url
    delivery = HookDelivery(hook, url, headers["X-Gitlab-Event"], dict(headers), body)
    timeout = aiohttp.ClientTimeout(total=10)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(url, data=body, headers=dict(headers)) as response,
        ):
            await response.read()
            delivery.status = response.status
    except (aiohttp.ClientError, TimeoutError) as error:
        delivery.error = f"{type(error).__name__}: {error}"
    return delivery
