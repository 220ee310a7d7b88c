"""Verify one image digest: cosign signatures and attestations against a policy, fail closed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.trust.attestations import (
    Row,
    provenance_row,
    rule_row,
    sbom_row,
    vulnerability_row,
)
from bot.trust.bundles import BundleError, parse_bundle
from bot.trust.intoto import (
    Envelope,
    EnvelopeError,
    Statement,
    parse_envelope,
    parse_statement,
)
from bot.trust.keyless import KeylessError, verify_bundle
from bot.trust.keys import TrustedKey, decode_b64, verified_by
from bot.trust.oci import (
    CERTIFICATE_ANNOTATION,
    DSSE_ENVELOPE,
    SIGNATURE_ANNOTATION,
    SIMPLE_SIGNING,
    DiscoveryError,
    Found,
    OciReader,
    discover,
)
from bot.trust.simplesigning import PayloadError, parse_payload
from schemas.trust import ImagePolicy

# cosign 3 signs an image as an in-toto statement of this type inside a bundle.
COSIGN_SIGN = "https://sigstore.dev/cosign/sign/v1"


@dataclass
class ImageVerdict:
    """The rows of the check, who signed, and the digest they are about."""

    digest: str
    rows: list[Row] = field(default_factory=list)
    signers: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Every row passed, and there is at least one (nothing checked is no pass)."""
        return bool(self.rows) and all(row.passed for row in self.rows)

    @property
    def reasons(self) -> list[str]:
        """One line per failed row."""
        return [f"{row.check}: {row.detail}" for row in self.rows if not row.passed]


@dataclass
class _Evidence:
    signers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)


def _legacy_signatures(found: Found, digest: str, keys: list[TrustedKey], out: _Evidence) -> None:
    for layer in found.signatures:
        if layer.media_type != SIMPLE_SIGNING:
            out.problems.append(f"a `.sig` layer of type {layer.media_type!r} was skipped")
            continue
        if CERTIFICATE_ANNOTATION in layer.annotations and not keys:
            out.problems.append(
                "a legacy keyless `.sig` signature was found; ferrybot verifies keyless "
                "signatures as cosign 3 bundles"
            )
            continue
        signature = decode_b64(layer.annotations.get(SIGNATURE_ANNOTATION, ""))
        if not signature:
            out.problems.append("a `.sig` layer has no signature annotation")
            continue
        key = verified_by(keys, signature, layer.payload)
        if key is None:
            out.problems.append("a `.sig` signature does not verify with any allowed key")
            continue
        try:
            payload = parse_payload(layer.payload)
        except PayloadError as exc:
            out.problems.append(f"a `.sig` payload was refused: {exc}")
            continue
        if payload.digest != digest:
            out.problems.append(f"a `.sig` signature by {key.name} is for {payload.digest}")
            continue
        out.signers.append(f"key {key.name} (.sig)")


def _legacy_attestations(found: Found, digest: str, keys: list[TrustedKey], out: _Evidence) -> None:
    for layer in found.attestations:
        if layer.media_type != DSSE_ENVELOPE:
            out.problems.append(f"an `.att` layer of type {layer.media_type!r} was skipped")
            continue
        try:
            envelope = parse_envelope(layer.payload)
        except EnvelopeError as exc:
            out.problems.append(f"an `.att` envelope was refused: {exc}")
            continue
        key = envelope.signed_by(keys)
        if key is None:
            out.problems.append("an `.att` attestation is not signed by an allowed key")
            continue
        _accept_statement(envelope_statement(envelope), digest, f"key {key.name}", out)


def envelope_statement(envelope: Envelope) -> Statement | EnvelopeError:
    """The statement of a verified envelope, or why it is not one."""
    try:
        return parse_statement(envelope)
    except EnvelopeError as exc:
        return exc


def _accept_statement(
    statement: Statement | EnvelopeError, digest: str, signer: str, out: _Evidence
) -> None:
    if isinstance(statement, EnvelopeError):
        out.problems.append(f"a statement signed by {signer} was refused: {statement}")
        return
    if digest not in statement.subjects:
        # Every statement stored for this digest must be about it, or the policy fails.
        out.problems.append(
            f"a `{statement.predicate_type}` statement signed by {signer} is about "
            f"{', '.join(statement.subjects) or 'no digest'}, not {digest}"
        )
        out.statements.append(statement)
        return
    if statement.predicate_type == COSIGN_SIGN:
        out.signers.append(f"{signer} (bundle)")
    else:
        out.statements.append(statement)


def _bundles(
    found: Found,
    digest: str,
    keys: list[TrustedKey],
    policy: ImagePolicy,
    trusted_root: str | None,
    out: _Evidence,
) -> None:
    for stored in found.bundles:
        try:
            bundle = parse_bundle(stored.content)
        except BundleError as exc:
            out.problems.append(f"bundle {stored.manifest_digest[:19]}… refused: {exc}")
            continue
        if bundle.certificate is None:
            key = bundle.envelope.signed_by(keys)
            if key is None:
                out.problems.append("a bundle is not signed by an allowed key")
                continue
            _accept_statement(envelope_statement(bundle.envelope), digest, f"key {key.name}", out)
            continue
        if not policy.keyless:
            out.problems.append("a keyless bundle was found; the policy allows no keyless signer")
            continue
        if trusted_root is None:
            out.problems.append("a keyless bundle needs `trust.trusted_root` to be verified")
            continue
        try:
            result = verify_bundle(stored.content, list(policy.keyless), trusted_root)
        except KeylessError as exc:
            out.problems.append(f"a keyless bundle was refused: {exc}")
            continue
        who = result.identity.subject or result.identity.subject_regexp or "?"
        _accept_statement(
            envelope_statement(bundle.envelope), digest, f"{who} via {result.identity.issuer}", out
        )


async def verify_image(
    reader: OciReader,
    digest: str,
    policy: ImagePolicy,
    keys: list[TrustedKey],
    trusted_root: str | None,
    now: datetime,
) -> ImageVerdict:
    """Signature, attestation-subject and policy rows for `digest`; any gap fails."""
    verdict = ImageVerdict(digest)
    try:
        found = await discover(reader, digest)
    except DiscoveryError as exc:
        verdict.rows.append(Row("signature", False, f"the registry's signature data: {exc}"))
        return verdict
    evidence = _Evidence()
    _legacy_signatures(found, digest, keys, evidence)
    _legacy_attestations(found, digest, keys, evidence)
    _bundles(found, digest, keys, policy, trusted_root, evidence)
    verdict.signers = evidence.signers
    if evidence.signers:
        verdict.rows.append(Row("signature", True, "signed by " + ", ".join(evidence.signers)))
    else:
        why = "; ".join(evidence.problems) or (
            "no signature found (looked at " + ", ".join(found.looked_at) + ")"
        )
        verdict.rows.append(Row("signature", False, why))
    foreign = [p for p in evidence.problems if " is about " in p]
    if foreign:
        verdict.rows.append(Row("attestation subjects", False, "; ".join(foreign)))
    good = [s for s in evidence.statements if digest in s.subjects]
    if policy.provenance is not None:
        verdict.rows.append(provenance_row(good, policy.provenance))
    if policy.sbom:
        verdict.rows.append(sbom_row(good))
    if policy.vulnerabilities is not None:
        verdict.rows.append(vulnerability_row(good, policy.vulnerabilities, now))
    verdict.rows += [rule_row(good, rule, now) for rule in policy.rules]
    return verdict
