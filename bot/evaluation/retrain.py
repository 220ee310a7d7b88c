"""`retrain`: dispatch training once per alert episode, and not within the model's cool-down."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.context import Context
from bot.evaluation.dispatch import TrainingRequest
from bot.evaluation.markers import Marker, ref_name
from bot.evaluation.training import training_repository
from bot.promotion.engine import gitops_forge, stage_files
from bot.promotion.plan import read_deployed
from schemas.pipelines import Pipeline, Stage


@dataclass(frozen=True)
class RetrainOutcome:
    """Whether training was dispatched now, and why (not)."""

    dispatched: bool
    reason: str
    marker: Marker | None = None


async def version_in(ctx: Context, stage: Stage) -> str:
    """What the stage runs now, from its GitOps files."""
    _, files = await stage_files(await gitops_forge(ctx, stage), stage)
    return read_deployed(stage, files).label


async def retrain(
    ctx: Context,
    pipeline: Pipeline,
    stage: Stage,
    request: TrainingRequest,
    fired_at: datetime,
    fingerprint: str,
    cooldown: bool = True,
) -> RetrainOutcome:
    """Dispatch unless this episode was dispatched already or the cool-down holds."""
    config = pipeline.retrain
    assert config is not None  # the config schema requires `retrain` for retrain reactions
    training = await training_repository(ctx, config)
    episode_ref = ref_name(pipeline.name, request.episode)
    done = await training.read_marker(episode_ref)
    if done is not None:
        return RetrainOutcome(False, f"already dispatched for this episode at {done.dispatched_at}")
    now = datetime.now(UTC)
    last = await training.read_marker(ref_name(pipeline.name, "last"))
    window = timedelta(seconds=config.cooldown_seconds)
    if cooldown and last is not None and now - last.dispatched < window:
        until = (last.dispatched + window).isoformat(timespec="seconds")
        return RetrainOutcome(
            False, f"cool-down: training was dispatched at {last.dispatched_at}, next after {until}"
        )
    run_url = await training.dispatch(request)
    marker = Marker(
        episode=request.episode,
        pipeline=pipeline.name,
        stage=stage.name,
        alert=request.alert,
        fingerprint=fingerprint,
        fired_at=fired_at.isoformat(),
        dispatched_at=now.isoformat(),
        version=request.version,
        run_url=run_url,
    )
    # Written after the dispatch: a crash in between can dispatch twice, never zero times.
    await training.write_marker([episode_ref, ref_name(pipeline.name, "last")], marker)
    ctx.log.info("retrain.dispatched", pipeline=pipeline.name, episode=request.episode, run=run_url)
    return RetrainOutcome(True, f"training dispatched in {config.repo}", marker)
