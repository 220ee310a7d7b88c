"""MLflow 3.x model-registry deliveries: v1 signature, timestamp tolerance, subject."""

from __future__ import annotations

import time
from collections.abc import Mapping

from bot.gitops.identifiers import InvalidIdentifier, validate_model_name
from bot.ingress.errors import Refused
from bot.ingress.json_body import parse_json_object
from bot.settings import Settings
from bot.signatures import verify_mlflow_signature
from schemas.envelope import Envelope, Source

_MAX_HEADER_CHARS = 200
# What identifies a delivery and its sender; each must come exactly once.
MLFLOW_IDENTITY_HEADERS = ("X-MLflow-Delivery-Id", "X-MLflow-Timestamp", "X-MLflow-Signature")


def mlflow_envelope(
    headers: Mapping[str, str], body: bytes, settings: Settings, now: float | None = None
) -> Envelope:
    """Verify an MLflow webhook delivery and wrap it as `<entity>.<action>` on `model/<name>`."""
    delivery = headers.get("X-MLflow-Delivery-Id", "").strip()
    timestamp = headers.get("X-MLflow-Timestamp", "").strip()
    signature = headers.get("X-MLflow-Signature")
    if not delivery or not timestamp:
        raise Refused(400, "missing X-MLflow-Delivery-Id or X-MLflow-Timestamp header")
    if len(delivery) > _MAX_HEADER_CHARS or len(timestamp) > 20:
        raise Refused(400, "X-MLflow-Delivery-Id or X-MLflow-Timestamp header too long")
    if not signature:
        raise Refused(401, "missing X-MLflow-Signature: create the MLflow webhook with a secret")
    secrets = [s.get_secret_value() for s in settings.mlflow_webhook_secrets]
    if not verify_mlflow_signature(body, signature, delivery, timestamp, secrets):
        raise Refused(401, "X-MLflow-Signature does not match any configured MLflow secret")
    # Checked after the signature so an attacker cannot probe the clock with unsigned requests;
    # the timestamp is inside the signed message, so a replay cannot move it.
    try:
        sent = int(timestamp)
    except ValueError:
        raise Refused(400, "X-MLflow-Timestamp is not a unix time in seconds") from None
    skew = abs((time.time() if now is None else now) - sent)
    if skew > settings.mlflow_timestamp_tolerance_seconds:
        raise Refused(
            401,
            f"X-MLflow-Timestamp is {int(skew)} s away from now, beyond the "
            f"{settings.mlflow_timestamp_tolerance_seconds} s tolerance (replay or clock skew)",
        )
    payload = parse_json_object(body)
    entity, action = payload.get("entity"), payload.get("action")
    data = payload.get("data")
    if not isinstance(entity, str) or not isinstance(action, str) or not isinstance(data, dict):
        raise Refused(400, "an MLflow delivery has `entity`, `action` and a `data` object")
    if not (entity.replace("_", "").isalpha() and action.isalpha()):
        raise Refused(400, "`entity` and `action` are lowercase words such as model_version")
    return Envelope.with_raw_payload(
        body,
        payload,
        id=delivery,
        source=Source.MLFLOW,
        event=entity[:100],
        action=action[:100],
        subject=mlflow_subject(data),
    )


def mlflow_subject(data: Mapping[str, object]) -> str:
    """`model/<name>` for registry entities; events without a valid model name share `mlflow`."""
    try:
        return f"model/{validate_model_name(data.get('name'))}"
    except InvalidIdentifier:
        return "mlflow"
