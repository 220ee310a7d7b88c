"""GitLab's external status checks (Ultimate): a merge request's data, signed with the check's
shared secret as a hex HMAC-SHA256 of the body in `X-Gitlab-Signature`."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from bot.ingress.errors import Refused
from bot.ingress.gitlab import UNAUTHENTICATED, gitlab_action, gitlab_subject
from bot.ingress.json_body import parse_json_object
from bot.settings import Settings
from schemas.envelope import Envelope, Source

STATUS_CHECK_IDENTITY_HEADERS = ("X-Gitlab-Signature",)
EVENT = "external_status_check"


def status_check_envelopes(
    headers: Mapping[str, str], body: bytes, settings: Settings
) -> list[Envelope]:
    """Verify the signature, then wrap the request as `external_status_check.<action>`."""
    _check_signature(headers.get("X-Gitlab-Signature"), body, settings)
    payload = parse_json_object(body)
    rule = payload.get("external_approval_rule")
    rule_id = rule.get("id") if isinstance(rule, dict) else None
    if not isinstance(rule_id, int) or isinstance(rule_id, bool) or rule_id <= 0:
        raise Refused(400, "a status check request names its check in `external_approval_rule.id`")
    return [
        Envelope.with_raw_payload(
            body,
            payload,
            # GitLab sends no delivery id here: the same request body is the same request.
            id=f"gitlab-status-check:{hashlib.sha256(body).hexdigest()[:40]}",
            source=Source.GITLAB,
            event=EVENT,
            action=gitlab_action("merge_request", payload),
            subject=gitlab_subject(payload),
        )
    ]


def sign_status_check(body: bytes, secret: str) -> str:
    """What GitLab puts in `X-Gitlab-Signature` (ExternalStatusChecks::DispatchService)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _check_signature(offered: str | None, body: bytes, settings: Settings) -> None:
    secrets = [s.get_secret_value() for s in settings.gitlab_status_check_secrets]
    if not secrets or not offered:
        raise Refused(401, UNAUTHENTICATED)
    matched = False
    # Every secret is tried, so timing does not tell which one (or whether any) matched.
    for secret in secrets:
        matched |= hmac.compare_digest(offered.strip().lower(), sign_status_check(body, secret))
    if not matched:
        raise Refused(401, UNAUTHENTICATED)
