"""Generic JSON webhook: the notification as JSON, signed so the receiver can verify it."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import quote

from schemas.notification import Notification

SIGNATURE_HEADER = "X-Ferrybot-Signature"
TIMESTAMP_HEADER = "X-Ferrybot-Timestamp"
ID_HEADER = "X-Ferrybot-Notification"


def sign(body: bytes, secret: str) -> str:
    """`sha256=<hex HMAC-SHA256 of the body>`, like GitHub's X-Hub-Signature-256."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def request(
    notification: Notification, secret: str | None, now: float
) -> tuple[bytes, dict[str, str]]:
    """Body and headers; the timestamp is in the signed body too, so replays can be refused."""
    timestamp = str(int(now))
    document = {**notification.model_dump(mode="json"), "timestamp": int(timestamp)}
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    # Header values must be ASCII; the id may hold any subject.
    headers = {TIMESTAMP_HEADER: timestamp, ID_HEADER: quote(notification.id, safe=":/#@")}
    if secret is not None:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    return body, headers
