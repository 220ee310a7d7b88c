"""What cosign writes (keys, signatures, DSSE attestations, bundles), pushed by registry API."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from bot.trust.intoto import IN_TOTO, pae

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY = "application/vnd.oci.empty.v1+json"
BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE = "application/vnd.dsse.envelope.v1+json"

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True)
class SigningKey:
    """A key pair as `cosign generate-key-pair` makes one (the private half stays here)."""

    private: PrivateKey

    @classmethod
    def generate(cls, kind: str = "ecdsa-p256") -> SigningKey:
        """ecdsa-p256 (cosign's default), ecdsa-p384, rsa-2048 or ed25519."""
        if kind == "ecdsa-p256":
            return cls(ec.generate_private_key(ec.SECP256R1()))
        if kind == "ecdsa-p384":
            return cls(ec.generate_private_key(ec.SECP384R1()))
        if kind == "rsa-2048":
            return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        return cls(ed25519.Ed25519PrivateKey.generate())

    @property
    def public_pem(self) -> str:
        """`cosign.pub`."""
        return (
            self.private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def sign(self, message: bytes) -> bytes:
        """As cosign signs: ECDSA with SHA-256 (SHA-384 on P-384), RSA PKCS#1 v1.5, Ed25519."""
        key = self.private
        if isinstance(key, ec.EllipticCurvePrivateKey):
            digest = hashes.SHA384() if key.curve.key_size == 384 else hashes.SHA256()
            return key.sign(message, ec.ECDSA(digest))
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return key.sign(message)


def simple_signing_payload(reference: str, digest: str) -> bytes:
    """cosign's payload: the manifest digest under `critical`, JSON as cosign writes it."""
    return json.dumps(
        {
            "critical": {
                "identity": {"docker-reference": reference},
                "image": {"docker-manifest-digest": digest},
                "type": "cosign container image signature",
            },
            "optional": None,
        },
        separators=(",", ":"),
    ).encode()


def statement(digest: str, predicate_type: str, predicate: dict[str, Any], name: str) -> bytes:
    """An in-toto v1 statement about one subject digest."""
    algorithm, _, value = digest.partition(":")
    return json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": name, "digest": {algorithm: value}}],
            "predicateType": predicate_type,
            "predicate": predicate,
        }
    ).encode()


def dsse_envelope(payload: bytes, key: SigningKey) -> dict[str, Any]:
    """A DSSE envelope over `payload`, signed over PAE as cosign does."""
    signature = key.sign(pae(IN_TOTO, payload))
    return {
        "payloadType": IN_TOTO,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(signature).decode()}],
    }


