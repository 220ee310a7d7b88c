"""Config of the trust checks: secret scanning on pull requests and the supply-chain gate."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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
