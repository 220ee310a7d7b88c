"""Authentication like GitHub: app JWTs, installation tokens, PATs and app permissions."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakegithub.routing import GitHubError
from tests.fakegithub.state import App, GitHubState, Token

BAD_CREDENTIALS = "Bad credentials"
MAX_JWT_LIFETIME = 600
# Clients set iat a little in the past against clock drift; GitHub tolerates some skew too.
CLOCK_SKEW = 60

# Installation permissions the app needs, by operation template; the first match wins.
# Either permission of a tuple suffices (GitHub lets `pull_requests` stand in for `issues` on PRs).
_PERMISSION_RULES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern), names)
    for pattern, names in (
        (r"/check-runs|/check-suites", ("checks",)),
        (r"/actions/", ("actions",)),
        # repository_dispatch needs write access to contents, as GitHub documents.
        (r"/dispatches$", ("contents",)),
        (r"/statuses/|/commits/\{ref\}/status", ("statuses",)),
        (r"/pulls", ("pull_requests",)),
        (r"/issues|/labels", ("issues", "pull_requests")),
        (r"/contents/|/commits|/git/", ("contents",)),
        (r"^/orgs/\{org\}/teams", ("members",)),
        (r"^/repos/\{owner\}/\{repo\}", ("metadata",)),
    )
)
FULL_PERMISSIONS = {
    "checks": "write",
    "actions": "write",
    "statuses": "write",
    "pull_requests": "write",
    "issues": "write",
    "contents": "write",
    "members": "read",
    "metadata": "read",
}


@dataclass(frozen=True)
class AppKey:
    """An RSA keypair for a test GitHub App; the bot signs JWTs with private_pem."""

    private_pem: str
    public_pem: str


def generate_app_key() -> AppKey:
    """A fresh 2048-bit RSA keypair as PEM text."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return AppKey(private, public)


@cache
def shared_test_key() -> AppKey:
    """One keypair per process: generating RSA keys per test costs ~50 ms each."""
    return generate_app_key()


def bearer(header: str | None) -> str | None:
    """The credential of `token X` or `Bearer X`, else None."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() not in ("token", "bearer") or not value.strip():
        return None
    return value.strip()


def verify_app_jwt(state: GitHubState, encoded: str, moment: datetime) -> App:
    """The app that signed encoded, or GitHubError(401) with GitHub's wording."""
    try:
        claims = jwt.decode(encoded, options={"verify_signature": False})
        app = state.apps[int(claims["iss"])]
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        raise GitHubError(401, "A JSON web token could not be decoded") from None
    try:
        claims = jwt.decode(
            encoded,
            app.public_key_pem,
            algorithms=["RS256"],
            options={"require": ["iat", "exp", "iss"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise GitHubError(401, "A JSON web token could not be decoded") from None
    issued, expires, current = int(claims["iat"]), int(claims["exp"]), int(moment.timestamp())
    if issued > current + CLOCK_SKEW:
        raise GitHubError(
            401, "'Issued at' claim ('iat') must be an Integer representing a time in the past."
        )
    if expires - issued > MAX_JWT_LIFETIME:
        raise GitHubError(401, "'Expiration time' claim ('exp') is too far in the future")
    if expires <= current:
        raise GitHubError(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future time "
            "at which the assertion expires",
        )
    return app


def known_token(state: GitHubState, value: str, moment: datetime) -> Token:
    token = state.tokens.get(value)
    if token is None or token.expired(moment):
        raise GitHubError(401, BAD_CREDENTIALS)
    return token


def new_token_value(kind: str) -> str:
    prefix = "ghs_" if kind == "installation" else "ghp_"
    return prefix + secrets.token_urlsafe(27)[:36]


def check_permission(token: Token, method: str, template: str) -> None:
    """403 like GitHub when an installation lacks the app permission an operation needs."""
    if token.kind != "installation":
        return
    for pattern, names in _PERMISSION_RULES:
        if pattern.search(template):
            wanted = ("read", "write") if method == "GET" else ("write",)
            if not any(token.permissions.get(name) in wanted for name in names):
                raise GitHubError(403, "Resource not accessible by integration")
            return
