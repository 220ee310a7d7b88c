"""Sigstore bundles as cosign 3 stores them: the DSSE envelope and who signed it (key or cert)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.trust.intoto import Envelope, EnvelopeError, parse_envelope
from bot.trust.keys import decode_b64


class BundleError(ValueError):
    """The bundle is not a Sigstore bundle ferrybot can read."""


@dataclass(frozen=True)
class ParsedBundle:
    """A bundle's envelope and verification material (certificate DER for keyless ones)."""

    media_type: str
    envelope: Envelope
    certificate: bytes | None
    key_hint: str | None
    tlog_entries: int


def parse_bundle(content: bytes) -> ParsedBundle:
    """Read the parts verification needs; a message-signature bundle is refused by name."""
    try:
        document = json.loads(content)
    except ValueError:
        raise BundleError("the bundle is not JSON") from None
    if not isinstance(document, dict):
        raise BundleError("the bundle is not a JSON object")
    media_type = str(document.get("mediaType", ""))
    if not media_type.startswith("application/vnd.dev.sigstore.bundle"):
        raise BundleError(f"media type {media_type!r} is not a Sigstore bundle")
    if "dsseEnvelope" not in document:
        raise BundleError(
            "the bundle holds a message signature, not a DSSE statement about the image; "
            "sign with cosign 3 (`cosign sign` / `cosign attest`)"
        )
    try:
        envelope = parse_envelope(document["dsseEnvelope"])
    except EnvelopeError as exc:
        raise BundleError(str(exc)) from None
    material = document.get("verificationMaterial") or {}
    if not isinstance(material, dict):
        raise BundleError("the bundle's verificationMaterial is malformed")
    certificate = None
    raw = material.get("certificate")
    chain = material.get("x509CertificateChain")
    if isinstance(raw, dict):
        certificate = decode_b64(str(raw.get("rawBytes", "")))
    elif isinstance(chain, dict) and chain.get("certificates"):
        first = chain["certificates"][0]
        certificate = (
            decode_b64(str(first.get("rawBytes", ""))) if isinstance(first, dict) else None
        )
    hint = (
        material.get("publicKey", {}).get("hint")
        if isinstance(material.get("publicKey"), dict)
        else None
    )
    if certificate is None and hint is None and (raw is not None or chain is not None):
        raise BundleError("the bundle's certificate is not base64 DER")
    entries = material.get("tlogEntries") or []
    return ParsedBundle(
        media_type,
        envelope,
        certificate,
        str(hint) if hint is not None else None,
        len(entries) if isinstance(entries, list) else 0,
    )
