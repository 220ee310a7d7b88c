"""Config of the trust checks: secret scanning on pull requests and the supply-chain gate."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.rules import AttestationRule


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretAllowEntry(_Strict):
    """Findings to accept: a rule (or every rule) in paths matching globs, with the reason."""

    paths: list[str] = Field(
        min_length=1, description="Globs (`*` within a segment, `**` across) of files allowed."
    )
    rules: list[str] = Field(
        default_factory=list,
        description="detect-secrets rule names allowed there (e.g. `Base64 High Entropy "
        "String`); empty: every rule.",
    )
    reason: str = Field(default="", description="Why these findings are not secrets.")


class SecretsConfig(_Strict):
    """`ferrybot/secrets`: detect-secrets over the lines a pull request adds."""

    enabled: bool = Field(default=True, description="Run the secrets check on pull requests.")
    allowlist: list[SecretAllowEntry] = Field(
        default_factory=list,
        description="Findings accepted by path and rule; a line can also carry "
        "`pragma: allowlist secret`.",
    )
    max_bytes: int = Field(
        default=2_000_000,
        ge=1,
        description="Most bytes of diff scanned per pull request; the rest is reported unscanned.",
    )
    max_seconds: float = Field(
        default=20.0,
        gt=0,
        description="Longest scan per pull request; files not reached are reported unscanned.",
    )
    partial_conclusion: Literal["neutral", "failure"] = Field(
        default="neutral",
        description="Conclusion of a scan that found nothing but could not read every file.",
    )


Severity = Literal["none", "low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("none", "low", "medium", "high", "critical")


class KeylessIdentity(_Strict):
    """Who may sign keylessly: the OIDC issuer and the certificate's subject or workflow."""

    issuer: str = Field(
        description="OIDC issuer, e.g. `https://token.actions.githubusercontent.com`."
    )
    subject: str | None = Field(
        default=None,
        description="Exact certificate identity (SAN), e.g. `https://github.com/acme/app/"
        ".github/workflows/release.yml@refs/heads/main`.",
    )
    subject_regexp: str | None = Field(
        default=None, description="A regular expression the whole identity must match."
    )
    workflow_repository: str | None = Field(
        default=None, description="GitHub workflow repository (Fulcio extension), e.g. `acme/app`."
    )
    workflow_ref: str | None = Field(
        default=None, description="GitHub workflow ref (Fulcio extension), e.g. `refs/heads/main`."
    )

    @model_validator(mode="after")
    def _names_someone(self) -> KeylessIdentity:
        if self.subject is None and self.subject_regexp is None:
            raise ValueError("a keyless identity needs `subject` or `subject_regexp`")
        if self.subject_regexp is not None:
            try:
                re.compile(self.subject_regexp)
            except re.error as exc:
                raise ValueError(f"subject_regexp does not compile: {exc}") from None
        return self


class ProvenancePolicy(_Strict):
    """SLSA provenance the image must carry: who built it, from which repository and ref."""

    builder_ids: list[str] = Field(min_length=1, description="Builder ids allowed (exact).")
    source_repositories: list[str] = Field(
        min_length=1, description="Source repositories allowed, e.g. `https://github.com/acme/app`."
    )
    source_refs: list[str] = Field(
        default_factory=list, description="Refs allowed (e.g. `refs/heads/main`); empty: any."
    )


class VulnerabilityPolicy(_Strict):
    """A signed vulnerability scan, recent enough, with nothing above a severity."""

    max_severity: Severity = Field(
        default="medium", description="Highest severity allowed among the scan's findings."
    )
    max_age_seconds: int = Field(
        default=7 * 86400, gt=0, description="Oldest scan accepted (from its finish time)."
    )


class ImagePolicy(_Strict):
    """What an image's digest must carry to be promoted."""

    keys: list[str] = Field(
        default_factory=list, description="Names of `trust.keys` whose signature is accepted."
    )
    keyless: list[KeylessIdentity] = Field(
        default_factory=list, description="Keyless signers accepted (needs `trust.trusted_root`)."
    )
    provenance: ProvenancePolicy | None = None
    sbom: bool = Field(default=False, description="Require a signed SPDX or CycloneDX SBOM.")
    vulnerabilities: VulnerabilityPolicy | None = None
    rules: list[AttestationRule] = Field(
        default_factory=list, description="CEL rules over signed attestations, each with a message."
    )

    @model_validator(mode="after")
    def _has_signers(self) -> ImagePolicy:
        if not self.keys and not self.keyless:
            raise ValueError("an image policy needs `keys` or `keyless` signers")
        return self


class ModelPolicy(_Strict):
    """How a model version's files must be signed (OpenSSF model signing)."""

    mode: Literal["key", "certificate", "sigstore"] = Field(
        default="key", description="Signing mode the model's `model.sig` was made with."
    )
    key: str | None = Field(default=None, description="`trust.keys` name (key mode).")
    certificate_chain: list[str] = Field(
        default_factory=list, description="PEM CA certificates (certificate mode)."
    )
    identity: KeylessIdentity | None = Field(default=None, description="Signer (sigstore mode).")
    signature: str = Field(
        default="model.sig", description="Path of the signature inside the model's artifacts."
    )

    @model_validator(mode="after")
    def _mode_material(self) -> ModelPolicy:
        if self.mode == "key" and self.key is None:
            raise ValueError("model signing in key mode needs `key`")
        if self.mode == "certificate" and not self.certificate_chain:
            raise ValueError("model signing in certificate mode needs `certificate_chain`")
        if self.mode == "sigstore" and self.identity is None:
            raise ValueError("model signing in sigstore mode needs `identity`")
        return self


class SupplyChainPolicy(_Strict):
    """A stage's `supply_chain`: what the promoted image and model must prove."""

    image: ImagePolicy | None = None
    model: ModelPolicy | None = None
    on_failure: Literal["draft", "skip"] = Field(
        default="draft",
        description="A failed verification opens the PR as a draft with the failing check "
        "(`draft`), or opens nothing (`skip`).",
    )

    @model_validator(mode="after")
    def _requires_something(self) -> SupplyChainPolicy:
        if self.image is None and self.model is None:
            raise ValueError("supply_chain needs an `image` or `model` policy")
        return self


class TrustConfig(_Strict):
    """Trusted public keys and the Sigstore trusted root, shared by every stage's policy."""

    keys: dict[str, str] = Field(
        default_factory=dict, description="Name → PEM public key (`cosign.pub`, model keys)."
    )
    trusted_root: str | None = Field(
        default=None,
        description="Path of a Sigstore trusted root JSON (keyless verification is offline).",
    )
    client_trust_config: str | None = Field(
        default=None,
        description="Path of a Sigstore client trust config for model signing in sigstore "
        "mode (unset: Sigstore's public-good instance).",
    )
    cache_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How long an image verdict is reused for the same digest, keys and policy.",
    )
