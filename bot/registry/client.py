"""Confirm a tag and read its manifest digest: `HEAD /v2/<name>/manifests/<tag>`."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from bot.gitops.identifiers import validate_digest
from bot.retry import PermanentError, TransientError

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


@dataclass(frozen=True)
class ImageRef:
    """A tag the registry confirmed, with the digest it points at now."""

    repository: str
    tag: str
    digest: str


class RegistryClient:
    """Looks tags up in the registries named in FERRYBOT_REGISTRY_URLS."""

    def __init__(self, session: aiohttp.ClientSession, urls: dict[str, str]) -> None:
        self._session = session
        self._urls = urls

    async def resolve(self, registry: str, repository: str, tag: str) -> ImageRef | None:
        """The tag's current digest, or None when the registry does not have the tag."""
        base = self._urls.get(registry)
        if base is None:
            raise PermanentError(
                f"registry {registry!r} has no URL; add it to FERRYBOT_REGISTRY_URLS"
            )
        url = f"{base}/v2/{repository}/manifests/{tag}"
        headers = {"Accept": MANIFEST_TYPES}
        async with self._session.head(url, headers=headers, timeout=_TIMEOUT) as response:
            if response.status == 404:
                return None
            if response.status == 429 or response.status >= 500:
                raise TransientError(f"registry {registry} answered {response.status}")
            if response.status != 200:
                raise PermanentError(
                    f"registry {registry} answered {response.status} for {repository}:{tag}"
                )
            digest = response.headers.get("Docker-Content-Digest")
        if digest is None:
            raise PermanentError(f"registry {registry} sent no Docker-Content-Digest for {tag}")
        return ImageRef(repository, tag, validate_digest(digest))
