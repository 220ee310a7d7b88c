"""`/rollback <pipeline> in <stage> [to <version>]`: promote an earlier version to the stage."""

from __future__ import annotations

from bot.commands import CommandRefused, Invocation, command
from bot.promotion.approval import require_stage_approver
from bot.promotion.commanded import candidate_for, find_pipeline, find_stage, run_promotion
from bot.promotion.engine import gitops_forge, stage_files
from bot.promotion.history import previous_deployed
from bot.promotion.plan import read_deployed
from bot.promotion.resolve import candidate_from_deployed
from schemas.commands_config import PermissionLevel

USAGE = "/rollback <pipeline> in <stage> [to <version>]"


@command(
    "rollback",
    usage=USAGE,
    help="Open a PR putting a stage back on an earlier version: the one before the current "
    "in the file's git history, or the version named.",
    permission=PermissionLevel.WRITE,
    gitlab_refusal=None,
)
async def rollback_command(inv: Invocation) -> str | None:
    """Find the earlier version (named, or from git history) and promote it."""
    args = inv.args
    if len(args) == 3 and args[1] == "in":
        version = None
    elif len(args) == 5 and args[1] == "in" and args[3] == "to":
        version = args[4]
    else:
        raise CommandRefused(f"use `{USAGE}`")
    pipeline = find_pipeline(inv, args[0])
    stage = find_stage(pipeline, args[2])
    await require_stage_approver(inv, pipeline, stage)
    if version is not None:
        candidate = await candidate_for(inv, pipeline, stage, version)
        back_to = version
    else:
        forge = await gitops_forge(inv.ctx, stage)
        _, files = await stage_files(forge, stage)
        current = read_deployed(stage, files)
        earlier = await previous_deployed(forge, stage, current)
        if earlier is None:
            raise CommandRefused(
                f"`{stage.name}` has run only {current.label} in its history; "
                f"name a version: `/rollback {pipeline.name} in {stage.name} to <version>`"
            )
        candidate = await candidate_from_deployed(inv.ctx, pipeline, earlier)
        back_to = earlier.label
    reason = f"/rollback by {inv.actor} to {back_to} ({inv.thread.reference})"
    return await run_promotion(inv, pipeline, stage, candidate, reason, rollback=True)
