"""Container-registry notifications: static-token auth, one envelope per image event."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from bot.gitops.identifiers import InvalidIdentifier, validate_image_repository
from bot.ingress.errors import Refused
from bot.ingress.json_body import parse_json_object
from bot.settings import Settings
from schemas.envelope import Envelope, Source
from schemas.registry import ImageEvent, RegistryKind

# Docker Hub can only authenticate with a secret in the URL; ingress moves it into this header.
PATH_TOKEN_HEADER = "X-Ferrybot-Path-Token"
# The static token Distribution and Harbor send; it must come exactly once.
REGISTRY_IDENTITY_HEADERS = ("Authorization",)
_BLOB_MEDIA_TYPES = frozenset({"application/octet-stream"})
_MAX_EVENTS = 1000


def _check_token(offered: str | None, expected: str | None, what: str) -> None:
    if not expected:
        raise Refused(401, f"no token is configured for {what}; set the matching FERRYBOT_ setting")
    if offered is None:
        raise Refused(401, f"missing token for {what}")
    # Distribution and Harbor send a configured header verbatim: accept "Bearer T" and "T".
    value = offered.removeprefix("Bearer ").strip()
    if not hmac.compare_digest(value.encode(), expected.encode()):
        raise Refused(401, f"the token for {what} does not match")


def _static_token(settings: Settings, kind: RegistryKind) -> str | None:
    secret = settings.registry_webhook_tokens.get(kind.value)
    return secret.get_secret_value() if secret is not None else None


def _subject(repository: str) -> str:
    try:
        return f"image/{validate_image_repository(repository)}"
    except InvalidIdentifier:
        return "image"


def _envelope(delivery: str, event: ImageEvent) -> Envelope:
    return Envelope(
        id=delivery,
        source=Source.REGISTRY,
        event=event.kind,
        action=event.action,
        subject=_subject(event.repository),
        payload=event.model_dump(mode="json"),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def distribution_envelopes(
    headers: Mapping[str, str], body: bytes, settings: Settings
) -> list[Envelope]:
    """CNCF Distribution: `{"events": [...]}` split into one envelope per event id."""
    kind = RegistryKind.DISTRIBUTION
    _check_token(headers.get("Authorization"), _static_token(settings, kind), "distribution")
    events = parse_json_object(body).get("events")
    if not isinstance(events, list) or not events or len(events) > _MAX_EVENTS:
        raise Refused(400, f"a Distribution notification has 1 to {_MAX_EVENTS} `events`")
    envelopes = []
    for raw in events:
        target = raw.get("target") if isinstance(raw, dict) else None
        delivery = _text(raw.get("id")) if isinstance(target, dict) else None
        action = _text(raw.get("action")) if isinstance(target, dict) else None
        if not isinstance(target, dict) or not delivery or not action:
            raise Refused(400, "every Distribution event has an `id`, an `action` and a `target`")
        media_type = _text(target.get("mediaType"))
        event = ImageEvent(
            registry=kind,
            # Deletes carry no media type; pulls and pushes of layers are octet-stream blobs.
            kind="blob" if media_type in _BLOB_MEDIA_TYPES else "manifest",
            action=action[:100],
            repository=_text(target.get("repository")) or "",
            tag=_text(target.get("tag")),
            digest=_text(target.get("digest")),
            media_type=media_type,
            raw=raw,
        )
        envelopes.append(_envelope(delivery[:200], event))
    return envelopes


def _derived_id(kind: RegistryKind, *parts: object) -> str:
    # Harbor and Docker Hub send no delivery id: the same push must map to the same id.
    digest = hashlib.sha256(json.dumps([kind.value, *parts], default=str).encode()).hexdigest()
    return f"{kind.value}:{digest[:32]}"


def harbor_envelopes(headers: Mapping[str, str], body: bytes, settings: Settings) -> list[Envelope]:
    """Harbor: `PUSH_ARTIFACT` with one envelope per pushed resource; other types recorded."""
    kind = RegistryKind.HARBOR
    _check_token(headers.get("Authorization"), _static_token(settings, kind), "harbor")
    payload = parse_json_object(body)
    data = payload.get("event_data")
    event_type = _text(payload.get("type"))
    if not isinstance(data, dict) or not event_type:
        raise Refused(400, "a Harbor notification has a `type` and an `event_data` object")
    repository = data.get("repository")
    name = _text(repository.get("repo_full_name")) if isinstance(repository, dict) else None
    listed = data.get("resources")
    resources: list[Any] = listed if isinstance(listed, list) else []
    action = "push" if event_type == "PUSH_ARTIFACT" else event_type.lower()[:100]
    envelopes = []
    for resource in resources[:_MAX_EVENTS] or [{}]:
        resource = resource if isinstance(resource, dict) else {}
        event = ImageEvent(
            registry=kind,
            kind="manifest",
            action=action,
            repository=name or "",
            tag=_text(resource.get("tag")),
            digest=_text(resource.get("digest")),
            raw=payload,
        )
        delivery = _derived_id(kind, payload.get("occur_at"), name, event.tag, event.digest)
        envelopes.append(_envelope(delivery, event))
    return envelopes


def docker_hub_envelopes(
    headers: Mapping[str, str], body: bytes, settings: Settings
) -> list[Envelope]:
    """Docker Hub: a tag pushed (no digest: the worker reads it from the registry)."""
    expected = settings.dockerhub_url_token
    _check_token(
        headers.get(PATH_TOKEN_HEADER),
        expected.get_secret_value() if expected is not None else None,
        "docker-hub",
    )
    payload = parse_json_object(body)
    push = payload.get("push_data")
    repository = payload.get("repository")
    if not isinstance(push, dict) or not isinstance(repository, dict):
        raise Refused(400, "a Docker Hub notification has `push_data` and `repository` objects")
    event = ImageEvent(
        registry=RegistryKind.DOCKER_HUB,
        kind="manifest",
        action="push",
        repository=_text(repository.get("repo_name")) or "",
        tag=_text(push.get("tag")),
        raw=payload,
    )
    delivery = _derived_id(event.registry, push.get("pushed_at"), event.repository, event.tag)
    return [_envelope(delivery, event)]
