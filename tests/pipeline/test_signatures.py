"""GitHub and MLflow webhook signatures."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from bot.signatures import (
    sign_github,
    sign_mlflow,
    verify_github_signature,
    verify_mlflow_signature,
)

BODY = b'{"action":"opened"}'


@pytest.mark.parametrize(
    ("header", "secrets", "expected"),
    [
        (sign_github(BODY, "s3cret"), ["s3cret"], True),
        (sign_github(BODY, "new"), ["old", "new"], True),
        (sign_github(BODY, "other"), ["s3cret"], False),
        (None, ["s3cret"], False),
        ("", ["s3cret"], False),
        ("sha1=" + hmac.new(b"s3cret", BODY, hashlib.sha1).hexdigest(), ["s3cret"], False),
        (sign_github(BODY, "s3cret").upper(), ["s3cret"], False),
        (sign_github(BODY, "s3cret"), [], False),
    ],
    ids=["match", "rotation", "wrong-secret", "missing", "empty", "sha1-only", "mangled", "none"],
)
def test_github_signature(header: str | None, secrets: list[str], expected: bool) -> None:
    """Only a sha256 HMAC under one of the configured secrets verifies."""
    assert verify_github_signature(BODY, header, secrets) is expected


def test_github_signature_covers_every_byte() -> None:
    """A body changed by one byte no longer verifies."""
    header = sign_github(BODY, "s3cret")
    assert not verify_github_signature(BODY + b" ", header, ["s3cret"])


def test_mlflow_signature_matches_captured_delivery() -> None:
    """The v1 scheme signs `{id}.{timestamp}.{body}` with base64 output."""
    header = sign_mlflow(BODY, "s3cret", "abc", "1700000000")
    assert header.startswith("v1,")
    assert verify_mlflow_signature(BODY, header, "abc", "1700000000", ["s3cret"])
    assert not verify_mlflow_signature(BODY, header, "abc", "1700000001", ["s3cret"])
    assert not verify_mlflow_signature(BODY, header, "abd", "1700000000", ["s3cret"])
