"""Who may promote to a stage that names approvers: one of them, and not the change's author."""

from __future__ import annotations

from bot.commands import CommandRefused, Invocation
from schemas.audit import AuditRecord
from schemas.pipelines import Pipeline, Stage


async def require_stage_approver(inv: Invocation, pipeline: Pipeline, stage: Stage) -> None:
    """Raise CommandRefused (and audit it) unless `inv.actor` may promote to `stage`."""
    if not stage.needs_approval:
        return
    actor = inv.actor.lower()
    why = ""
    if actor == inv.thread.author.lower():
        why = (
            f"you authored this change, and `{stage.name}` needs an approver who did not; "
            "ask one of its approvers"
        )
    elif actor not in (login.lower() for login in stage.approvers):
        for team in stage.approver_teams:
            if await inv.permissions.in_team(inv.actor, team):
                return
        named = [f"`{login}`" for login in stage.approvers]
        named += [f"members of `{team}`" for team in stage.approver_teams]
        why = f"promoting to `{stage.name}` needs one of its approvers: {', '.join(named)}"
    if not why:
        return
    ctx = inv.ctx
    await ctx.audit(
        AuditRecord(
            id=f"{ctx.envelope.id}:promotion.refused:{pipeline.name}:{stage.name}",
            delivery_id=ctx.envelope.id,
            actor=inv.actor,
            action="promotion.refused",
            subject=f"pipeline/{pipeline.name}/{stage.name}",
            reason=why,
        )
    )
    raise CommandRefused(why)
