"""GitHub deliveries: signature, headers, subject."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.ingress.errors import Refused
from bot.ingress.json_body import parse_json_object
from bot.settings import Settings
from bot.signatures import verify_github_signature
from schemas.envelope import Envelope, Source

# What identifies a delivery and its sender; each must come exactly once.
GITHUB_IDENTITY_HEADERS = ("X-GitHub-Event", "X-GitHub-Delivery", "X-Hub-Signature-256")
# Events whose subject is a container image rather than a repository.
_PACKAGE_EVENTS = {"package", "registry_package"}
_DEPLOYMENT_EVENTS = {"deployment", "deployment_status"}


def github_envelope(headers: Mapping[str, str], body: bytes, settings: Settings) -> Envelope:
    """Verify a GitHub delivery and wrap it; raise Refused for anything we must not accept."""
    secrets = [s.get_secret_value() for s in settings.github_webhook_secrets]
    signature = headers.get("X-Hub-Signature-256")
    if not signature:
        hint = (
            " (sha1 X-Hub-Signature alone is not accepted)" if "X-Hub-Signature" in headers else ""
        )
        raise Refused(401, f"missing X-Hub-Signature-256{hint}")
    if not verify_github_signature(body, signature, secrets):
        raise Refused(401, "X-Hub-Signature-256 does not match any configured webhook secret")
    event = headers.get("X-GitHub-Event", "").strip()
    delivery = headers.get("X-GitHub-Delivery", "").strip()
    if not event or not delivery:
        raise Refused(400, "missing X-GitHub-Event or X-GitHub-Delivery header")
    if len(event) > 100 or len(delivery) > 200:
        raise Refused(400, "X-GitHub-Event or X-GitHub-Delivery header too long")
    payload = parse_json_object(body)
    action = payload.get("action")
    installation = payload.get("installation")
    installation_id = installation.get("id") if isinstance(installation, dict) else None
    return Envelope.with_raw_payload(
        body,
        payload,
        id=delivery,
        source=Source.GITHUB,
        event=event,
        action=action if isinstance(action, str) else None,
        subject=github_subject(event, payload),
        installation_id=installation_id if isinstance(installation_id, int) else None,
    )


def github_subject(event: str, payload: Mapping[str, Any]) -> str:
    """`github/<owner>/<repo>[#<number>]`, or `image/<owner>/<name>` for package events."""
    if event in _PACKAGE_EVENTS:
        package = payload.get(event) or payload.get("package") or {}
        owner = (package.get("owner") or {}).get("login")
        name = package.get("name")
        if owner and name:
            return f"image/{owner}/{name}"
    repository = payload.get("repository") or {}
    full_name = repository.get("full_name")
    if not full_name:
        org = (payload.get("organization") or {}).get("login")
        return f"github/{org}" if org else "github"
    deployment = payload.get("deployment") if event in _DEPLOYMENT_EVENTS else None
    if isinstance(deployment, dict) and isinstance(deployment.get("environment"), str):
        # One environment's deployments stay in order on one partition.
        return f"github/{full_name}@{deployment['environment'][:100]}"
    number = _number(payload)
    return f"github/{full_name}#{number}" if number is not None else f"github/{full_name}"


def _number(payload: Mapping[str, Any]) -> int | None:
    for key in ("pull_request", "issue"):
        item = payload.get(key)
        if isinstance(item, dict) and isinstance(item.get("number"), int):
            return int(item["number"])
    check = payload.get("check_run") or payload.get("check_suite")
    if isinstance(check, dict):
        pulls = check.get("pull_requests") or []
        if pulls and isinstance(pulls[0].get("number"), int):
            return int(pulls[0]["number"])
    number = payload.get("number")
    return number if isinstance(number, int) else None
