"""Find cosign's objects for one digest in an OCI registry: legacy tags and Sigstore bundles."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.gitops.identifiers import InvalidIdentifier, validate_digest

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json"
BUNDLE_PREFIX = "application/vnd.dev.sigstore.bundle"
EMPTY = "application/vnd.oci.empty.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate"
CHAIN_ANNOTATION = "dev.sigstore.cosign/chain"
# Registries hold many referrers per digest (SBOMs, scans, re-signatures); more is refused.
MAX_OBJECTS = 50


class Fetched(Protocol):
    """A registry answer (bot.registry.client.Fetched has this shape)."""

    @property
    def media_type(self) -> str: ...

    @property
    def body(self) -> bytes: ...

    @property
    def digest(self) -> str: ...


class OciReader(Protocol):
    """The registry reads verification needs, for one repository."""

    async def manifest(self, reference: str) -> Fetched | None:
        """A manifest or index by tag or digest, None when absent."""
        ...

    async def blob(self, digest: str) -> bytes:
        """A blob by digest (checked against it)."""
        ...

    async def referrers(self, digest: str) -> Fetched | None:
        """The referrers index, None when the registry has no referrers API."""
        ...


class DiscoveryError(ValueError):
    """The registry holds something for the digest that is not what cosign writes."""


@dataclass(frozen=True)
class LegacyLayer:
    """One layer of a `.sig` or `.att` manifest: its payload and cosign's annotations."""

    media_type: str
    payload: bytes
    annotations: dict[str, str]


@dataclass(frozen=True)
class Bundle:
    """A Sigstore bundle stored as an OCI artifact whose subject is the digest."""

    manifest_digest: str
    artifact_type: str
    content: bytes
    annotations: dict[str, str]


@dataclass(frozen=True)
class Found:
    """Everything cosign stored for one digest, and where it looked."""

    signatures: list[LegacyLayer] = field(default_factory=list)
    attestations: list[LegacyLayer] = field(default_factory=list)
    bundles: list[Bundle] = field(default_factory=list)
    looked_at: list[str] = field(default_factory=list)


def legacy_tag(digest: str, suffix: str) -> str:
    """`sha256-<hex>.sig` / `.att`, or `sha256-<hex>` (the referrers fallback index)."""
    algorithm, _, hex_ = validate_digest(digest).partition(":")
    return f"{algorithm}-{hex_}{suffix}"


def _json(body: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        raise DiscoveryError(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise DiscoveryError(f"{what} is not a JSON object")
    return value


def artifact_type(manifest: dict[str, Any]) -> str | None:
    """The manifest's artifact type: `artifactType`, else a non-empty config media type."""
    declared = manifest.get("artifactType")
    if isinstance(declared, str) and declared:
        return declared
    config = manifest.get("config")
    media = config.get("mediaType") if isinstance(config, dict) else None
    return media if isinstance(media, str) and media != EMPTY else None


def _descriptors(document: dict[str, Any], key: str, what: str) -> list[dict[str, Any]]:
    items = document.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise DiscoveryError(f"{what} has a malformed `{key}` list")
    if len(items) > MAX_OBJECTS:
        raise DiscoveryError(f"{what} lists {len(items)} objects; at most {MAX_OBJECTS} are read")
    return items


def _digest_of(descriptor: dict[str, Any], what: str) -> str:
    try:
        return validate_digest(str(descriptor.get("digest", "")))
    except InvalidIdentifier:
        raise DiscoveryError(f"{what} has a descriptor without a valid digest") from None


async def _legacy(reader: OciReader, digest: str, suffix: str, found: Found) -> list[LegacyLayer]:
    tag = legacy_tag(digest, suffix)
    found.looked_at.append(tag)
    fetched = await reader.manifest(tag)
    if fetched is None:
        return []
    manifest = _json(fetched.body, f"tag {tag}")
    layers = []
    for layer in _descriptors(manifest, "layers", f"tag {tag}"):
        annotations = layer.get("annotations") or {}
        if not isinstance(annotations, dict):
            raise DiscoveryError(f"tag {tag} has a layer with malformed annotations")
        payload = await reader.blob(_digest_of(layer, f"tag {tag}"))
        layers.append(
            LegacyLayer(
                str(layer.get("mediaType", "")),
                payload,
                {str(k): str(v) for k, v in annotations.items()},
            )
        )
    return layers


async def _bundles(reader: OciReader, digest: str, found: Found) -> list[Bundle]:
    index = await reader.referrers(digest)
    where = "referrers API"
    if index is None:
        tag = legacy_tag(digest, "")
        index = await reader.manifest(tag)
        where = f"tag {tag}"
    found.looked_at.append(where)
    if index is None:
        return []
    document = _json(index.body, where)
    bundles = []
    for entry in _descriptors(document, "manifests", where):
        manifest_digest = _digest_of(entry, where)
        # Select by artifactType (of the entry, else of the manifest), never by the empty
        # config descriptor: entries may carry `application/vnd.oci.empty.v1+json` anyway.
        declared = entry.get("artifactType")
        if isinstance(declared, str) and declared and not declared.startswith(BUNDLE_PREFIX):
            continue
        fetched = await reader.manifest(manifest_digest)
        if fetched is None or fetched.digest != manifest_digest:
            raise DiscoveryError(f"{where} names {manifest_digest}, which the registry lacks")
        manifest = _json(fetched.body, f"manifest {manifest_digest}")
        kind = artifact_type(manifest)
        if kind is None or not kind.startswith(BUNDLE_PREFIX):
            continue
        subject = manifest.get("subject")
        if not isinstance(subject, dict) or subject.get("digest") != digest:
            # A bundle about another image cannot vouch for this one.
            continue
        layers = _descriptors(manifest, "layers", f"manifest {manifest_digest}")
        content = [
            layer for layer in layers if str(layer.get("mediaType", "")).startswith(BUNDLE_PREFIX)
        ]
        if len(content) != 1:
            raise DiscoveryError(f"bundle manifest {manifest_digest} has no single bundle layer")
        annotations = manifest.get("annotations") or {}
        bundles.append(
            Bundle(
                manifest_digest,
                kind,
                await reader.blob(_digest_of(content[0], f"manifest {manifest_digest}")),
                {str(k): str(v) for k, v in annotations.items()}
                if isinstance(annotations, dict)
                else {},
            )
        )
    return bundles


async def discover(reader: OciReader, digest: str) -> Found:
    """Legacy `.sig` and `.att` layers and cosign 3 bundles for `digest`."""
    found = Found()
    found.signatures.extend(await _legacy(reader, digest, ".sig", found))
    found.attestations.extend(await _legacy(reader, digest, ".att", found))
    found.bundles.extend(await _bundles(reader, digest, found))
    return found
