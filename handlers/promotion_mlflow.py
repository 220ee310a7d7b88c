"""MLflow triggers: an alias set, a tag set or a version created promotes to the first stage."""

from __future__ import annotations

from pydantic import ValidationError

from bot.context import Context
from bot.gitops.identifiers import InvalidIdentifier, validate_model_name, validate_model_version
from bot.pipeline.dispatch import on
from bot.pipeline.retry import PermanentError
from bot.promotion.engine import PromotionRequest, promote, record_skip
from bot.promotion.resolve import model_candidate
from schemas.audit import AuditRecord
from schemas.envelope import Source
from schemas.mlflow import MlflowDelivery, VersionEventData
from schemas.pipelines import ModelArtifact


def trigger_reason(model: ModelArtifact, event: str, data: VersionEventData) -> str | None:
    """Why this event promotes the model's pipeline, or None when it does not."""
    if event == "model_version_alias.created" and data.alias and data.alias == model.alias:
        return f"MLflow alias `{data.alias}` set on {data.name} version {data.version}"
    if event == "model_version_tag.set" and data.key is not None:
        if model.tag.get(data.key) == data.value:
            return f"MLflow tag `{data.key}={data.value}` set on {data.name} version {data.version}"
    if event == "model_version.created" and model.on_created:
        return f"MLflow registered {data.name} version {data.version}"
    return None


@on(
    "model_version_alias.created",
    "model_version_tag.set",
    "model_version.created",
    source=Source.MLFLOW,
)
async def promote_model_version(ctx: Context) -> None:
    """Open or update the first stage's promotion PR of every pipeline this event triggers."""
    delivery = ctx.event(MlflowDelivery)
    try:
        data = VersionEventData.model_validate(delivery.data)
        name = validate_model_name(data.name)
        validate_model_version(data.version)
    except (ValidationError, InvalidIdentifier) as exc:
        await ctx.audit(
            AuditRecord(
                id=f"{ctx.envelope.id}:promotion.refused",
                delivery_id=ctx.envelope.id,
                actor="mlflow",
                action="promotion.refused",
                subject=ctx.envelope.subject,
                reason=str(exc)[:500],
            )
        )
        raise PermanentError(f"MLflow delivery refused: {exc}"[:500]) from None
    for pipeline in ctx.config.pipelines:
        if pipeline.model is None or pipeline.model.name != name:
            continue
        reason = trigger_reason(pipeline.model, ctx.envelope.name, data)
        stage = pipeline.stages[0]
        if reason is None:
            why = f"{ctx.envelope.name} on version {data.version} is not this pipeline's trigger"
            await record_skip(ctx, pipeline, stage, "mlflow", why)
            continue
        if not stage.auto:
            why = f"{reason}; `{stage.name}` is promoted by `/promote` only"
            await record_skip(ctx, pipeline, stage, "mlflow", why)
            continue
        alias = data.alias if ctx.envelope.event == "model_version_alias" else None
        candidate = await model_candidate(ctx, pipeline, data.version, alias=alias)
        await promote(ctx, PromotionRequest(pipeline, stage, candidate, "mlflow", reason))
