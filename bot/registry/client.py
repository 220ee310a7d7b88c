"""Registry reads: a tag's digest (`HEAD /v2/<name>/manifests/<tag>`), manifests, blobs."""

from __future__ import annotations

import base64
import hashlib
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
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
ALL_TYPES = ", ".join((MANIFEST_TYPES, "application/vnd.oci.artifact.manifest.v1+json"))
# Signatures, attestations and SBOM bundles are small; a larger answer is refused, not read.
MAX_BODY = 64 * 2**20
_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Fetched:
    """One registry answer: status, media type, body and headers."""

    status: int
    media_type: str
    body: bytes
    headers: dict[str, str]

    @property
    def digest(self) -> str:
        """The digest of the body as served (what a client pulling by digest gets)."""
        return "sha256:" + hashlib.sha256(self.body).hexdigest()


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

    def _base(self, registry: str) -> str:
        base = self._urls.get(registry)
        if base is None:
            raise PermanentError(
                f"registry {registry!r} has no URL; add it to FERRYBOT_REGISTRY_URLS"
            )
        return base

    async def resolve(self, registry: str, repository: str, tag: str) -> ImageRef | None:
        """The tag's current digest, or None when the registry does not have the tag."""
        answer = await self._call("HEAD", registry, repository, f"manifests/{tag}", MANIFEST_TYPES)
        if answer is None:
            return None
        digest = answer.headers.get("Docker-Content-Digest")
        if digest is None:
            raise PermanentError(f"registry {registry} sent no Docker-Content-Digest for {tag}")
        return ImageRef(repository, tag, validate_digest(digest))

    async def manifest(self, registry: str, repository: str, reference: str) -> Fetched | None:
        """A manifest or index by tag or digest, as the registry stores it (None: not there)."""
        return await self._call("GET", registry, repository, f"manifests/{reference}", ALL_TYPES)

    async def blob(self, registry: str, repository: str, digest: str) -> bytes:
        """A blob by digest, checked against the digest (a registry cannot swap it)."""
        validate_digest(digest)
        answer = await self._call("GET", registry, repository, f"blobs/{digest}", "*/*")
        if answer is None:
            raise PermanentError(f"registry {registry} has no blob {digest} in {repository}")
        if "sha256:" + hashlib.sha256(answer.body).hexdigest() != digest:
            raise PermanentError(f"registry {registry} sent a blob that is not {digest}")
        return answer.body

    async def referrers(self, registry: str, repository: str, digest: str) -> Fetched | None:
        """The OCI 1.1 referrers index of a digest; None where the registry has no such API."""
        validate_digest(digest)
        return await self._call(
            "GET", registry, repository, f"referrers/{digest}", INDEX_TYPE, missing_ok=True
        )

    async def _call(
        self,
        method: str,
        registry: str,
        repository: str,
        path: str,
        accept: str,
        missing_ok: bool = False,
    ) -> Fetched | None:
        base = self._base(registry)
        url = f"{base}/v2/{repository}/{path}"
        headers = {"Accept": accept}
        cached = self._tokens.get((registry, repository))
        if cached is not None and cached.expires > time.monotonic():
            headers["Authorization"] = f"Bearer {cached.value}"
        answer = await self._send(method, url, headers)
        challenge = answer.headers.get("WWW-Authenticate")
        if answer.status == 401 and challenge:
            headers["Authorization"] = await self._authorization(
                registry, repository, base, challenge
            )
            answer = await self._send(method, url, headers)
        if answer.status == 404 or (missing_ok and answer.status in (400, 405)):
            return None
        if answer.status == 429 or answer.status >= 500:
            raise TransientError(f"registry {registry} answered {answer.status}")
        if answer.status != 200:
            hint = " (set FERRYBOT_REGISTRY_CREDENTIALS)" if answer.status in (401, 403) else ""
            raise PermanentError(
                f"registry {registry} answered {answer.status} for {repository} {path}{hint}"
            )
        return answer

    async def _send(self, method: str, url: str, headers: dict[str, str]) -> Fetched:
        async with self._session.request(
            method, url, headers=headers, timeout=_TIMEOUT, allow_redirects=True
        ) as response:
            body = b""
            if method != "HEAD":
                # read(n) returns what has arrived, not n bytes: collect to EOF, bounded.
                async for chunk in response.content.iter_chunked(64 * 1024):
                    body += chunk
                    if len(body) > MAX_BODY:
                        raise PermanentError(f"{url} is larger than {MAX_BODY // 2**20} MiB")
            return Fetched(
                response.status,
                response.headers.get("Content-Type", "").split(";")[0].strip(),
                body,
                dict(response.headers.items()),
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


@dataclass(frozen=True)
class RepositoryReader:
    """The reads of one repository in one registry, as signature discovery wants them."""

    client: RegistryClient
    registry: str
    repository: str

    async def manifest(self, reference: str) -> Fetched | None:
        """A manifest or index by tag or digest."""
        return await self.client.manifest(self.registry, self.repository, reference)

    async def blob(self, digest: str) -> bytes:
        """A blob by digest."""
        return await self.client.blob(self.registry, self.repository, digest)

    async def referrers(self, digest: str) -> Fetched | None:
        """The referrers index, None without the API."""
        return await self.client.referrers(self.registry, self.repository, digest)
