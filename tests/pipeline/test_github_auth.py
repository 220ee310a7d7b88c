"""GitHub App auth: short JWTs, cached installation tokens, the bounded ETag cache."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
import gidgethub.aiohttp
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bot.github.auth import JWT_LIFETIME_SECONDS, InstallationTokens, app_jwt
from bot.github.clients import GitHubClients
from bot.github.dryrun import DryRunRecorder
from bot.lru_cache import LRUCache
from bot.settings import load_settings
from tests.fakegithub.auth import generate_app_key
from tests.fakegithub.server import FakeGitHub
from tests.support.bot import APP_ID, INSTALLATION_ID, install_app


def test_app_jwt_lives_at_most_540_seconds() -> None:
    """GitHub caps App JWTs at 10 minutes; ours expire 540 s after issue."""
    key = generate_app_key()
    token = app_jwt(7, key.private_pem, now=1_000_000)
    claims = jwt.decode(token, key.public_pem, algorithms=["RS256"], options={"verify_exp": False})
    assert claims["iss"] == "7"
    assert claims["exp"] - 1_000_000 <= 540 == JWT_LIFETIME_SECONDS
    assert claims["iat"] < 1_000_000  # backdated for clock drift


def test_app_jwts_signed_with_one_loaded_key_verify_alike() -> None:
    """Each JWT signed with the once-loaded key verifies with the App's public key."""
    key = generate_app_key()
    tokens = [app_jwt(7, key.private_pem, now=1_000_000 + step) for step in range(3)]
    for token in tokens:
        claims = jwt.decode(
            token, key.public_pem, algorithms=["RS256"], options={"verify_exp": False}
        )
        assert claims["iss"] == "7"


def test_a_private_key_that_is_not_rsa_is_refused() -> None:
    """RS256 needs an RSA key: an EC key is refused by name, not with a signing traceback."""
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(ValueError, match="not an RSA key"):
        app_jwt(7, pem)


async def test_installation_token_is_cached_until_near_expiry(fake_github: FakeGitHub) -> None:
    """One mint serves many events; a token about to expire is replaced before it fails."""
    app = install_app(fake_github)
    now = [time.time()]
    tokens = InstallationTokens(APP_ID, app.private_key, clock=lambda: now[0])
    async with aiohttp.ClientSession() as session:
        gh = gidgethub.aiohttp.GitHubAPI(session, "ferrybot-test", base_url=fake_github.url)
        first = await tokens.token(gh, INSTALLATION_ID)
        assert await tokens.token(gh, INSTALLATION_ID) == first
        now[0] += 3600 - 60  # inside the refresh margin of a one-hour token
        second = await tokens.token(gh, INSTALLATION_ID)
    assert second != first
    minted = [p for m, p, s in fake_github.requests if p.endswith("/access_tokens")]
    assert len(minted) == 2


def test_etag_cache_keeps_the_most_recent_entries() -> None:
    """The cache is bounded; reading an entry keeps it alive."""
    cache = LRUCache(maxsize=2)
    cache["a"], cache["b"] = 1, 2
    assert cache["a"] == 1
    cache["c"] = 3
    assert set(cache) == {"a", "c"}


@pytest.mark.parametrize(
    ("auth", "expected"),
    [("app", "ferrybot[bot]"), ("pat", "octo"), ("actions", None)],
    ids=["app-slug", "pat-user", "installation-token-has-no-user"],
)
async def test_bot_login_is_asked_once(
    fake_github: FakeGitHub, tmp_path: Path, auth: str, expected: str | None
) -> None:
    """App auth reads its slug (GET /app), a PAT its user (GET /user); either once only."""
    app = install_app(fake_github)
    values: dict[str, object] = {"github_api_url": fake_github.url, "state_dir": tmp_path}
    if auth == "app":
        values.update(github_app_id=APP_ID, github_private_key=app.private_key)
    elif auth == "pat":
        fake_github.add_token("ghp_patforferrybottests0000000000000000", kind="pat", login="octo")
        values.update(github_token="ghp_patforferrybottests0000000000000000")
    else:
        values.update(github_token=fake_github.issue_token(INSTALLATION_ID).value)
    settings = load_settings(**values)
    async with aiohttp.ClientSession() as session:
        clients = GitHubClients(settings, session, DryRunRecorder(None))
        assert await clients.bot_login() == expected
        assert await clients.bot_login() == expected
    asked = [p for _, p, _ in fake_github.requests if p in ("/app", "/user")]
    assert len(asked) == 1
