"""`/promote <pipeline> [<version>] to <stage>`: open or update that stage's promotion PR."""

from __future__ import annotations

from bot.commands import CommandRefused, Invocation, command
from bot.promotion.approval import require_stage_approver
from bot.promotion.commanded import candidate_for, find_pipeline, find_stage, run_promotion
from schemas.commands_config import PermissionLevel

USAGE = "/promote <pipeline> [<version>] to <stage>"


@command(
    "promote",
    usage=USAGE,
    help="Open (or update) the promotion PR of a pipeline's stage; without a version, what "
    "the previous stage runs. Stages with approvers need one who did not author the change.",
    permission=PermissionLevel.WRITE,
    gitlab_refusal=None,
)
async def promote_command(inv: Invocation) -> str | None:
    """Validate, check the stage's approvers, promote."""
    args = inv.args
    if len(args) == 3 and args[1] == "to":
        name, version, stage_name = args[0], None, args[2]
    elif len(args) == 4 and args[2] == "to":
        name, version, stage_name = args[0], args[1], args[3]
    else:
        raise CommandRefused(f"use `{USAGE}`")
    pipeline = find_pipeline(inv, name)
    stage = find_stage(pipeline, stage_name)
    await require_stage_approver(inv, pipeline, stage)
    candidate = await candidate_for(inv, pipeline, stage, version)
    reason = f"/promote by {inv.actor} on {inv.thread.reference}"
    return await run_promotion(inv, pipeline, stage, candidate, reason)
