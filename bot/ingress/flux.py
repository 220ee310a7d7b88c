"""Flux notification-controller's `generic-hmac` provider: `X-Signature: sha256=<hex HMAC>`."""

from __future__ import annotations

from collections.abc import Mapping

from bot.ingress.deployments import checked_name, checked_revision, derived_delivery
from bot.ingress.errors import Refused
from bot.ingress.json_body import parse_json_object
from bot.settings import Settings
from bot.signatures import verify_github_signature
from schemas.envelope import Envelope, Source

# The one header that says who sent it (a second copy is refused by the ingress).
FLUX_IDENTITY_HEADERS = ("X-Signature",)


def flux_envelopes(headers: Mapping[str, str], body: bytes, settings: Settings) -> list[Envelope]:
    """One envelope per Flux event; `involvedObject`, `reason` and `metadata.revision` needed."""
    secrets = [s.get_secret_value() for s in settings.flux_webhook_secrets]
    if not secrets:
        raise Refused(401, "no secret is configured for flux; set FERRYBOT_FLUX_WEBHOOK_SECRETS")
    signature = headers.get("X-Signature")
    if not signature:
        raise Refused(401, "missing X-Signature (the Provider must be of type generic-hmac)")
    # Flux signs exactly as GitHub does: `sha256=` + hex HMAC-SHA256 of the raw body.
    if not verify_github_signature(body, signature, secrets):
        raise Refused(401, "X-Signature does not match any of FERRYBOT_FLUX_WEBHOOK_SECRETS")
    payload = parse_json_object(body)
    obj = payload.get("involvedObject")
    metadata = payload.get("metadata")
    if not isinstance(obj, dict) or not isinstance(metadata, dict):
        raise Refused(400, "a Flux event has `involvedObject` and `metadata` objects")
    kind = checked_name(obj.get("kind"), "`involvedObject.kind`")
    namespace = checked_name(obj.get("namespace"), "`involvedObject.namespace`")
    name = checked_name(obj.get("name"), "`involvedObject.name`")
    reason = checked_name(payload.get("reason"), "`reason`")
    revision = checked_revision(metadata.get("revision"), "`metadata.revision`")
    repository = metadata.get("repository")
    repo = checked_name(repository, "`metadata.repository`") if repository is not None else None
    delivery = derived_delivery(
        "flux", kind, namespace, name, revision, reason, payload.get("timestamp")
    )
    return [
        Envelope(
            id=delivery,
            source=Source.FLUX,
            event="flux",
            action=reason[:100],
            subject=f"deploy/{repo or 'flux'}/{kind}/{namespace}/{name}"[:400],
            payload=payload,
        )
    ]