def keyed_bundle(envelope: dict[str, Any], key: SigningKey) -> bytes:
    """A Sigstore bundle v0.3 as cosign 3 writes for a key: public-key hint, DSSE envelope."""
    der = key.private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return json.dumps(
        {
            "mediaType": BUNDLE,
            "verificationMaterial": {
                "publicKey": {"hint": hashlib.sha256(der).hexdigest()},
                "tlogEntries": [],
            },
            "dsseEnvelope": envelope,
        }
    ).encode()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class RegistryWriter:
    """Pushes blobs and manifests to a Distribution registry by its HTTP API."""

    url: str

    def _request(self, method: str, url: str, data: bytes | None, media: str | None) -> Any:
        headers = {"Content-Type": media} if media else {}
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            return urllib.request.urlopen(request, timeout=30)
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {url}: {exc.code} {exc.read()!r}") from None

    def blob(self, repository: str, data: bytes) -> dict[str, Any]:
        """Upload a blob (POST, then PUT with its digest); its descriptor without media type."""
        digest = _digest(data)
        with self._request("POST", f"{self.url}/v2/{repository}/blobs/uploads/", b"", None) as r:
            location = r.headers["Location"]
        if location.startswith("/"):
            location = self.url + location
        sep = "&" if "?" in location else "?"
        with self._request(
            "PUT", f"{location}{sep}digest={digest}", data, "application/octet-stream"
        ):
            pass
        return {"digest": digest, "size": len(data)}

    def manifest(self, repository: str, reference: str, document: dict[str, Any]) -> str:
        """PUT a manifest or index under a tag or its digest; its digest."""
        body = json.dumps(document).encode()
        media = str(document["mediaType"])
        with self._request("PUT", f"{self.url}/v2/{repository}/manifests/{reference}", body, media):
            pass
        return _digest(body)

    def raw_manifest(self, repository: str, reference: str) -> tuple[bytes, str]:
        """A manifest as served, and its media type."""
        accept = ", ".join(
            (OCI_MANIFEST, OCI_INDEX, "application/vnd.docker.distribution.manifest.v2+json")
        )
        request = urllib.request.Request(
            f"{self.url}/v2/{repository}/manifests/{reference}", headers={"Accept": accept}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read(), response.headers["Content-Type"]

    def _config(self, repository: str, media: str) -> dict[str, Any]:
        return {"mediaType": media, **self.blob(repository, b"{}")}

    def legacy(
        self,
        repository: str,
        digest: str,
        suffix: str,
        layers: list[tuple[str, bytes, dict[str, str]]],
    ) -> str:
        """A `sha256-<hex>.sig` / `.att` manifest: one layer per (media type, payload, annots)."""
        descriptors = []
        for media, payload, notes in layers:
            descriptors.append(
                {"mediaType": media, **self.blob(repository, payload), "annotations": notes}
            )
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": self._config(repository, "application/vnd.oci.image.config.v1+json"),
            "layers": descriptors,
        }
        tag = digest.replace(":", "-") + suffix
        return self.manifest(repository, tag, manifest)

    def sign_legacy(
        self,
        repository: str,
        digest: str,
        key: SigningKey,
        payload: bytes | None = None,
        signature: bytes | None = None,
    ) -> str:
        """cosign 2's `cosign sign --key`: simple-signing payload, signature in an annotation."""
        body = payload if payload is not None else simple_signing_payload(repository, digest)
        sig = signature if signature is not None else key.sign(body)
        annotations = {"dev.cosignproject.cosign/signature": base64.b64encode(sig).decode()}
        return self.legacy(repository, digest, ".sig", [(SIMPLE_SIGNING, body, annotations)])

    def attest_legacy(
        self, repository: str, digest: str, envelopes: list[tuple[str, dict[str, Any]]]
    ) -> str:
        """cosign 2's `cosign attest --key`: one DSSE layer per (predicate type, envelope)."""
        layers = [
            (
                DSSE,
                json.dumps(env).encode(),
                {"dev.cosignproject.cosign/signature": "", "predicateType": kind},
            )
            for kind, env in envelopes
        ]
        return self.legacy(repository, digest, ".att", layers)

    def bundle_artifact(
        self, repository: str, subject_digest: str, bundle: bytes, predicate_type: str
    ) -> dict[str, Any]:
        """A cosign 3 bundle as an OCI 1.1 artifact whose subject is the image; its descriptor."""
        raw, media = self.raw_manifest(repository, subject_digest)
        empty = {"mediaType": EMPTY, **self.blob(repository, b"{}")}
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": BUNDLE,
            "config": empty,
            "layers": [{"mediaType": BUNDLE, **self.blob(repository, bundle)}],
            "subject": {
                "mediaType": media.split(";")[0],
                "digest": subject_digest,
                "size": len(raw),
            },
            "annotations": {
                "dev.sigstore.bundle.content": "dsse-envelope",
                "dev.sigstore.bundle.predicateType": predicate_type,
            },
        }
        digest = self.manifest(repository, _digest(json.dumps(manifest).encode()), manifest)
        size = len(json.dumps(manifest).encode())
        return {
            "mediaType": OCI_MANIFEST,
            "digest": digest,
            "size": size,
            "artifactType": BUNDLE,
            "annotations": manifest["annotations"],
        }

    def fallback_index(self, repository: str, digest: str, entries: list[dict[str, Any]]) -> str:
        """The `sha256-<hex>` index cosign 3 writes where the registry has no referrers API."""
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        return self.manifest(repository, digest.replace(":", "-"), index)
