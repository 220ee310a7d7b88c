"""Webhook authenticity: HMAC signatures compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

GITHUB_PREFIX = "sha256="


def sign_github(body: bytes, secret: str) -> str:
    """The `X-Hub-Signature-256` value GitHub would send for this body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return GITHUB_PREFIX + digest


def verify_github_signature(body: bytes, header: str | None, secrets: Iterable[str]) -> bool:
    """True when the sha256 signature matches any configured secret (sha1 is never enough)."""
    if not header or not header.startswith(GITHUB_PREFIX):
        return False
    offered = header.encode()
    matched = False
    # Compare against every secret so timing does not reveal which one (or whether any) matched.
    for secret in secrets:
        matched |= hmac.compare_digest(sign_github(body, secret).encode(), offered)
    return matched


def sign_mlflow(body: bytes, secret: str, delivery_id: str, timestamp: str) -> str:
    """The `X-MLflow-Signature` value MLflow 3.x sends: v1,base64(HMAC(id.ts.body))."""
    message = delivery_id.encode() + b"." + timestamp.encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_mlflow_signature(
    body: bytes, header: str | None, delivery_id: str, timestamp: str, secrets: Iterable[str]
) -> bool:
    """True when the v1 signature over `{id}.{timestamp}.{body}` matches any secret."""
    if not header or not header.startswith("v1,"):
        return False
    offered = header.encode()
    matched = False
    for secret in secrets:
        expected = sign_mlflow(body, secret, delivery_id, timestamp).encode()
        matched |= hmac.compare_digest(expected, offered)
    return matched
