"""`ferrybot/supply-chain` on promotion PRs: verify the candidate's image and model, fail closed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bot.checks import CheckResult, Conclusion
from bot.context import Context
from bot.mlflow.client import MlflowClient
from bot.promotion.candidate import Candidate
from bot.promotion.markdown import cell
from bot.registry.client import RepositoryReader
from bot.trust.attestations import Row
from bot.trust.cache import cache_key
from bot.trust.images import verify_image
from bot.trust.keys import InvalidKey, TrustedKey, key_set_id, load_key
from bot.trust.models import verify_model
from schemas.mlflow import ModelVersion
from schemas.pipelines import Pipeline, Stage
from schemas.trust import ImagePolicy, ModelPolicy, TrustConfig

CHECK_NAME = "ferrybot/supply-chain"


@dataclass(frozen=True)
class SupplyChainResult:
    """Every row checked, and the digests that were verified (what the PR deploys)."""

    rows: list[Row] = field(default_factory=list)
    image_digest: str | None = None
    model_manifest_digest: str | None = None

    @property
    def passed(self) -> bool:
        """All rows passed and something was checked."""
        return bool(self.rows) and all(row.passed for row in self.rows)

    @property
    def reason(self) -> str:
        """The failed rows in one sentence, for the reply, the chat message and the audit."""
        return "; ".join(f"{r.check}: {r.detail}" for r in self.rows if not r.passed)

    def check(self, candidate: Candidate) -> CheckResult:
        """The check run: a table of what was verified."""
        lines = ["| check | result | detail |", "|---|---|---|"]
        for row in self.rows:
            mark = "✅ pass" if row.passed else "❌ fail"
            lines.append(f"| {cell(row.check)} | {mark} | {cell(row.detail)} |")
        if self.passed:
            return CheckResult(
                CHECK_NAME,
                Conclusion.SUCCESS,
                f"{candidate.label}: signatures and attestations verified",
                "\n".join(lines),
            )
        failed = sum(1 for row in self.rows if not row.passed)
        return CheckResult(
            CHECK_NAME,
            Conclusion.FAILURE,
            f"{candidate.label}: {failed} supply-chain check{'s' if failed != 1 else ''} failed",
            "This promotion is blocked until the artifact is signed and attested as the "
            "stage's `supply_chain` policy requires.\n\n" + "\n".join(lines),
        )

    def body_lines(self) -> list[str]:
        """The PR body's section: exactly what was verified."""
        lines = ["", "### Supply chain", ""]
        if self.image_digest:
            lines.append(f"- Verified image manifest: `{self.image_digest}`")
        if self.model_manifest_digest:
            lines.append(f"- Verified model manifest: `{self.model_manifest_digest}`")
        verdict = "passed" if self.passed else f"failed: {cell(self.reason)}"
        lines.append(f"- `{CHECK_NAME}` {verdict}")
        return lines


def _keys(trust: TrustConfig, names: list[str], rows: list[Row]) -> list[TrustedKey]:
    keys = []
    for name in names:
        try:
            keys.append(load_key(name, trust.keys[name]))
        except (KeyError, InvalidKey) as exc:
            rows.append(Row("keys", False, str(exc).strip("'\"")))
    return keys


async def _image_rows(
    ctx: Context, pipeline: Pipeline, policy: ImagePolicy, digest: str, trust: TrustConfig
) -> list[Row]:
    assert pipeline.image is not None and ctx.sources is not None
    rows: list[Row] = []
    keys = _keys(trust, list(policy.keys), rows)
    key = cache_key(digest, key_set_id(keys), policy.model_dump_json() + str(trust.trusted_root))
    cached = ctx.sources.image_verdicts.get(key)
    if cached is None:
        reader = RepositoryReader(
            ctx.sources.registry, pipeline.image.registry, pipeline.image.repository
        )
        cached = await verify_image(
            reader, digest, policy, keys, trust.trusted_root, datetime.now(UTC)
        )
        if cached.passed:
            # A failure is never reused: a signature pushed a minute later must count.
            ctx.sources.image_verdicts.put(key, cached, trust.cache_seconds)
        ctx.log.info("supply_chain.image_verified", digest=digest, passed=cached.passed)
    return rows + [Row(f"image {row.check}", row.passed, row.detail) for row in cached.rows]


async def model_directory(mlflow: MlflowClient, version: ModelVersion) -> Path | None:
    """The local directory a version's `source` points at (`runs:/` or a file artifact root)."""
    source = version.source or ""
    if source.startswith("runs:/"):
        run_id, _, inner = source.removeprefix("runs:/").partition("/")
        root = await mlflow.run_artifact_uri(run_id)
        if root is None:
            return None
        source = f"{root.rstrip('/')}/{inner}" if inner else root
    parts = urlsplit(source)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    if parts.scheme == "" and source.startswith("/"):
        return Path(source)
    return None


async def _model_rows(
    ctx: Context, policy: ModelPolicy, version: ModelVersion, trust: TrustConfig
) -> tuple[list[Row], str | None]:
    mlflow = ctx.sources.mlflow if ctx.sources is not None else None
    if mlflow is None:
        return [Row("model signature", False, "MLflow is not configured")], None
    directory = await model_directory(mlflow, version)
    if directory is None:
        return [
            Row(
                "model signature",
                False,
                f"the version's source `{cell(version.source or '')}` is not in a local or "
                "file:// artifact store ferrybot can read",
            )
        ], None
    verdict = await verify_model(directory, policy, trust.keys, trust.client_trust_config)
    return [Row("model signature", verdict.passed, verdict.detail)], verdict.manifest_digest


async def verify_candidate(
    ctx: Context, pipeline: Pipeline, stage: Stage, candidate: Candidate, trust: TrustConfig
) -> SupplyChainResult | None:
    """Verify what the candidate moves, as the stage requires; None when it requires nothing."""
    policy = stage.supply_chain
    if policy is None:
        return None
    rows: list[Row] = []
    image_digest = manifest_digest = None
    if ctx.sources is None:
        return SupplyChainResult([Row("artifacts", False, "no registry or MLflow client here")])
    if policy.image is not None and candidate.image is not None:
        image_digest = candidate.image.digest
        rows += await _image_rows(ctx, pipeline, policy.image, image_digest, trust)
    if policy.model is not None and candidate.model is not None:
        model_rows, manifest_digest = await _model_rows(ctx, policy.model, candidate.model, trust)
        rows += model_rows
    if not rows:
        rows.append(Row("artifacts", False, "the stage requires verification; nothing to verify"))
    result = SupplyChainResult(rows, image_digest, manifest_digest)
    # Only digests that passed are reported as verified.
    return result if result.passed else SupplyChainResult(rows)
