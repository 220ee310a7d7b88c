"""What `/promote` and `/rollback` share: naming a pipeline, a stage and a version safely."""

from __future__ import annotations

from bot.commands import CommandRefused, Invocation
from bot.commands.wording import Typed
from bot.gitops.identifiers import (
    InvalidIdentifier,
    validate_image_tag,
    validate_model_version,
    validate_pipeline_name,
    validate_stage_name,
)
from bot.promotion.candidate import Candidate
from bot.promotion.engine import (
    Outcome,
    PromotionRequest,
    PromotionResult,
    gitops_forge,
    promote,
    stage_files,
)
from bot.promotion.plan import read_deployed
from bot.promotion.resolve import candidate_from_deployed, image_candidate, model_candidate
from schemas.pipelines import Pipeline, Stage


def find_pipeline(inv: Invocation, name: str) -> Pipeline:
    """The configured pipeline called `name`, or a refusal listing the known ones."""
    known = ", ".join(f"`{p.name}`" for p in inv.config.pipelines) or "none configured"
    try:
        validate_pipeline_name(name)
    except InvalidIdentifier:
        raise CommandRefused(Typed(name), f" is not a pipeline; known: {known}") from None
    pipeline = inv.config.pipeline(name)
    if pipeline is None:
        raise CommandRefused(f"there is no pipeline `{name}`; known: {known}")
    return pipeline


def find_stage(pipeline: Pipeline, name: str) -> Stage:
    """The pipeline's stage called `name`, or a refusal listing its stages."""
    known = ", ".join(f"`{s.name}`" for s in pipeline.stages)
    try:
        validate_stage_name(name)
    except InvalidIdentifier:
        raise CommandRefused(Typed(name), f" is not a stage; known: {known}") from None
    stage = pipeline.stage(name)
    if stage is None:
        raise CommandRefused(f"`{pipeline.name}` has no stage `{name}`; its stages: {known}")
    return stage


async def candidate_for(
    inv: Invocation, pipeline: Pipeline, stage: Stage, version: str | None
) -> Candidate:
    """The named version, else what the previous stage runs, else the model's alias target."""
    ctx = inv.ctx
    if version is not None:
        try:
            if pipeline.model is not None:
                validate_model_version(version)
            else:
                validate_image_tag(version)
        except InvalidIdentifier:
            what = "model version" if pipeline.model is not None else "image tag"
            raise CommandRefused(Typed(version), f" is not a {what}") from None
        if pipeline.model is not None:
            return await model_candidate(ctx, pipeline, version)
        found = await image_candidate(ctx, pipeline, version)
        if found is None:
            raise CommandRefused(f"the registry has no tag `{version}` for this pipeline")
        return found
    names = [s.name for s in pipeline.stages]
    index = names.index(stage.name)
    if index > 0:
        previous = pipeline.stages[index - 1]
        _, files = await stage_files(await gitops_forge(ctx, previous), previous)
        return await candidate_from_deployed(ctx, pipeline, read_deployed(previous, files))
    mlflow = ctx.sources.mlflow if ctx.sources is not None else None
    if pipeline.model is not None and pipeline.model.alias and mlflow is not None:
        target = await mlflow.version_by_alias(pipeline.model.name, pipeline.model.alias)
        if target is not None:
            return await model_candidate(ctx, pipeline, target.version, pipeline.model.alias)
    raise CommandRefused(f"`{stage.name}` is the first stage: name the version to promote")


def describe(result: PromotionResult, stage: Stage) -> str:
    """The reply line for a promotion a command asked for."""
    if result.outcome is Outcome.ALREADY_DEPLOYED or result.change is None:
        return f"`{stage.name}` already runs {result.deployed.label}; nothing to promote."
    verb = {Outcome.OPENED: "opened", Outcome.UPDATED: "updated"}.get(result.outcome, "kept")
    return f"{verb} {result.change.reference} for `{stage.name}`."


async def run_promotion(
    inv: Invocation,
    pipeline: Pipeline,
    stage: Stage,
    candidate: Candidate,
    reason: str,
    rollback: bool = False,
) -> str:
    """Promote and say what happened (`rollback`: the ledger counts it as a change failure)."""
    request = PromotionRequest(pipeline, stage, candidate, inv.actor, reason, rollback)
    result = await promote(inv.ctx, request)
    supply = result.supply_chain
    if supply is not None and not supply.passed:
        draft = f" (opened as draft {result.change.reference})" if result.change else ""
        # The reason quotes what registries and artifacts hold (file names, builder ids).
        raise CommandRefused(
            f"{pipeline.name} {candidate.label} failed supply-chain verification for "
            f"`{stage.name}`{draft}: ",
            Typed(supply.reason),
        )
    return describe(result, stage)
