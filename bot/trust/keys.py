"""Public keys cosign writes (ECDSA P-256/384, RSA, Ed25519) and signature checks over bytes."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey


class InvalidKey(ValueError):
    """A configured key cannot be read; the message names it."""


@dataclass(frozen=True)
class TrustedKey:
    """A public key the config trusts, with its name and a fingerprint (SHA-256 of its DER)."""

    name: str
    key: PublicKey
    fingerprint: str

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True when `signature` is this key's over `message` (as cosign signs: SHA-256)."""
        try:
            if isinstance(self.key, ec.EllipticCurvePublicKey):
                digest = hashes.SHA384() if self.key.curve.key_size == 384 else hashes.SHA256()
                self.key.verify(signature, message, ec.ECDSA(digest))
            elif isinstance(self.key, rsa.RSAPublicKey):
                return self._rsa(signature, message)
            else:
                self.key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def _rsa(self, signature: bytes, message: bytes) -> bool:
        assert isinstance(self.key, rsa.RSAPublicKey)
        # cosign signs RSA keys with PKCS#1 v1.5; some KMS keys use PSS: either is accepted.
        for pad in (
            padding.PKCS1v15(),
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO),
        ):
            try:
                self.key.verify(signature, message, pad, hashes.SHA256())
                return True
            except InvalidSignature:
                continue
        return False


def load_key(name: str, pem: str) -> TrustedKey:
    """A PEM public key (`cosign.pub`); refuses curves and sizes cosign does not sign with."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidKey(f"key {name!r} is not a PEM public key") from None
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in ("secp256r1", "secp384r1"):
            raise InvalidKey(f"key {name!r} uses curve {key.curve.name}; use P-256 or P-384")
    elif isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise InvalidKey(f"key {name!r} is RSA-{key.key_size}; use 2048 bits or more")
    elif not isinstance(key, ed25519.Ed25519PublicKey):
        raise InvalidKey(f"key {name!r} is a {type(key).__name__}; use ECDSA, RSA or Ed25519")
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return TrustedKey(name, key, "sha256:" + hashlib.sha256(der).hexdigest())


def key_set_id(keys: list[TrustedKey]) -> str:
    """One id for a set of keys, whatever their order or names (a cache key part)."""
    joined = ",".join(sorted(key.fingerprint for key in keys))
    return hashlib.sha256(joined.encode()).hexdigest()


def decode_b64(value: str) -> bytes | None:
    """Standard or URL-safe base64, None when it is neither."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        try:
            return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            return None


def verified_by(keys: list[TrustedKey], signature: bytes, message: bytes) -> TrustedKey | None:
    """The first trusted key whose signature this is."""
    return next((key for key in keys if key.verify(signature, message)), None)
