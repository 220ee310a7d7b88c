"""DSSE envelopes and the in-toto statements inside them: signature over PAE, subjects."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from bot.trust.keys import TrustedKey, decode_b64, verified_by

IN_TOTO = "application/vnd.in-toto+json"
STATEMENT_TYPES = ("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1")


class EnvelopeError(ValueError):
    """The envelope or its statement is not what DSSE / in-toto define."""


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what is actually signed."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class Envelope:
    """A parsed DSSE envelope: payload type, payload bytes and raw signatures."""

    payload_type: str
    payload: bytes
    signatures: list[bytes]

    def signed_by(self, keys: list[TrustedKey]) -> TrustedKey | None:
        """The trusted key that signed this envelope, if any."""
        message = pae(self.payload_type, self.payload)
        for signature in self.signatures:
            key = verified_by(keys, signature, message)
            if key is not None:
                return key
        return None


def parse_envelope(document: Any) -> Envelope:
    """An envelope from its JSON form (`payloadType`, base64 `payload`, `signatures[].sig`)."""
    if isinstance(document, bytes | str):
        try:
            document = json.loads(document)
        except ValueError:
            raise EnvelopeError("the DSSE envelope is not JSON") from None
    if not isinstance(document, dict):
        raise EnvelopeError("the DSSE envelope is not a JSON object")
    payload_type = document.get("payloadType")
    payload = decode_b64(str(document.get("payload", "")))
    raw = document.get("signatures")
    if not isinstance(payload_type, str) or payload is None or not isinstance(raw, list):
        raise EnvelopeError("the DSSE envelope lacks payloadType, payload or signatures")
    signatures = []
    for item in raw:
        sig = decode_b64(str(item.get("sig", ""))) if isinstance(item, dict) else None
        if sig is None:
            raise EnvelopeError("a DSSE signature is not base64")
        signatures.append(sig)
    return Envelope(payload_type, payload, signatures)


@dataclass(frozen=True)
class Statement:
    """An in-toto statement: its type, predicate type, subject digests and predicate."""

    type: str
    predicate_type: str
    subjects: list[str]
    predicate: dict[str, Any]


def parse_statement(envelope: Envelope) -> Statement:
    """The in-toto statement an envelope carries."""
    if envelope.payload_type != IN_TOTO:
        raise EnvelopeError(f"payload type is {envelope.payload_type!r}, not {IN_TOTO}")
    try:
        document = json.loads(envelope.payload)
    except ValueError:
        raise EnvelopeError("the statement is not JSON") from None
    if not isinstance(document, dict) or document.get("_type") not in STATEMENT_TYPES:
        raise EnvelopeError("the payload is not an in-toto statement")
    subjects = []
    for subject in document.get("subject") or []:
        digests = subject.get("digest") if isinstance(subject, dict) else None
        if isinstance(digests, dict):
            subjects += [f"{alg}:{value}" for alg, value in digests.items()]
    predicate = document.get("predicate")
    return Statement(
        str(document["_type"]),
        str(document.get("predicateType", "")),
        subjects,
        predicate if isinstance(predicate, dict) else {},
    )


def envelope_json(payload_type: str, payload: bytes, signatures: list[bytes]) -> dict[str, Any]:
    """The JSON form of an envelope (used to re-encode one found inside a bundle)."""
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(s).decode()} for s in signatures],
    }
