"""OpenSSF model signing: a model directory against its `model.sig` (key, certificate, sigstore)."""

from __future__ import annotations

import asyncio
import base64
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from model_signing import verifying

from schemas.trust import ModelPolicy


@dataclass(frozen=True)
class ModelVerdict:
    """Whether the files match a signed manifest, and that manifest's digest."""

    passed: bool
    detail: str
    manifest_digest: str | None = None


def _manifest_digest(signature: Path) -> str | None:
    """The statement subject model-signing signs: the digest of the manifest of file hashes."""
    try:
        bundle = json.loads(signature.read_text())
        statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
        digest = statement["subject"][0]["digest"]["sha256"]
    except (ValueError, KeyError, IndexError, TypeError, OSError):
        return None
    return f"sha256:{digest}" if isinstance(digest, str) else None


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def verify_model_dir(
    model_dir: Path,
    policy: ModelPolicy,
    keys: dict[str, str],
    client_trust_config: str | None = None,
) -> ModelVerdict:
    """Verify every file of `model_dir` against the signature the policy names (fail closed)."""
    signature = model_dir / policy.signature
    if not model_dir.is_dir():
        return ModelVerdict(False, "the model's artifacts are not a directory ferrybot can read")
    if not signature.is_file():
        return ModelVerdict(False, f"the model is not signed: no `{policy.signature}`")
    with tempfile.TemporaryDirectory(prefix="ferrybot-model-") as scratch:
        config = verifying.Config()  # type: ignore[no-untyped-call]  # model-signing: untyped
        if policy.mode == "key":
            assert policy.key is not None
            pem = keys.get(policy.key)
            if pem is None:
                return ModelVerdict(False, f"no key {policy.key!r} under `trust.keys`")
            config.use_elliptic_key_verifier(public_key=_write(Path(scratch), "key.pem", pem))
        elif policy.mode == "certificate":
            chain = [
                _write(Path(scratch), f"ca{i}.pem", pem)
                for i, pem in enumerate(policy.certificate_chain)
            ]
            config.use_certificate_verifier(certificate_chain=chain)
        else:
            assert policy.identity is not None and policy.identity.subject is not None
            config.use_sigstore_verifier(
                identity=policy.identity.subject,
                oidc_issuer=policy.identity.issuer,
                trust_config=Path(client_trust_config) if client_trust_config else None,
            )
        try:
            config.verify(model_dir, signature)
        except InvalidSignature:
            return ModelVerdict(False, "the signature does not verify with the configured key")
        except (ValueError, OSError) as exc:
            return ModelVerdict(False, _reason(str(exc)))
    digest = _manifest_digest(signature)
    if digest is None:
        return ModelVerdict(False, "the signature's statement names no manifest digest")
    return ModelVerdict(True, f"{policy.mode} signature verified", digest)


def _reason(message: str) -> str:
    """model-signing's message, cut, with byte dumps of digests left out."""
    first = message.split(": Expected", 1)[0]
    return first[:300]


async def verify_model(
    model_dir: Path,
    policy: ModelPolicy,
    keys: dict[str, str],
    client_trust_config: str | None = None,
) -> ModelVerdict:
    """`verify_model_dir` off the event loop (hashing a model reads every byte of it)."""
    return await asyncio.to_thread(verify_model_dir, model_dir, policy, keys, client_trust_config)
