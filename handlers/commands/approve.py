"""`/approve`: an approver lets the change merge (the `approved` label)."""

from __future__ import annotations

from bot.commands import CommandRefused, Invocation, command
from bot.commands.labels import add_labels, remove_label
from handlers.approval import update_approvals
from schemas.commands_config import PermissionLevel


@command(
    "approve",
    usage="/approve [cancel]",
    help="Approve the change (the `approved` label); `/approve cancel` takes it back. "
    "Approvers are `commands.permissions.approve` in the config.",
    permission=PermissionLevel.MAINTAIN,
    not_by_author=True,
)
async def approve(inv: Invocation) -> str | None:
    """Add or remove the approved label and record the approver in the approval comment."""
    if inv.args not in ((), ("cancel",)):
        raise CommandRefused("use `/approve` or `/approve cancel`, with nothing after it")
    state, label = inv.state, inv.config.commands.approved_label
    if inv.args:
        await remove_label(inv.ctx.gh, state.owner, state.repo, state.number, label)
        state.labels.discard(label)
        await update_approvals(inv.ctx, state, inv.config)
    else:
        await add_labels(inv.ctx.gh, state.owner, state.repo, state.number, [label])
        state.labels.add(label)
        await update_approvals(inv.ctx, state, inv.config, approved=inv.actor)
    return None
