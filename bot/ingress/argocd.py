"""Argo CD Notifications `webhook` service: header token, the body ferrybot's template sends."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from bot.ingress.deployments import checked_name, checked_revision, derived_delivery, repo_of_url
from bot.ingress.errors import Refused
from bot.ingress.json_body import parse_json_object
from bot.settings import Settings
from schemas.envelope import Envelope, Source

# The `event` field each trigger's template in deploy/argocd/notifications-cm.yaml writes.
ARGOCD_EVENTS = frozenset({"deployed", "health-degraded", "sync-failed"})
# The one header that says who sent it (a second copy is refused by the ingress).
ARGOCD_IDENTITY_HEADERS = ("Authorization",)


def _check_token(offered: str | None, settings: Settings) -> None:
    tokens = [t.get_secret_value() for t in settings.argocd_webhook_tokens]
    if not tokens:
        raise Refused(401, "no token is configured for argocd; set FERRYBOT_ARGOCD_WEBHOOK_TOKENS")
    if not offered:
        raise Refused(401, "missing Authorization header (Bearer token) for argocd")
    value = offered.removeprefix("Bearer ").strip().encode()
    matched = False
    # Every token is compared, so timing does not tell which one (or whether any) matched.
    for token in tokens:
        matched |= hmac.compare_digest(value, token.encode())
    if not matched:
        raise Refused(401, "the argocd token does not match FERRYBOT_ARGOCD_WEBHOOK_TOKENS")


def argocd_envelopes(headers: Mapping[str, str], body: bytes, settings: Settings) -> list[Envelope]:
    """One envelope per notification: `app`, `revision` and `event` are required."""
    _check_token(headers.get("Authorization"), settings)
    payload = parse_json_object(body)
    app = checked_name(payload.get("app"), "`app`")
    revision = checked_revision(payload.get("revision"), "`revision`")
    event = payload.get("event")
    if event not in ARGOCD_EVENTS:
        raise Refused(400, f"`event` must be one of {sorted(ARGOCD_EVENTS)}")
    repo = repo_of_url(payload.get("repoURL"))
    delivery = derived_delivery(
        "argocd",
        app,
        revision,
        event,
        payload.get("timestamp"),
        payload.get("healthStatus"),
        payload.get("phase"),
    )
    return [
        Envelope(
            id=delivery,
            source=Source.ARGOCD,
            event="argocd",
            action=str(event),
            subject=f"deploy/{repo or 'argocd'}/{app}",
            payload=payload,
        )
    ]
