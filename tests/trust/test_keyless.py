"""Keyless Sigstore bundles: a recorded staging bundle verified offline, identity policy, tamper."""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from bot.registry.client import RegistryClient, RepositoryReader
from bot.trust.bundles import parse_bundle
from bot.trust.images import verify_image
from bot.trust.intoto import parse_statement
from bot.trust.keyless import KeylessError, signer_of, verify_bundle
from schemas.trust import ImagePolicy, KeylessIdentity
from tests.support.cosign import RegistryWriter
from tests.support.registry import DockerRegistry

DATA = Path(__file__).resolve().parents[1] / "data" / "trust"
BUNDLE = DATA / "staging-keyless-dsse.sigstore.json"
ROOT = str(DATA / "staging-trusted-root.json")
ISSUER = "https://token.actions.githubusercontent.com"
REPO = "sigstore-conformance/extremely-dangerous-public-oidc-beacon"
SUBJECT = f"https://github.com/{REPO}/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
A_TXT = "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf"


def test_recorded_bundle_verifies_offline() -> None:
    """Fulcio chain, SCT, Rekor entry and DSSE signature verify against the staging root."""
    result = verify_bundle(
        BUNDLE.read_bytes(), [KeylessIdentity(issuer=ISSUER, subject=SUBJECT)], ROOT
    )
    parsed = parse_bundle(BUNDLE.read_bytes())
    statement = parse_statement(parsed.envelope)
    assert result.payload_type == "application/vnd.in-toto+json"
    assert statement.subjects == [A_TXT]
    assert statement.predicate_type.startswith("https://slsa.dev/provenance/")
    assert parsed.certificate is not None and parsed.tlog_entries == 1


@pytest.mark.parametrize(
    ("identity", "allowed"),
    [
        ({"subject": SUBJECT}, True),
        ({"subject_regexp": r"https://github\.com/sigstore-conformance/.*@refs/heads/main"}, True),
        ({"subject_regexp": r"https://github\.com/acme/.*"}, False),
        ({"subject": SUBJECT.replace("main", "dev")}, False),
        ({"subject": SUBJECT, "issuer": "https://accounts.google.com"}, False),
        (
            {
                "subject_regexp": ".*",
                "workflow_repository": REPO,
                "workflow_ref": "refs/heads/main",
            },
            True,
        ),
        ({"subject_regexp": ".*", "workflow_repository": "acme/app"}, False),
        ({"subject_regexp": ".*", "workflow_ref": "refs/tags/v1"}, False),
    ],
    ids=[
        "exact-subject",
        "subject-regexp",
        "other-org",
        "other-ref-in-subject",
        "other-issuer",
        "workflow-repo-and-ref",
        "other-workflow-repo",
        "other-workflow-ref",
    ],
)
def test_identity_policy_on_the_recorded_bundle(identity: dict[str, str], allowed: bool) -> None:
    """Only the configured issuer and identity (subject, workflow repository, ref) verify."""
    policy = KeylessIdentity.model_validate({"issuer": ISSUER, **identity})
    if allowed:
        assert verify_bundle(BUNDLE.read_bytes(), [policy], ROOT).identity == policy
    else:
        with pytest.raises(KeylessError, match="not one the policy allows"):
            verify_bundle(BUNDLE.read_bytes(), [policy], ROOT)


def _tampered() -> bytes:
    bundle = json.loads(BUNDLE.read_text())
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    statement["subject"][0]["digest"]["sha256"] = "b" * 64
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    return json.dumps(bundle).encode()


def test_tampered_statement_does_not_verify() -> None:
    """A statement changed after signing fails the DSSE and log-entry checks."""
    with pytest.raises(KeylessError, match="does not verify against the trusted root"):
        verify_bundle(_tampered(), [KeylessIdentity(issuer=ISSUER, subject=SUBJECT)], ROOT)


