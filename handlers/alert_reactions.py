"""Alerts → the pipeline's `on_alert` reactions; a merged promotion closes a retraining cycle."""

from __future__ import annotations

from bot.context import Context
from bot.evaluation.cycle import close_cycle
from bot.evaluation.reactions import react
from bot.pipeline.dispatch import on
from bot.promotion.engine import gitops_forge, stage_files
from bot.promotion.lookup import promotion_of
from bot.promotion.plan import read_deployed
from schemas.alertmanager import AlertDelivery
from schemas.envelope import Source
from schemas.github import PullRequestEvent


@on("alert", source=Source.ALERTMANAGER)
async def alert_reactions(ctx: Context) -> None:
    """Retrain, roll back or notify as the alert's pipeline configures, once per episode."""
    await react(ctx, ctx.event(AlertDelivery))


@on("pull_request.closed")
async def retraining_cycle(ctx: Context) -> None:
    """A merged promotion PR with a newer version ends the stage's open retraining cycle."""
    event = ctx.event(PullRequestEvent)
    found = promotion_of(ctx.config, event)
    if found is None or not event.pull_request.merged:
        return
    pipeline, stage = found
    if pipeline.retrain is None:
        return
    _, files = await stage_files(await gitops_forge(ctx, stage), stage)
    await close_cycle(ctx, pipeline, stage, read_deployed(stage, files).label)
