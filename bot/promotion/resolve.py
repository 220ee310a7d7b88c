"""Confirm a trigger against its source: the version in MLflow, the tag in the registry."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.context import Context
from bot.gitops.identifiers import (
    InvalidIdentifier,
    validate_digest,
    validate_image_tag,
    validate_model_version,
)
from bot.mlflow.client import MlflowClient
from bot.pipeline.retry import PermanentError, TransientError
from bot.promotion.candidate import Candidate
from bot.promotion.plan import Deployed
from bot.registry.client import ImageRef
from schemas.mlflow import ModelVersionStatus
from schemas.pipelines import Pipeline


def _mlflow(ctx: Context) -> MlflowClient:
    mlflow = ctx.sources.mlflow if ctx.sources is not None else None
    if mlflow is None:
        raise PermanentError("model pipelines need MLflow: set FERRYBOT_MLFLOW_TRACKING_URL")
    return mlflow


async def model_candidate(
    ctx: Context, pipeline: Pipeline, version: str, alias: str | None = None
) -> Candidate:
    """The version as MLflow's REST API has it: it must exist and be READY."""
    assert pipeline.model is not None
    name = pipeline.model.name
    try:
        validate_model_version(version)
    except InvalidIdentifier as exc:
        raise PermanentError(str(exc)) from None
    mlflow = _mlflow(ctx)
    found = await mlflow.model_version(name, version)
    if found is None:
        raise PermanentError(f"MLflow has no version {version} of model {name}; nothing promoted")
    if found.status == ModelVersionStatus.PENDING_REGISTRATION.value:
        raise TransientError(f"{name} version {version} is still registering", retry_after=5)
    if not found.ready:
        raise PermanentError(f"{name} version {version} is {found.status}, not READY")
    metrics: dict[str, float] = {}
    trained_at = None
    if found.run_id:
        metrics, run = await mlflow.run(found.run_id)
        # The end of the training run dates the model's data; a run still open, its start.
        stamp = run.end_time or run.start_time
        trained_at = datetime.fromtimestamp(stamp / 1000, UTC) if stamp else None
    return Candidate(model=found, alias=alias, metrics=metrics, trained_at=trained_at)


async def image_candidate(
    ctx: Context, pipeline: Pipeline, tag: str, hinted_digest: str | None = None
) -> Candidate | None:
    """The tag as the registry has it now, or None when the registry does not have it."""
    assert pipeline.image is not None
    image = pipeline.image
    try:
        validate_image_tag(tag)
        if hinted_digest is not None:
            validate_digest(hinted_digest)
    except InvalidIdentifier as exc:
        raise PermanentError(str(exc)) from None
    if ctx.sources is None:
        raise PermanentError("no registry client in this context")
    ref = await ctx.sources.registry.resolve(image.registry, image.repository, tag)
    if ref is None:
        ctx.log.warning("promotion.tag_missing", repository=image.repository, tag=tag)
        return None
    if hinted_digest is not None and hinted_digest != ref.digest:
        # The tag moved after the push that told us about it: the registry is the truth.
        ctx.log.info("promotion.tag_moved", tag=tag, hinted=hinted_digest, digest=ref.digest)
    return Candidate(image=ref)


async def candidate_from_deployed(
    ctx: Context, pipeline: Pipeline, deployed: Deployed
) -> Candidate:
    """What a stage runs now, as a candidate for the next stage (both parts of a bundle)."""
    model = None
    if pipeline.model is not None and deployed.version is not None:
        model = await model_candidate(ctx, pipeline, deployed.version)
    image: ImageRef | None = None
    if pipeline.image is not None and deployed.tag is not None:
        if deployed.digest is not None:
            image = ImageRef(pipeline.image.repository, deployed.tag, deployed.digest)
        else:
            found = await image_candidate(ctx, pipeline, deployed.tag)
            image = found.image if found is not None else None
    if model is None and image is None:
        raise PermanentError(f"{pipeline.name}: the stage's files name no version or tag")
    return Candidate(
        model=model.model if model else None,
        image=image,
        metrics=model.metrics if model else {},
        trained_at=model.trained_at if model else None,
    )
