"""Keyless (Fulcio certificate + Rekor entry) bundles: identity policy, offline verification."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sigstore.errors import Error as SigstoreError
from sigstore.errors import VerificationError
from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier
from sigstore.verify.policy import (
    AllOf,
    AnyOf,
    GitHubWorkflowRef,
    GitHubWorkflowRepository,
    Identity,
    OIDCIssuer,
    OIDCIssuerV2,
    OIDCSourceRepositoryRef,
    OIDCSourceRepositoryURI,
    VerificationPolicy,
)

from schemas.trust import KeylessIdentity

_SAN_TYPES = (x509.RFC822Name, x509.UniformResourceIdentifier)


class KeylessError(ValueError):
    """The bundle does not verify, or its signer is not an allowed identity."""


class SubjectPattern:
    """The certificate's identity (SAN) matches a regular expression, as a whole."""

    def __init__(self, pattern: str) -> None:
        self._pattern = re.compile(pattern)

    def verify(self, cert: x509.Certificate) -> None:
        """Raise when no SAN of the certificate matches."""
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            raise VerificationError("the certificate has no subject alternative name") from None
        names = [str(v) for kind in _SAN_TYPES for v in san.get_values_for_type(kind)]
        if not any(self._pattern.fullmatch(name) for name in names):
            raise VerificationError(f"no identity matches {self._pattern.pattern!r}: {names}")


def identity_policy(identity: KeylessIdentity) -> VerificationPolicy:
    """The sigstore policy for one allowed signer (Fulcio's v1 or v2 extensions)."""
    parts: list[VerificationPolicy] = [
        AnyOf([OIDCIssuerV2(identity.issuer), OIDCIssuer(identity.issuer)])
    ]
    if identity.subject is not None:
        parts.append(Identity(identity=identity.subject))
    if identity.subject_regexp is not None:
        parts.append(SubjectPattern(identity.subject_regexp))
    if identity.workflow_repository is not None:
        repo = identity.workflow_repository
        parts.append(
            AnyOf(
                [
                    GitHubWorkflowRepository(repo),
                    OIDCSourceRepositoryURI(f"https://github.com/{repo}"),
                ]
            )
        )
    if identity.workflow_ref is not None:
        ref = identity.workflow_ref
        parts.append(AnyOf([GitHubWorkflowRef(ref), OIDCSourceRepositoryRef(ref)]))
    return AllOf(parts)


def signer_of(certificate_der: bytes, identities: list[KeylessIdentity]) -> KeylessIdentity | None:
    """The first allowed identity the certificate satisfies (its chain is not checked here)."""
    cert = x509.load_der_x509_certificate(certificate_der)
    for identity in identities:
        try:
            identity_policy(identity).verify(cert)
        except VerificationError:
            continue
        return identity
    return None


@lru_cache(maxsize=4)
def _verifier(trusted_root: str) -> Verifier:
    return Verifier(trusted_root=TrustedRoot.from_file(trusted_root))


@dataclass(frozen=True)
class KeylessResult:
    """The verified DSSE payload and the identity that signed it."""

    payload_type: str
    payload: bytes
    identity: KeylessIdentity


def verify_bundle(
    content: bytes, identities: list[KeylessIdentity], trusted_root: str
) -> KeylessResult:
    """Chain to the trusted root's Fulcio CA, Rekor entry and SCT, signature, and identity."""
    try:
        bundle = Bundle.from_json(content)
    except SigstoreError as exc:
        raise KeylessError(f"the bundle cannot be read: {exc}") from None
    cert_der = bundle.signing_certificate.public_bytes(Encoding.DER)
    identity = signer_of(cert_der, identities)
    if identity is None:
        raise KeylessError("the certificate's identity is not one the policy allows")
    try:
        verifier = _verifier(trusted_root)
        payload_type, payload = verifier.verify_dsse(bundle, identity_policy(identity))
    except (SigstoreError, ValueError, OSError) as exc:
        raise KeylessError(f"the bundle does not verify against the trusted root: {exc}") from None
    return KeylessResult(payload_type, payload, identity)
