"""Alertmanager webhooks: bearer token (several for rotation), one envelope per alert."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from pydantic import ValidationError

from bot.gitops.identifiers import InvalidIdentifier, validate_pipeline_name
from bot.ingress.errors import Refused
from bot.ingress.json_body import parse_json_object
from bot.logs import get_logger
from bot.settings import Settings
from schemas.alertmanager import Alert, AlertDelivery
from schemas.envelope import Envelope, Source

log = get_logger(component="ingress")
_MAX_ALERTS = 1000
# The bearer token the receiver's http_config sends; it must come exactly once.
ALERTMANAGER_IDENTITY_HEADERS = ("Authorization",)


def _check_bearer(header: str | None, settings: Settings) -> None:
    tokens = [t.get_secret_value().encode() for t in settings.alertmanager_tokens]
    if not tokens:
        raise Refused(
            401, "no token is configured for Alertmanager; set FERRYBOT_ALERTMANAGER_TOKENS"
        )
    if header is None or not header.startswith("Bearer "):
        raise Refused(401, "missing `Authorization: Bearer` header: set the receiver's http_config")
    offered = header.removeprefix("Bearer ").strip().encode()
    # Every token is compared, whatever matched, so timing says nothing about which one.
    matched = [hmac.compare_digest(offered, token) for token in tokens]
    if not any(matched):
        raise Refused(401, "the bearer token matches none of FERRYBOT_ALERTMANAGER_TOKENS")


def _subject(pipeline: str | None) -> str:
    try:
        return f"model/{validate_pipeline_name(pipeline)}"
    except InvalidIdentifier:
        return "alertmanager"


def alertmanager_envelopes(
    headers: Mapping[str, str], body: bytes, settings: Settings
) -> list[Envelope]:
    """A version-4 notification split into one envelope per alert, keyed by its pipeline."""
    _check_bearer(headers.get("Authorization"), settings)
    payload = parse_json_object(body)
    if payload.get("version") != "4":
        raise Refused(400, "only Alertmanager webhook payload version 4 is understood")
    raw_alerts = payload.get("alerts")
    if not isinstance(raw_alerts, list) or not raw_alerts or len(raw_alerts) > _MAX_ALERTS:
        raise Refused(400, f"an Alertmanager notification has 1 to {_MAX_ALERTS} `alerts`")
    labels = settings.bot.evaluation
    truncated = payload.get("truncatedAlerts")
    truncated = truncated if isinstance(truncated, int) and truncated > 0 else 0
    if truncated:
        # Alertmanager never sends the alerts it cut: the receiver's max_alerts is too small.
        log.warning(
            "alertmanager.truncated",
            truncated=truncated,
            sent=len(raw_alerts),
            group_key=str(payload.get("groupKey", ""))[:200],
        )
    envelopes = []
    for raw in raw_alerts:
        try:
            alert = Alert.model_validate(raw)
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors()[:5])
            raise Refused(400, f"an alert does not fit Alertmanager's format: {fields}") from None
        delivery = AlertDelivery(
            alert=alert,
            pipeline=alert.labels.get(labels.pipeline_label),
            stage=alert.labels.get(labels.stage_label),
            receiver=str(payload.get("receiver", ""))[:200],
            external_url=str(payload.get("externalURL", ""))[:2000],
            group_key=str(payload.get("groupKey", ""))[:1000],
            truncated_alerts=truncated,
        )
        envelopes.append(
            Envelope(
                # Alertmanager sends no delivery id: a repeat of the same state is the same id.
                id=f"alertmanager:{alert.fingerprint}:{alert.startsAt.isoformat()}:{alert.status}",
                source=Source.ALERTMANAGER,
                event="alert",
                action=alert.status,
                subject=_subject(delivery.pipeline),
                payload=delivery.model_dump(mode="json"),
            )
        )
    return envelopes
