"""`/retrain <pipeline> [in <stage>]`: dispatch the pipeline's training workflow by hand."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from bot.commands import CommandRefused, Invocation, command
from bot.evaluation.dispatch import TrainingRequest
from bot.evaluation.retrain import retrain, version_in
from bot.promotion.approval import require_stage_approver
from bot.promotion.commanded import find_pipeline, find_stage
from schemas.audit import AuditRecord
from schemas.commands_config import PermissionLevel

USAGE = "/retrain <pipeline> [in <stage>]"


@command(
    "retrain",
    usage=USAGE,
    help="Dispatch the pipeline's training workflow, telling it the version the stage (default: "
    "the last) runs. Stages with approvers need one who did not author the change.",
    permission=PermissionLevel.WRITE,
    on_issues=True,
    gitlab_refusal=None,
)
async def retrain_command(inv: Invocation) -> str | None:
    """Same permissions as /promote; one dispatch per comment, whatever is redelivered."""
    args = inv.args
    if len(args) not in (1, 3) or (len(args) == 3 and args[1] != "in"):
        raise CommandRefused(f"use `{USAGE}`")
    pipeline = find_pipeline(inv, args[0])
    stage = find_stage(pipeline, args[2]) if len(args) == 3 else pipeline.stages[-1]
    if pipeline.retrain is None:
        raise CommandRefused(f"`{pipeline.name}` has no `retrain` workflow in the config")
    await require_stage_approver(inv, pipeline, stage)
    ctx = inv.ctx
    # The delivery names the comment: a redelivery finds this episode's marker and stops.
    digest = hashlib.sha256(f"{ctx.envelope.id}:{pipeline.name}".encode()).hexdigest()[:20]
    episode = f"manual-{digest}"
    version = await version_in(ctx, stage)
    model = pipeline.model.name if pipeline.model else pipeline.name
    link = inv.thread.html_url or ""
    request = TrainingRequest(
        pipeline.name, stage.name, model, version, f"/retrain by {inv.actor}", link, episode
    )
    now = datetime.now(UTC)
    outcome = await retrain(ctx, pipeline, stage, request, now, episode, cooldown=False)
    await ctx.audit(
        AuditRecord(
            id=f"{ctx.envelope.id}:retrain:{pipeline.name}",
            delivery_id=ctx.envelope.id,
            actor=inv.actor,
            action="retrain.dispatched" if outcome.dispatched else "retrain.skipped",
            subject=f"pipeline/{pipeline.name}/{stage.name}",
            from_value=version,
            reason=f"/retrain on {inv.thread.reference}: {outcome.reason}",
            details={"pipeline": pipeline.name, "stage": stage.name, "episode": episode},
        )
    )
    if not outcome.dispatched:
        return f"training of `{pipeline.name}` not dispatched again: {outcome.reason}."
    run = outcome.marker.run_url if outcome.marker and outcome.marker.run_url else ""
    return (
        f"dispatched training of `{pipeline.name}` in {pipeline.retrain.repo} "
        f"(`{stage.name}` runs {version})" + (f": {run}" if run else ".")
    )