def test_other_trusted_root_refuses(tmp_path: Path) -> None:
    """The same bundle against a root without its CAs and logs fails (nothing is fetched)."""
    root = json.loads(Path(ROOT).read_text())
    root["certificateAuthorities"] = root["certificateAuthorities"][:0]
    other = tmp_path / "root.json"
    other.write_text(json.dumps(root))
    with pytest.raises(KeylessError, match="does not verify"):
        verify_bundle(
            BUNDLE.read_bytes(), [KeylessIdentity(issuer=ISSUER, subject=SUBJECT)], str(other)
        )


def _utf8(value: str) -> bytes:
    raw = value.encode()
    assert len(raw) < 128
    return b"\x0c" + bytes([len(raw)]) + raw


def _fulcio_like(san: str, extensions: dict[str, bytes]) -> bytes:
    """A certificate shaped like Fulcio's (SAN URI, OIDC extensions), from a throwaway CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-ca")]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(minutes=10))
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(san)]), critical=True
        )
    )
    for oid, value in extensions.items():
        builder = builder.add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), critical=False
        )
    return builder.sign(key, hashes.SHA256()).public_bytes(Encoding.DER)


def test_identity_policy_reads_fulcio_v2_extensions_only() -> None:
    """A certificate with only Fulcio's v2 (DER) extensions matches issuer, repository and ref."""
    san = "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.4.0"
    cert = _fulcio_like(
        san,
        {
            "1.3.6.1.4.1.57264.1.8": _utf8(ISSUER),
            "1.3.6.1.4.1.57264.1.12": _utf8("https://github.com/acme/app"),
            "1.3.6.1.4.1.57264.1.14": _utf8("refs/tags/v1.4.0"),
        },
    )
    good = KeylessIdentity(
        issuer=ISSUER, subject=san, workflow_repository="acme/app", workflow_ref="refs/tags/v1.4.0"
    )
    other_ref = good.model_copy(update={"workflow_ref": "refs/heads/main"})
    other_issuer = good.model_copy(update={"issuer": "https://gitlab.com"})
    assert signer_of(cert, [other_ref, other_issuer, good]) == good
    assert signer_of(cert, [other_ref, other_issuer]) is None


def test_identity_needs_a_subject() -> None:
    """An identity naming only an issuer would admit anyone it issues for: refused."""
    with pytest.raises(ValueError, match="needs `subject` or `subject_regexp`"):
        KeylessIdentity(issuer=ISSUER)


@pytest_asyncio.fixture
async def reader(docker_registry: DockerRegistry) -> AsyncIterator[tuple[RepositoryReader, str]]:
    """An image whose fallback index holds the recorded keyless bundle."""
    repository = "trust/keyless"
    docker_registry.push(repository, "1.0.0", content="keyless")
    digest = docker_registry.digest(repository, "1.0.0")
    writer = RegistryWriter(docker_registry.url)
    entry = writer.bundle_artifact(
        repository, digest, BUNDLE.read_bytes(), "https://slsa.dev/provenance/v1"
    )
    writer.fallback_index(repository, digest, [entry])
    async with aiohttp.ClientSession() as session:
        client = RegistryClient(session, {"distribution": docker_registry.url})
        yield RepositoryReader(client, "distribution", repository), digest


async def test_keyless_bundle_in_the_registry_is_verified_then_held_to_the_digest(
    reader: tuple[RepositoryReader, str],
) -> None:
    """Found by artifactType, verified keylessly, and refused: its statement is about a.txt."""
    repository, digest = reader
    policy = ImagePolicy(keyless=[KeylessIdentity(issuer=ISSUER, subject=SUBJECT)])
    now = datetime.datetime.now(datetime.UTC)
    verdict = await verify_image(repository, digest, policy, [], ROOT, now)
    reasons = " | ".join(verdict.reasons)
    assert not verdict.passed
    assert f"signed by {SUBJECT} via {ISSUER} is about {A_TXT}, not {digest}" in reasons
    unrooted = await verify_image(repository, digest, policy, [], None, now)
    assert "needs `trust.trusted_root`" in " | ".join(unrooted.reasons)
