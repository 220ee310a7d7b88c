"""GitHub App JWTs and installation tokens, cached until shortly before they expire."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from gidgethub.abc import GitHubAPI

# GitHub refuses App JWTs valid for more than 10 minutes; stay well inside and backdate the
# issue time for clock drift between us and GitHub.
JWT_LIFETIME_SECONDS = 540
JWT_BACKDATE_SECONDS = 30
# Refresh an installation token this long before GitHub says it expires.
TOKEN_REFRESH_MARGIN_SECONDS = 300


def app_jwt(app_id: int, private_key: str, now: float | None = None) -> str:
    """An RS256 JWT identifying the App, valid for at most 540 s."""
    issued = int(now if now is not None else time.time())
    claims = {
        "iat": issued - JWT_BACKDATE_SECONDS,
        "exp": issued + JWT_LIFETIME_SECONDS,
        "iss": str(app_id),
    }
    return jwt.encode(claims, _signing_key(private_key), algorithm="RS256")


@functools.lru_cache(maxsize=4)
def _signing_key(private_key: str) -> RSAPrivateKey:
    # Loading the PEM (with its key checks) took 47 ms against 1 ms for the signature, all of it
    # on the event loop; loaded once, minting a token or asking who the App is stalls nothing.
    key = load_pem_private_key(private_key.encode(), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("the GitHub App private key is not an RSA key, which RS256 needs")
    return key


@dataclass
class _CachedToken:
    token: str
    refresh_at: float


class InstallationTokens:
    """Mints installation tokens with the App's JWT and caches one per installation."""

    def __init__(
        self,
        app_id: int,
        private_key: str,
        clock: Callable[[], float] = time.time,
        on_new_token: Callable[[str], None] = lambda token: None,
    ) -> None:
        self._app_id = app_id
        self._private_key = private_key
        self._clock = clock
        self._on_new_token = on_new_token
        self._cache: dict[int, _CachedToken] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def token(self, gh: GitHubAPI, installation_id: int, *, refresh: bool = False) -> str:
        """A valid token for the installation; `refresh` forces a new one (after a 401)."""
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            cached = self._cache.get(installation_id)
            if cached and not refresh and self._clock() < cached.refresh_at:
                return cached.token
            response = await gh.post(
                "/app/installations/{installation_id}/access_tokens",
                url_vars={"installation_id": str(installation_id)},
                data=b"",
                jwt=app_jwt(self._app_id, self._private_key),
            )
            token = str(response["token"])
            expires = datetime.fromisoformat(str(response["expires_at"]).replace("Z", "+00:00"))
            refresh_at = expires.timestamp() - TOKEN_REFRESH_MARGIN_SECONDS
            self._cache[installation_id] = _CachedToken(token, refresh_at)
            self._on_new_token(token)
            return token

    def forget(self, installation_id: int) -> None:
        """Drop a cached token GitHub no longer accepts."""
        self._cache.pop(installation_id, None)
