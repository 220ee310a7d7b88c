"""GitLab project and group webhooks: secret token, Standard Webhooks signature, subject."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from typing import Any

from bot.forges.gitlab.subjects import project_subject
from bot.ingress.errors import Refused
from bot.ingress.json_body import parse_json_object
from bot.settings import Settings
from schemas.envelope import Envelope, Source

# What identifies a delivery and its sender; each must come exactly once.
GITLAB_IDENTITY_HEADERS = (
    "X-Gitlab-Event",
    "X-Gitlab-Token",
    "Idempotency-Key",
    "X-Gitlab-Event-UUID",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
)
# Standard Webhooks' recommended tolerance between webhook-timestamp and now.
SIGNATURE_TOLERANCE_SECONDS = 300
# Every refusal of a sender says the same: which check failed is not told to a prober.
UNAUTHENTICATED = "not authenticated"
_EVENT_HEADER = re.compile(r"(?:[A-Z][a-z]+ ){1,5}Hook")
_PROJECT_PATH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.\-]*){1,20}")
_ACTION = re.compile(r"[a-z_]{1,40}")
_MAX_ID_CHARS = 200
_SECRET_PREFIX = "whsec_"


def gitlab_envelope(
    headers: Mapping[str, str], body: bytes, settings: Settings, now: float | None = None
) -> Envelope:
    """Authenticate a GitLab delivery and wrap it as `<event>.<action>` on its merge request."""
    _check_token(headers.get("X-Gitlab-Token"), settings)
    if settings.gitlab_signing_secrets:
        _check_signature(headers, body, settings, time.time() if now is None else now)
    event = _event_name(headers.get("X-Gitlab-Event", "").strip())
    delivery = (headers.get("Idempotency-Key") or headers.get("X-Gitlab-Event-UUID") or "").strip()
    if not delivery:
        raise Refused(400, "missing Idempotency-Key or X-Gitlab-Event-UUID header")
    if len(delivery) > _MAX_ID_CHARS:
        raise Refused(400, "Idempotency-Key or X-Gitlab-Event-UUID header too long")
    payload = parse_json_object(body)
    return Envelope.with_raw_payload(
        body,
        payload,
        # GitLab keeps Idempotency-Key across its retries and manual resends: the dedupe key.
        id=f"gitlab:{delivery}",
        source=Source.GITLAB,
        event=event,
        action=gitlab_action(event, payload),
        subject=gitlab_subject(payload),
    )


def _check_token(offered: str | None, settings: Settings) -> None:
    tokens = [t.get_secret_value().encode() for t in settings.gitlab_webhook_tokens]
    if not tokens or not offered:
        raise Refused(401, UNAUTHENTICATED)
    matched = False
    # Every token is compared, so timing does not tell which one (or whether any) matched.
    for token in tokens:
        matched |= hmac.compare_digest(offered.strip().encode(), token)
    if not matched:
        raise Refused(401, UNAUTHENTICATED)


def sign_standard_webhook(body: bytes, secret: str, webhook_id: str, timestamp: str) -> str:
    """One `webhook-signature` entry: v1,base64(HMAC-SHA256(id.timestamp.body))."""
    key = _secret_key(secret)
    message = webhook_id.encode() + b"." + timestamp.encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def _secret_key(secret: str) -> bytes:
    # Standard Webhooks secrets are `whsec_` + base64 of the key bytes; anything else is the key.
    if secret.startswith(_SECRET_PREFIX):
        try:
            return base64.b64decode(secret.removeprefix(_SECRET_PREFIX), validate=True)
        except binascii.Error:
            pass
    return secret.encode()


def _check_signature(
    headers: Mapping[str, str], body: bytes, settings: Settings, now: float
) -> None:
    webhook_id = headers.get("webhook-id", "").strip()
    timestamp = headers.get("webhook-timestamp", "").strip()
    offered = headers.get("webhook-signature", "").split()
    if not webhook_id or not timestamp.isdigit() or not offered or len(timestamp) > 12:
        raise Refused(401, UNAUTHENTICATED)
    matched = False
    for secret in settings.gitlab_signing_secrets:
        expected = sign_standard_webhook(body, secret.get_secret_value(), webhook_id, timestamp)
        for signature in offered:
            matched |= hmac.compare_digest(expected.encode(), signature.encode())
    # The timestamp is inside the signed message: a replay cannot move it into the window.
    if not matched or abs(now - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        raise Refused(401, UNAUTHENTICATED)


def _event_name(header: str) -> str:
    """`Merge Request Hook` → `merge_request`; any GitLab hook kind is accepted this way."""
    if not _EVENT_HEADER.fullmatch(header):
        raise Refused(400, "X-Gitlab-Event is not a GitLab hook name such as `Merge Request Hook`")
    return "_".join(header.lower().split()[:-1])


def gitlab_action(event: str, payload: dict[str, Any]) -> str | None:
    """`object_attributes.action` (merge requests, emoji, …); a deployment's `status`."""
    attributes = payload.get("object_attributes")
    if event == "deployment":
        action = payload.get("status")
    else:
        action = attributes.get("action") if isinstance(attributes, dict) else None
    return action if isinstance(action, str) and _ACTION.fullmatch(action) else None


def gitlab_subject(payload: Mapping[str, Any]) -> str:
    """`gitlab/<project path>!<iid>` for anything about a merge request, else the project.

    Events of one merge request (its hook, notes, emoji, pipelines) share a key so they stay in
    order; pushes, tags and deployments are ordered per project.
    """
    project = payload.get("project")
    path = project.get("path_with_namespace") if isinstance(project, dict) else None
    if not isinstance(path, str) or len(path) > 255 or not _PROJECT_PATH.fullmatch(path):
        raise Refused(400, "a GitLab delivery names its project in `project.path_with_namespace`")
    iid = _merge_request_iid(payload)
    return project_subject(path, iid)


def _merge_request_iid(payload: Mapping[str, Any]) -> int | None:
    if payload.get("object_kind") == "merge_request":
        holder = payload.get("object_attributes")
    else:
        holder = payload.get("merge_request")
    iid = holder.get("iid") if isinstance(holder, dict) else None
    return iid if isinstance(iid, int) and not isinstance(iid, bool) and iid > 0 else None
