"""Confirm a tag and read its manifest digest: `HEAD /v2/<name>/manifests/<tag>`."""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from pydantic import SecretStr

from bot.gitops.identifiers import validate_digest
from bot.pipeline.retry import PermanentError, TransientError

_TIMEOUT = aiohttp.ClientTimeout(total=15)
# Without the OCI and list types in Accept a registry may answer 404 for an OCI image or
# convert a manifest list, and the digest would not be the one clients pull.
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class ImageRef:
    """A tag the registry confirmed, with the digest it points at now."""

    repository: str
    tag: str
    digest: str


@dataclass
class _Token:
    value: str
    expires: float


class RegistryClient:
    """Looks tags up in the registries named in FERRYBOT_REGISTRY_URLS.

    Docker Hub, GHCR and Harbor answer 401 with a `WWW-Authenticate: Bearer realm=...`
    challenge even for public images: the token service is asked (with the registry's
    credentials when configured) and the request repeated once with the token.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        urls: dict[str, str],
        credentials: dict[str, SecretStr] | None = None,
    ) -> None:
        self._session = session
        self._urls = urls
        self._credentials = credentials or {}
        self._tokens: dict[tuple[str, str], _Token] = {}

    async def resolve(self, registry: str, repository: str, tag: str) -> ImageRef | None:
        """The tag's current digest, or None when the registry does not have the tag."""
        base = self._urls.get(registry)
        if base is None:
            raise PermanentError(
                f"registry {registry!r} has no URL; add it to FERRYBOT_REGISTRY_URLS"
            )
        url = f"{base}/v2/{repository}/manifests/{tag}"
        headers = {"Accept": MANIFEST_TYPES}
        cached = self._tokens.get((registry, repository))
        if cached is not None and cached.expires > time.monotonic():
            headers["Authorization"] = f"Bearer {cached.value}"
        status, digest, challenge = await self._head(url, headers)
        if status == 401 and challenge:
            headers["Authorization"] = await self._authorization(
                registry, repository, base, challenge
            )
            status, digest, challenge = await self._head(url, headers)
        if status == 404:
            return None
        if status == 429 or status >= 500:
            raise TransientError(f"registry {registry} answered {status}")
        if status != 200:
            hint = " (set FERRYBOT_REGISTRY_CREDENTIALS)" if status in (401, 403) else ""
            raise PermanentError(
                f"registry {registry} answered {status} for {repository}:{tag}{hint}"
            )
        if digest is None:
            raise PermanentError(f"registry {registry} sent no Docker-Content-Digest for {tag}")
        return ImageRef(repository, tag, validate_digest(digest))

    async def _head(self, url: str, headers: dict[str, str]) -> tuple[int, str | None, str | None]:
        async with self._session.head(url, headers=headers, timeout=_TIMEOUT) as response:
            return (
                response.status,
                response.headers.get("Docker-Content-Digest"),
                response.headers.get("WWW-Authenticate"),
            )

    def _basic(self, registry: str) -> str | None:
        credential = self._credentials.get(registry)
        if credential is None:
            return None
        encoded = base64.b64encode(credential.get_secret_value().encode()).decode()
        return f"Basic {encoded}"

    async def _authorization(
        self, registry: str, repository: str, base: str, challenge: str
    ) -> str:
        scheme, _, rest = challenge.partition(" ")
        basic = self._basic(registry)
        if scheme.lower() == "basic":
            if basic is None:
                raise PermanentError(
                    f"registry {registry} wants a login; set FERRYBOT_REGISTRY_CREDENTIALS"
                )
            return basic
        params = dict(_PARAM.findall(rest))
        realm = params.get("realm", "")
        realm_parts, base_parts = urlsplit(realm), urlsplit(base)
        # Credentials only go to an https token service or to the registry's own host.
        if realm_parts.scheme != "https" and realm_parts.netloc != base_parts.netloc:
            raise PermanentError(f"registry {registry} named an unsafe token service {realm!r}")
        query = {"scope": params.get("scope") or f"repository:{repository}:pull"}
        if "service" in params:
            query["service"] = params["service"]
        login = {"Authorization": basic} if basic is not None else {}
        async with self._session.get(
            realm, params=query, headers=login, timeout=_TIMEOUT
        ) as response:
            if response.status >= 500 or response.status == 429:
                raise TransientError(f"token service of {registry} answered {response.status}")
            if response.status != 200:
                raise PermanentError(
                    f"token service of {registry} answered {response.status}; "
                    "check FERRYBOT_REGISTRY_CREDENTIALS"
                )
            body = await response.json(content_type=None)
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise PermanentError(f"token service of {registry} sent no token")
        lifetime = body.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) else 60.0
        expires = time.monotonic() + max(0.0, seconds - 10)
        self._tokens[(registry, repository)] = _Token(token, expires)
        return f"Bearer {token}"
