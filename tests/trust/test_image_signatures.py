"""cosign signatures and attestations in a real Distribution registry: good, tampered, missing."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from bot.registry.client import RegistryClient, RepositoryReader
from bot.trust.images import COSIGN_SIGN, ImageVerdict, verify_image
from bot.trust.keys import TrustedKey, load_key
from schemas.rules import AttestationRule
from schemas.trust import ImagePolicy, ProvenancePolicy, VulnerabilityPolicy
from tests.support.cosign import (
    OCI_MANIFEST,
    RegistryWriter,
    SigningKey,
    dsse_envelope,
    keyed_bundle,
    simple_signing_payload,
    statement,
)
from tests.support.registry import DockerRegistry

_names = itertools.count(1)
NOW = datetime.now(UTC)
PROVENANCE = "https://slsa.dev/provenance/v1"
BUILDER = "https://github.com/actions/runner/github-hosted"
SOURCE = "https://github.com/acme/app"
VULN = "https://cosign.sigstore.dev/attestation/vuln/v1"


@dataclass
class Image:
    """One image pushed for one test, with clients to sign it and to verify it."""

    repository: str
    digest: str
    writer: RegistryWriter
    reader: RepositoryReader
    key: SigningKey

    @property
    def trusted(self) -> list[TrustedKey]:
        return [load_key("release", self.key.public_pem)]

    async def verify(
        self, policy: ImagePolicy | None = None, keys: list[TrustedKey] | None = None
    ) -> ImageVerdict:
        return await verify_image(
            self.reader,
            self.digest,
            policy or ImagePolicy(keys=["release"]),
            self.trusted if keys is None else keys,
            None,
            NOW,
        )


@pytest_asyncio.fixture
async def image(docker_registry: DockerRegistry) -> AsyncIterator[Image]:
    """A fresh repository with one image (so no test sees another's signatures)."""
    repository = f"trust/app{next(_names)}"
    docker_registry.push(repository, "1.0.0")
    digest = docker_registry.digest(repository, "1.0.0")
    async with aiohttp.ClientSession() as session:
        client = RegistryClient(session, {"distribution": docker_registry.url})
        yield Image(
            repository,
            digest,
            RegistryWriter(docker_registry.url),
            RepositoryReader(client, "distribution", repository),
            SigningKey.generate(),
        )


def _failed(verdict: ImageVerdict) -> str:
    assert not verdict.passed, verdict.rows
    return " | ".join(verdict.reasons)


@pytest.mark.parametrize("kind", ["ecdsa-p256", "ecdsa-p384", "rsa-2048", "ed25519"])
async def test_legacy_signature_verifies_with_each_key_type(image: Image, kind: str) -> None:
    """A `.sig` signature by an allowed key of any type cosign writes passes."""
    image.key = SigningKey.generate(kind)
    image.writer.sign_legacy(image.repository, image.digest, image.key)
    verdict = await image.verify()
    assert verdict.passed, verdict.rows
    assert verdict.signers == ["key release (.sig)"]


async def test_missing_signature_fails_closed(image: Image) -> None:
    """No signature at all is a failure that says where ferrybot looked."""
    reason = _failed(await image.verify())
    assert "no signature found" in reason
    assert image.digest.replace(":", "-") + ".sig" in reason


async def test_tampered_payload_fails(image: Image) -> None:
    """A payload changed after signing (same signature) does not verify."""
    signed = simple_signing_payload(image.repository, image.digest)
    changed = simple_signing_payload("evil.example/app", image.digest)
    image.writer.sign_legacy(
        image.repository, image.digest, image.key, payload=changed, signature=image.key.sign(signed)
    )
    assert "does not verify with any allowed key" in _failed(await image.verify())


async def test_tampered_signature_fails(image: Image) -> None:
    """A signature with one byte changed does not verify."""
    payload = simple_signing_payload(image.repository, image.digest)
    signature = bytearray(image.key.sign(payload))
    signature[10] ^= 0x01
    image.writer.sign_legacy(
        image.repository, image.digest, image.key, payload=payload, signature=bytes(signature)
    )
    assert "does not verify" in _failed(await image.verify())


async def test_signature_for_another_digest_fails(image: Image) -> None:
    """A valid signature whose payload names another digest does not vouch for this one."""
    other = "sha256:" + "ab" * 32
    payload = simple_signing_payload(image.repository, other)
    image.writer.sign_legacy(image.repository, image.digest, image.key, payload=payload)
    assert f"is for {other}" in _failed(await image.verify())


async def test_signature_by_another_key_fails(image: Image) -> None:
    """A signature by a key the policy does not name fails; no configured key fails too."""
    image.writer.sign_legacy(image.repository, image.digest, SigningKey.generate())
    assert "does not verify with any allowed key" in _failed(await image.verify())
    image.writer.sign_legacy(image.repository, image.digest, image.key)
    assert "does not verify" in _failed(await image.verify(keys=[]))


def _provenance(repository: str = SOURCE, ref: str = "refs/heads/main") -> dict[str, Any]:
    return {
        "buildDefinition": {
            "buildType": "https://actions.github.io/buildtypes/workflow/v1",
            "externalParameters": {
                "workflow": {"repository": repository, "ref": ref, "path": ".github/release.yml"}
            },
        },
        "runDetails": {
            "builder": {"id": BUILDER},
            "metadata": {"finishedOn": (NOW - timedelta(hours=1)).isoformat()},
        },
    }


def _scan(severity: str | None, age: timedelta) -> dict[str, Any]:
    found = [] if severity is None else [{"VulnerabilityID": "CVE-2026-0001", "Severity": severity}]
    return {
        "scanner": {
            "uri": "pkg:github/aquasecurity/trivy@0.58.0",
            "result": {"Results": [{"Target": "app", "Vulnerabilities": found}]},
        },
        "metadata": {"scanFinishedOn": (NOW - age).isoformat().replace("+00:00", "Z")},
    }


def _attest(image: Image, items: list[tuple[str, dict[str, Any]]], digest: str = "") -> None:
    envelopes = [
        (
            kind,
            dsse_envelope(statement(digest or image.digest, kind, p, image.repository), image.key),
        )
        for kind, p in items
    ]
    image.writer.attest_legacy(image.repository, image.digest, envelopes)


POLICY = ImagePolicy(
    keys=["release"],
    provenance=ProvenancePolicy(
        builder_ids=[BUILDER], source_repositories=[SOURCE], source_refs=["refs/heads/main"]
    ),
    sbom=True,
    vulnerabilities=VulnerabilityPolicy(max_severity="medium", max_age_seconds=86400),
    rules=[
        AttestationRule(
            name="workflow",
            predicate_type=PROVENANCE,
            expr='statement.predicate["buildDefinition.externalParameters.workflow.path"]'
            ' == ".github/release.yml"',
            message="Release images come from the release workflow.",
        )
    ],
)


@pytest.mark.parametrize(
    ("provenance", "scan", "sbom", "failing"),
    [
        (_provenance(), _scan("MEDIUM", timedelta(hours=2)), True, []),
        (_provenance(ref="refs/heads/dev"), _scan(None, timedelta(hours=2)), True, ["SLSA"]),
        (_provenance("https://github.com/evil/app"), _scan(None, timedelta(0)), True, ["SLSA"]),
        (_provenance(), _scan("CRITICAL", timedelta(hours=2)), True, ["vulnerability scan"]),
        (_provenance(), _scan(None, timedelta(days=3)), True, ["vulnerability scan"]),
        (_provenance(), _scan(None, timedelta(hours=2)), False, ["SBOM"]),
    ],
    ids=["all-good", "wrong-ref", "wrong-repo", "too-severe", "too-old", "no-sbom"],
)
async def test_attestation_policies(
    image: Image,
    provenance: dict[str, Any],
    scan: dict[str, Any],
    sbom: bool,
    failing: list[str],
) -> None:
    """Provenance, SBOM and scan rows pass or fail on what the signed statements say."""
    image.writer.sign_legacy(image.repository, image.digest, image.key)
    items = [(PROVENANCE, provenance), (VULN, scan)]
    if sbom:
        items.append(("https://spdx.dev/Document", {"spdxVersion": "SPDX-2.3"}))
    _attest(image, items)
    verdict = await image.verify(POLICY)
    failed = [row.check for row in verdict.rows if not row.passed]
    assert [f for f in failed if any(f.startswith(x) for x in failing)] == failed
    assert bool(failed) == bool(failing)


async def test_cel_rule_false_shows_its_message(image: Image) -> None:
    """A CEL condition that is false fails with its message; true passes."""
    image.writer.sign_legacy(image.repository, image.digest, image.key)
    provenance = _provenance()
    provenance["buildDefinition"]["externalParameters"]["workflow"]["path"] = ".github/dev.yml"
    _attest(image, [(PROVENANCE, provenance)])
    policy = ImagePolicy(keys=["release"], rules=POLICY.rules)
    verdict = await image.verify(policy)
    (row,) = [r for r in verdict.rows if r.check == "workflow"]
    assert not row.passed and "Release images come from the release workflow." in row.detail
    _attest(image, [(PROVENANCE, _provenance())])
    assert (await image.verify(policy)).passed


async def test_statement_about_another_digest_fails(image: Image) -> None:
    """A signed attestation stored for this digest but about another one fails the policy."""
    image.writer.sign_legacy(image.repository, image.digest, image.key)
    _attest(image, [(PROVENANCE, _provenance())], digest="sha256:" + "cd" * 32)
    verdict = await image.verify(ImagePolicy(keys=["release"]))
    assert "attestation subjects" in [r.check for r in verdict.rows if not r.passed]


async def test_unsigned_attestation_is_not_evidence(image: Image) -> None:
    """An attestation signed by another key does not satisfy the provenance policy."""
    image.writer.sign_legacy(image.repository, image.digest, image.key)
    own = image.key
    image.key = SigningKey.generate()
    _attest(image, [(PROVENANCE, _provenance())])
    image.key = own
    policy = ImagePolicy(keys=["release"], provenance=POLICY.provenance)
    reason = _failed(await image.verify(policy))
    assert "no signed SLSA provenance" in reason


def _bundle_entry(image: Image, kind: str, predicate: dict[str, Any]) -> dict[str, Any]:
    envelope = dsse_envelope(statement(image.digest, kind, predicate, image.repository), image.key)
    return image.writer.bundle_artifact(
        image.repository, image.digest, keyed_bundle(envelope, image.key), kind
    )


async def test_cosign3_bundles_in_the_fallback_index(image: Image) -> None:
    """Bundles under the `sha256-<hex>` index are found by artifactType and verified."""
    signature = _bundle_entry(image, COSIGN_SIGN, {})
    # Entries typed like Kyverno's bug reports: the empty descriptor, no artifactType.
    signature_untyped = {k: v for k, v in signature.items() if k != "artifactType"}
    provenance = _bundle_entry(image, PROVENANCE, _provenance())
    sbom_blob = image.writer.blob(image.repository, b'{"spdxVersion": "SPDX-2.3"}')
    other = {
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/spdx+json",
        **sbom_blob,
    }
    image.writer.fallback_index(
        image.repository, image.digest, [signature_untyped, provenance, other]
    )
    verdict = await image.verify(ImagePolicy(keys=["release"], provenance=POLICY.provenance))
    assert verdict.passed, verdict.rows
    assert verdict.signers == ["key release (bundle)"]


async def test_cosign3_bundle_by_another_key_fails(image: Image) -> None:
    """A bundle signed by a key outside the policy is refused."""
    signature = _bundle_entry(image, COSIGN_SIGN, {})
    image.writer.fallback_index(image.repository, image.digest, [signature])
    other = load_key("other", SigningKey.generate().public_pem)
    reason = _failed(await image.verify(keys=[other]))
    assert "not signed by an allowed key" in reason


async def test_registry_without_referrers_api_is_asked_for_the_index(image: Image) -> None:
    """Debian's registry answers 404 on referrers: discovery falls back to the index tag."""
    assert await image.reader.referrers(image.digest) is None
    reason = _failed(await image.verify())
    assert "referrers API" not in reason and image.digest.replace(":", "-") in reason


def test_key_set_id_ignores_order_and_names() -> None:
    """The cache key of a key set is the same whatever the order or names of the keys."""
    from bot.trust.keys import key_set_id

    a, b = SigningKey.generate().public_pem, SigningKey.generate().public_pem
    assert key_set_id([load_key("x", a), load_key("y", b)]) == key_set_id(
        [load_key("q", b), load_key("r", a)]
    )
    assert key_set_id([load_key("x", a)]) != key_set_id([load_key("x", b)])
