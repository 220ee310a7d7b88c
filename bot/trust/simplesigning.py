"""cosign's simple-signing payload: which manifest digest a legacy `.sig` signature covers."""

from __future__ import annotations

import json
from dataclasses import dataclass

COSIGN_TYPE = "cosign container image signature"


class PayloadError(ValueError):
    """The payload is not a cosign simple-signing document."""


@dataclass(frozen=True)
class SimpleSigning:
    """The parts of the payload verification reads."""

    digest: str
    docker_reference: str


def parse_payload(payload: bytes) -> SimpleSigning:
    """`critical.image.docker-manifest-digest` and `critical.identity.docker-reference`."""
    try:
        document = json.loads(payload)
        critical = document["critical"]
        kind = critical["type"]
        digest = critical["image"]["docker-manifest-digest"]
        reference = critical.get("identity", {}).get("docker-reference", "")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise PayloadError("the payload is not a cosign simple-signing document") from None
    if kind != COSIGN_TYPE or not isinstance(digest, str):
        raise PayloadError(f"the payload's type is {kind!r}, not {COSIGN_TYPE!r}")
    return SimpleSigning(digest, str(reference))
